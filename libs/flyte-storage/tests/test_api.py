"""The blob API on the local disk and on fsspec memory filesystems (sync `memory://`, async `amem://`).

The same behaviour is checked against real S3/GCS/Azure emulators in `tests/storage/`.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import flyte_storage
from flyte_storage.errors import (
    InvalidURI,
    MissingExtraError,
    ObjectNotFound,
    ServiceUnavailable,
    StorageError,
)


@pytest.fixture(params=["local", "memory", "amem"])
def root(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh directory on each kind of filesystem."""
    if request.param == "local":
        return str(tmp_path / "root")
    return str(request.getfixturevalue("mem" if request.param == "memory" else "amem"))


def _tree(tmp_path: Any) -> str:
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a")
    (src / "sub" / "b.bin").write_bytes(os.urandom(3000))
    (src / "sub" / "deeper" / "c.txt").write_bytes(b"c" * 10)
    return str(src)


def _read_tree(path: str) -> dict[str, bytes]:
    out = {}
    for base, _, files in os.walk(path):
        for name in files:
            full = os.path.join(base, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = f.read()
    return out


async def test_put_get_file_roundtrip(root: str, tmp_path: Any) -> None:
    src = tmp_path / "in.bin"
    data = os.urandom(5000)
    src.write_bytes(data)
    uri = await flyte_storage.put(str(src), flyte_storage.join(root, "x", "in.bin"))
    assert uri == flyte_storage.join(root, "x", "in.bin")
    assert await flyte_storage.exists(uri)
    assert await flyte_storage.size(uri) == 5000

    local = await flyte_storage.get(uri)
    assert os.path.basename(local) == "in.bin"
    with open(local, "rb") as f:
        assert f.read() == data

    explicit = str(tmp_path / "out" / "copy.bin")
    assert await flyte_storage.get(uri, explicit) == explicit
    into_dir = str(tmp_path / "outdir") + "/"
    assert await flyte_storage.get(uri, into_dir) == os.path.join(into_dir, "in.bin")


def test_sync_twins_roundtrip(root: str, tmp_path: Any) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"hello")
    uri = flyte_storage.put_sync(src, flyte_storage.join(root, "dir") + "/")
    assert uri == flyte_storage.join(root, "dir", "in.txt")
    assert flyte_storage.exists_sync(uri) and flyte_storage.size_sync(uri) == 5
    assert flyte_storage.ls_sync(flyte_storage.join(root, "dir")) == [uri]
    assert list(flyte_storage.walk_sync(root)) == [uri]
    with open(flyte_storage.get_sync(uri), "rb") as f:
        assert f.read() == b"hello"
    flyte_storage.rm_sync(uri)
    assert not flyte_storage.exists_sync(uri)


async def test_tree_roundtrip(root: str, tmp_path: Any) -> None:
    src = _tree(tmp_path)
    dest = flyte_storage.join(root, "tree")
    assert await flyte_storage.put(src, dest, recursive=True) == dest
    files = [f async for f in flyte_storage.walk(dest)]
    assert files == sorted(
        flyte_storage.join(dest, p) for p in ("a.txt", "sub/b.bin", "sub/deeper/c.txt")
    )
    assert await flyte_storage.ls(dest) == [
        flyte_storage.join(dest, "a.txt"),
        flyte_storage.join(dest, "sub"),
    ]
    back = await flyte_storage.get(dest, str(tmp_path / "back"), recursive=True)
    assert back == str(tmp_path / "back")
    assert _read_tree(back) == _read_tree(src)
    fresh = await flyte_storage.get(dest, recursive=True)
    assert _read_tree(fresh) == _read_tree(src)

    await flyte_storage.rm(dest, recursive=True)
    assert not await flyte_storage.exists(dest)


async def test_directory_needs_recursive(root: str, tmp_path: Any) -> None:
    src = _tree(tmp_path)
    with pytest.raises(InvalidURI):
        await flyte_storage.put(src, flyte_storage.join(root, "t"))
    await flyte_storage.put(src, flyte_storage.join(root, "t"), recursive=True)
    with pytest.raises(InvalidURI):
        await flyte_storage.get(flyte_storage.join(root, "t"))
    with pytest.raises(InvalidURI):
        await flyte_storage.rm(flyte_storage.join(root, "t"))
    with pytest.raises(InvalidURI):
        await flyte_storage.size(flyte_storage.join(root, "t"))


async def test_missing_paths(root: str, tmp_path: Any) -> None:
    missing = flyte_storage.join(root, "nope", "x.bin")
    assert not await flyte_storage.exists(missing)
    for call in (
        flyte_storage.get(missing),
        flyte_storage.size(missing),
        flyte_storage.rm(missing),
        flyte_storage.ls(missing),
    ):
        with pytest.raises(ObjectNotFound) as info:
            await call
        assert info.value.path == missing
        assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ObjectNotFound):
        await flyte_storage.put(str(tmp_path / "absent"), flyte_storage.join(root, "y"))
    with pytest.raises(ObjectNotFound):
        async with flyte_storage.open(missing) as f:
            await f.read()
    with pytest.raises(ObjectNotFound):
        [c async for c in flyte_storage.get_stream(missing)]


