"""`flyte.Checkpoint`, `flyte.latest_checkpoint` and `flyte.ctx().checkpoint` (local disk).

Round trips of bytes, files and directories (sync and async), what `load` gives when there is no
previous checkpoint, the errors for bad input, the a0 wiring of `--checkpoint-path` /
`--prev-checkpoint`, and local runs whose retries resume from the previous attempt's checkpoint.
"""

from __future__ import annotations

import os
import pathlib
import tarfile
import time
from pathlib import Path

import pytest

import flyte
import flyte.models
from flyte_runtime import _entrypoint
from flyte_runtime._checkpoint import BaseCheckpoint, Checkpoint, latest_checkpoint

# ------------------------------------------------------------------------------------------------
# round trips


def test_bytes_round_trip_sync(tmp_path: Path) -> None:
    dest = str(tmp_path / "a0" / "1" / "_flytecheckpoints")
    first = Checkpoint(dest)
    assert not first.prev_exists()
    assert first.load_sync() is None
    first.save_sync(b"step=41")
    first.save_sync(b"step=42")  # a later save replaces the earlier one
    assert Path(dest).read_bytes() == b"step=42"

    second = Checkpoint(str(tmp_path / "a0" / "2" / "_flytecheckpoints"), dest)
    assert second.prev_exists() and second.remote_source == dest
    restored = second.load_sync()
    assert restored == second.path / "payload"
    assert restored.read_bytes() == b"step=42"
    # Loading again gives the same result without another download.
    Path(dest).unlink()
    assert second.load_sync() == restored


async def test_bytes_round_trip_async_with_file_uris(tmp_path: Path) -> None:
    dest = f"file://{tmp_path}/cp/_flytecheckpoints"
    first = Checkpoint(dest)
    await first.save(b"\x00\x01binary")
    second = Checkpoint(f"file://{tmp_path}/cp2", dest)
    restored = await second.load()
    assert restored is not None and restored.read_bytes() == b"\x00\x01binary"


