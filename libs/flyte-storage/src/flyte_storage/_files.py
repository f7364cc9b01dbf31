"""Streaming file handles returned by `open` (async) and `open_sync` (sync).

Both wrap one blocking handle (`_Handle`): an fsspec buffered file for remote paths, or a plain
local file. Remote writes are buffered in parts of `StorageConfig.upload_chunk_size` and uploaded
as they fill (multipart / block upload), so memory stays bounded whatever the size; the object
only becomes visible when the handle is closed successfully. Local writes go to a temporary file
next to the destination that is renamed into place on close. If the block inside `with` raises,
the write is discarded: no partial object or file is left behind.

Reads fetch `StorageConfig.chunk_size` bytes per request.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import IO, Any

from flyte_storage._backends import CLOUDS, get_filesystem
from flyte_storage._config import get_config
from flyte_storage._errors import boundary
from flyte_storage._paths import is_remote, protocol_of, strip_local

__all__ = ["AsyncFile", "SyncFile", "open_handle"]

_MODES = ("rb", "wb")


class AtomicLocalWriter:
    """A local file written under a temporary name and renamed into place on `close()`."""

    def __init__(self, path: str) -> None:
        """Start writing `path` (its directory is created if missing).

        Args:
            path: The final local path.
        """
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self.path = path
        self.temp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.part")
        self._f: IO[bytes] = open(self.temp, "wb")  # noqa: SIM115 - closed in close()/discard()
        self.closed = False

    def write(self, data: Any) -> int:
        return self._f.write(data)

    def tell(self) -> int:
        return self._f.tell()

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self.closed:
            return
        try:
            self._f.close()
            os.replace(self.temp, self.path)
        except BaseException:
            self.discard()
            raise
        self.closed = True

    def discard(self) -> None:
        """Throw the written bytes away."""
        self.closed = True
        try:
            self._f.close()
        finally:
            try:
                os.unlink(self.temp)
            except FileNotFoundError:
                pass


class _Handle:
    """The blocking handle shared by `AsyncFile` and `SyncFile`; translates errors."""

    def __init__(self, path: str, mode: str, block_size: int | None) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.path = path
        self.mode = mode
        self.block_size = block_size
        self._f: Any = None
        self._fs: Any = None
        self._atomic = True
        self.closed = False

    def open(self) -> None:
        with boundary("open", self.path):
            if not is_remote(self.path):
                local = strip_local(self.path)
                if self.mode == "wb":
                    self._f = AtomicLocalWriter(local)
                else:
                    if os.path.isdir(local):
                        raise IsADirectoryError(f"is a directory: {local}")
                    self._f = open(local, "rb")  # noqa: SIM115 - closed in close()
                return
            fs = get_filesystem(self.path)
            self._fs = fs
            # Cloud stores publish an upload only when it completes; other fsspec backends
            # (memory, sftp, ...) may create the file on open, so an abort must delete it.
            self._atomic = protocol_of(self.path) in CLOUDS
            cfg = get_config()
            if self.mode == "wb":
                block = max(self.block_size or cfg.upload_chunk_size, cfg.upload_chunk_size)
                self._f = fs.open(self.path, "wb", block_size=block)
            else:
                self._f = fs.open(self.path, "rb", block_size=self.block_size or cfg.chunk_size)
                details = getattr(self._f, "details", None) or {}
                if details.get("type") == "directory":
                    self._f.close()
                    raise IsADirectoryError(f"is a directory: {self.path}")

    def _file(self) -> Any:
        if self._f is None or self.closed:
            raise ValueError(f"I/O operation on closed file {self.path}")
        return self._f

    def read(self, size: int = -1) -> bytes:
        with boundary("read", self.path):
            data: bytes = self._file().read(size)
            return data

    def readline(self, size: int = -1) -> bytes:
        with boundary("read", self.path):
            line: bytes = self._file().readline(size)
            return line

    def readlines(self, hint: int = -1) -> list[bytes]:
        with boundary("read", self.path):
            lines: list[bytes] = self._file().readlines(hint)
            return lines

    def readinto(self, buffer: Any) -> int:
        with boundary("read", self.path):
            n: int = self._file().readinto(buffer)
            return n

    def write(self, data: bytes | bytearray | memoryview) -> int:
        with boundary("write", self.path):
            n = self._file().write(data)
            return len(data) if n is None else int(n)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        with boundary("seek", self.path):
            return int(self._file().seek(offset, whence))

    def tell(self) -> int:
        return int(self._file().tell())

    def close(self) -> None:
        if self.closed or self._f is None:
            self.closed = True
            return
        try:
            with boundary("close", self.path):
                self._f.close()
        except BaseException:
            self._abort()
            raise
        finally:
            self.closed = True

    def abort(self) -> None:
        """Close without committing a write (reads: same as `close`)."""
        if self.closed or self._f is None:
            self.closed = True
            return
        try:
            if self.mode == "rb":
                with boundary("close", self.path):
                    self._f.close()
            else:
                self._abort()
        finally:
            self.closed = True

    def _abort(self) -> None:
        f = self._f
        if f is None:
            return
        try:
            discard = getattr(f, "discard", None)
            if discard is not None:
                discard()
        except Exception:  # best effort: the write already failed
            pass
        # fsspec's buffered files commit on close() and in __del__; mark closed so neither runs.
        try:
            f.closed = True
        except AttributeError:
            pass
        if not self._atomic and self._fs is not None:
            try:
                if self._fs.exists(self.path):
                    self._fs.rm_file(self.path)
            except Exception:  # best effort, as above
                pass


def open_handle(path: str, mode: str, block_size: int | None = None) -> _Handle:
    """Create (not yet open) the blocking handle for `path`."""
    return _Handle(path, mode, block_size)


class SyncFile:
    """A blocking binary file on any backend, returned by `flyte_storage.open_sync`.

    Use it as a context manager. Reads and writes stream; on an exception inside `with`, a write
    is discarded instead of committed.
    """

    def __init__(self, handle: _Handle) -> None:
        """Wrap an open handle (use `open_sync` instead of constructing this)."""
        self._h = handle

    @property
    def path(self) -> str:
        """The path this file was opened with."""
        return self._h.path

    @property
    def mode(self) -> str:
        """`"rb"` or `"wb"`."""
        return self._h.mode

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return self._h.closed

    def readable(self) -> bool:
        """Whether the file was opened for reading."""
        return self._h.mode == "rb"

    def writable(self) -> bool:
        """Whether the file was opened for writing."""
        return self._h.mode == "wb"

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all remaining bytes if negative).

        Raises:
            StorageError: If the backend fails.
        """
        return self._h.read(size)

    def readinto(self, buffer: Any) -> int:
        """Read into a writable buffer; returns the number of bytes read."""
        return self._h.readinto(buffer)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write bytes; returns how many were accepted.

        Raises:
            StorageError: If the backend fails.
        """
        return self._h.write(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the read position; returns the new absolute position."""
        return self._h.seek(offset, whence)

    def tell(self) -> int:
        """The current position."""
        return self._h.tell()

    def close(self) -> None:
        """Finish: commit a write (the object becomes visible), release a read."""
        self._h.close()

    def abort(self) -> None:
        """Close without committing a write."""
        self._h.abort()

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the content in chunks of the read block size."""
        size = self._h.block_size or get_config().chunk_size
        while chunk := self._h.read(size):
            yield chunk

    def __enter__(self) -> SyncFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class AsyncFile:
    """An async binary file on any backend, returned by `flyte_storage.open`.

    Blocking work runs in the event loop's default executor, one call at a time.
    """

    def __init__(self, handle: _Handle) -> None:
        """Wrap a handle (use `flyte_storage.open` instead of constructing this)."""
        self._h = handle
        self._lock = asyncio.Lock()

    async def _run(self, fn: Any, *args: Any) -> Any:
        async with self._lock:
            return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    @property
    def path(self) -> str:
        """The path this file was opened with."""
        return self._h.path

    @property
    def mode(self) -> str:
        """`"rb"` or `"wb"`."""
        return self._h.mode

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return self._h.closed

    async def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all remaining bytes if negative).

        Raises:
            StorageError: If the backend fails.
        """
        data: bytes = await self._run(self._h.read, size)
        return data

    async def readline(self, size: int = -1) -> bytes:
        """Read one line (up to `size` bytes), including its newline; b"" at the end."""
        line: bytes = await self._run(self._h.readline, size)
        return line

    async def readlines(self, hint: int = -1) -> list[bytes]:
        """Read the remaining lines (stopping once about `hint` bytes were read, if positive)."""
        lines: list[bytes] = await self._run(self._h.readlines, hint)
        return lines

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write bytes; returns how many were accepted.

        Raises:
            StorageError: If the backend fails.
        """
        n: int = await self._run(self._h.write, data)
        return n

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the read position; returns the new absolute position."""
        pos: int = await self._run(self._h.seek, offset, whence)
        return pos

    async def tell(self) -> int:
        """The current position."""
        return self._h.tell()

    async def close(self) -> None:
        """Finish: commit a write (the object becomes visible), release a read."""
        await self._run(self._h.close)

    async def abort(self) -> None:
        """Close without committing a write."""
        await self._run(self._h.abort)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        size = self._h.block_size or get_config().chunk_size
        while chunk := await self.read(size):
            yield chunk

    async def __aenter__(self) -> AsyncFile:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.close()
        else:
            await self.abort()


class OpenContext:
    """What `flyte_storage.open` returns: `async with` it, or `await` it for the file.

    Example:
        ```python
        async with flyte_storage.open("s3://bucket/key", "rb") as f:
            head = await f.read(1024)

        f = await flyte_storage.open("s3://bucket/out.bin", "wb")
        await f.write(b"...")
        await f.close()
        ```
    """

    def __init__(self, path: str, mode: str, block_size: int | None) -> None:
        """Prepare to open `path` (nothing happens until awaited or entered)."""
        self._handle = open_handle(path, mode, block_size)
        self._file: AsyncFile | None = None

    async def _open(self) -> AsyncFile:
        handle = self._handle
        await asyncio.get_running_loop().run_in_executor(None, handle.open)
        self._file = AsyncFile(handle)
        return self._file

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncFile:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            await self._file.__aexit__(exc_type, exc, tb)