async def test_put_from_remote_is_rejected(root: str) -> None:
    with pytest.raises(InvalidURI):
        await flyte_storage.put("s3://bucket/key", flyte_storage.join(root, "k"))


async def test_open_write_read(root: str) -> None:
    path = flyte_storage.join(root, "f.bin")
    async with flyte_storage.open(path, "wb") as f:
        assert await f.write(b"abc") == 3
        await f.write(b"def")
    async with flyte_storage.open(path) as f:
        assert await f.read(2) == b"ab"
        assert await f.read() == b"cdef"
    f2 = await flyte_storage.open(path)
    assert [c async for c in f2] == [b"abcdef"]
    await f2.close()
    with flyte_storage.open_sync(path) as g:
        assert g.read() == b"abcdef" and g.readable()


async def test_failed_write_leaves_nothing(root: str, tmp_path: Any) -> None:
    path = flyte_storage.join(root, "partial.bin")
    with pytest.raises(RuntimeError):
        async with flyte_storage.open(path, "wb") as f:
            await f.write(b"half")
            raise RuntimeError("producer died")
    assert not await flyte_storage.exists(path)
    with pytest.raises(RuntimeError), flyte_storage.open_sync(path, "wb") as g:
        g.write(b"half")
        raise RuntimeError("producer died")
    assert not await flyte_storage.exists(path)
    if not flyte_storage.is_remote(root):
        assert not os.path.exists(root) or os.listdir(root) == []


def test_open_mode_is_checked() -> None:
    with pytest.raises(ValueError):
        flyte_storage.open("/tmp/x", "r")
    with pytest.raises(ValueError):
        flyte_storage.open_sync("/tmp/x", "a")


async def test_streams(root: str) -> None:
    data = os.urandom(10_000)
    path = flyte_storage.join(root, "s.bin")
    assert await flyte_storage.put_stream(data, path) == path
    chunks = [c async for c in flyte_storage.get_stream(path, chunk_size=3000)]
    assert [len(c) for c in chunks] == [3000, 3000, 3000, 1000]
    assert b"".join(chunks) == data
    assert b"".join(flyte_storage.get_stream_sync(path, 4096)) == data

    async def agen() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([i]) * 100

    await flyte_storage.put_stream(agen(), path)
    assert flyte_storage.size_sync(path) == 500
    await flyte_storage.put_stream(iter([b"a", b"b"]), path)
    assert b"".join(flyte_storage.get_stream_sync(path)) == b"ab"
    assert flyte_storage.put_stream_sync([b"x", b"y"], path) == path
    assert b"".join(flyte_storage.get_stream_sync(path)) == b"xy"


async def test_put_stream_failure_leaves_nothing(root: str) -> None:
    path = flyte_storage.join(root, "never.bin")

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 100
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        await flyte_storage.put_stream(broken(), path)
    assert not await flyte_storage.exists(path)


async def test_put_stream_without_destination() -> None:
    path = await flyte_storage.put_stream(b"data", name="n.txt")
    assert os.path.basename(path) == "n.txt" and flyte_storage.size_sync(path) == 4


async def test_empty_object(root: str) -> None:
    path = await flyte_storage.put_stream(b"", flyte_storage.join(root, "empty"))
    assert await flyte_storage.size(path) == 0
    assert [c async for c in flyte_storage.get_stream(path)] == []
    with open(await flyte_storage.get(path), "rb") as f:
        assert f.read() == b""


