"""`flyte.run` end to end in local mode: the returned `Run`, its outputs and files, argument errors."""

from __future__ import annotations

import asyncio
import typing
from pathlib import Path

import pytest
from flyteidl2.task import common_pb2

import flyte
import flyte.errors
import flyte.remote

env = flyte.TaskEnvironment(name="test_run")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
def sync_square(x: int) -> int:
    return x * x


@env.task
async def add(a: int, b: int = 10) -> int:
    return a + b


@env.task
async def pair(x: int) -> tuple[int, str]:
    return x, f"#{x}"


class Stats(typing.NamedTuple):
    total: int
    label: str


@env.task
async def stats(x: int) -> Stats:
    return Stats(total=x * 2, label="double")


@env.task
async def nothing(x: int) -> None:
    return None


@env.task
async def ctx_names() -> list[str]:
    tctx = flyte.ctx()
    return [tctx.action.name, str(tctx.action.run_name), tctx.mode]


@env.task
async def leaf(i: int) -> int:
    return i + 1


@env.task
async def fan_out(n: int) -> int:
    return sum(await asyncio.gather(*(leaf(i) for i in range(n))))


def test_async_task_runs_and_returns_a_finished_run() -> None:
    run = flyte.run(square, 7)
    assert run.outputs()[0] == 49
    assert run.done() is True
    run.wait()  # a local run is finished already: returns at once
    assert run.phase == flyte.models.ActionPhase.SUCCEEDED
    assert isinstance(run, flyte.remote.Run)


def test_sync_task_runs() -> None:
    assert flyte.run(sync_square, x=6).outputs()[0] == 36


def test_keyword_and_default_arguments() -> None:
    assert flyte.run(add, 1).outputs()[0] == 11
    assert flyte.run(add, a=1, b=2).outputs()[0] == 3


def test_run_aio_from_a_user_event_loop() -> None:
    async def main() -> int:
        run = await flyte.run.aio(square, 5)
        runner_run = await flyte.with_runcontext(name="from-aio").run.aio(add, 1, 1)
        assert runner_run.name == "from-aio"
        return int(run.outputs()[0]) + int(runner_run.outputs()[0])

    assert asyncio.run(main()) == 27


def test_action_outputs_single() -> None:
    out = flyte.run(square, 3).outputs()
    assert isinstance(out, flyte.remote.ActionOutputs) and isinstance(out, tuple)
    assert repr(out) == "ActionOutputs(o0=9)"
    assert out.named_outputs == {"o0": 9}
    assert out.o0 == 9
    with pytest.raises(AttributeError, match="o1"):
        _ = out.o1


def test_action_outputs_tuple_unpacks_and_quotes_strings() -> None:
    out = flyte.run(pair, 4).outputs()
    number, text = out
    assert (number, text) == (4, "#4")
    assert repr(out) == 'ActionOutputs(o0=4, o1="#4")'
    assert out.named_outputs == {"o0": 4, "o1": "#4"}
    assert out.o1 == "#4"


def test_action_outputs_of_a_namedtuple_use_positional_names() -> None:
    # As in the reference SDK: a run's outputs are named o0, o1, ... whatever the return type.
    out = flyte.run(stats, 5).outputs()
    assert tuple(out) == (10, "double")
    assert repr(out) == 'ActionOutputs(o0=10, o1="double")'
    assert out.named_outputs == {"o0": 10, "o1": "double"}


def test_action_outputs_of_a_task_without_outputs() -> None:
    # The reference gives one `None` output, so `run.outputs()[0]` works for any task.
    out = flyte.run(nothing, 1).outputs()
    assert tuple(out) == (None,)
    assert repr(out) == "ActionOutputs(o0=None)"


def test_url_is_the_metadata_dir_with_root_inputs_and_outputs(local_root: Path) -> None:
    run = flyte.run(add, 2, b=5)
    url = Path(run.url)
    assert url == local_root / "metadata" / run.name
    inputs = common_pb2.Inputs.FromString((url / "a0" / "inputs.pb").read_bytes())
    assert {nl.name: nl.value.scalar.primitive.integer for nl in inputs.literals} == {
        "a": 2,
        "b": 5,
    }
    outputs = common_pb2.Outputs.FromString((url / "a0" / "outputs.pb").read_bytes())
    assert [(nl.name, nl.value.scalar.primitive.integer) for nl in outputs.literals] == [("o0", 7)]
    assert (local_root / "raw_data" / run.name).is_dir()


