"""Code bundles on the submitting side: which files go in, a reproducible archive, the upload.

A remote run or deploy ships the user's code to the workers as one of:

* a **tgz** (`copy_style="loaded_modules"`, the default, or `"all"`): the Python files of the
  modules loaded in this process that live under the source root (`loaded_modules`), or every
  file under the root (`all`), minus what `.gitignore` and `.flyteignore` exclude. Members are
  named relative to the root, sorted, with mtime, uid/gid, owner names and permission bits
  normalised and a zero gzip timestamp, so the same sources always give the same bytes and the
  same md5. The md5 names the upload (`fast<md5>.tar.gz`) and is the default task version.
* a **pkl** (`copy_style="none"`): a gzip-compressed cloudpickle of the task itself, for code
  that has no file (a notebook, an interactive session).

The worker side (download, safe extraction, unpickling) is `flyte_runtime._bundle`.
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import hashlib
import io
import os
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CopyStyle",
    "IgnoreRules",
    "LocalBundle",
    "build_pkl_bundle",
    "build_tgz_bundle",
    "list_all_files",
    "list_loaded_module_files",
    "upload_bundle",
]

CopyStyle = Literal["loaded_modules", "all", "none"]

# Never shipped, whatever the ignore files say: VCS metadata, virtual envs, caches, build output.
_ALWAYS_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".vscode",
        "node_modules",
        ".pants.d",
        ".eggs",
    }
)
_ALWAYS_IGNORED_FILES = ("*.pyc", "*.pyo", ".DS_Store", "*.egg-info")


def _installed_dirs() -> list[Path]:
    """Where installed packages and the standard library live: never user code."""
    dirs: set[str] = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(path)
    return [Path(d).resolve() for d in dirs if d]


def _under(path: Path, parent: Path) -> bool:
    try:
        path.relative_to(parent)
    except ValueError:
        return False
    return True


class IgnoreRules:
    """The files a bundle leaves out under `root`: `.gitignore` (through git when `root` is in a
    repository, so every git rule applies), `.flyteignore` files (gitignore syntax, in any
    directory; a later rule wins, `!pattern` re-includes) and a fixed list (VCS metadata,
    virtual environments, caches, `*.pyc`).

    Ignore files are read only in the directories on the way to the files asked about, so a big
    root costs nothing for a `loaded_modules` bundle."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._git_root = self._find_git_root()
        self._names = (".flyteignore",) if self._git_root else (".flyteignore", ".gitignore")
        self._by_dir: dict[Path, list[tuple[str, bool]]] = {}

    def _find_git_root(self) -> Path | None:
        for parent in (self.root, *self.root.parents):
            if (parent / ".git").exists():
                return parent
        return None

    def _rules(self, directory: Path) -> list[tuple[str, bool]]:
        """(pattern, negated) of the ignore files in `directory`, in file order."""
        found = self._by_dir.get(directory)
        if found is None:
            found = []
            for name in self._names:
                path = directory / name
                if not path.is_file():
                    continue
                for raw in path.read_text(errors="replace").splitlines():
                    line = raw.strip()
                    if not line or line.startswith("#"):
                        continue
                    negated = line.startswith("!")
                    found.append((line[1:] if negated else line, negated))
            self._by_dir[directory] = found
        return found

    @staticmethod
    def _matches(rel: str, pattern: str, is_dir: bool) -> bool:
        dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if dir_only and not is_dir:
            return False
        anchored = "/" in pattern
        pattern = pattern.lstrip("/")
        if anchored:
            if pattern.startswith("**/"):
                tail = pattern[3:]
                return fnmatch.fnmatchcase(rel, tail) or fnmatch.fnmatchcase(rel, pattern)
            return fnmatch.fnmatchcase(rel, pattern)
        return fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)

    def is_ignored(self, path: Path, is_dir: bool = False) -> bool:
        """Whether `path` (absolute, under root) is excluded by the fixed list or an ignore file
        in one of its parent directories (`.gitignore` only outside a git repository; inside one,
        git's own rules are applied in bulk by `filter`)."""
        name = path.name
        if is_dir and name in _ALWAYS_IGNORED_DIRS:
            return True
        if not is_dir and any(fnmatch.fnmatchcase(name, p) for p in _ALWAYS_IGNORED_FILES):
            return True
        ignored = False
        base = self.root
        for part in (None, *path.relative_to(self.root).parts[:-1]):
            if part is not None:
                base = base / part
            rel = path.relative_to(base).as_posix()
            for pattern, negated in self._rules(base):
                if self._matches(rel, pattern, is_dir):
                    ignored = not negated
        return ignored

    def filter(self, files: Iterable[Path]) -> list[Path]:
        """`files` (absolute) without the ignored ones, parent directories included in the test."""
        kept: list[Path] = []
        for f in files:
            rel_parts = f.relative_to(self.root).parts
            parents = [self.root.joinpath(*rel_parts[:i]) for i in range(1, len(rel_parts))]
            if any(self.is_ignored(p, is_dir=True) for p in parents):
                continue
            if not self.is_ignored(f):
                kept.append(f)
        return self._git_filter(kept)

    def _git_filter(self, files: list[Path]) -> list[Path]:
        if not self._git_root or not files:
            return files
        try:
            proc = subprocess.run(
                ["git", "-C", str(self._git_root), "check-ignore", "--no-index", "--stdin", "-z"],
                input="\0".join(str(f) for f in files).encode() + b"\0",
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return files
        if proc.returncode not in (0, 1):  # 1: nothing ignored
            return files
        ignored = {Path(p).resolve() for p in proc.stdout.decode().split("\0") if p}
        return [f for f in files if f not in ignored]


def list_loaded_module_files(root: Path, modules: Iterable[Any] | None = None) -> list[Path]:
    """The source files of the loaded modules (`sys.modules` by default) that live under `root`
    and are not installed packages or the standard library."""
    root = root.resolve()
    installed = [d for d in _installed_dirs() if not _under(root, d)]
    files: set[Path] = set()
    for mod in list(sys.modules.values()) if modules is None else modules:
        try:
            mod_file = mod.__dict__.get("__file__")
        except AttributeError:
            continue
        if not isinstance(mod_file, str) or not mod_file.endswith(".py"):
            continue
        path = Path(mod_file).resolve()
        if not path.is_file() or not _under(path, root):
            continue
        if "site-packages" in path.parts or "dist-packages" in path.parts:
            continue
        if any(_under(path, d) for d in installed):
            continue
        files.add(path)
        # A package's __init__ files up to the root make the module importable from the bundle.
        parent = path.parent
        while parent != root and _under(parent, root):
            init = parent / "__init__.py"
            if init.is_file():
                files.add(init)
            parent = parent.parent
    return sorted(files)


def list_all_files(root: Path) -> list[Path]:
    """Every regular file under `root` (symbolic links to files followed), sorted."""
    root = root.resolve()
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _ALWAYS_IGNORED_DIRS)
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file():
                out.append(path)
    return sorted(out)


