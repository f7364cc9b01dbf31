"""The blob API: `get`, `put`, `exists`, `size`, `rm`, `ls`, `walk`, `open`, `get_stream`, `put_stream`.

Each operation is one coroutine (`_op_*`) that runs on the IO loop (see `_loop.py`); the public
async function and its `_sync` twin both call it inside `boundary()`, the single place where
backend errors become `flyte_storage.errors`.

Transfers to the local disk always write a temporary file next to the destination and rename it
into place, so a failed or interrupted download never leaves a partial file. Object-store writes
are atomic by nature (a multipart upload is invisible until completed, and aborted on failure).
"""

from __future__ import annotations

import asyncio
import functools
import os
import posixpath
import shutil
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from flyte_storage._backends import get_filesystem, is_async
from flyte_storage._config import get_config
from flyte_storage._errors import boundary
from flyte_storage._files import OpenContext, SyncFile, open_handle
from flyte_storage._loop import io_loop, run_async, run_sync, to_thread
from flyte_storage._paths import (
    get_random_local_directory,
    get_random_local_path,
    is_remote,
    join,
    protocol_of,
    strip_local,
)
from flyte_storage.errors import IntegrityError, InvalidURI

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

T = TypeVar("T")

#: What `put_stream` accepts.
StreamSource = bytes | bytearray | memoryview | Iterable[bytes] | AsyncIterable[bytes]

# S3 and GCS allow at most 10,000 parts per multipart upload; keep a margin.
_MAX_PARTS = 9000


# --------------------------------------------------------------------------------------------
# helpers (run on the IO loop)


def _resolve(path: str | os.PathLike[str]) -> tuple[AbstractFileSystem, str]:
    """The filesystem for `path` and the path in the form that filesystem expects."""
    p = os.fspath(path)
    if not p:
        raise InvalidURI("empty path")
    if is_remote(p):
        return get_filesystem(p), p
    return get_filesystem("file"), os.path.abspath(strip_local(p))


def _uri(original: str, fs: AbstractFileSystem, name: str) -> str:
    """Turn a name returned by fsspec (no protocol) back into a path like the caller's."""
    if not is_remote(original):
        return name
    scheme = original.split("://", 1)[0]
    stripped = fs._strip_protocol(name)
    return f"{scheme}://{stripped.lstrip('/')}"


