"""`File`: the literal, and the async / sync I/O methods on local and remote storage."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Optional

import pytest
from flyteidl2.core.types_pb2 import BlobType, LiteralType
from pydantic import BaseModel

from flyte_models import TaskContext
from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError
from flyte_types.io import Dir, File, HashFunction
from flyte_types.io._hashing import HashlibAccumulator
from flyte_types.testing import assert_roundtrip


def _same(a: Any, b: Any) -> bool:
    return (a.path, a.name, a.format, a.hash) == (b.path, b.name, b.format, b.hash)


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    p = tmp_path / "data.txt"
    p.write_text("hello")
    return p


def test_literal_shape_and_roundtrip() -> None:
    f = File(path="s3://b/k/x.csv", format="csv", hash="h")
    assert TypeEngine.to_literal_type(File) == LiteralType(
        blob=BlobType(dimensionality=BlobType.SINGLE)
    )
    lit = assert_roundtrip(f, File, eq=_same)
    assert lit.scalar.blob.uri == "s3://b/k/x.csv"
    assert lit.scalar.blob.metadata.type.format == "csv"
    assert lit.hash == "h"
    assert f.name == "x.csv"


def test_in_containers_dataclasses_and_models() -> None:
    @dataclasses.dataclass
    class Holder:
        f: File
        d: Optional[Dir] = None

    class Model(BaseModel):
        f: File
        files: list[File] = []

    f = File(path="/tmp/a.txt")
    back = TypeEngine.to_python_value_sync(
        TypeEngine.to_literal_sync(Holder(f, Dir(path="/tmp")), Holder), Holder
    )
    assert _same(back.f, f) and back.d.path == "/tmp"
    m = TypeEngine.to_python_value_sync(
        TypeEngine.to_literal_sync(Model(f=f, files=[f]), Model), Model
    )
    assert _same(m.f, f) and len(m.files) == 1
    assert_roundtrip([f, File(path="gs://x/y")], list[File], eq=lambda a, b: all(map(_same, a, b)))


def test_generic_file_subclass() -> None:
    lit = TypeEngine.to_literal_sync(File[str](path="/x"), File[str])
    assert TypeEngine.to_python_value_sync(lit, File[str]).path == "/x"


def test_wrong_literal_is_a_decode_error() -> None:
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(Dir(path="/x"), Dir), File)
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(1, int), File)


def test_from_local_outside_a_task_keeps_the_local_path(local_file: Path) -> None:
    f = File.from_local_sync(local_file)
    assert f.path == str(local_file) and f.name == "data.txt"
    assert asyncio.run(File.from_local(local_file)).path == str(local_file)
    with pytest.raises(ValueError, match="not found"):
        File.from_local_sync(local_file.parent / "missing")


def test_from_local_with_hash(local_file: Path) -> None:
    f = File.from_local_sync(local_file, hash_method=HashlibAccumulator.from_hash_name("md5"))
    assert f.hash == hashlib.md5(b"hello").hexdigest()
    assert File.from_local_sync(local_file, hash_method="precomputed").hash == "precomputed"


def test_from_local_in_a_remote_task_uploads(local_file: Path, remote_task: TaskContext) -> None:
    f = asyncio.run(File.from_local(local_file))
    assert f.path.startswith(remote_task.raw_data_path.path) and f.path.endswith("data.txt")
    assert f.exists_sync()

    async def read() -> bytes:
        async with f.open("rb") as fh:
            return bytes(await fh.read())

    assert asyncio.run(read()) == b"hello"
    assert Path(f.download_sync()).read_text() == "hello"


def test_from_local_sync_to_explicit_remote_destination(
    local_file: Path, remote_task: TaskContext
) -> None:
    dest = f"{remote_task.raw_data_path.path}/explicit/data.txt"
    f = File.from_local_sync(local_file, remote_destination=dest)
    assert f.path == dest and f.exists_sync()


def test_from_local_in_a_local_task_uses_absolute_path(
    local_file: Path, local_task: TaskContext
) -> None:
    from flyte_models import use_task_context

    with use_task_context(dataclasses.replace(local_task, mode="local")):
        assert File.from_local_sync(local_file).path == str(local_file.absolute())


def test_from_local_in_a_backend_task_copies_under_local_raw_data(
    local_file: Path, local_task: TaskContext
) -> None:
    # A task run by a backend (mode "remote") whose blob store is a local disk, e.g. the
    # devbox: its working directory is removed after the attempt, so the file is copied.
    assert local_task.mode == "remote"
    f = File.from_local_sync(local_file)
    assert f.path.startswith(local_task.raw_data_path.path) and f.path.endswith("/data.txt")
    assert Path(f.path).read_bytes() == local_file.read_bytes()
    assert asyncio.run(File.from_local(local_file)).path.startswith(local_task.raw_data_path.path)
    # Already under the raw data path: kept as is.
    assert File.from_local_sync(f.path).path == f.path
    # Directories too.
    tree = local_file.parent / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "x.txt").write_text("x")
    copied = Dir.from_local_sync(tree)
    assert copied.path.startswith(local_task.raw_data_path.path)
    assert (Path(copied.path) / "sub" / "x.txt").read_text() == "x"


def test_new_remote_write_read_and_hash(local_task: TaskContext) -> None:
    f = File.new_remote(hash_method=HashFunction.from_fn(lambda b: f"len{len(bytes(b))}"))
    assert f.path.startswith(local_task.raw_data_path.path)

    async def io() -> bytes:
        async with f.open("wb") as fh:
            await fh.write(b"abc")
        assert await f.exists()
        async with f.open("rb") as fh:
            return bytes(await fh.read())

    assert asyncio.run(io()) == b"abc"
    assert f.hash == "len3"


def test_open_sync_text_and_download(tmp_path: Path) -> None:
    f = File(path=str(tmp_path / "t.txt"))
    with f.open_sync("w") as fh:
        fh.write("text")
    with f.open_sync("r") as fh:
        assert fh.read() == "text"
    assert f.download_sync() == str(tmp_path / "t.txt"), "already local: no copy"
    copy = Path(f.download_sync(tmp_path / "copies" / "c.txt"))
    assert copy.read_text() == "text"
    into_dir = Path(asyncio.run(f.download(str(tmp_path / "copies") + "/")))
    assert into_dir == tmp_path / "copies" / "t.txt"


def test_remote_text_mode(remote_task: TaskContext) -> None:
    f = File(path=f"{remote_task.raw_data_path.path}/t.txt")

    async def io() -> str:
        async with f.open("w") as fh:
            await fh.write("héllo")
        async with f.open("r") as fh:
            return str(await fh.read())

    assert asyncio.run(io()) == "héllo"
    with f.open_sync("rb") as fh:
        assert fh.read() == "héllo".encode()


def test_named_remote(local_task: TaskContext) -> None:
    a = File.named_remote("out.bin")
    assert a.path == File.named_remote("out.bin").path
    assert a.path.endswith("out.bin")
    with pytest.raises(ValueError):
        File.named_remote("a/b")


def test_named_remote_needs_a_task() -> None:
    with pytest.raises(ValueError, match="task execution context"):
        File.named_remote("x")


def test_from_existing_remote_and_schema_match() -> None:
    f = File.from_existing_remote("s3://b/k", file_cache_key="abc")
    assert f.hash == "abc" and f.name == "k"
    assert File.schema_match(File.model_json_schema())
    assert not File.schema_match(Dir.model_json_schema() | {"title": "Other"})


def test_lazy_uploader_is_awaited() -> None:
    f = File(path="/local/x")

    async def upload() -> tuple[str | None, str]:
        return "h2", "s3://uploaded/x"

    f.lazy_uploader = upload
    lit = TypeEngine.to_literal_sync(f, File)
    assert lit.scalar.blob.uri == "s3://uploaded/x" and lit.hash == "h2"


def test_guess() -> None:
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(File)) is File


async def test_async_open_reads_lines_like_a_file(tmp_path: Path) -> None:
    local = tmp_path / "rows.csv"
    local.write_text("prediction\n1.5\n2.5\n")
    f = File(path=str(local))
    async with f.open("r") as fh:
        assert await fh.readline() == "prediction\n"
        assert await fh.readlines() == ["1.5\n", "2.5\n"]
