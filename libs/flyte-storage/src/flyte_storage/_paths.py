"""Pure path helpers: protocol parsing, joining, random local paths. No I/O beyond `mkdtemp`."""

from __future__ import annotations

import os
import pathlib
import re
import tempfile
import uuid

from flyte_storage.errors import InvalidURI

__all__ = [
    "LOCAL_PROTOCOLS",
    "get_random_local_directory",
    "get_random_local_path",
    "is_remote",
    "join",
    "protocol_of",
    "strip_local",
]

#: Protocols that name the local disk.
LOCAL_PROTOCOLS = frozenset({"file", "local"})

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def protocol_of(path: str | os.PathLike[str]) -> str:
    """The fsspec protocol of a path: `"s3"`, `"gs"`, `"abfs"`, ...; `"file"` for bare paths.

    Args:
        path: A URI (`s3://bucket/key`) or a local path (`/tmp/x`, `file:///tmp/x`).

    Returns:
        The lower-cased protocol; `gcs` is normalised to `gs` and `az` to `abfs`.
    """
    if isinstance(path, os.PathLike):
        return "file"
    m = _SCHEME.match(path)
    if not m:
        return "file"
    proto = m.group(1).lower()
    return {"gcs": "gs", "az": "abfs", "local": "file"}.get(proto, proto)


def is_remote(path: str | os.PathLike[str]) -> bool:
    """Whether a path names something other than the local disk.

    Args:
        path: A URI or local path.

    Returns:
        `False` for bare paths, `pathlib.Path` objects and `file://` URIs; `True` otherwise.

    Example:
        ```python
        assert flyte_storage.is_remote("s3://bucket/key")
        assert not flyte_storage.is_remote("/tmp/data.csv")
        ```
    """
    return protocol_of(path) not in LOCAL_PROTOCOLS


def strip_local(path: str | os.PathLike[str]) -> str:
    """Turn a local path or `file://` URI into a plain OS path.

    Args:
        path: A local path or `file://`/`local://` URI.

    Returns:
        The path without the scheme.

    Raises:
        InvalidURI: If `path` is remote.
    """
    p = os.fspath(path)
    if is_remote(p):
        raise InvalidURI(f"not a local path: {p}", path=p)
    m = _SCHEME.match(p)
    return p[m.end() :] if m else p


def join(*parts: str) -> str:
    """Join path parts, keeping the scheme of the first one.

    For remote URIs the later parts are path segments: slashes between parts are collapsed, so
    `join("s3://bucket/", "/dir", "a.txt")` is `"s3://bucket/dir/a.txt"`. For local paths this is
    `os.path.join` (an absolute later part starts over, as usual).

    Args:
        *parts: A URI or path, followed by segments to append. Empty parts are skipped.

    Returns:
        The joined path.

    Raises:
        InvalidURI: If no parts are given, or a later part carries its own scheme.
    """
    items = [p for p in (os.fspath(x) for x in parts) if p]
    if not items:
        raise InvalidURI("join() needs at least one non-empty part")
    for extra in items[1:]:
        if _SCHEME.match(extra):
            raise InvalidURI(f"only the first part of join() may have a scheme, got {extra!r}")
    head = items[0]
    if not is_remote(head):
        return os.path.join(*items)
    m = _SCHEME.match(head)
    assert m is not None  # is_remote() implies a scheme
    prefix, rest = head[: m.end()], head[m.end() :]
    segments = [rest.rstrip("/")] + [s.strip("/") for s in items[1:]]
    return prefix + "/".join(s for s in segments if s)


def _local_root() -> pathlib.Path:
    return pathlib.Path(tempfile.gettempdir()) / "flyte-storage"


def get_random_local_path(file_name: str | os.PathLike[str] | None = None) -> str:
    """A fresh, unused local path under the temporary directory.

    The path itself does not exist yet; its parent directory does. Two calls never return the
    same path.

    Args:
        file_name: Keep this leaf name (only its last component is used), e.g. to preserve a file
            extension. If `None`, the leaf is random.

    Returns:
        An absolute local path, as a string.
    """
    root = _local_root()
    root.mkdir(parents=True, exist_ok=True)
    unique = pathlib.Path(tempfile.mkdtemp(prefix="t-", dir=root))
    tail = os.path.basename(os.fspath(file_name).rstrip("/\\")) if file_name else ""
    return str(unique / (tail or uuid.uuid4().hex))


def get_random_local_directory() -> str:
    """Create a fresh, empty local directory under the temporary directory.

    Returns:
        The absolute path of the new directory, as a string.
    """
    path = get_random_local_path()
    os.mkdir(path)
    return path
