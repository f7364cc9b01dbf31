"""`flyte.new_condition`: validation, local runs (the value is asked on the console), and the
controller hooks a runtime must offer."""

from __future__ import annotations

import builtins
import time
from datetime import timedelta
from typing import Any

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_condition")


@env.task
async def approve_then_add(x: int) -> int:
    ok = await flyte.new_condition.aio("approve", prompt="Add?", data_type=bool)
    size = await flyte.new_condition.aio("size", prompt="How much?", data_type=int)
    if await ok.wait.aio():
        return x + await size.wait.aio()
    return -1


@env.task
def sync_threshold() -> float:
    cond = flyte.new_condition("threshold", data_type=float, prompt_type="markdown")
    return float(cond.wait())


@env.task
async def slow_answer() -> str:
    cond = await flyte.new_condition.aio("late", data_type=str, timeout=0.2)
    return str(await cond.wait.aio())


def _answers(monkeypatch: pytest.MonkeyPatch, *values: str, delay: float = 0.0) -> list[str]:
    asked: list[str] = []
    queue = list(values)

    def fake_input(prompt: str = "") -> str:
        asked.append(prompt)
        if delay:
            time.sleep(delay)
        if not queue:
            raise EOFError
        return queue.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    return asked


def test_local_run_asks_for_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _answers(monkeypatch, "yes", "41")
    assert flyte.run(approve_then_add, x=1).outputs()[0] == 42
    assert asked == [
        "[condition 'approve'] Add? (bool): ",
        "[condition 'size'] How much? (int): ",
    ]
    _answers(monkeypatch, "no")
    assert flyte.run(approve_then_add, x=1).outputs()[0] == -1
    _answers(monkeypatch, "0.5")
    assert flyte.run(sync_threshold).outputs()[0] == 0.5


def test_bad_answers_closed_stdin_and_timeouts_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    _answers(monkeypatch, "maybe")
    with pytest.raises(flyte.errors.ConditionFailedError, match="'maybe' is not a bool"):
        flyte.run(approve_then_add, x=1)
    _answers(monkeypatch)
    with pytest.raises(flyte.errors.ConditionFailedError, match="stdin is closed"):
        flyte.run(approve_then_add, x=1)
    _answers(monkeypatch, "too late", delay=1.0)
    with pytest.raises(flyte.errors.ConditionTimedoutError, match="within 0.2 seconds"):
        flyte.run(slow_answer)


def test_condition_arguments_are_checked() -> None:
    cond = flyte.new_condition("plain", timeout=timedelta(minutes=1))  # outside a task: no hooks
    assert cond.timeout_seconds == 60.0 and cond.data_type is bool
    with pytest.raises(TypeError, match="data_type must be bool, int, float or str"):
        flyte.new_condition("x", data_type=list)
    with pytest.raises(ValueError, match="timeout must be positive"):
        flyte.new_condition("x", timeout=0)
    with pytest.raises(ValueError, match="prompt_type"):
        flyte.new_condition("x", prompt_type="html")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty str"):
        flyte.ConditionWebhook(url="")
    with pytest.raises(RuntimeError, match="outside a task"):
        cond.wait()


def test_a_controller_without_condition_support_is_reported() -> None:
    import asyncio
    from pathlib import Path

    import flyte_runtime._state as state
    from flyte_models import ActionID, RawDataPath, TaskContext, use_task_context
    from flyte_runtime._condition import _Condition

    class Bare:  # a controller with no condition hooks
        async def submit(self, task: Any, args: Any, kwargs: Any) -> Any:
            raise AssertionError("not called")

    async def go() -> None:
        run = state.RunState(
            run_name="r",
            options=state.RunOptions(),
            metadata_dir=Path("."),
            raw_data_dir=Path("."),
            loop=asyncio.get_running_loop(),
            controller=Bare(),
        )
        tctx = TaskContext(
            action=ActionID(name="a0", run_name="r"),
            version="v",
            raw_data_path=RawDataPath(path="/tmp"),
            output_path="/tmp",
            run_base_dir="/tmp",
        )
        token = state._RUN.set(run)
        try:
            with use_task_context(tctx):
                cond = await flyte.new_condition.aio("c")
                assert isinstance(cond, _Condition)
                with pytest.raises(flyte.errors.RuntimeSystemError, match="cannot wait on"):
                    await cond.wait.aio()
        finally:
            state._RUN.reset(token)

    asyncio.run(go())


