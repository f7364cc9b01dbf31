"""How failures surface: user errors, catching a child's failure, and blocking calls in async code."""

from __future__ import annotations

import pytest

import flyte
import flyte.durable
import flyte.errors
import flyte.report

env = flyte.TaskEnvironment(name="test_errors")


class QuotaExceeded(Exception):
    pass


@env.task
async def raises_key_error(key: str) -> int:
    return {"a": 1}[key]


@env.task
def sync_raises_custom() -> int:
    raise QuotaExceeded("quota of 5 reached")


@env.task
async def raises_system_error() -> int:
    raise flyte.errors.RuntimeSystemError("NodeLost", "the node went away")


@env.task
async def calls_failing_child() -> int:
    return await raises_key_error("missing")


@env.task
async def catches_child_failure() -> str:
    try:
        await raises_key_error("missing")
    except flyte.errors.RuntimeUserError as e:
        recovered = await raises_key_error("a")
        return f"{e.code}|{e.kind}|{e}|{recovered}"
    return "not reached"


@env.task
async def returns_wrong_type() -> int:
    return "not an int"  # type: ignore[return-value]


@env.task
async def blocking_report_log() -> int:
    flyte.report.log("<p>sync call from async code</p>")
    return 1


@env.task
async def blocking_durable_sleep() -> int:
    flyte.durable.sleep(0)
    return 1


@env.task
async def blocking_run() -> int:
    flyte.run(raises_key_error, "a")
    return 1


def test_user_exception_becomes_a_runtime_user_error() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError) as info:
        flyte.run(raises_key_error, "missing")
    assert info.value.code == "KeyError"
    assert info.value.kind == "user"
    assert str(info.value) == "'missing'"


def test_custom_exception_class_name_is_the_code() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="quota of 5 reached") as info:
        flyte.run(sync_raises_custom)
    assert info.value.code == "QuotaExceeded"


def test_a_child_failure_reaches_the_caller_of_the_run() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError) as info:
        flyte.run(calls_failing_child)
    assert (info.value.code, info.value.kind) == ("KeyError", "user")


def test_a_parent_can_catch_a_child_failure_and_go_on() -> None:
    assert flyte.run(catches_child_failure).outputs()[0] == "KeyError|user|'missing'|1"


def test_flyte_errors_raised_by_user_code_keep_their_kind() -> None:
    with pytest.raises(flyte.errors.RuntimeSystemError) as info:
        flyte.run(raises_system_error)
    assert (info.value.code, info.value.kind) == ("NodeLost", "system")


def test_an_output_of_the_wrong_type_is_a_user_error() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="o0") as info:
        flyte.run(returns_wrong_type)
    assert info.value.kind == "user"


@pytest.mark.parametrize(
    "task", [blocking_report_log, blocking_durable_sleep, blocking_run], ids=lambda t: t.name
)
def test_blocking_syncified_call_inside_an_async_task_names_aio(task: object) -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match=r"\.aio") as info:
        flyte.run(task)
    assert "Deadlock" in str(info.value)


def test_errors_are_runtime_errors_with_code_and_kind() -> None:
    err = flyte.errors.RuntimeUserError("MyCode", "message")
    assert isinstance(err, RuntimeError) and isinstance(err, flyte.errors.BaseRuntimeError)
    assert (err.code, err.kind, str(err)) == ("MyCode", "user", "message")
    assert flyte.errors.RuntimeSystemError("C", "m").kind == "system"