def test_run_names_are_unique_unless_given() -> None:
    first, second = flyte.run(square, 1), flyte.run(square, 1)
    assert first.name != second.name
    assert first.name.isalnum() and first.name.islower()
    named = flyte.with_runcontext(name="my-run").run(square, 1)
    assert named.name == "my-run"
    assert Path(named.url).name == "my-run"


def test_ctx_inside_the_root_task() -> None:
    run = flyte.run(ctx_names)
    assert run.outputs()[0] == ["a0", run.name, "local"]


def test_wide_fan_out_creates_no_per_child_directories() -> None:
    run = flyte.run(fan_out, 200)
    assert run.outputs()[0] == sum(range(1, 201))
    assert sorted(p.name for p in Path(run.url).iterdir()) == ["a0"]
    assert sorted(p.name for p in (Path(run.url) / "a0").iterdir()) == ["inputs.pb", "outputs.pb"]


def test_with_runcontext_env_vars_are_visible_and_restored() -> None:
    @env.task
    def read_env() -> str:
        import os

        return os.environ.get("TEST_RUN_VAR", "<unset>")

    run = flyte.with_runcontext(env_vars={"TEST_RUN_VAR": "set"}).run(read_env)
    assert run.outputs()[0] == "set"
    assert flyte.run(read_env).outputs()[0] == "<unset>"


# -- argument and configuration errors -------------------------------------------------------


def test_wrong_argument_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="'a'"):
        flyte.run(add, "not a number")


def test_missing_argument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Missing required inputs: a"):
        flyte.run(add)


def test_running_a_plain_function_is_a_type_error() -> None:
    def plain(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="task"):
        flyte.run(plain, 1)


def test_remote_mode_without_a_control_plane() -> None:
    with pytest.raises(flyte.errors.InitializationError):
        flyte.with_runcontext(mode="remote").run(square, 1)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        flyte.with_runcontext(mode="everywhere").run(square, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1, -1])
def test_max_action_concurrency_that_would_deadlock_is_rejected(value: int) -> None:
    with pytest.raises(ValueError, match="max_action_concurrency"):
        flyte.with_runcontext(max_action_concurrency=value)


def test_custom_context_values_must_be_strings() -> None:
    with pytest.raises(TypeError, match="strings"):
        flyte.with_runcontext(custom_context={"n": 1})  # type: ignore[dict-item]


def test_init_from_a_missing_config_file() -> None:
    with pytest.raises(flyte.errors.InitializationError, match="missing.yaml"):
        flyte.init_from_config("missing.yaml")


def test_init_from_config_without_a_file_runs_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml; HOME is empty (conftest)
    flyte.init_from_config()
    assert flyte.run(square, 2).outputs()[0] == 4


def test_init_from_config_with_a_local_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("task:\n  project: p\n")
    flyte.init_from_config(str(cfg), project="proj", domain="development")
    assert (flyte.current_project(), flyte.current_domain()) == ("proj", "development")
    assert flyte.run(square, 3).outputs()[0] == 9


def test_init_without_an_endpoint_keeps_runs_local() -> None:
    flyte.init(project="p", domain="d")
    assert (flyte.current_project(), flyte.current_domain()) == ("p", "d")


def test_run_base_dir_and_raw_data_path_can_be_chosen(tmp_path: Path) -> None:
    @env.task
    async def where() -> str:
        return flyte.ctx().raw_data_path.path

    run = flyte.with_runcontext(
        run_base_dir=str(tmp_path / "meta"), raw_data_path=str(tmp_path / "raw")
    ).run(where)
    assert run.url == str(tmp_path / "meta")
    assert (tmp_path / "meta" / "a0" / "outputs.pb").is_file()
    assert run.outputs()[0] == str(tmp_path / "raw")
