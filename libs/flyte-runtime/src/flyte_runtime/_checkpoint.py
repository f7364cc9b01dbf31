"""Task checkpoints: resume a retried attempt from what the previous attempt saved.

Each attempt of a task gets a checkpoint location (`CheckpointPaths.checkpoint_path`, on the
control plane `<attempt output prefix>/_flytecheckpoints`) and, on a retry, the location the
previous attempt wrote to (`CheckpointPaths.prev_checkpoint_path`). `flyte.ctx().checkpoint` is
a `Checkpoint` over the two:

```python
@env.task(retries=3)
def train(steps: int) -> int:
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()  # None on the first attempt
    start = int(restored.read_bytes()) if restored else 0
    for step in range(start, steps):
        ...
        cp.save_sync(str(step + 1).encode())
    return steps
```

A checkpoint is one object in the blob store (local disk, S3, GCS, Azure; see `flyte_storage`):

* `save(bytes)` and `save(file)` store the bytes / file as they are;
* `save(directory)` stores a gzip-compressed tar of the directory's content.

`load()` fetches the previous attempt's object into the local workspace `Checkpoint.path`: a tar
is unpacked there and `path` is returned; anything else becomes `path / "payload"`, which is
returned. With no previous checkpoint (first attempt, or the previous attempt saved nothing)
`load()` returns `None`. Async tasks use `load` / `save`, plain `def` tasks `load_sync` /
`save_sync`. `latest_checkpoint` picks the newest file of a restored tree (e.g. `last.ckpt`).

Importing this module is cheap: storage, `tarfile` and `tempfile` are imported on first use.
"""

from __future__ import annotations

import logging
import os
import pathlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

__all__ = ["BaseCheckpoint", "Checkpoint", "latest_checkpoint"]

logger = logging.getLogger("flyte")

_PAYLOAD = "payload"
"""Name, under `Checkpoint.path`, of a restored checkpoint that is not a tar archive."""


def latest_checkpoint(
    root: pathlib.Path,
    glob_pattern: str = "**/last.ckpt",
    *,
    key: Callable[[pathlib.Path], Any] | None = None,
) -> pathlib.Path | None:
    """The best match of `glob_pattern` under `root`: the one with the largest `key(path)`.

    Args:
        root: The directory to search (typically `Checkpoint.path` after `load()`).
        glob_pattern: A `pathlib` glob relative to `root`; `**/` searches every level.
        key: Ranks the matches (largest wins); by default the modification time, so the newest
            file wins. Pass e.g. `lambda p: int(p.stem.split("-")[1])` to rank by step number.

    Returns:
        The winning path, or `None` when nothing matches (or `root` does not exist).

    Raises:
        TypeError: If `root` is not a path or str, or `key` is not callable.
        ValueError: If `glob_pattern` is empty or absolute.
    """
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"latest_checkpoint: root must be a path or str, got {type(root).__name__}")
    if not isinstance(glob_pattern, str) or not glob_pattern:
        raise ValueError(
            f"latest_checkpoint: glob_pattern must be a non-empty glob such as '**/last.ckpt', "
            f"got {glob_pattern!r}"
        )
    if glob_pattern.startswith("/"):
        raise ValueError(
            f"latest_checkpoint: glob_pattern must be relative to root, got {glob_pattern!r}"
        )
    if key is not None and not callable(key):
        raise TypeError(f"latest_checkpoint: key must be callable, got {key!r}")
    base = pathlib.Path(root)
    if not base.is_dir():
        return None
    matches = [p for p in base.glob(glob_pattern) if p.is_file()]
    if not matches:
        return None
    rank: Callable[[pathlib.Path], Any] = key if key is not None else _mtime
    return max(matches, key=rank)


def _mtime(path: pathlib.Path) -> float:
    return path.stat().st_mtime


class BaseCheckpoint(ABC):
    """What a checkpoint helper offers; `Checkpoint` is the implementation the runtime uses.

    Subclass it to store checkpoints another way; the runtime hands tasks a `Checkpoint`.
    """

    @property
    @abstractmethod
    def path(self) -> pathlib.Path:
        """The local workspace directory a checkpoint is restored into."""

    @abstractmethod
    def prev_exists(self) -> bool:
        """Whether this attempt was given a previous attempt's checkpoint location."""

    @abstractmethod
    async def load(self) -> pathlib.Path | None:
        """Restore the previous attempt's checkpoint; `None` when there is none."""

    @abstractmethod
    async def save(self, data: pathlib.Path | str | bytes) -> None:
        """Store `data` (bytes, a file or a directory) as this attempt's checkpoint."""

    @abstractmethod
    def load_sync(self) -> pathlib.Path | None:
        """Blocking twin of `load`."""

    @abstractmethod
    def save_sync(self, data: pathlib.Path | str | bytes) -> None:
        """Blocking twin of `save`."""


