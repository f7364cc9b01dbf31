"""Code bundles in the worker: fetch a `--tgz` and unpack it safely, or load a `--pkl` task.

A tgz bundle is untrusted input as far as the file system is concerned: it is unpacked only if
every member stays inside the destination. Rejected (with `UnsafeBundleError`, naming the member):

* absolute names and names with a `..` component;
* symbolic links whose target is absolute or resolves outside the destination, and hard links
  to anything but a path inside the destination;
* device files and FIFOs;
* archives with more than `FLYTE_BUNDLE_MAX_MEMBERS` members (default 100,000) or more than
  `FLYTE_BUNDLE_MAX_BYTES` uncompressed bytes (default 4 GiB), checked from the headers before
  anything is written.

Every member is checked twice: by name before extraction starts, then against the real (symlink
resolved) path on disk just before it is written, so a chain of in-archive links cannot lead
out either. Where the standard library has tar extraction filters, the `data` filter runs too.

A pkl bundle is a (gzip-compressed) cloudpickle of the task. **Unpickling runs arbitrary code: a
pkl bundle is trusted input**, exactly like the code in a tgz bundle, and must come from the
same trusted deployer.

Only the standard library is imported here; `flyte_storage` is imported for remote URIs only.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import tempfile
from typing import Any

from flyte_models.errors import RuntimeSystemError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_MEMBERS",
    "MAX_BYTES_ENV",
    "MAX_MEMBERS_ENV",
    "BundleFetchError",
    "UnsafeBundleError",
    "extract_tgz",
    "fetch",
    "fetch_and_extract",
    "load_pkl",
]

MAX_MEMBERS_ENV = "FLYTE_BUNDLE_MAX_MEMBERS"
MAX_BYTES_ENV = "FLYTE_BUNDLE_MAX_BYTES"
DEFAULT_MAX_MEMBERS = 100_000
DEFAULT_MAX_BYTES = 4 * 1024**3


class UnsafeBundleError(RuntimeSystemError):
    """A code bundle was refused: a member would escape the destination, or it is too large.

    Args:
        message: What was refused and why (names the offending member).
    """

    def __init__(self, message: str) -> None:
        super().__init__("UnsafeCodeBundle", message)


class BundleFetchError(RuntimeSystemError):
    """A code bundle could not be downloaded or read.

    Args:
        message: The message.
    """

    def __init__(self, message: str) -> None:
        super().__init__("CodeBundleDownloadFailed", message)


def _limit(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UnsafeBundleError(f"{name}={raw!r} is not an integer") from None
    return value if value > 0 else default


def _is_remote(uri: str) -> bool:
    scheme, sep, _ = uri.partition("://")
    return bool(sep) and scheme != "file" and "/" not in scheme


def _local_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def fetch(uri: str, workdir: str) -> str:
    """Return a local path to the bundle at `uri`, downloading it into `workdir` if remote.

    Args:
        uri: A local path, a `file://` URI or any URI `flyte_storage` reads.
        workdir: A private directory for the download.

    Returns:
        The local path.

    Raises:
        BundleFetchError: If the bundle does not exist or cannot be downloaded.
    """
    if not _is_remote(uri):
        path = _local_path(uri)
        if not os.path.isfile(path):
            raise BundleFetchError(f"code bundle {uri} does not exist")
        return path
    import flyte_storage

    target = os.path.join(workdir, posixpath.basename(uri.rstrip("/")) or "bundle")
    try:
        return str(flyte_storage.get_sync(uri, target))
    except Exception as e:
        raise BundleFetchError(f"cannot download code bundle {uri}: {e}") from e


def _bad_name(name: str) -> str | None:
    """Why `name` (a member name or hard link target) is unsafe, or None."""
    if not name:
        return "has an empty name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "has a '..' path component"
    return None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _precheck(tf: tarfile.TarFile, max_members: int, max_bytes: int) -> list[tarfile.TarInfo]:
    """Read every header; refuse the archive before anything is written."""
    members: list[tarfile.TarInfo] = []
    total = 0
    while True:
        member = tf.next()
        if member is None:
            return members
        members.append(member)
        if len(members) > max_members:
            raise UnsafeBundleError(
                f"code bundle has more than {max_members} members (at {member.name!r}); "
                f"raise {MAX_MEMBERS_ENV} to allow it"
            )
        total += max(member.size, 0)
        if total > max_bytes:
            raise UnsafeBundleError(
                f"code bundle expands to more than {max_bytes} bytes (at {member.name!r}); "
                f"raise {MAX_BYTES_ENV} to allow it"
            )
        why = _bad_name(member.name)
        if why is None:
            if member.isdev() or member.isfifo():
                why = "is a device file or FIFO"
            elif member.issym():
                link = member.linkname
                if not link or posixpath.isabs(link) or link.startswith("\\"):
                    why = f"is a symlink to an absolute path {link!r}"
                else:
                    joined = posixpath.normpath(
                        posixpath.join(posixpath.dirname(member.name), link)
                    )
                    if joined == ".." or joined.startswith("../"):
                        why = f"is a symlink escaping the destination ({link!r})"
            elif member.islnk():
                bad = _bad_name(member.linkname)
                if bad is not None:
                    why = f"is a hard link whose target {member.linkname!r} {bad}"
            elif not (member.isfile() or member.isdir()):
                why = f"has an unsupported type {member.type!r}"
        if why is not None:
            raise UnsafeBundleError(f"code bundle member {member.name!r} {why}")


def _check_on_disk(member: tarfile.TarInfo, root: str) -> None:
    """Resolve `member` against the files already extracted: it must stay under `root`."""
    target = os.path.realpath(os.path.join(root, member.name))
    if not _within(target, root):
        raise UnsafeBundleError(
            f"code bundle member {member.name!r} resolves outside the destination ({target})"
        )
    if member.issym():
        link = os.path.realpath(
            os.path.join(os.path.dirname(os.path.join(root, member.name)), member.linkname)
        )
        if not _within(link, root):
            raise UnsafeBundleError(
                f"code bundle member {member.name!r} is a symlink escaping the destination "
                f"({member.linkname!r} resolves to {link})"
            )
    elif member.islnk():
        link = os.path.realpath(os.path.join(root, member.linkname))
        if not _within(link, root):
            raise UnsafeBundleError(
                f"code bundle member {member.name!r} is a hard link escaping the destination "
                f"({member.linkname!r} resolves to {link})"
            )


def extract_tgz(archive: str, dest: str) -> list[str]:
    """Unpack a (gzip-compressed or plain) tar archive into `dest`, refusing unsafe members.

    Args:
        archive: The local archive.
        dest: The destination directory (created if missing).

    Returns:
        The extracted member names.

    Raises:
        UnsafeBundleError: If a member is unsafe or the archive exceeds the size caps.
        BundleFetchError: If the archive cannot be read.
    """
    max_members = _limit(MAX_MEMBERS_ENV, DEFAULT_MAX_MEMBERS)
    max_bytes = _limit(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)
    os.makedirs(dest, exist_ok=True)
    root = os.path.realpath(dest)
    data_filter: Any = getattr(tarfile, "data_filter", None)
    try:
        with tarfile.open(archive, "r:*") as tf:
            members = _precheck(tf, max_members, max_bytes)
            for member in members:
                _check_on_disk(member, root)
                if data_filter is not None:
                    try:
                        tf.extract(member, root, set_attrs=not member.isdir(), filter=data_filter)
                    except tarfile.FilterError as e:
                        raise UnsafeBundleError(
                            f"code bundle member {member.name!r} was refused: {e}"
                        ) from e
                else:  # pragma: no cover - Python without tar extraction filters
                    tf.extract(member, root, set_attrs=not member.isdir())
    except (UnsafeBundleError, BundleFetchError):
        raise
    except (tarfile.TarError, EOFError, OSError) as e:
        raise BundleFetchError(f"cannot unpack code bundle {archive}: {e}") from e
    return [m.name for m in members]


def fetch_and_extract(uri: str, dest: str) -> str:
    """Fetch the tgz bundle at `uri` (into a private temporary directory) and unpack it into `dest`.

    Args:
        uri: A local path, `file://` URI or remote URI of the archive.
        dest: The destination directory.

    Returns:
        The absolute destination directory.
    """
    with tempfile.TemporaryDirectory(prefix="flyte-bundle-") as workdir:
        local = fetch(uri, workdir)
        extract_tgz(local, dest)
    return os.path.abspath(dest)


def load_pkl(uri: str) -> Any:
    """Load the task pickled in a pkl bundle (gzip-compressed or not).

    **Trusted input only**: unpickling runs code from the bundle.

    Args:
        uri: A local path, `file://` URI or remote URI of the bundle.

    Returns:
        The unpickled task.

    Raises:
        BundleFetchError: If the bundle cannot be fetched or unpickled.
    """
    import gzip
    import pickle

    with tempfile.TemporaryDirectory(prefix="flyte-bundle-") as workdir:
        local = fetch(uri, workdir)
        try:
            with open(local, "rb") as f:
                magic = f.read(2)
                f.seek(0)
                if magic == b"\x1f\x8b":
                    with gzip.GzipFile(fileobj=f) as gz:
                        return pickle.load(gz)  # trusted input, see the module docs
                return pickle.load(f)  # trusted input, see the module docs
        except (OSError, EOFError, pickle.UnpicklingError) as e:
            raise BundleFetchError(f"cannot unpickle code bundle {uri}: {e}") from e