async def test_large_download_is_ranged_and_bounded(
    amem: str,
    amem_cls: Any,
    small_config: flyte_storage.StorageConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = os.urandom(20 * 1024 + 7)
    path = await flyte_storage.put_stream(data, flyte_storage.join(amem, "big.bin"))

    in_flight = 0
    peak = 0
    original = amem_cls._cat_file

    async def counting(self: Any, p: str, start: Any = None, end: Any = None, **kw: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.001)
            return await original(self, p, start=start, end=end, **kw)
        finally:
            in_flight -= 1

    monkeypatch.setattr(amem_cls, "_cat_file", counting)
    amem_cls.ranged_reads = []
    local = await flyte_storage.get(path)
    with open(local, "rb") as f:
        assert f.read() == data
    assert len(amem_cls.ranged_reads) == 21  # 20 full 1 KiB parts + the tail
    assert 1 < peak <= small_config.max_concurrency

    amem_cls.ranged_reads = []
    chunks = [c async for c in flyte_storage.get_stream(path, chunk_size=4096)]
    assert b"".join(chunks) == data and len(chunks) == 6


async def test_failed_download_leaves_no_partial_file(
    amem: str,
    amem_cls: Any,
    small_config: flyte_storage.StorageConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    path = await flyte_storage.put_stream(os.urandom(10 * 1024), flyte_storage.join(amem, "b"))
    calls = 0
    original = amem_cls._cat_file

    async def flaky(self: Any, p: str, start: Any = None, end: Any = None, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise ConnectionResetError("peer reset")
        return await original(self, p, start=start, end=end, **kw)

    monkeypatch.setattr(amem_cls, "_cat_file", flaky)
    dest = tmp_path / "dl"
    dest.mkdir()
    with pytest.raises(ServiceUnavailable) as info:
        await flyte_storage.get(path, str(dest / "b.bin"))
    assert "peer reset" in str(info.value)
    assert os.listdir(dest) == []  # neither the file nor its temporary


async def test_existing_file_is_not_clobbered_by_a_failed_download(
    amem: str,
    amem_cls: Any,
    small_config: flyte_storage.StorageConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    path = await flyte_storage.put_stream(os.urandom(4096), flyte_storage.join(amem, "b"))
    target = tmp_path / "keep.bin"
    target.write_bytes(b"previous content")

    async def broken(self: Any, *a: Any, **kw: Any) -> Any:
        raise TimeoutError("read timed out")

    monkeypatch.setattr(amem_cls, "_cat_file", broken)
    monkeypatch.setattr(amem_cls, "_get_file", broken)
    with pytest.raises(ServiceUnavailable):
        await flyte_storage.get(path, str(target))
    assert target.read_bytes() == b"previous content"
    assert os.listdir(tmp_path) == ["keep.bin"]


def test_missing_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # makes `import s3fs` raise ImportError
    with pytest.raises(MissingExtraError) as info:
        flyte_storage.exists_sync("s3://bucket/key")
    err = info.value
    assert err.extra == "s3"
    assert "pip install 'flyte-storage[s3]'" in str(err)
    assert isinstance(err, ImportError) and isinstance(err, StorageError)


@pytest.mark.parametrize(
    "protocol,extra", [("gs", "gcs"), ("abfs", "azure"), ("abfss", "azure"), ("s3a", "s3")]
)
def test_missing_extra_per_cloud(
    monkeypatch: pytest.MonkeyPatch, protocol: str, extra: str
) -> None:
    module = {"gs": "gcsfs", "abfs": "adlfs", "abfss": "adlfs", "s3a": "s3fs"}[protocol]
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtraError, match=rf"flyte-storage\[{extra}\]"):
        flyte_storage.get_filesystem(f"{protocol}://c/k")


def test_unknown_protocol() -> None:
    with pytest.raises(InvalidURI):
        flyte_storage.exists_sync("nosuchproto://x/y")


async def test_sync_twins_work_inside_a_running_loop(tmp_path: Any) -> None:
    # e.g. a sync helper called from async code: blocks this loop, but must not deadlock.
    p = flyte_storage.put_stream_sync(b"x", str(tmp_path / "x"))
    assert flyte_storage.exists_sync(p)


async def test_many_concurrent_operations(amem: str) -> None:
    paths = [flyte_storage.join(amem, f"f{i}") for i in range(50)]
    await asyncio.gather(
        *(flyte_storage.put_stream(str(i).encode(), p) for i, p in enumerate(paths))
    )
    sizes = await asyncio.gather(*(flyte_storage.size(p) for p in paths))
    assert sizes == [len(str(i)) for i in range(50)]


def test_file_uris_are_local(tmp_path: Any) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(b"z")
    assert flyte_storage.exists_sync(f"file://{p}")
    assert flyte_storage.size_sync(f"file://{p}") == 1


def test_storage_options() -> None:
    flyte_storage.configure(flyte_storage.S3(endpoint="http://e:1", access_key_id="a"))
    opts = flyte_storage.storage_options("s3://b/k")
    assert opts["endpoint_url"] == "http://e:1" and opts["key"] == "a"
    assert flyte_storage.storage_options("/local") == {}


def test_filesystem_is_cached_per_configuration() -> None:
    flyte_storage.configure(flyte_storage.S3(endpoint="http://e:1", anonymous=True))
    a = flyte_storage.get_filesystem("s3")
    assert flyte_storage.get_filesystem("s3://other/key") is a
    flyte_storage.configure(flyte_storage.S3(endpoint="http://e:2", anonymous=True))
    assert flyte_storage.get_filesystem("s3") is not a


def _iter(n: int) -> Iterator[bytes]:
    for _ in range(n):
        yield b"0123456789"


def test_put_stream_sync_large_iterable(tmp_path: Any) -> None:
    p = flyte_storage.put_stream_sync(_iter(10_000), str(tmp_path / "big"))
    assert flyte_storage.size_sync(p) == 100_000


async def test_async_file_reads_lines(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"header\nrow 1\nrow 2\n")
    async with flyte_storage.open(str(path), "rb") as f:
        assert await f.readline() == b"header\n"
        assert await f.readlines() == [b"row 1\n", b"row 2\n"]
        assert await f.readline() == b""
