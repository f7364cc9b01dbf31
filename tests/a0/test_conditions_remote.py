"""`flyte.new_condition` in remote runs of our `a0`: condition actions, signals and timeouts.

A devbox (real sockets, our a0 in subprocesses) runs tasks that create conditions and wait on
them; the remote controller in the task's a0 enqueues each condition as a condition action
(Queue/State services, or the Actions service), the test finds it with
`flyte.remote.Condition.listall(run_name=...)` and signals it, and the waiting task resumes with
the value from the action's update.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.devbox_runs import our_devbox_config

import flyte
import flyte.errors
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_client.errors import FailedPreconditionError
from flyte_devbox import Devbox, DevboxConfig

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"
MODULE = "cond_remote_tasks"

TASKS = """
from datetime import timedelta

import flyte

env = flyte.TaskEnvironment(name="cond_remote")


@env.task
async def approve(model: str) -> str:
    cond = await flyte.new_condition.aio(
        "approve", prompt="Ship it?", data_type=bool, description="ship the model"
    )
    ok = await cond.wait.aio()
    return f"{model}:{ok}"


@env.task
async def pick() -> int:
    cond = await flyte.new_condition.aio("pick", prompt="How many?", data_type=int)
    return await cond.wait.aio()


@env.task
async def too_slow() -> bool:
    cond = await flyte.new_condition.aio("too_slow", timeout=timedelta(seconds=1))
    return await cond.wait.aio()


@env.task
def sync_approve(x: int) -> str:
    cond = flyte.new_condition("sync_gate", prompt="Go on?", data_type=str)
    return f"{x}:{cond.wait()}"


@env.task(retries=1)
async def retried(marker: str) -> str:
    import pathlib

    cond = await flyte.new_condition.aio("once", data_type=bool)
    value = await cond.wait.aio()
    if not pathlib.Path(marker).exists():
        pathlib.Path(marker).write_text("first attempt")
        raise RuntimeError("first attempt fails after the condition was signalled")
    return f"again:{value}"


@env.task
async def two_gates() -> float:
    first = await flyte.new_condition.aio("gate", data_type=float)
    second = await flyte.new_condition.aio("gate", data_type=float)
    return await first.wait.aio() + await second.wait.aio()
"""


def _config(state_dir: Path, *, use_actions_service: bool) -> DevboxConfig:
    return our_devbox_config(
        state_dir, max_concurrent_actions=4, use_actions_service=use_actions_service
    )


@pytest.fixture(scope="module", params=["queue-state", "actions"])
def tasks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The task module, with `flyte.init` pointed at a devbox (child actions through
    Queue/State or the Actions service)."""
    root = tmp_path_factory.mktemp("src")
    (root / f"{MODULE}.py").write_text(TASKS)
    sys.path.insert(0, str(root))
    config = _config(
        tmp_path_factory.mktemp(request.param), use_actions_service=request.param == "actions"
    )
    box = Devbox(config).start()
    try:
        flyte.init(
            endpoint=box.endpoint, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=root
        )
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()
        yield importlib.import_module(MODULE)
    finally:
        flyte.init()
        box.stop()
        sys.path.remove(str(root))
        sys.modules.pop(MODULE, None)


def _paused(run: Any, count: int = 1, timeout: float = 90.0) -> list[Any]:
    """The run's conditions once `count` of them are PAUSED (waiting for a signal)."""
    deadline = time.monotonic() + timeout
    conds: list[Any] = []
    while time.monotonic() < deadline:
        conds = list(flyte.remote.Condition.listall(run_name=run.name))
        if len([c for c in conds if c.phase == "ACTION_PHASE_PAUSED"]) >= count:
            return conds
        run.sync()
        if run.done():
            break
        time.sleep(0.2)
    raise AssertionError(f"no {count} paused condition(s) in run {run.name}: {conds}")


def _output(run: Any) -> Any:
    run.wait(quiet=True)
    return run.outputs()[0]


def test_a_bool_condition_is_signalled(tasks: ModuleType) -> None:
    run = flyte.run(tasks.approve, model="m1")
    (cond,) = _paused(run)
    assert cond.name == "approve"
    # The name the reference SDK gives it (ActionID.new_sub_action_from with the condition's
    # name as task and inputs hash, sequence 1, no group), so either SDK re-attaches to it.
    assert cond.action_name == "9y1pejgwkesmjwxx7iy22lor3"
    assert cond.expected_type is bool
    assert cond.parent == "a0"
    spec = flyte.remote.ActionDetails.get(run_name=run.name, name=cond.action_name).pb2
    assert spec.condition.prompt == "Ship it?"
    assert spec.condition.description == "ship the model"
    cond.signal(True)
    assert _output(run) == "m1:True"
    (done,) = flyte.remote.Condition.listall(run_name=run.name)
    assert done.phase == "ACTION_PHASE_SUCCEEDED"
    with pytest.raises(FailedPreconditionError, match="already"):
        done.signal(False)  # a condition is signalled once


def test_an_int_condition_returns_the_signalled_int(tasks: ModuleType) -> None:
    run = flyte.run(tasks.pick)
    _paused(run)
    cond = flyte.remote.Condition.get("pick", run_name=run.name)
    assert cond is not None and cond.expected_type is int
    cond.signal(7)
    out = _output(run)
    assert out == 7 and isinstance(out, int) and not isinstance(out, bool)


def test_an_unsignalled_condition_times_out(tasks: ModuleType) -> None:
    run = flyte.run(tasks.too_slow)
    run.wait(quiet=True)
    assert run.phase.value.lower().endswith("failed") or "fail" in str(run.phase).lower()
    with pytest.raises(Exception) as err:
        run.outputs()
    message = str(err.value)
    error = flyte.remote.ActionDetails.get(run_name=run.name, name="a0").pb2.error_info
    assert error.code.endswith("ConditionTimedoutError"), error
    assert "Condition 'too_slow'" in message and "timeout of 1 seconds" in message, message
    (cond,) = flyte.remote.Condition.listall(run_name=run.name)
    assert cond.phase == "ACTION_PHASE_TIMED_OUT"


def test_a_sync_task_waits_on_a_condition(tasks: ModuleType) -> None:
    run = flyte.run(tasks.sync_approve, x=3)
    (cond,) = _paused(run)
    assert cond.name == "sync_gate" and cond.expected_type is str
    cond.signal("yes please")
    assert _output(run) == "3:yes please"


def test_same_named_conditions_are_distinct_actions(tasks: ModuleType) -> None:
    run = flyte.run(tasks.two_gates)
    conds = _paused(run, count=2)
    assert [c.name for c in conds] == ["gate", "gate"]
    assert {c.action_name for c in conds} == {
        "3ma49kas3al2dtx1lses0lszl",  # sequence 1 and 2 of "gate", as the reference names them
        "7heqyld5qp9b7icel37bo8ft7",
    }
    conds[0].signal(1.5)
    conds[1].signal(2)  # an int for a float condition is converted
    assert _output(run) == 3.5


def test_a_retried_task_reattaches_to_its_condition(tasks: ModuleType, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    run = flyte.run(tasks.retried, marker=str(marker))
    (cond,) = _paused(run)
    cond.signal(False)
    # The second attempt finds the condition its first attempt created (same deterministic
    # name), already signalled: it neither creates another nor waits again.
    assert _output(run) == "again:False"
    assert marker.exists()
    (done,) = flyte.remote.Condition.listall(run_name=run.name)
    assert done.action_name == cond.action_name and done.phase == "ACTION_PHASE_SUCCEEDED"