def _literal(**primitive: Any) -> Any:
    from flyteidl2.core import literals_pb2

    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(**primitive))
    )


def test_signalled_literals_become_the_condition_type() -> None:
    from flyte_runtime._condition import payload_from_literal

    assert payload_from_literal(_literal(boolean=True), bool) is True
    assert payload_from_literal(_literal(integer=0), bool) is False
    assert payload_from_literal(_literal(string_value="yes"), bool) is True
    out = payload_from_literal(_literal(integer=7), int)
    assert out == 7 and isinstance(out, int) and not isinstance(out, bool)
    assert payload_from_literal(_literal(float_value=3.0), int) == 3
    assert payload_from_literal(_literal(integer=2), float) == 2.0
    assert payload_from_literal(_literal(float_value=1.5), float) == 1.5
    assert payload_from_literal(_literal(string_value="hi"), str) == "hi"
    assert payload_from_literal(_literal(integer=4), str) == "4"


def test_a_literal_of_the_wrong_type_is_a_condition_failure() -> None:
    from flyteidl2.core import literals_pb2

    from flyte_runtime._condition import payload_from_literal

    with pytest.raises(flyte.errors.ConditionFailedError, match="'n'.*expected a int.*2.5"):
        payload_from_literal(_literal(float_value=2.5), int, "n")
    with pytest.raises(flyte.errors.ConditionFailedError, match="not a bool"):
        payload_from_literal(_literal(string_value="maybe"), bool, "ok")
    with pytest.raises(flyte.errors.ConditionFailedError, match="not a bool, int, float or str"):
        payload_from_literal(literals_pb2.Literal(), bool, "ok")


def test_the_condition_action_carries_prompt_type_timeout_and_webhook() -> None:
    from flyteidl2.core import types_pb2
    from flyteidl2.workflow import run_definition_pb2

    from flyte_runtime._condition import _Condition
    from flyte_runtime._remote_controller import _condition_action

    cond = _Condition(
        name="deploy",
        prompt="**Ship?**",
        prompt_type="markdown",
        data_type=int,
        description="how many replicas",
        timeout=timedelta(minutes=2),
        webhook=flyte.ConditionWebhook(
            url="https://hooks.example/x", payload={"cb": "{callback_uri}"}
        ),
    )
    action = _condition_action(cond)
    assert action.name == "deploy" and action.prompt == "**Ship?**"
    assert action.description == "how many replicas"
    assert action.type.simple == types_pb2.INTEGER
    assert action.prompt_type == run_definition_pb2.CONDITION_PROMPT_TYPE_MARKDOWN
    assert action.timeout.ToTimedelta() == timedelta(minutes=2)
    assert action.webhook.url == "https://hooks.example/x"
    assert dict(action.webhook.payload) == {"cb": "{callback_uri}"}
    bare = _condition_action(_Condition(name="plain"))
    assert not bare.HasField("timeout") and not bare.HasField("webhook")
    assert bare.type.simple == types_pb2.BOOLEAN


def test_ended_condition_actions_give_the_value_or_a_typed_error() -> None:
    from flyteidl2.core import execution_pb2
    from flyteidl2.workflow import state_service_pb2

    from flyte_runtime._condition import _Condition
    from flyte_runtime._remote_controller import _condition_result

    def update(phase: int, **kw: Any) -> Any:
        u = state_service_pb2.ActionUpdate(phase=phase, **kw)  # type: ignore[arg-type]
        u.action_id.name = "c1"
        return u

    cond = _Condition(name="gate", data_type=int, timeout=5)
    assert _condition_result(cond, update(5, value=_literal(integer=9))) == 9
    with pytest.raises(flyte.errors.ConditionTimedoutError, match="'gate'.*timeout of 5 s"):
        _condition_result(cond, update(8))
    failed = update(6, error=execution_pb2.ExecutionError(message="boom"))
    with pytest.raises(flyte.errors.ConditionFailedError, match="'gate'.*failed: boom"):
        _condition_result(cond, failed)
    with pytest.raises(flyte.errors.ActionAbortedError, match="'gate'.*aborted"):
        _condition_result(cond, update(7))