def _clean_uri(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().strip('"').strip("'").strip()
    return text or None


class Checkpoint(BaseCheckpoint):
    """Checkpoint of one task attempt, stored as a single object in the blob store.

    Args:
        checkpoint_dest: Where this attempt's checkpoint is written (URI or local path).
        checkpoint_src: Where the previous attempt's checkpoint was written, if any.

    Raises:
        ValueError: If `checkpoint_dest` is empty.
        TypeError: If either location is not a str.
    """

    def __init__(self, checkpoint_dest: str, checkpoint_src: str | None = None) -> None:
        if not isinstance(checkpoint_dest, str):
            raise TypeError(
                f"Checkpoint: checkpoint_dest must be a str URI or path, "
                f"got {type(checkpoint_dest).__name__}"
            )
        if checkpoint_src is not None and not isinstance(checkpoint_src, str):
            raise TypeError(
                f"Checkpoint: checkpoint_src must be a str URI, path or None, "
                f"got {type(checkpoint_src).__name__}"
            )
        dest = _clean_uri(checkpoint_dest)
        if dest is None:
            raise ValueError(
                "Checkpoint: checkpoint_dest is empty; pass the URI or path this attempt's "
                "checkpoint is written to (inside a task use flyte.ctx().checkpoint)"
            )
        self._dest = dest
        self._src = _clean_uri(checkpoint_src)
        self._workspace: Any = None  # tempfile.TemporaryDirectory, created on first use
        self._restored: pathlib.Path | None = None
        self._loaded = False

    def __repr__(self) -> str:
        return f"Checkpoint(checkpoint_dest={self._dest!r}, checkpoint_src={self._src!r})"

    @property
    def remote_destination(self) -> str:
        """Where `save` writes this attempt's checkpoint."""
        return self._dest

    @property
    def remote_source(self) -> str | None:
        """Where the previous attempt's checkpoint is read from, if any."""
        return self._src

    @property
    def path(self) -> pathlib.Path:
        """The local workspace directory (created on first access, removed with this object)."""
        if self._workspace is None:
            import tempfile

            self._workspace = tempfile.TemporaryDirectory(prefix="flyte-checkpoint-")
        return pathlib.Path(self._workspace.name)

    def prev_exists(self) -> bool:
        return self._src is not None

    # ---------------------------------------------------------------------------------------
    # load

    async def load(self) -> pathlib.Path | None:
        """Restore the previous attempt's checkpoint into `path`.

        Returns:
            `path` for a directory checkpoint (unpacked there), `path / "payload"` for a bytes
            or file checkpoint, or `None` when there is no previous checkpoint. Later calls
            return the same result without downloading again.

        Raises:
            flyte_storage.errors.StorageError: If the previous checkpoint exists but cannot be
                read (permissions, network).
        """
        if self._loaded or self._src is None:
            return self._restored
        import flyte_storage

        archive = self._download_target()
        try:
            await flyte_storage.get(self._src, str(archive))
        except FileNotFoundError:  # ObjectNotFound is one
            self._nothing_to_restore(archive)
            return None
        import asyncio

        return await asyncio.to_thread(self._ingest, archive)

    def load_sync(self) -> pathlib.Path | None:
        """Blocking twin of `load`; same result and errors."""
        if self._loaded or self._src is None:
            return self._restored
        import flyte_storage

        archive = self._download_target()
        try:
            flyte_storage.get_sync(self._src, str(archive))
        except FileNotFoundError:
            self._nothing_to_restore(archive)
            return None
        return self._ingest(archive)

    def _download_target(self) -> pathlib.Path:
        import shutil

        workspace = self.path
        for child in workspace.iterdir():  # a fresh restore, never mixed with older files
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        return workspace.parent / f"{workspace.name}.download"

    def _nothing_to_restore(self, archive: pathlib.Path) -> None:
        logger.debug("No previous checkpoint at %s", self._src)
        archive.unlink(missing_ok=True)
        self._loaded = True
        self._restored = None

    def _ingest(self, archive: pathlib.Path) -> pathlib.Path | None:
        import tarfile

        try:
            if archive.stat().st_size == 0:
                self._nothing_to_restore(archive)
                return None
            if tarfile.is_tarfile(archive):
                with tarfile.open(archive, "r:*") as tar:
                    if hasattr(tarfile, "data_filter"):
                        tar.extractall(self.path, filter="data")
                    else:  # pragma: no cover - Python without extraction filters
                        tar.extractall(self.path)
                restored = self.path
            else:
                restored = self.path / _PAYLOAD
                os.replace(archive, restored)
        finally:
            archive.unlink(missing_ok=True)
        self._loaded = True
        self._restored = restored
        return restored

    # ---------------------------------------------------------------------------------------
    # save

    async def save(self, data: pathlib.Path | str | bytes) -> None:
        """Store `data` as this attempt's checkpoint (replacing what this attempt saved before).

        Args:
            data: `bytes` (stored as they are), a local file (stored as it is) or a local
                directory (stored as a gzip-compressed tar of its content).

        Raises:
            FileNotFoundError: If `data` names a local path that does not exist.
            TypeError: If `data` is neither bytes, a str nor a path.
            flyte_storage.errors.StorageError: If the upload fails.
        """
        import flyte_storage

        if isinstance(data, bytes | bytearray | memoryview):
            self._ensure_local_parent()
            await flyte_storage.put_stream(bytes(data), self._dest)
            return
        src = self._source(data)
        if src.is_dir():
            import asyncio

            tar = await asyncio.to_thread(_tar_directory, src)
            try:
                self._ensure_local_parent()
                await flyte_storage.put(str(tar), self._dest)
            finally:
                tar.unlink(missing_ok=True)
            return
        self._ensure_local_parent()
        await flyte_storage.put(str(src), self._dest)

    def save_sync(self, data: pathlib.Path | str | bytes) -> None:
        """Blocking twin of `save`; same behaviour and errors."""
        import flyte_storage

        if isinstance(data, bytes | bytearray | memoryview):
            self._ensure_local_parent()
            flyte_storage.put_stream_sync(bytes(data), self._dest)
            return
        src = self._source(data)
        if src.is_dir():
            tar = _tar_directory(src)
            try:
                self._ensure_local_parent()
                flyte_storage.put_sync(str(tar), self._dest)
            finally:
                tar.unlink(missing_ok=True)
            return
        self._ensure_local_parent()
        flyte_storage.put_sync(str(src), self._dest)

    @staticmethod
    def _source(data: Any) -> pathlib.Path:
        if not isinstance(data, str | os.PathLike):
            raise TypeError(
                f"Checkpoint.save: data must be bytes, a str path or a pathlib.Path, "
                f"got {type(data).__name__}"
            )
        text = os.fspath(data)
        if isinstance(text, bytes):  # pragma: no cover - bytes PathLike
            text = text.decode()
        if text.startswith("file://"):
            text = text[len("file://") :]
        src = pathlib.Path(text)
        if not src.exists():
            raise FileNotFoundError(
                f"Checkpoint.save: {src} does not exist; save an existing local file or "
                f"directory, or pass bytes"
            )
        return src

    def _ensure_local_parent(self) -> None:
        from flyte_storage import is_remote

        if is_remote(self._dest):
            return
        local = self._dest[len("file://") :] if self._dest.startswith("file://") else self._dest
        parent = os.path.dirname(os.path.abspath(local))
        os.makedirs(parent, exist_ok=True)


def _tar_directory(src: pathlib.Path) -> pathlib.Path:
    """A gzip tar of the content of `src` (entries relative to `src`), in a temporary file."""
    import tarfile
    import tempfile

    fd, name = tempfile.mkstemp(prefix="flyte-checkpoint-", suffix=".tar.gz")
    os.close(fd)
    out = pathlib.Path(name)
    try:
        with tarfile.open(out, "w:gz") as tar:
            for child in sorted(src.iterdir()):
                tar.add(child, arcname=child.name)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def checkpoint_data(paths: Any) -> dict[str, Any]:
    """The `TaskContext.data` entry that makes `flyte.ctx().checkpoint` work for an attempt.

    Args:
        paths: The attempt's `flyte_models.CheckpointPaths`, or `None`.

    Returns:
        `{TaskContext.CHECKPOINT_DATA_KEY: Checkpoint(...)}` when the attempt has a checkpoint
        location, else `{}` (then `flyte.ctx().checkpoint` is `None`).
    """
    from flyte_models import TaskContext

    dest = _clean_uri(getattr(paths, "checkpoint_path", None))
    if dest is None:
        return {}
    cp = Checkpoint(dest, getattr(paths, "prev_checkpoint_path", None))
    return {TaskContext.CHECKPOINT_DATA_KEY: cp}
