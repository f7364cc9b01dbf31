"""TaskContext, the context holder, NULL_TASK_CONTEXT, RawDataPath, CodeBundle, SerializationContext."""

from __future__ import annotations

import asyncio
import os
import pathlib
from datetime import datetime, timezone

import pytest

from flyte_models import (
    MAX_INLINE_IO_BYTES,
    NULL_TASK_CONTEXT,
    ActionID,
    CallCounter,
    CheckpointPaths,
    CodeBundle,
    GroupData,
    PathRewrite,
    RawDataPath,
    SerializationContext,
    TaskContext,
    current_task_context,
    use_task_context,
)


def make_ctx(**kwargs: object) -> TaskContext:
    values: dict[str, object] = {
        "action": ActionID(name="a0", run_name="r1", project="p", domain="d"),
        "version": "v1",
        "raw_data_path": RawDataPath(path="s3://bucket/raw"),
        "output_path": "s3://bucket/out",
        "run_base_dir": "s3://bucket/base",
    }
    values.update(kwargs)
    return TaskContext(**values)  # type: ignore[arg-type]


def test_task_context_defaults() -> None:
    ctx = make_ctx()
    assert ctx.mode == "remote" and ctx.is_in_cluster()
    assert ctx.task_action == ctx.action
    assert ctx.data == {} and ctx.custom_context == {}
    assert ctx.run_start_time is not None and ctx.run_start_time.tzinfo is timezone.utc
    assert bool(ctx)
    assert ctx["missing"] is None
    assert ctx.checkpoint is None
    assert MAX_INLINE_IO_BYTES == 10 * 1024 * 1024


def test_replace_merges_data_and_renews_call_counter_for_a_new_action() -> None:
    ctx = make_ctx(data={"a": 1})
    same = ctx.replace(data={"b": 2}, group_data=GroupData("g"))
    assert same.data == {"a": 1, "b": 2}
    assert same.group_data == GroupData(name="g")
    assert same._call_counter is ctx._call_counter
    other = ctx.replace(action=ActionID(name="t1", run_name="r1"))
    assert other._call_counter is not ctx._call_counter
    assert ctx.replace(data=None).data == {"a": 1}
    assert other.replace(mode="local").mode == "local"


def test_checkpoint_comes_from_data() -> None:
    marker = object()
    ctx = make_ctx(
        checkpoint_paths=CheckpointPaths(prev_checkpoint_path=None, checkpoint_path="s3://c"),
        data={TaskContext.CHECKPOINT_DATA_KEY: marker},
    )
    assert ctx.checkpoint is marker
    assert ctx.checkpoint_paths is not None and ctx.checkpoint_paths.checkpoint_path == "s3://c"