async def test_a_file_is_stored_as_it_is(tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(b"weights" * 1000)
    dest = str(tmp_path / "cp")
    await Checkpoint(dest).save(src)
    assert Path(dest).read_bytes() == src.read_bytes()
    nxt = Checkpoint(str(tmp_path / "next"), dest)  # its workspace lives as long as it does
    restored = nxt.load_sync()
    assert restored is not None and restored.name == "payload"
    assert restored.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_directory_is_stored_as_a_tar_and_restored_as_a_tree(
    tmp_path: Path, mode: str
) -> None:
    tree = tmp_path / "tree"
    (tree / "epoch-2").mkdir(parents=True)
    (tree / "epoch-2" / "last.ckpt").write_text("two")
    (tree / "config.json").write_text("{}")
    dest = str(tmp_path / "cp")
    cp = Checkpoint(dest)
    if mode == "sync":
        cp.save_sync(str(tree))
    else:
        await cp.save(tree)
    assert tarfile.is_tarfile(dest)
    with tarfile.open(dest) as tar:  # entries are relative to the directory saved
        assert sorted(tar.getnames()) == ["config.json", "epoch-2", "epoch-2/last.ckpt"]

    nxt = Checkpoint(str(tmp_path / "cp2"), dest)
    restored = nxt.load_sync() if mode == "sync" else await nxt.load()
    assert restored == nxt.path
    assert (restored / "epoch-2" / "last.ckpt").read_text() == "two"
    assert (restored / "config.json").read_text() == "{}"
    assert latest_checkpoint(restored) == restored / "epoch-2" / "last.ckpt"


def test_a_restore_replaces_what_the_workspace_held(tmp_path: Path) -> None:
    dest = str(tmp_path / "cp")
    Checkpoint(dest).save_sync(b"x")
    cp = Checkpoint(str(tmp_path / "next"), dest)
    (cp.path / "stale.txt").write_text("old")
    assert cp.load_sync() == cp.path / "payload"
    assert sorted(p.name for p in cp.path.iterdir()) == ["payload"]


# ------------------------------------------------------------------------------------------------
# no previous checkpoint


@pytest.mark.parametrize("src", [None, "", "   ", '""', "''"])
def test_no_previous_location_means_nothing_to_load(tmp_path: Path, src: str | None) -> None:
    cp = Checkpoint(str(tmp_path / "cp"), src)
    assert not cp.prev_exists()
    assert cp.remote_source is None
    assert cp.load_sync() is None


async def test_a_missing_previous_checkpoint_loads_as_none(tmp_path: Path) -> None:
    cp = Checkpoint(str(tmp_path / "cp"), str(tmp_path / "a0" / "1" / "_flytecheckpoints"))
    assert cp.prev_exists()  # the location was given, but the attempt saved nothing
    assert await cp.load() is None
    assert cp.load_sync() is None
    assert list(cp.path.iterdir()) == []


def test_an_empty_previous_checkpoint_loads_as_none(tmp_path: Path) -> None:
    prev = tmp_path / "prev"
    prev.write_bytes(b"")
    assert Checkpoint(str(tmp_path / "cp"), str(prev)).load_sync() is None


# ------------------------------------------------------------------------------------------------
# bad input


def test_bad_locations_are_rejected() -> None:
    with pytest.raises(ValueError, match="checkpoint_dest is empty"):
        Checkpoint("")
    with pytest.raises(ValueError, match="checkpoint_dest is empty"):
        Checkpoint('  ""  ')
    with pytest.raises(TypeError, match="checkpoint_dest must be a str"):
        Checkpoint(pathlib.Path("/tmp/x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="checkpoint_src must be a str"):
        Checkpoint("/tmp/x", 3)  # type: ignore[arg-type]


async def test_saving_a_missing_path_names_it(tmp_path: Path) -> None:
    cp = Checkpoint(str(tmp_path / "cp"))
    missing = tmp_path / "nope.ckpt"
    with pytest.raises(FileNotFoundError, match=r"nope\.ckpt does not exist"):
        cp.save_sync(missing)
    with pytest.raises(FileNotFoundError, match=r"nope\.ckpt does not exist"):
        await cp.save(str(missing))
    assert not (tmp_path / "cp").exists()


def test_saving_something_else_is_a_type_error(tmp_path: Path) -> None:
    cp = Checkpoint(str(tmp_path / "cp"))
    with pytest.raises(TypeError, match="data must be bytes, a str path or a pathlib.Path"):
        cp.save_sync(42)  # type: ignore[arg-type]


def test_a_previous_location_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    # A prefix, not an object: a clear storage error rather than a silent "nothing restored".
    from flyte_storage.errors import InvalidURI

    (tmp_path / "dir").mkdir()
    with pytest.raises(InvalidURI, match="is a directory"):
        Checkpoint(str(tmp_path / "cp"), str(tmp_path / "dir")).load_sync()


def test_base_checkpoint_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseCheckpoint()  # type: ignore[abstract]
    assert issubclass(Checkpoint, BaseCheckpoint)


# ------------------------------------------------------------------------------------------------
# latest_checkpoint


def _touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(path.name)
    os.utime(path, (mtime, mtime))
    return path


def test_latest_checkpoint_prefers_the_newest_file(tmp_path: Path) -> None:
    now = time.time()
    _touch(tmp_path / "run-a" / "last.ckpt", now - 100)
    newest = _touch(tmp_path / "run-b" / "deep" / "last.ckpt", now)
    _touch(tmp_path / "run-c" / "last.ckpt", now - 50)
    _touch(tmp_path / "other.ckpt", now + 100)  # not named last.ckpt
    assert latest_checkpoint(tmp_path) == newest
    assert latest_checkpoint(str(tmp_path), "**/*.ckpt") == tmp_path / "other.ckpt"


def test_latest_checkpoint_ranks_by_key(tmp_path: Path) -> None:
    now = time.time()
    # Modification times say step-9 is newest; the key (the step number) says step-10 wins.
    for step, age in ((2, 30), (10, 20), (9, 0)):
        _touch(tmp_path / f"step-{step}.ckpt", now - age)
    by_step = latest_checkpoint(tmp_path, "step-*.ckpt", key=lambda p: int(p.stem.split("-")[1]))
    assert by_step == tmp_path / "step-10.ckpt"
    assert latest_checkpoint(tmp_path, "step-*.ckpt") == tmp_path / "step-9.ckpt"


def test_latest_checkpoint_without_matches_is_none(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    assert latest_checkpoint(tmp_path / "missing") is None
    (tmp_path / "last.ckpt").mkdir()  # a directory is not a checkpoint file
    assert latest_checkpoint(tmp_path) is None


def test_latest_checkpoint_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-empty glob"):
        latest_checkpoint(tmp_path, "")
    with pytest.raises(ValueError, match="relative to root"):
        latest_checkpoint(tmp_path, "/etc/*.ckpt")
    with pytest.raises(TypeError, match="root must be a path"):
        latest_checkpoint(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be callable"):
        latest_checkpoint(tmp_path, key="mtime")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------
# the facade and a0


def test_the_facade_exports_the_reference_names() -> None:
    assert flyte.Checkpoint is Checkpoint
    assert flyte.BaseCheckpoint is BaseCheckpoint
    assert flyte.latest_checkpoint is latest_checkpoint
    assert {"Checkpoint", "BaseCheckpoint", "latest_checkpoint"} <= set(flyte.__all__)
    paths = flyte.models.CheckpointPaths(prev_checkpoint_path=None, checkpoint_path="/x")
    assert paths.checkpoint_path == "/x"


def _a0_context(tmp_path: Path, *argv: str) -> flyte.models.TaskContext:
    args = _entrypoint._parser().parse_args(
        ["--outputs-path", str(tmp_path / "out"), "--name", "a0", "--run-name", "r1", *argv]
    )
    task = type("T", (), {"report": False})()
    return _entrypoint._context(args, task, None, {})


def test_a0_puts_the_checkpoint_into_the_task_context(tmp_path: Path) -> None:
    ctx = _a0_context(
        tmp_path,
        "--checkpoint-path",
        "s3://bucket/run/a0/2/_flytecheckpoints",
        "--prev-checkpoint",
        "s3://bucket/run/a0/1/_flytecheckpoints",
    )
    assert ctx.checkpoint_paths == flyte.models.CheckpointPaths(
        prev_checkpoint_path="s3://bucket/run/a0/1/_flytecheckpoints",
        checkpoint_path="s3://bucket/run/a0/2/_flytecheckpoints",
    )
    cp = ctx.checkpoint
    assert isinstance(cp, Checkpoint)
    assert cp.remote_destination == "s3://bucket/run/a0/2/_flytecheckpoints"
    assert cp.remote_source == "s3://bucket/run/a0/1/_flytecheckpoints"


@pytest.mark.parametrize("prev", ["", '""', "{{.prevCheckpointPrefix}}"])
def test_a0_first_attempt_has_no_previous_checkpoint(tmp_path: Path, prev: str) -> None:
    ctx = _a0_context(tmp_path, "--checkpoint-path", str(tmp_path / "cp"), "-p", prev)
    cp = ctx.checkpoint
    assert isinstance(cp, Checkpoint) and not cp.prev_exists()
    assert cp.load_sync() is None


def test_a0_without_a_checkpoint_path_has_no_checkpoint(tmp_path: Path) -> None:
    ctx = _a0_context(tmp_path, "--checkpoint-path", "{{.checkpointOutputPrefix}}")
    assert ctx.checkpoint is None
    assert _a0_context(tmp_path).checkpoint is None


# ------------------------------------------------------------------------------------------------
# local runs

env = flyte.TaskEnvironment(name="checkpoint_local")


@env.task(retries=2)
def count_up(n: int) -> list[str]:
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()
    start = int(restored.read_text()) if restored else 0
    for i in range(start, n):
        cp.save_sync(str(i + 1).encode())
        if i + 1 < n and (i + 1) % 2 == 0:
            raise RuntimeError(f"interrupted after {i + 1}")
    return [str(start), cp.remote_source or "", cp.remote_destination]


@env.task(retries=1)
async def child_resumes(tag: str) -> str:
    cp = flyte.ctx().checkpoint
    restored = await cp.load()
    if restored is None:
        await cp.save(tag.encode())
        raise RuntimeError("first attempt fails")
    return restored.read_text()


@env.task
async def parent_of_two() -> list[str]:
    return [await child_resumes("a"), await child_resumes("b")]


@env.task
def plain() -> str:
    cp = flyte.ctx().checkpoint
    assert cp is not None and not cp.prev_exists() and cp.load_sync() is None
    return cp.remote_destination


def test_a_local_retry_resumes_from_the_previous_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flyte_runtime._controller._DEFAULT_BACKOFF_S", 0.0)
    run = flyte.with_runcontext(mode="local").run(count_up, n=5)
    start, src, dest = run.outputs()[0]
    assert start == "4"  # attempts 1 and 2 saved 2 and 4; attempt 3 resumed from 4
    assert dest.endswith("/a0/3/_flytecheckpoints")
    assert src.endswith("/a0/2/_flytecheckpoints")
    assert Path(dest).read_bytes() == b"5"


def test_local_child_actions_have_their_own_checkpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("flyte_runtime._controller._DEFAULT_BACKOFF_S", 0.0)
    run = flyte.with_runcontext(mode="local").run(parent_of_two)
    assert run.outputs()[0] == ["a", "b"]


def test_every_local_task_has_a_checkpoint() -> None:
    dest = flyte.with_runcontext(mode="local").run(plain).outputs()[0]
    assert dest.endswith("/a0/1/_flytecheckpoints")


# ------------------------------------------------------------------------------------------------
# an object store (moto S3 from scripts/services/start.sh)


# Read at import: the autouse `isolated` fixture clears FLYTE_* variables before each test.
_SERVICES_ENV = os.environ.get("FLYTE_TEST_SERVICES_ENV")


def _services_env() -> dict[str, str]:
    path = _SERVICES_ENV
    if not path:
        pytest.skip(
            "FLYTE_TEST_SERVICES_ENV is not set: run scripts/services/start.sh and export "
            "FLYTE_TEST_SERVICES_ENV=<the path it prints> to test checkpoints on S3"
        )
    out: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip("'\"")
    return out


@pytest.mark.integration
async def test_round_trips_through_s3(tmp_path: Path) -> None:
    import uuid

    import flyte_storage

    env = _services_env()
    previous = flyte_storage.get_config()
    flyte_storage.configure(
        flyte_storage.StorageConfig(
            s3=flyte_storage.S3(
                endpoint=env["FLYTE_TEST_S3_ENDPOINT"],
                access_key_id=env["FLYTE_TEST_S3_ACCESS_KEY_ID"],
                secret_access_key=env["FLYTE_TEST_S3_SECRET_ACCESS_KEY"],
                addressing_style="path",
            )
        )
    )
    try:
        bucket = f"cp-{uuid.uuid4().hex[:12]}"
        flyte_storage.get_filesystem("s3").mkdir(bucket)
        first = f"s3://{bucket}/run/a0/1/_flytecheckpoints"
        second = f"s3://{bucket}/run/a0/2/_flytecheckpoints"
        tree = tmp_path / "tree"
        (tree / "sub").mkdir(parents=True)
        (tree / "sub" / "last.ckpt").write_text("s3 state")
        await Checkpoint(first).save(tree)
        cp = Checkpoint(second, first)
        restored = await cp.load()
        assert restored == cp.path
        assert (restored / "sub" / "last.ckpt").read_text() == "s3 state"
        cp.save_sync(b"bytes on s3")
        nxt = Checkpoint(f"s3://{bucket}/run/a0/3/_flytecheckpoints", second)
        assert nxt.load_sync().read_bytes() == b"bytes on s3"  # type: ignore[union-attr]
        missing = Checkpoint(second, f"s3://{bucket}/run/a0/9/_flytecheckpoints")
        assert missing.load_sync() is None
    finally:
        flyte_storage.configure(previous)