async def _call(fs: AbstractFileSystem, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call an fsspec method: its coroutine twin on async filesystems, else in a thread."""
    if is_async(fs):
        return await getattr(fs, f"_{method}")(*args, **kwargs)
    return await to_thread(getattr(fs, method), *args, **kwargs)


async def _gather(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run `job()` for each job, at most `limit` at once; on the first failure cancel the rest.

    Jobs are factories, so a coroutine only exists once it may run (nothing is left un-awaited
    when the batch is cancelled).
    """
    semaphore = asyncio.Semaphore(limit)

    async def bounded(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    tasks = [asyncio.ensure_future(bounded(job)) for job in jobs]
    if not tasks:
        return []
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [t for t in done if not t.cancelled() and t.exception() is not None]
        if failed:
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            exc = failed[0].exception()
            assert exc is not None
            raise exc
        return [t.result() for t in tasks]
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _is_dir(info: dict[str, Any]) -> bool:
    return info.get("type") == "directory"


async def _info(fs: AbstractFileSystem, path: str) -> dict[str, Any]:
    info: dict[str, Any] = await _call(fs, "info", path)
    return info


def _temp_beside(path: str) -> str:
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f".{name}.{uuid.uuid4().hex}.part")


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _part_size(size: int, floor: int) -> int:
    return max(floor, -(-size // _MAX_PARTS))


# --------------------------------------------------------------------------------------------
# download


async def _ranged_download(
    fs: AbstractFileSystem, rpath: str, temp: str, size: int, chunk: int, concurrency: int
) -> None:
    """Fetch `[0, size)` in `chunk`-sized ranges, `concurrency` at a time, into `temp`."""
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:

        async def part(start: int) -> None:
            end = min(start + chunk, size)
            data = await fs._cat_file(rpath, start=start, end=end)  # type: ignore[attr-defined]
            if len(data) != end - start:
                raise IntegrityError(
                    f"short read of {rpath} at {start}: {len(data)} of {end - start} bytes",
                    path=rpath,
                )
            await to_thread(os.pwrite, fd, data, start)

        await _gather([functools.partial(part, s) for s in range(0, size, chunk)], concurrency)
    finally:
        os.close(fd)


async def _download_file(fs: AbstractFileSystem, rpath: str, lpath: str, size: int | None) -> None:
    """Download one object to `lpath` through a temporary file renamed on success."""
    cfg = get_config()
    temp = await to_thread(_temp_beside, lpath)
    try:
        if is_async(fs) and size is not None and size >= 2 * cfg.chunk_size:
            await _ranged_download(fs, rpath, temp, size, cfg.chunk_size, cfg.max_concurrency)
        else:
            await _call(fs, "get_file", rpath, temp)
        if size is not None:
            got = await to_thread(os.path.getsize, temp)
            if got != size:
                raise IntegrityError(
                    f"downloaded {got} bytes of {rpath}, expected {size}", path=rpath
                )
        await to_thread(os.replace, temp, lpath)
    except BaseException:
        await asyncio.shield(to_thread(_remove_quietly, temp))
        raise


def _local_destination(from_path: str, to_path: str | os.PathLike[str] | None) -> str:
    name = posixpath.basename(os.fspath(from_path).rstrip("/")) or "data"
    if to_path is None:
        return get_random_local_path(name)
    dest = strip_local(to_path)
    if dest.endswith(("/", os.sep)) or os.path.isdir(dest):
        return os.path.join(dest, name)
    return dest


async def _op_get(from_path: str, to_path: str | os.PathLike[str] | None, recursive: bool) -> str:
    fs, src = _resolve(from_path)
    info = await _info(fs, src)
    if not _is_dir(info):
        dest = _local_destination(from_path, to_path)
        await _download_file(fs, src, dest, info.get("size"))
        return dest
    if not recursive:
        raise IsADirectoryError(f"{from_path} is a directory; pass recursive=True")
    dest_dir = get_random_local_directory() if to_path is None else strip_local(to_path)
    found: dict[str, dict[str, Any]] = await _call(fs, "find", src, detail=True)
    root = fs._strip_protocol(src).rstrip("/")
    cfg = get_config()
    jobs = []
    for name, entry in sorted(found.items()):
        if _is_dir(entry):
            continue
        rel = name[len(root) :].lstrip("/") if name.startswith(root) else posixpath.basename(name)
        local = os.path.join(dest_dir, *rel.split("/"))
        full = _uri(from_path, fs, name) if is_remote(from_path) else name
        jobs.append(functools.partial(_download_file, fs, full, local, entry.get("size")))
    await to_thread(os.makedirs, dest_dir, exist_ok=True)
    await _gather(jobs, cfg.batch_size)
    return dest_dir


# --------------------------------------------------------------------------------------------
# upload


def _copy_local_atomic(src: str, dest: str) -> None:
    temp = _temp_beside(dest)
    try:
        shutil.copyfile(src, temp)
        os.replace(temp, dest)
    except BaseException:
        _remove_quietly(temp)
        raise


async def _upload_file(lpath: str, to_path: str) -> None:
    fs, dest = _resolve(to_path)
    if not is_remote(to_path):
        await to_thread(_copy_local_atomic, lpath, dest)
        return
    cfg = get_config()
    proto = protocol_of(to_path)
    if proto in ("s3", "s3a"):
        size = await to_thread(os.path.getsize, lpath)
        await fs._put_file(  # type: ignore[attr-defined]
            lpath,
            dest,
            chunksize=_part_size(size, cfg.upload_chunk_size),
            max_concurrency=cfg.upload_max_concurrency,
        )
    elif proto == "gs":
        # GCS resumable uploads send one chunk at a time: give it the whole memory budget
        # (chunk x concurrency), rounded to the 256 KiB multiple GCS requires.
        budget = cfg.upload_chunk_size * cfg.upload_max_concurrency
        await fs._put_file(  # type: ignore[attr-defined]
            lpath, dest, chunksize=max(256 * 1024, budget // (256 * 1024) * (256 * 1024))
        )
    elif proto in ("abfs", "abfss"):
        await fs._put_file(  # type: ignore[attr-defined]
            lpath, dest, max_concurrency=cfg.upload_max_concurrency
        )
    else:
        await _call(fs, "put_file", lpath, dest)


def _list_local_tree(root: str) -> list[str]:
    out = []
    for base, _dirs, files in os.walk(root):
        for name in files:
            out.append(os.path.relpath(os.path.join(base, name), root))
    return sorted(out)


async def _op_put(from_path: str, to_path: str, recursive: bool) -> str:
    if is_remote(from_path):
        raise InvalidURI(
            f"put() uploads from the local disk; {from_path} is remote", path=from_path
        )
    src = os.path.abspath(strip_local(from_path))
    if not await to_thread(os.path.exists, src):
        raise FileNotFoundError(f"no such file or directory: {src}")
    if not await to_thread(os.path.isdir, src):
        dest = os.fspath(to_path)
        if dest.endswith("/"):
            dest = join(dest, os.path.basename(src))
        await _upload_file(src, dest)
        return dest
    if not recursive:
        raise IsADirectoryError(f"{from_path} is a directory; pass recursive=True")
    dest_root = os.fspath(to_path).rstrip("/") or os.fspath(to_path)
    files = await to_thread(_list_local_tree, src)
    if not is_remote(dest_root):
        await to_thread(os.makedirs, strip_local(dest_root), exist_ok=True)
        for base, dirs, _ in await to_thread(lambda: list(os.walk(src))):
            for d in dirs:  # keep empty directories in local-to-local copies
                rel = os.path.relpath(os.path.join(base, d), src)
                await to_thread(
                    os.makedirs, os.path.join(strip_local(dest_root), rel), exist_ok=True
                )
    jobs = [
        functools.partial(_upload_file, os.path.join(src, rel), join(dest_root, *rel.split(os.sep)))
        for rel in files
    ]
    await _gather(jobs, get_config().batch_size)
    return dest_root


# --------------------------------------------------------------------------------------------
# metadata and listing


async def _op_exists(path: str) -> bool:
    fs, p = _resolve(path)
    try:
        await _info(fs, p)
    except FileNotFoundError:
        return False
    return True


async def _op_size(path: str) -> int:
    fs, p = _resolve(path)
    info = await _info(fs, p)
    if _is_dir(info):
        raise IsADirectoryError(f"{path} is a directory")
    size = info.get("size")
    if size is None:
        raise IntegrityError(f"the backend reports no size for {path}", path=path)
    return int(size)


async def _op_rm(path: str, recursive: bool) -> None:
    fs, p = _resolve(path)
    info = await _info(fs, p)
    if _is_dir(info):
        if not recursive:
            raise IsADirectoryError(f"{path} is a directory; pass recursive=True")
        await _call(fs, "rm", p, recursive=True)
    else:
        await _call(fs, "rm_file", p)


async def _op_ls(path: str) -> list[str]:
    fs, p = _resolve(path)
    names: list[str] = await _call(fs, "ls", p, detail=False)
    if not names and not await _op_exists(path):
        raise FileNotFoundError(f"no such file or directory: {path}")
    me = fs._strip_protocol(p).rstrip("/")
    stripped = {fs._strip_protocol(n).rstrip("/") for n in names}
    if stripped != {me}:  # a listing of a directory may name the directory itself: drop it
        stripped.discard(me)
    return sorted(_uri(path, fs, n) for n in stripped)


async def _op_walk(path: str) -> list[str]:
    fs, p = _resolve(path)
    names: list[str] = await _call(fs, "find", p)
    if not names and not await _op_exists(path):
        raise FileNotFoundError(f"no such file or directory: {path}")
    return sorted(_uri(path, fs, n) for n in names)


# --------------------------------------------------------------------------------------------
# public API


async def get(
    from_path: str | os.PathLike[str],
    to_path: str | os.PathLike[str] | None = None,
    *,
    recursive: bool = False,
) -> str:
    """Download a file (or, with `recursive=True`, a directory tree) to the local disk.

    Large objects on cloud stores are fetched as parallel ranged reads of
    `StorageConfig.chunk_size` bytes, at most `StorageConfig.max_concurrency` at a time, and
    written straight to disk. Every file is written under a temporary name and renamed when
    complete: a failed download leaves nothing behind.

    Args:
        from_path: The source: a URI (`s3://bucket/key`) or a local path.
        to_path: The local destination. `None` picks a fresh random path that keeps the source's
            file name. For a single file, an existing directory or a path ending in `/` receives
            the file under its source name. For a tree, the directory the tree's content goes into.
        recursive: Download a whole directory/prefix.

    Returns:
        The local path of the downloaded file or directory.

    Raises:
        ObjectNotFound: If the source does not exist.
        InvalidURI: If the source is a directory and `recursive` is false.
        StorageError: On any other failure (see `flyte_storage.errors`).

    Example:
        ```python
        local = await flyte_storage.get("s3://bucket/data.csv")
        tree = await flyte_storage.get("gs://bucket/run/outputs", recursive=True)
        ```
    """
    src = os.fspath(from_path)
    with boundary("get", src):
        return await run_async(_op_get(src, to_path, recursive))


def get_sync(
    from_path: str | os.PathLike[str],
    to_path: str | os.PathLike[str] | None = None,
    *,
    recursive: bool = False,
) -> str:
    """Blocking twin of `get`; same arguments, result and errors."""
    src = os.fspath(from_path)
    with boundary("get", src):
        return run_sync(_op_get, src, to_path, recursive)


async def put(
    from_path: str | os.PathLike[str],
    to_path: str | os.PathLike[str],
    *,
    recursive: bool = False,
) -> str:
    """Upload a local file (or, with `recursive=True`, a directory tree).

    Large files go up as multipart/block uploads of at least `StorageConfig.upload_chunk_size`
    bytes, `StorageConfig.upload_max_concurrency` parts at a time, read from disk as they go.
    Trees are uploaded `StorageConfig.batch_size` files at a time. Local destinations are
    written under a temporary name and renamed when complete.

    Args:
        from_path: A local file or directory (`file://` URIs accepted).
        to_path: The destination URI or local path. A destination ending in `/` receives a
            single file under its own name. For a tree, the prefix its content goes under.
        recursive: Upload a whole directory.

    Returns:
        The destination URI of the uploaded file or tree.

    Raises:
        ObjectNotFound: If the source does not exist (or the bucket does not).
        InvalidURI: If the source is remote, or a directory while `recursive` is false.
        StorageError: On any other failure (see `flyte_storage.errors`).

    Example:
        ```python
        uri = await flyte_storage.put("model.pt", "s3://bucket/models/")
        # uri == "s3://bucket/models/model.pt"
        ```
    """
    dest = os.fspath(to_path)
    with boundary("put", dest):
        return await run_async(_op_put(os.fspath(from_path), dest, recursive))


def put_sync(
    from_path: str | os.PathLike[str],
    to_path: str | os.PathLike[str],
    *,
    recursive: bool = False,
) -> str:
    """Blocking twin of `put`; same arguments, result and errors."""
    dest = os.fspath(to_path)
    with boundary("put", dest):
        return run_sync(_op_put, os.fspath(from_path), dest, recursive)


async def exists(path: str | os.PathLike[str]) -> bool:
    """Whether a file, object, or directory/prefix exists.

    Args:
        path: A URI or local path.

    Returns:
        `True` if it exists. Errors other than "not found" (no access, service down) are
        raised, not reported as `False`.

    Raises:
        AccessDenied: If the credentials may not look.
        ServiceUnavailable: If the service cannot be reached.
    """
    p = os.fspath(path)
    with boundary("exists", p):
        return await run_async(_op_exists(p))


def exists_sync(path: str | os.PathLike[str]) -> bool:
    """Blocking twin of `exists`; same arguments, result and errors."""
    p = os.fspath(path)
    with boundary("exists", p):
        return run_sync(_op_exists, p)


async def size(path: str | os.PathLike[str]) -> int:
    """The size of a file or object, in bytes.

    Args:
        path: A URI or local path.

    Returns:
        The size in bytes.

    Raises:
        ObjectNotFound: If it does not exist.
        InvalidURI: If it is a directory.
    """
    p = os.fspath(path)
    with boundary("size", p):
        return await run_async(_op_size(p))


def size_sync(path: str | os.PathLike[str]) -> int:
    """Blocking twin of `size`; same arguments, result and errors."""
    p = os.fspath(path)
    with boundary("size", p):
        return run_sync(_op_size, p)


async def rm(path: str | os.PathLike[str], *, recursive: bool = False) -> None:
    """Delete a file/object, or with `recursive=True` a directory/prefix and all it contains.

    Args:
        path: A URI or local path.
        recursive: Required to delete a directory/prefix.

    Raises:
        ObjectNotFound: If nothing exists at `path`.
        InvalidURI: If `path` is a directory and `recursive` is false.
    """
    p = os.fspath(path)
    with boundary("rm", p):
        await run_async(_op_rm(p, recursive))


def rm_sync(path: str | os.PathLike[str], *, recursive: bool = False) -> None:
    """Blocking twin of `rm`; same arguments and errors."""
    p = os.fspath(path)
    with boundary("rm", p):
        run_sync(_op_rm, p, recursive)


async def ls(path: str | os.PathLike[str]) -> list[str]:
    """The direct children of a directory/prefix (files and sub-directories), sorted.

    Args:
        path: A URI or local path. For a file, the result is just that file.

    Returns:
        Full paths in the caller's style: URIs with the same scheme for remote paths, plain
        paths for local ones.

    Raises:
        ObjectNotFound: If nothing exists at `path`.
    """
    p = os.fspath(path)
    with boundary("ls", p):
        return await run_async(_op_ls(p))


def ls_sync(path: str | os.PathLike[str]) -> list[str]:
    """Blocking twin of `ls`; same arguments, result and errors."""
    p = os.fspath(path)
    with boundary("ls", p):
        return run_sync(_op_ls, p)


async def walk(path: str | os.PathLike[str]) -> AsyncIterator[str]:
    """Every file under a directory/prefix, recursively, in sorted order.

    Object stores have no empty directories, so only files are yielded (like `fsspec.find`).

    Args:
        path: A URI or local path.

    Yields:
        Full paths of files, in the caller's style (see `ls`).

    Raises:
        ObjectNotFound: If nothing exists at `path`.
    """
    p = os.fspath(path)
    with boundary("walk", p):
        names = await run_async(_op_walk(p))
    for name in names:
        yield name


def walk_sync(path: str | os.PathLike[str]) -> Iterator[str]:
    """Blocking twin of `walk`; same arguments, items and errors."""
    p = os.fspath(path)
    with boundary("walk", p):
        names = run_sync(_op_walk, p)
    return iter(names)


def open(  # mirrors the builtin, as flyte.storage.open does
    path: str | os.PathLike[str], mode: str = "rb", *, block_size: int | None = None
) -> OpenContext:
    """Open a file for streaming reads or writes, on any backend.

    Use `async with` (preferred), or `await` the result to get the file and close it yourself.
    Writes are buffered in parts and uploaded as they fill (memory stays bounded); the object
    appears when the file is closed. If the `async with` block raises, the write is discarded.

    Args:
        path: A URI or local path.
        mode: `"rb"` or `"wb"`.
        block_size: Read request size or minimum upload part size; defaults from the config.

    Returns:
        An awaitable async context manager yielding an `AsyncFile`.

    Raises:
        ValueError: If `mode` is not `"rb"` or `"wb"`.
        ObjectNotFound: When reading a path that does not exist (raised on enter/await).

    Example:
        ```python
        async with flyte_storage.open("s3://bucket/log.txt", "wb") as f:
            await f.write(b"hello\\n")
        async with flyte_storage.open("s3://bucket/log.txt") as f:
            assert await f.read() == b"hello\\n"
        ```
    """
    return OpenContext(os.fspath(path), mode, block_size)


def open_sync(
    path: str | os.PathLike[str], mode: str = "rb", *, block_size: int | None = None
) -> SyncFile:
    """Blocking twin of `open`: returns an open `SyncFile` (a context manager).

    Args:
        path: A URI or local path.
        mode: `"rb"` or `"wb"`.
        block_size: Read request size or minimum upload part size; defaults from the config.

    Returns:
        The open file.

    Raises:
        ValueError: If `mode` is not `"rb"` or `"wb"`.
        ObjectNotFound: When reading a path that does not exist.
    """
    handle = open_handle(os.fspath(path), mode, block_size)
    handle.open()
    return SyncFile(handle)


async def get_stream(
    path: str | os.PathLike[str], chunk_size: int | None = None
) -> AsyncIterator[bytes]:
    """Stream a file's bytes in chunks, without writing it to disk.

    On cloud stores the next chunks are fetched while the current one is consumed (up to
    `min(StorageConfig.max_concurrency, 4)` ranged reads in flight), so memory stays at a few
    chunks whatever the object's size.

    Args:
        path: A URI or local path.
        chunk_size: Bytes per chunk (the last one may be shorter); default
            `StorageConfig.chunk_size`.

    Yields:
        The content, in order.

    Raises:
        ObjectNotFound: If the file does not exist.
        InvalidURI: If it is a directory.

    Example:
        ```python
        async for chunk in flyte_storage.get_stream("s3://bucket/big.bin"):
            digest.update(chunk)
        ```
    """
    p = os.fspath(path)
    cfg = get_config()
    chunk = chunk_size or cfg.chunk_size
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    with boundary("get_stream", p):
        fs, rp = _resolve(p)
        info = await run_async(_info(fs, rp))
        if _is_dir(info):
            raise IsADirectoryError(f"{p} is a directory")
        total = info.get("size")
    if is_async(fs) and total is not None:
        async for data in _ranged_stream(fs, rp, p, int(total), chunk, min(cfg.max_concurrency, 4)):
            yield data
        return
    handle = open_handle(p, "rb", chunk)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, handle.open)
    try:
        while data := await loop.run_in_executor(None, handle.read, chunk):
            yield data
    finally:
        await loop.run_in_executor(None, handle.close)


async def _ranged_stream(
    fs: AbstractFileSystem, rpath: str, shown: str, total: int, chunk: int, depth: int
) -> AsyncIterator[bytes]:
    loop = io_loop()
    starts = iter(range(0, total, chunk))
    pending: list[tuple[int, Any]] = []

    def submit() -> None:
        start = next(starts, None)
        if start is not None:
            end = min(start + chunk, total)
            coro = fs._cat_file(rpath, start=start, end=end)  # type: ignore[attr-defined]
            pending.append((end - start, asyncio.run_coroutine_threadsafe(coro, loop)))

    try:
        for _ in range(depth):
            submit()
        while pending:
            expected, future = pending.pop(0)
            with boundary("get_stream", shown):
                data: bytes = await asyncio.wrap_future(future)
                if len(data) != expected:
                    raise IntegrityError(
                        f"short read of {shown}: {len(data)} of {expected} bytes", path=shown
                    )
            submit()
            yield data
    finally:
        for _, future in pending:
            future.cancel()


async def _write_all(f: Any, data: StreamSource) -> None:
    if isinstance(data, bytes | bytearray | memoryview):
        await f.write(data)
    elif isinstance(data, AsyncIterable):
        async for piece in data:
            await f.write(piece)
    else:
        for piece in data:
            await f.write(piece)


async def put_stream(
    data: StreamSource,
    to_path: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
) -> str:
    """Write bytes, or a (sync or async) iterable of byte chunks, to a file or object.

    The data is uploaded as it arrives, in parts (multipart/block upload on cloud stores), so
    memory stays bounded. If the iterable raises, nothing is written.

    Args:
        data: `bytes`, or an iterable / async iterable of `bytes` chunks.
        to_path: The destination URI or local path; `None` writes to a fresh random local path.
        name: The file name to use when `to_path` is `None`.

    Returns:
        The destination path.

    Raises:
        StorageError: If the write fails (see `flyte_storage.errors`).
    """
    dest = os.fspath(to_path) if to_path is not None else get_random_local_path(name)
    async with open(dest, "wb") as f:
        await _write_all(f, data)
    return dest


def put_stream_sync(
    data: bytes | bytearray | memoryview | Iterable[bytes],
    to_path: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
) -> str:
    """Blocking twin of `put_stream` (sync iterables only); same result and errors."""
    dest = os.fspath(to_path) if to_path is not None else get_random_local_path(name)
    with open_sync(dest, "wb") as f:
        if isinstance(data, bytes | bytearray | memoryview):
            f.write(data)
        else:
            for piece in data:
                f.write(piece)
    return dest


def get_stream_sync(path: str | os.PathLike[str], chunk_size: int | None = None) -> Iterator[bytes]:
    """Blocking twin of `get_stream`; yields the same chunks.

    Args:
        path: A URI or local path.
        chunk_size: Bytes per chunk; default `StorageConfig.chunk_size`.

    Yields:
        The content, in order.
    """
    chunk = chunk_size or get_config().chunk_size
    with open_sync(path, "rb", block_size=chunk) as f:
        while data := f.read(chunk):
            yield data