@dataclass(frozen=True)
class LocalBundle:
    """A code bundle built on disk, before upload.

    Args:
        kind: `"tgz"` or `"pkl"`.
        data: The archive bytes.
        md5: The 16-byte MD5 digest of `data`.
        files: The archived files, relative to the root (empty for pkl).
    """

    kind: Literal["tgz", "pkl"]
    data: bytes
    md5: bytes
    files: tuple[str, ...] = field(default=())

    @property
    def md5_hex(self) -> str:
        """The MD5 as hex: the default task version."""
        return self.md5.hex()

    @property
    def md5_b64(self) -> str:
        """The MD5 as base64: the `Content-MD5` header."""
        return base64.b64encode(self.md5).decode()

    @property
    def filename(self) -> str:
        """The upload's file name, `fast<md5>.tar.gz` (or `.pkl.gz`)."""
        return f"fast{self.md5_hex}.tar.gz" if self.kind == "tgz" else f"fast{self.md5_hex}.pkl.gz"

    def write_to(self, directory: Path) -> Path:
        """Write the bundle into `directory` under `filename`; return the path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.filename
        path.write_bytes(self.data)
        return path


def _tar_bytes(root: Path, files: Sequence[Path]) -> tuple[bytes, tuple[str, ...]]:
    names: list[str] = []
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            arcname = path.relative_to(root).as_posix()
            data = path.read_bytes()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tf.addfile(info, io.BytesIO(data))
            names.append(arcname)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return buf.getvalue(), tuple(names)


def env_include_files(envs: Iterable[Any]) -> list[Path]:
    """The files named by the `include` of `envs` and of the environments they depend on.

    An entry is a file, a directory (every file under it) or a glob; a relative entry is
    anchored at the directory of the file that created the environment.

    Raises:
        ValueError: For an entry that matches no file.
    """
    out: dict[Path, None] = {}
    seen: set[int] = set()
    stack = list(envs)
    while stack:
        env = stack.pop(0)
        if env is None or id(env) in seen:
            continue
        seen.add(id(env))
        stack.extend(getattr(env, "depends_on", None) or ())
        entries = tuple(getattr(env, "include", None) or ())
        if not entries:
            continue
        declaring = getattr(env, "declaring_file", None)
        anchor = Path(declaring).parent if declaring else Path.cwd()
        for entry in entries:
            p = Path(entry).expanduser()
            p = p if p.is_absolute() else anchor / p
            if any(ch in entry for ch in "*?["):
                matches = [m for m in sorted(p.parent.glob(p.name)) if m.is_file()]
            elif p.is_dir():
                matches = sorted(m for m in p.rglob("*") if m.is_file())
            else:
                matches = [p] if p.is_file() else []
            if not matches:
                raise ValueError(
                    f"include entry {entry!r} of environment {getattr(env, 'name', '?')!r} "
                    f"matches no file (looked for {str(p)!r})"
                )
            for m in matches:
                out[m.resolve()] = None
    return list(out)


def build_tgz_bundle(
    root_dir: Path,
    copy_style: CopyStyle = "loaded_modules",
    *,
    extra_files: Iterable[Path] = (),
    modules: Iterable[Any] | None = None,
) -> LocalBundle:
    """Build the reproducible tgz of the user's code under `root_dir`.

    Args:
        root_dir: The source root; members are named relative to it.
        copy_style: `loaded_modules` (files of loaded modules under the root) or `all`.
        extra_files: More files to include (e.g. an environment's `include`), under the root.
        modules: The modules to consider for `loaded_modules` (default: `sys.modules`).

    Raises:
        ValueError: For an unknown copy style, a missing root, or nothing to bundle.
    """
    root = Path(root_dir).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(
            f"root_dir {str(root)!r} is not a directory; pass flyte.init(root_dir=...)"
        )
    if copy_style == "loaded_modules":
        candidates = list_loaded_module_files(root, modules)
    elif copy_style == "all":
        candidates = list_all_files(root)
    else:
        raise ValueError(
            f"copy_style must be 'loaded_modules', 'all' or 'none' (pkl), got {copy_style!r}"
        )
    extras = []
    for f in extra_files:
        p = (root / f).resolve() if not Path(f).is_absolute() else Path(f).resolve()
        if not _under(p, root) or not p.is_file():
            raise ValueError(f"included file {str(f)!r} is not a file under root_dir {str(root)!r}")
        extras.append(p)
    files = sorted(set(IgnoreRules(root).filter(candidates)) | set(extras))
    if not files:
        raise ValueError(
            f"no source files to bundle under root_dir {str(root)!r} (copy_style={copy_style!r}); "
            "run from the directory holding your code, pass flyte.init(root_dir=...), or use "
            "copy_style='none' to pickle the task"
        )
    data, names = _tar_bytes(root, files)
    return LocalBundle(kind="tgz", data=data, md5=hashlib.md5(data).digest(), files=names)


def build_pkl_bundle(task: Any) -> LocalBundle:
    """Pickle `task` (cloudpickle, by value for the code of `__main__`) and gzip it."""
    import cloudpickle

    payload = cloudpickle.dumps(task)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(payload)
    data = buf.getvalue()
    return LocalBundle(kind="pkl", data=data, md5=hashlib.md5(data).digest())


# (endpoint, project, domain, org, md5 hex) -> native URL: an unchanged bundle is uploaded once
# per process.
_UPLOADED: dict[tuple[str, str, str, str, str], str] = {}


async def upload_bundle(
    clients: Any, bundle: LocalBundle, *, project: str, domain: str, org: str = ""
) -> str:
    """Upload `bundle` through the control plane's signed URL; return its native URL.

    `ClusterService.SelectCluster`, then `DataProxyService.CreateUploadLocation` (with the md5,
    so the store can verify it), then an HTTP PUT with `Content-MD5` and the returned headers.
    A bundle already uploaded by this process to the same place is not sent again.

    Args:
        clients: A `flyte_client` client set (grpc stubs `cluster_service`, `dataproxy_service`).
        bundle: The bundle.
        project: The project.
        domain: The domain.
        org: The organisation.
    """
    from flyteidl2.cluster import payload_pb2 as cluster_pb2
    from flyteidl2.common import identifier_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
    from google.protobuf import duration_pb2

    key = (str(getattr(clients, "endpoint", "")), project, domain, org, bundle.md5_hex)
    cached = _UPLOADED.get(key)
    if cached:
        return cached
    await clients.cluster_service.SelectCluster(
        cluster_pb2.SelectClusterRequest(
            project_id=identifier_pb2.ProjectIdentifier(
                organization=org, name=project, domain=domain
            ),
            operation=cluster_pb2.SelectClusterRequest.Operation.OPERATION_CREATE_UPLOAD_LOCATION,
        )
    )
    loc = await clients.dataproxy_service.CreateUploadLocation(
        dp_pb2.CreateUploadLocationRequest(
            project=project,
            domain=domain,
            org=org,
            filename=bundle.filename,
            content_md5=bundle.md5,
            expires_in=duration_pb2.Duration(seconds=3600),
            add_content_md5_metadata=True,
        )
    )
    from flyte_storage._signed import upload_signed

    headers = dict(loc.headers)
    headers.setdefault("Content-MD5", bundle.md5_b64)
    await upload_signed(bundle.data, loc.signed_url, headers=headers, content_md5=bundle.md5)
    _UPLOADED[key] = str(loc.native_url)
    return str(loc.native_url)
