"""Deployed tasks (`flyte.remote.Task.get(...)`) called from tasks, and the `@flyte.trace` wiring
to the run's controller: what local runs do, and the in-task controller's guards.

The full path (a devbox, `flyte.deploy`, a parent in a0 calling the deployed task, traces recorded
as actions) is tested in the repository's tests/a0/test_task_refs_remote.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.core import interface_pb2, literals_pb2, types_pb2
from flyteidl2.task import common_pb2, task_definition_pb2

import flyte
import flyte.errors
from flyte_client.remote import TaskDetails
from flyte_models import ActionID, RawDataPath, TaskContext, use_task_context
from flyte_models import errors as ferr
from flyte_runtime._remote_controller import (
    RemoteController,
    RemoteControllerUnavailableError,
    RemoteTaskCallHandler,
)
from flyte_runtime._state import _RUN, RunOptions, RunState


def _details(name: str = "leaf.add") -> TaskDetails:
    """A deployed `add(x: int, y: int = 10) -> int`, as `Task.get(...).fetch()` returns it."""
    int_t = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    iface = interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(
            variables=[
                interface_pb2.VariableEntry(key="x", value=interface_pb2.Variable(type=int_t)),
                interface_pb2.VariableEntry(key="y", value=interface_pb2.Variable(type=int_t)),
            ]
        ),
        outputs=interface_pb2.VariableMap(
            variables=[
                interface_pb2.VariableEntry(key="o0", value=interface_pb2.Variable(type=int_t))
            ]
        ),
    )
    ten = literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=10))
    )
    spec = task_definition_pb2.TaskSpec(
        default_inputs=[
            common_pb2.NamedParameter(
                name="y", parameter=interface_pb2.Parameter(var=iface.inputs.variables[1].value)
            )
        ]
    )
    spec.default_inputs[0].parameter.default.CopyFrom(ten)
    spec.task_template.id.name = name
    spec.task_template.type = "python"
    spec.task_template.interface.CopyFrom(iface)
    return TaskDetails(
        task_definition_pb2.TaskDetails(
            task_id=task_definition_pb2.TaskIdentifier(
                project="p", domain="d", name=name, version="v1"
            ),
            spec=spec,
        )
    )


DEPLOYED = _details()
env = flyte.TaskEnvironment(name="refs_local")


@env.task
async def calls_deployed(x: int) -> int:
    result: int = await DEPLOYED(x=x)
    return result


def _ctx() -> TaskContext:
    return TaskContext(
        action=ActionID(name="a0", run_name="r1", project="p", domain="d", org="o"),
        version="v1",
        raw_data_path=RawDataPath(path="/tmp/raw"),
        output_path="/tmp/out",
        run_base_dir="/tmp/base",
    )


# ---------------------------------------------------------------------------------------------
# Task references
# ---------------------------------------------------------------------------------------------


def test_a_local_run_refuses_a_deployed_task_with_a_clear_error() -> None:
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="leaf.add.*control plane"):
        flyte.with_runcontext(mode="local").run(calls_deployed, x=1)


async def test_outside_a_task_a_deployed_task_cannot_be_called() -> None:
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match=r"flyte\.run"):
        await DEPLOYED(x=1)


async def test_the_fetched_interface_keeps_the_deployed_default() -> None:
    iface = DEPLOYED.interface
    assert list(iface.inputs) == ["x", "y"] and list(iface.outputs) == ["o0"]
    assert DEPLOYED.required_args == ("x",)


async def test_without_an_endpoint_the_call_names_the_variable() -> None:
    controller = RemoteController(None)
    with (
        use_task_context(_ctx()),
        pytest.raises(RemoteControllerUnavailableError, match="leaf.add.*_U_EP_OVERRIDE"),
    ):
        await controller.submit_task_ref(DEPLOYED, {"x": 1})
    assert controller._clients is None


async def test_the_handler_routes_deployed_tasks_to_the_controller() -> None:
    handler = RemoteTaskCallHandler(RemoteController(None), asyncio.get_running_loop())
    with (
        use_task_context(_ctx()),
        pytest.raises(RemoteControllerUnavailableError, match="leaf.add"),
    ):
        # `TaskDetails.__call__` finds `submit_task_ref` on the installed handler.
        await handler.submit_task_ref(DEPLOYED, {"x": 1})


async def test_a_deployed_task_called_inside_a_trace_is_refused() -> None:
    controller = RemoteController("dns:///127.0.0.1:9")

    @flyte.trace
    async def traced() -> int:
        result: int = await controller.submit_task_ref(DEPLOYED, {"x": 1})
        return result

    with (
        use_task_context(_ctx()),
        pytest.raises(ferr.TraceDoesNotAllowNestedTasksError, match="leaf.add"),
    ):
        await traced()
    assert controller._clients is None


# ---------------------------------------------------------------------------------------------
# Traces: delegated to the run's controller when it records them
# ---------------------------------------------------------------------------------------------


class Recorder:
    """A controller that records traces the way `RemoteController.run_trace` is called."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any], Any]] = []

    async def submit(self, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise AssertionError("no task is called in these tests")

    async def run_trace(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        call: Callable[[], Awaitable[Any]],
    ) -> Any:
        value = await call()
        self.calls.append((func.__name__, args, kwargs, value))
        return value


@contextlib.contextmanager
def recording_run() -> Iterator[Recorder]:
    """A run (on the running loop) whose controller records traces."""
    recorder = Recorder()
    state = RunState(
        run_name="r1",
        options=RunOptions(),
        metadata_dir=Path("/tmp/base"),
        raw_data_dir=Path("/tmp/raw"),
        loop=asyncio.get_running_loop(),
        controller=recorder,
    )
    token = _RUN.set(state)
    try:
        yield recorder
    finally:
        _RUN.reset(token)


@flyte.trace
async def double(x: int) -> int:
    from flyte_runtime._state import in_trace

    assert in_trace() is not None
    return 2 * x


@flyte.trace
def triple(x: int) -> int:
    return 3 * x


async def test_an_async_trace_in_a_task_is_recorded_by_the_controller() -> None:
    with recording_run() as recorder, use_task_context(_ctx()):
        assert await double(4) == 8
        assert await double(x=5) == 10
    assert [(n, a, k) for n, a, k, _ in recorder.calls] == [
        ("double", (4,), {}),
        ("double", (), {"x": 5}),
    ]


async def test_a_trace_outside_a_task_just_runs() -> None:
    with recording_run() as recorder:
        assert await double(4) == 8
        assert triple(2) == 6
    assert recorder.calls == []


async def test_a_sync_trace_from_a_sync_task_thread_is_recorded() -> None:
    def sync_task_body() -> int:
        return triple(5) + 1

    with recording_run() as recorder, use_task_context(_ctx()):
        # Sync tasks run in a worker thread while the run's loop keeps going.
        assert await asyncio.to_thread(sync_task_body) == 16
    ((name, args, _, _),) = recorder.calls
    assert (name, args) == ("triple", (5,))


async def test_a_sync_trace_called_from_async_code_runs_unrecorded() -> None:
    with recording_run() as recorder, use_task_context(_ctx()):
        assert triple(3) == 9  # waiting for a recording here would block the loop
    assert recorder.calls == []


def test_local_runs_run_traces_directly() -> None:
    @env.task
    async def uses_traces(x: int) -> int:
        return await double(x) + triple(x)

    run = flyte.with_runcontext(mode="local").run(uses_traces, x=2)
    assert run.outputs()[0] == 4 + 6


async def test_a_call_from_another_loop_is_submitted_on_the_a0_loop() -> None:
    """A sync task may run `asyncio.run(ref(x=1))` in its thread; the call goes to a0's loop."""
    a0_loop = asyncio.get_running_loop()
    seen: list[asyncio.AbstractEventLoop] = []

    class Controller(RemoteController):
        async def submit_task_ref(self, task: TaskDetails, kwargs: dict[str, Any]) -> Any:
            seen.append(asyncio.get_running_loop())
            return kwargs["x"] + 1

    handler = RemoteTaskCallHandler(Controller(None), a0_loop)

    def sync_task_body() -> int:
        result: int = asyncio.run(handler.submit_task_ref(DEPLOYED, {"x": 41}))
        return result

    with use_task_context(_ctx()):
        assert await asyncio.to_thread(sync_task_body) == 42
        assert await handler.submit_task_ref(DEPLOYED, {"x": 1}) == 2
    assert seen == [a0_loop, a0_loop]
