"""The remote controller's watch stream survives a dropped connection, and cancelling a call
aborts the child action: driven from this process, as a parent task would, against a devbox.

A run whose root task just sleeps provides the parent action; this process then plays that
parent: it submits child actions through a `RemoteController` connected to the devbox through a
TCP proxy, which can cut every open connection at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from support.devbox_runs import (
    bundle_bytes,
    create_run_request,
    our_devbox_config,
    task_module,
    tgz_context,
    upload_bundle,
)

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_client._spec import translate_task_to_spec
from flyte_devbox import Devbox
from flyte_models import (
    ActionID,
    CodeBundle,
    RawDataPath,
    TaskContext,
    use_task_context,
)
from flyte_models import errors as ferr
from flyte_runtime._remote_controller import RemoteController
from flyte_runtime._resolver import install_default_resolver

MODULE = "a0_watch_tasks"
TASKS = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="watch")


@env.task
async def holder(seconds: int) -> int:
    await asyncio.sleep(seconds)
    return seconds


@env.task
async def slow_square(x: int) -> int:
    await asyncio.sleep(1.5)
    return x * x


@env.task
async def fails(x: int) -> int:
    raise KeyError(f"no key {x}")


@env.task
async def sleeper(x: int) -> int:
    await asyncio.sleep(120)
    return x
"""


class Proxy:
    """A TCP proxy to `target_port` that can cut all of its open connections."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("src")
    with task_module(root, MODULE, TASKS) as mod:
        yield root, mod


@pytest.fixture(scope="module")
def devbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    config = our_devbox_config(
        tmp_path_factory.mktemp("state"), max_concurrent_actions=4, max_system_retries=0
    )
    with Devbox(config) as dbx:
        yield dbx


class Parent:
    """This process acting as the running parent action `a0` of a live run."""

    def __init__(self, run: Any, bundle_url: str, root: Path, base: Path) -> None:
        self.run = run
        self.bundle_url = bundle_url
        self.ctx = TaskContext(
            action=ActionID(
                name="a0", run_name=run.name, project=run.project, domain=run.domain, org=run.org
            ),
            version="v1",
            raw_data_path=RawDataPath(path=str(base / "raw")),
            output_path=str(base / "a0"),
            run_base_dir=str(base),
            code_bundle=CodeBundle(tgz=bundle_url, computed_version="v1"),
        )


@pytest.fixture
async def parent(devbox: Devbox, source: tuple[Path, Any], tmp_path: Path) -> AsyncIterator[Parent]:
    root, mod = source
    install_default_resolver()
    url = await upload_bundle(devbox, bundle_bytes(root, MODULE))
    sctx = tgz_context(url, root)
    async with RunServiceClient(devbox.url) as runs:
        spec = translate_task_to_spec(mod.holder, sctx)
        created = await runs.create_run(await create_run_request(spec, mod.holder, seconds=120))
        run = created.run.action.id.run
        try:
            yield Parent(run, url, root, tmp_path / "base")
        finally:
            await runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run, reason="test over"))


async def _phase(devbox: Devbox, run: Any, name: str) -> int:
    async with RunServiceClient(devbox.url) as runs:
        details = await runs.get_action_details(
            run_service_pb2.GetActionDetailsRequest(
                action_id=identifier_pb2.ActionIdentifier(run=run, name=name)
            )
        )
    return int(details.details.status.phase)


@pytest.mark.parametrize("use_actions", [False, True], ids=["queue-state", "actions"])
async def test_watch_resubscribes_after_the_connection_drops(
    devbox: Devbox, parent: Parent, source: tuple[Path, Any], use_actions: bool
) -> None:
    mod = source[1]
    proxy = Proxy(int(devbox.endpoint.rsplit(":", 1)[1]))
    port = await proxy.start()
    controller = RemoteController(f"127.0.0.1:{port}", insecure=True, use_actions=use_actions)
    try:
        with use_task_context(parent.ctx):
            calls = asyncio.gather(
                *(controller.submit(mod.slow_square, (i,), {}) for i in range(3))
            )
            for _ in range(200):
                if controller.enqueued == 3:
                    break
                await asyncio.sleep(0.05)
            assert controller.enqueued == 3
            proxy.cut()  # the children are still running: their updates arrive after re-subscribing
            assert await asyncio.wait_for(calls, 60) == [0, 1, 4]
        (watch,) = controller._watches.values()
        assert watch.subscriptions >= 2
        assert proxy.connections >= 2
    finally:
        await controller.close()
        await proxy.stop()


async def test_child_error_and_cancellation(
    devbox: Devbox, parent: Parent, source: tuple[Path, Any]
) -> None:
    mod = source[1]
    host_port = devbox.endpoint.removeprefix("dns:///")
    controller = RemoteController(host_port, insecure=True)
    try:
        with use_task_context(parent.ctx):
            with pytest.raises(ferr.RuntimeUserError) as info:
                await controller.submit(mod.fails, (3,), {})
            assert info.value.code == "KeyError" and "no key 3" in str(info.value)

            call = asyncio.ensure_future(controller.submit(mod.sleeper, (1,), {}))
            for _ in range(200):
                if controller.enqueued == 2:
                    break
                await asyncio.sleep(0.05)
            (watch,) = controller._watches.values()
            child = None
            for _ in range(200):
                child = next((n for n, u in watch.states.items() if u.phase not in (5, 6)), None)
                if child is not None:
                    break
                await asyncio.sleep(0.05)
            assert child is not None, watch.states
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        for _ in range(100):
            if await _phase(devbox, parent.run, child) == phase_pb2.ACTION_PHASE_ABORTED:
                break
            await asyncio.sleep(0.1)
        assert await _phase(devbox, parent.run, child) == phase_pb2.ACTION_PHASE_ABORTED
    finally:
        await controller.close()


CALLS: list[int] = []


async def step(x: int) -> int:
    CALLS.append(x)
    return x + 1


async def broken_step(x: int) -> int:
    CALLS.append(-x)
    raise ferr.NonRecoverableError(f"step {x} cannot work")


async def test_traces_are_recorded_and_replayed(
    devbox: Devbox, parent: Parent, source: tuple[Path, Any]
) -> None:
    host_port = devbox.endpoint.removeprefix("dns:///")
    CALLS.clear()
    for attempt in (1, 2):  # the second controller plays a retried parent: same names, replayed
        controller = RemoteController(host_port, insecure=True)
        ctx = parent.ctx.replace(_call_counter=type(parent.ctx._call_counter)())
        try:
            with use_task_context(ctx):
                assert await controller.run_trace(step, (3,), {}, lambda: step(3)) == 4
                with pytest.raises(ferr.RuntimeUserError, match="step 5 cannot work"):
                    await controller.run_trace(broken_step, (5,), {}, lambda: broken_step(5))
        finally:
            await controller.close()
        assert [3, -5] == CALLS, f"attempt {attempt} ran the traces again: {CALLS}"
    async with RunServiceClient(devbox.url) as runs:
        resp = await runs.list_actions(
            run_service_pb2.ListActionsRequest(
                run_id=parent.run, request=list_pb2.ListRequest(limit=100)
            )
        )
    traces = {a.metadata.trace.name: a for a in resp.actions if a.metadata.HasField("trace")}
    assert traces["step"].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert traces["broken_step"].status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert all(a.metadata.parent == "a0" for a in traces.values())