def test_env_backed_properties(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx()
    assert ctx.attempt_number == 0 and ctx.rank is None and ctx.master_addr is None
    for name, value in {
        "FLYTE_ATTEMPT_NUMBER": "2",
        "RANK": "1",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "4",
        "LOCAL_WORLD_SIZE": "2",
        "NODE_RANK": "1",
        "NNODES": "2",
        "MASTER_ADDR": "10.0.0.1",
        "MASTER_PORT": "29500",
        "JOBSET_RESTART_ATTEMPT": "3",
    }.items():
        monkeypatch.setenv(name, value)
    assert (ctx.attempt_number, ctx.rank, ctx.local_rank, ctx.world_size) == (2, 1, 0, 4)
    assert (ctx.local_world_size, ctx.node_rank, ctx.nnodes) == (2, 1, 2)
    assert (ctx.master_addr, ctx.master_port, ctx.restart_attempt) == ("10.0.0.1", 29500, 3)


def test_task_context_validation() -> None:
    with pytest.raises(ValueError, match="TaskContext.mode must be .*got 'cloud'"):
        make_ctx(mode="cloud")
    with pytest.raises(TypeError, match="TaskContext.action must be an ActionID, got 'a0'"):
        make_ctx(action="a0")
    with pytest.raises(TypeError, match="TaskContext.raw_data_path must be a RawDataPath"):
        make_ctx(raw_data_path="/tmp")


def test_null_task_context_is_falsy_with_none_fields() -> None:
    assert not NULL_TASK_CONTEXT
    assert repr(NULL_TASK_CONTEXT) == "NullTaskContext()"
    assert NULL_TASK_CONTEXT.action is None and NULL_TASK_CONTEXT.raw_data_path is None
    assert NULL_TASK_CONTEXT == NULL_TASK_CONTEXT and hash(NULL_TASK_CONTEXT)
    assert NULL_TASK_CONTEXT.checkpoint is None
    assert isinstance(NULL_TASK_CONTEXT, TaskContext)


def test_holder_sets_and_restores_nested_contexts() -> None:
    assert current_task_context() is None
    outer, inner = make_ctx(), make_ctx(version="v2")
    with use_task_context(outer) as installed:
        assert installed is outer and current_task_context() is outer
        with use_task_context(inner):
            assert current_task_context() is inner
        assert current_task_context() is outer
        with use_task_context(NULL_TASK_CONTEXT):
            assert current_task_context() is None
    assert current_task_context() is None
    with (
        pytest.raises(TypeError, match="tctx must be a TaskContext or None, got 'x'"),
        use_task_context("x"),  # type: ignore[arg-type]
    ):
        pass


def test_holder_is_isolated_per_asyncio_task() -> None:
    async def child() -> TaskContext | None:
        return current_task_context()

    async def main() -> tuple[TaskContext | None, TaskContext | None]:
        ctx = make_ctx()
        with use_task_context(ctx):
            seen = await asyncio.create_task(child())
        after = await asyncio.create_task(child())
        return seen, after

    seen, after = asyncio.run(main())
    assert seen is not None and seen.version == "v1"
    assert after is None


def test_call_counter_numbers_identical_calls() -> None:
    counter = CallCounter()
    assert [counter.next("k"), counter.next("k"), counter.next("j")] == [1, 2, 1]
    assert repr(counter) == "CallCounter({'k': 2, 'j': 1})"


def test_raw_data_path_random_remote_paths() -> None:
    raw = RawDataPath(path="s3://bucket/raw/")
    a, b = raw.get_random_remote_path(), raw.get_random_remote_path()
    assert a.startswith("s3://bucket/raw/") and a != b and "//" not in a[len("s3://") :]
    named = raw.get_random_remote_path("data.csv")
    assert named.startswith("s3://bucket/raw/") and named.endswith("/data.csv")
    assert not raw.is_local
    bare = RawDataPath(path="gs://bucket").get_random_remote_path("f")
    assert bare.startswith("gs://bucket/") and bare.endswith("/f")


def test_raw_data_path_local_paths_are_absolute_and_not_created(tmp_path: pathlib.Path) -> None:
    raw = RawDataPath(path=str(tmp_path / "raw"))
    assert raw.is_local
    path = raw.get_random_remote_path("x.txt")
    assert os.path.isabs(path) and path.endswith("x.txt")
    assert path.startswith(str(tmp_path / "raw"))
    assert not (tmp_path / "raw").exists()
    file_url = RawDataPath(path=f"file://{tmp_path}").get_random_remote_path()
    assert file_url.startswith(str(tmp_path))


def test_raw_data_path_from_local_folder(tmp_path: pathlib.Path) -> None:
    created = RawDataPath.from_local_folder(tmp_path / "new")
    assert (tmp_path / "new").is_dir() and created.path == str(tmp_path / "new")
    assert RawDataPath.from_local_folder("/some/where").path == "/some/where"
    temp = RawDataPath.from_local_folder()
    assert os.path.isdir(temp.path)
    os.rmdir(temp.path)
    with pytest.raises(TypeError, match="local_folder must be .* got 3"):
        RawDataPath.from_local_folder(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RawDataPath.path must be a non-empty str, got ''"):
        RawDataPath(path="")


def test_path_rewrite() -> None:
    rw = PathRewrite.from_str("s3://a->/mnt/a")
    assert rw.rewrite("s3://a/x") == "/mnt/a/x" and rw.rewrite("gs://b") == "gs://b"
    assert repr(rw) == "s3://a->/mnt/a"
    assert RawDataPath(path="/x", path_rewrite=rw).path_rewrite is rw
    with pytest.raises(ValueError, match="got 'nope'"):
        PathRewrite.from_str("nope")
    with pytest.raises(ValueError, match="PathRewrite.old_prefix must be a non-empty str, got ''"):
        PathRewrite("", "b")
    with pytest.raises(ValueError, match="both are 'a'"):
        PathRewrite("a", "a")


def test_code_bundle() -> None:
    bundle = CodeBundle(computed_version="abc", tgz="s3://b/fast.tar.gz")
    assert bundle.destination == "."
    moved = bundle.with_downloaded_path(pathlib.Path("/tmp/x"))
    assert moved.downloaded_path == pathlib.Path("/tmp/x") and bundle.downloaded_path is None
    with pytest.raises(ValueError, match="CodeBundle needs tgz or pkl, got tgz=None and pkl=None"):
        CodeBundle(computed_version="abc")
    with pytest.raises(ValueError, match="CodeBundle.computed_version must be a non-empty str"):
        CodeBundle(computed_version="", pkl="x")


def test_serialization_context_defaults_and_entrypoint() -> None:
    sctx = SerializationContext(version="v1", project="p", domain="d")
    assert sctx.input_path == "{{.input}}" and sctx.output_path == "{{.outputPrefix}}"
    assert SerializationContext.RAW_OUTPUT_DATA_PREFIX == "{{.rawOutputDataPrefix}}"
    assert sctx.get_entrypoint_path() == "/opt/venv/bin/runtime.py"
    assert sctx.get_entrypoint_path("/usr/bin/python3") == "/usr/bin/runtime.py"
    with pytest.raises(
        ValueError, match="SerializationContext.version must be a non-empty str, got ''"
    ):
        SerializationContext(version="")
    with pytest.raises(TypeError, match="SerializationContext.code_bundle must be a CodeBundle"):
        SerializationContext(version="v", code_bundle="x")  # type: ignore[arg-type]


def test_run_start_time_can_be_given() -> None:
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert make_ctx(run_start_time=when).run_start_time == when
