"""`Dir`: the literal, listing, transfer, and the EmptyDir sentinel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.core.types_pb2 import BlobType

from flyte_models import TaskContext
from flyte_types import TypeEngine
from flyte_types.io import Dir, EmptyDir, File
from flyte_types.testing import assert_roundtrip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "b.csv").write_text("b")
    (root / "sub" / "c.txt").write_text("c")
    (root / "sub" / "deeper" / "d.txt").write_text("d")
    return root


def _names(files: list[File[Any]]) -> list[str]:
    return sorted(str(f.name) for f in files)


def test_literal_shape_and_roundtrip() -> None:
    d = Dir(path="s3://b/prefix", format="parquet", hash="h")
    lit = assert_roundtrip(
        d, Dir, eq=lambda a, b: (a.path, a.format, a.hash) == (b.path, b.format, b.hash)
    )
    assert lit.scalar.blob.metadata.type.dimensionality == BlobType.MULTIPART
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(Dir)) is Dir


def test_walk_list_and_get_file(tree: Path) -> None:
    d = Dir(path=str(tree))
    assert _names(list(d.walk_sync())) == ["a.txt", "b.csv", "c.txt", "d.txt"]
    assert _names(list(d.walk_sync(file_pattern="*.txt"))) == ["a.txt", "c.txt", "d.txt"]
    assert _names(list(d.walk_sync(max_depth=2))) == ["a.txt", "b.csv", "c.txt"]
    assert _names(d.list_files_sync()) == ["a.txt", "b.csv"]
    assert _names(asyncio.run(d.list_files())) == ["a.txt", "b.csv"]

    async def walk() -> list[File[Any]]:
        return [f async for f in d.walk()]

    assert len(asyncio.run(walk())) == 4
    got = d.get_file_sync("a.txt")
    assert got is not None and got.path == str(tree / "a.txt")
    assert d.get_file_sync("zzz") is None
    assert d.exists_sync() and asyncio.run(d.exists())


def test_from_local_outside_a_task_keeps_the_path(tree: Path) -> None:
    d = Dir.from_local_sync(tree)
    assert d.path == str(tree) and d.name == "tree"
    with pytest.raises(ValueError, match="not found"):
        Dir.from_local_sync(tree / "nope")


def test_upload_list_and_download_remote(
    tree: Path, remote_task: TaskContext, tmp_path: Path
) -> None:
    d = asyncio.run(Dir.from_local(tree, dir_cache_key="k"))
    assert d.path.startswith("memory://") and d.hash == "k"
    assert _names(list(d.walk_sync())) == ["a.txt", "b.csv", "c.txt", "d.txt"]
    assert _names(d.list_files_sync()) == ["a.txt", "b.csv"]
    assert asyncio.run(d.get_file("a.txt")) is not None
    local = Path(d.download_sync(tmp_path / "down"))
    assert (local / "sub" / "deeper" / "d.txt").read_text() == "d"
    sync = Dir.from_local_sync(
        tree, remote_destination=f"{remote_task.raw_data_path.path}/explicit"
    )
    assert _names(sync.list_files_sync()) == ["a.txt", "b.csv"]


def test_download_local_copy(tree: Path, tmp_path: Path) -> None:
    d = Dir(path=str(tree))
    assert d.download_sync() == str(tree)
    copy = Path(asyncio.run(d.download(tmp_path / "copy")))
    assert (copy / "sub" / "c.txt").read_text() == "c"


def test_new_remote(local_task: TaskContext) -> None:
    d = Dir.new_remote("outdir")
    assert d.path.startswith(local_task.raw_data_path.path) and d.name == "outdir"


def test_empty_dir_sentinel() -> None:
    e = Dir.empty()
    assert isinstance(e, EmptyDir) and e.is_empty
    back = TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(e, Dir), Dir)
    assert back.is_empty
    assert not Dir(path="/x").is_empty
