"""Sandboxed orchestrators run in pydantic-monty: task calls are bridged, values type-checked.

Every test runs real sandboxed code in Monty's worker processes; the tasks it calls run through
the local engine as child actions.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pydantic_monty  # noqa: F401 - the sandbox extra: these tests need it installed
import pytest

import flyte
import flyte.sandbox
from flyte.sandbox import (
    SandboxError,
    SandboxExecutionError,
    SandboxTypeError,
)
from flyte_models import errors as ferr

env = flyte.TaskEnvironment(name="sandbox_tests")


@env.task
def add(x: int, y: int) -> int:
    return x + y


@env.task
async def mul(x: int, y: int) -> int:
    return x * y


@env.task
def where() -> str:
    return flyte.ctx().action.name


@env.task
def explode(x: int) -> int:
    raise ValueError(f"no {x}")


@dataclasses.dataclass
class Point:
    x: int


@env.task
def point(x: int) -> Point:
    return Point(x)


@env.sandbox.orchestrator
def total(xs: list[int]) -> int:
    t = 0
    for x in xs:
        t = add(t, x)
    return t


@env.sandbox.orchestrator(timeout_ms=5_000)
async def fan(n: int) -> dict[str, list[int]]:
    doubled = await mul(n, 2)
    mapped = flyte_map("add", [1, 2, 3], [10, 20, 30])  # noqa: F821 - a sandbox built-in
    return {"doubled": [doubled], "mapped": mapped}


@env.sandbox.orchestrator
def who() -> list[str]:
    return [where(), where()]


@env.sandbox.orchestrator
def fails_uncaught(x: int) -> int:
    return explode(x)


@env.sandbox.orchestrator
def fails_caught(x: int) -> str:
    try:
        explode(x)
    except Exception as e:
        return "caught: " + str(e)
    return "not raised"


@env.sandbox.orchestrator(type_check=False)
def returns_str(x: int) -> int:
    return "x" * x


@env.sandbox.orchestrator
def uses_point(x: int) -> int:
    return point(x)


def test_sync_orchestrator_calls_tasks() -> None:
    assert flyte.run(total, xs=[1, 2, 3, 4]).outputs()[0] == 10


def test_async_orchestrator_awaits_and_maps() -> None:
    out = flyte.run(fan, n=21).outputs()[0]
    assert out == {"doubled": [42], "mapped": [11, 22, 33]}


def test_task_calls_are_child_actions_of_the_run() -> None:
    names = flyte.run(who).outputs()[0]
    # Bridged to the controller: each call is its own child action, not the orchestrator (a0).
    assert len(names) == 2 and "a0" not in names and names[0] != names[1]


def test_code_string_orchestrators() -> None:
    pipeline = flyte.sandbox.orchestrator_from_str(
        """
        partial = add(x, y)
        partial * scale
        """,
        inputs={"x": int, "y": int, "scale": int},
        output=int,
        tasks=[add],
        name="pipeline",
    )
    assert flyte.run(pipeline, x=2, y=3, scale=4).outputs()[0] == 20
    on_env = env.sandbox.orchestrator(
        "[add(v, 1) for v in values]",
        inputs={"values": list[int]},
        output=list[int],
        tasks=[add],
        name="incr",
    )
    assert on_env.name == "sandbox_tests.incr" and env.tasks["sandbox_tests.incr"] is on_env
    assert flyte.run(on_env, values=[1, 2]).outputs()[0] == [2, 3]


async def test_orchestrate_local_outside_a_run() -> None:
    result = await flyte.sandbox.orchestrate_local(
        "add(x, y) * 2", inputs={"x": 1, "y": 2}, tasks=[add]
    )
    assert result == 6


def test_forward_runs_plain_python() -> None:
    assert total.forward([1, 2]) == 3


def test_input_type_is_checked_at_the_boundary() -> None:
    with pytest.raises(SandboxTypeError, match=r"input 'xs' must be list\[int\], got list"):
        asyncio.run(total.execute(xs=[1, "2"]))


def test_output_type_is_checked_at_the_boundary() -> None:
    with pytest.raises(SandboxTypeError, match="the result must be int, got str 'xxx'"):
        flyte.run(returns_str, x=3)


def test_unsupported_declared_type_is_refused_at_definition() -> None:
    with pytest.raises(SandboxTypeError, match="input 'p' has type Point"):

        @env.sandbox.orchestrator
        def takes_point(p: Point) -> int:
            return 1


def test_task_result_that_cannot_enter_the_sandbox() -> None:
    with pytest.raises(SandboxError, match="Point, which cannot enter the sandbox"):
        flyte.run(uses_point, x=1)


def test_static_type_check_rejects_wrong_task_arguments() -> None:
    bad = flyte.sandbox.orchestrator_from_str(
        "add(x, 'one')", inputs={"x": int}, output=int, tasks=[add], name="bad"
    )
    with pytest.raises(SandboxTypeError, match="invalid-argument-type"):
        flyte.run(bad, x=1)


def test_task_error_reaches_the_caller_when_uncaught() -> None:
    with pytest.raises(ferr.RuntimeUserError) as info:
        flyte.run(fails_uncaught, x=7)
    assert "no 7" in str(info.value)


def test_task_error_can_be_caught_in_the_sandbox() -> None:
    assert flyte.run(fails_caught, x=7).outputs()[0].startswith("caught: ")


def test_code_errors_are_typed() -> None:
    boom = flyte.sandbox.orchestrator_from_str("raise KeyError('k')", inputs={}, name="boom")
    with pytest.raises(SandboxExecutionError) as info:
        flyte.run(boom)
    assert info.value.exc_type == "KeyError" and info.value.code == "KeyError"


def test_missing_pydantic_monty_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import flyte_runtime._sandbox as sb

    monkeypatch.setattr(sb, "_POOL", None)
    monkeypatch.setitem(sys.modules, "pydantic_monty", None)
    with pytest.raises(flyte.sandbox.SandboxUnavailableError, match=r"flyte-runtime\[sandbox\]"):
        sb._pool()
    # restore happens through monkeypatch; the pool object stays usable afterwards
    monkeypatch.undo()
    assert flyte.run(total, xs=[5]).outputs()[0] == 5


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="timeout_ms must be a positive int"):
        flyte.sandbox.SandboxedConfig(timeout_ms=0)


def test_sandbox_example(tmp_path: Path) -> None:
    import runpy

    here = Path(__file__).resolve()
    for root in (Path.cwd(), *here.parents):
        script = root / "examples" / "sandbox_example.py"
        if script.is_file():
            break
    else:
        pytest.fail("examples/sandbox_example.py not found")
    result = runpy.run_path(str(script), run_name="sandbox_example")
    assert result["main"]() == [
        "leaderboard: [('best', 87), ('bonus', 174), ('total', 144)]",
        "pipeline: 20",
        "refused: SandboxAccessError",
    ]
