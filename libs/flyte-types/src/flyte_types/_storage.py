"""Where offloaded bytes go, and how they come back.

Inside a task (a `flyte_models` task context is set) new blobs go under the context's raw data
path, through `flyte_storage` when that path is remote. Outside a task ("local mode", like the
reference SDK) data stays on the local disk, in a private temporary directory, and local paths are
used as URIs.

Local paths are handled here with the standard library (a copy on the same disk needs no fsspec);
anything with a remote scheme goes through `flyte_storage`, imported on first use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import Any

__all__ = [
    "current_raw_data_path",
    "is_remote",
    "new_local_path",
    "new_path",
    "read_bytes",
    "storage",
    "write_bytes",
]

_LOCAL_ROOT: str | None = None


def storage() -> Any:
    """Return the `flyte_storage` module (imported lazily: it pulls fsspec)."""
    import flyte_storage

    return flyte_storage


def is_remote(path: str) -> bool:
    """Return whether `path` has a scheme other than `file://`."""
    if "://" not in path:
        return False
    return not path.startswith("file://")


def strip_file_scheme(path: str) -> str:
    """Turn `file:///x` into `/x`; other paths are returned as they are."""
    return path[len("file://") :] if path.startswith("file://") else path


def current_raw_data_path() -> Any:
    """Return the `RawDataPath` of the running task, or `None` outside a task."""
    from flyte_models import current_task_context

    tctx = current_task_context()
    if not tctx:
        return None
    return getattr(tctx, "raw_data_path", None)


def local_target(target: str, local_path: str) -> str | None:
    """Where a local file/directory handed to `from_local` must be copied, given its random
    `target` under a *local* raw data path; None to keep the local path as it is.

    In a local run the task's working directory outlives it, so the path is kept. A task run by
    a backend (`TaskContext.mode == "remote"`, e.g. on a devbox whose blob store is a local
    disk) works in a scratch directory that is removed when the attempt ends, so the data is
    copied under the raw data path unless it is there already.
    """
    from flyte_models import current_task_context

    tctx = current_task_context()
    if tctx is None or getattr(tctx, "mode", "local") != "remote":
        return None
    raw = current_raw_data_path()
    root = os.path.abspath(strip_file_scheme(getattr(raw, "path", "") or ""))
    here = os.path.abspath(strip_file_scheme(local_path))
    if root and (here == root or here.startswith(root.rstrip(os.sep) + os.sep)):
        return None
    return target


def _local_root() -> str:
    global _LOCAL_ROOT
    if _LOCAL_ROOT is None or not os.path.isdir(_LOCAL_ROOT):
        _LOCAL_ROOT = tempfile.mkdtemp(prefix="flyte-types-")
    return _LOCAL_ROOT


def new_local_path(file_name: str | None = None) -> str:
    """Return a fresh path in the local scratch directory (the parent directory exists)."""
    directory = os.path.join(_local_root(), uuid.uuid4().hex)
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, file_name) if file_name else directory


def new_path(file_name: str | None = None) -> str:
    """Return a fresh location for a new blob: under the task's raw data path, or local scratch."""
    raw = current_raw_data_path()
    if raw is None:
        return new_local_path(file_name)
    path: str = raw.get_random_remote_path(file_name)
    return path


async def write_bytes(data: bytes, file_name: str | None = None) -> str:
    """Store `data` as a new blob and return its URI."""
    target = new_path(file_name)
    if not is_remote(target):
        local = strip_file_scheme(target)
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        with open(local, "wb") as f:
            f.write(data)
        return target
    staging = new_local_path(file_name or "blob")
    with open(staging, "wb") as f:
        f.write(data)
    try:
        uri: str = await storage().put(staging, target)
    finally:
        os.remove(staging)
    return uri or target


async def read_bytes(uri: str) -> bytes:
    """Read a whole blob."""
    if not is_remote(uri):
        with open(strip_file_scheme(uri), "rb") as f:
            return f.read()
    staging = new_local_path(os.path.basename(uri.rstrip("/")) or "blob")
    local: str = await storage().get(uri, staging)
    try:
        with open(local or staging, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(os.path.dirname(staging), ignore_errors=True)
