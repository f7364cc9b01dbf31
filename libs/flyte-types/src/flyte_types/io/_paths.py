"""Path helpers shared by `File`, `Dir` and `DataFrame`: local file handles and remote listing."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

from flyte_types import _storage

__all__ = [
    "AsyncLocalFile",
    "copy_local",
    "list_local",
    "list_remote",
]


class AsyncLocalFile:
    """An async face over a local file object (`await f.read()`, `await f.write(b)`)."""

    def __init__(self, fh: IO[Any]) -> None:
        self._fh = fh

    async def read(self, size: int = -1) -> Any:
        """Read up to `size` bytes/characters (all when negative)."""
        return self._fh.read(size)

    async def readline(self, size: int = -1) -> Any:
        """Read one line."""
        return self._fh.readline(size)

    async def readlines(self, hint: int = -1) -> list[Any]:
        """Read the remaining lines."""
        return self._fh.readlines(hint)

    async def write(self, data: Any) -> int:
        """Write data; return the count written."""
        return int(self._fh.write(data))

    async def writelines(self, lines: Any) -> None:
        """Write each of `lines`."""
        self._fh.writelines(lines)

    async def seek(self, offset: int, whence: int = 0) -> int:
        """Move the position."""
        return self._fh.seek(offset, whence)

    async def tell(self) -> int:
        """Return the position."""
        return self._fh.tell()

    async def flush(self) -> None:
        """Flush buffered writes."""
        self._fh.flush()

    async def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[Any]:
        for line in self._fh:
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def copy_local(src: str, dest: str) -> str:
    """Copy a local file or tree; return the destination."""
    src = _storage.strip_file_scheme(src)
    dest = _storage.strip_file_scheme(dest)
    if os.path.isdir(src):
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        shutil.copy2(src, dest)
    return dest


def list_local(
    root: str, *, recursive: bool = True, max_depth: int | None = None, pattern: str = "*"
) -> Iterator[str]:
    """Yield the files under a local directory (sorted, depth 1 = top level)."""
    root = _storage.strip_file_scheme(root)
    if not recursive:
        max_depth = 1
    base_depth = root.rstrip(os.sep).count(os.sep)
    for parent, dirs, files in os.walk(root):
        dirs.sort()
        depth = parent.rstrip(os.sep).count(os.sep) - base_depth + 1
        if max_depth is not None and depth > max_depth:
            dirs[:] = []
            continue
        for name in sorted(files):
            if fnmatch.fnmatch(name, pattern):
                yield os.path.join(parent, name)
        if max_depth is not None and depth >= max_depth:
            dirs[:] = []


def _depth(root: str, path: str) -> int:
    rel = path[len(root.rstrip("/")) :].strip("/")
    return rel.count("/") + 1 if rel else 0


async def list_remote(
    root: str, *, recursive: bool = True, max_depth: int | None = None, pattern: str = "*"
) -> list[str]:
    """List the files under a remote prefix (through `flyte_storage.walk`)."""
    if not recursive:
        max_depth = 1
    out = []
    async for path in _storage.storage().walk(root):
        if max_depth is not None and _depth(root, path) > max_depth:
            continue
        if fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern):
            out.append(path)
    await asyncio.sleep(0)
    return out
