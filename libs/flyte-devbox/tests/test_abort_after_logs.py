"""An abort that follows a log tail of the same action still kills it (issue #7)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import grpc
import pytest
from devbox_helpers import TERMINAL, create_run_request, task_spec, wait_until, watch_until
from flyteidl2.common import phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2, dataproxy_service_pb2_grpc
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.workflow import run_logs_service_pb2, run_service_pb2, run_service_pb2_grpc
from flyteidl2.workflow.run_logs_service_connect import RunLogsServiceClient
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox

P = phase_pb2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _pids(run_name: str) -> list[int]:
    """The processes whose command line names this run (its `a0`)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if run_name.encode() in argv and _alive(int(entry)):
            found.append(int(entry))
    return found


def test_abort_after_a_cancelled_grpc_log_tail(devbox: Devbox) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{devbox.port}") as channel:
        runs = run_service_pb2_grpc.RunServiceStub(channel)
        spec = task_spec(mode="sleep", env={"FAKE_SLEEP": "120"})
        created = runs.CreateRun(create_run_request(spec), timeout=10)
        aid = created.run.action.id

        def running() -> bool:
            d = runs.GetActionDetails(
                run_service_pb2.GetActionDetailsRequest(action_id=aid), timeout=10
            ).details
            return d.status.phase == P.ACTION_PHASE_RUNNING and bool(d.attempts)

        wait_until(running)
        stream = dataproxy_service_pb2_grpc.DataProxyServiceStub(channel).TailLogs(
            dataproxy_service_pb2.TailLogsRequest(action_id=aid, attempt=1), timeout=60
        )
        first = next(stream)
        assert first.logs
        stream.cancel()
        assert _pids(aid.run.name), "the action's process is not running"
        runs.AbortRun(run_service_pb2.AbortRunRequest(run_id=aid.run, reason="stop"), timeout=10)
        phases = [
            r.details.status.phase
            for r in runs.WatchActionDetails(
                run_service_pb2.WatchActionDetailsRequest(action_id=aid), timeout=30
            )
        ]
        assert phases[-1] == P.ACTION_PHASE_ABORTED
        wait_until(lambda: not _pids(aid.run.name), timeout=10)


@pytest.mark.parametrize("service", ["DataProxyService", "RunLogsService"])
async def test_abort_after_a_closed_connect_log_tail(devbox: Devbox, service: str) -> None:
    if service == "DataProxyService":
        logs_client: Any = DataProxyServiceClient(devbox.url)
        request: Any = dataproxy_service_pb2.TailLogsRequest
    else:
        logs_client = RunLogsServiceClient(devbox.url)
        request = run_logs_service_pb2.TailLogsRequest
    async with RunServiceClient(devbox.url) as runs, logs_client as dp:
        spec = task_spec(mode="sleep", env={"FAKE_SLEEP": "120"})
        created = await runs.create_run(create_run_request(spec))
        aid = created.run.action.id
        await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda r: r.details.attempts and r.details.attempts[0].logs_available,
        )
        lines: list[str] = []
        async with asyncio.timeout(30):
            stream = dp.tail_logs(request(action_id=aid, attempt=1))
            async for resp in stream:
                lines += [line.message for b in resp.logs for line in b.lines]
                if any("sleeping" in m for m in lines):
                    break
            await stream.aclose()
        assert any("sleeping" in m for m in lines), lines
        assert _pids(aid.run.name)
        await runs.abort_run(run_service_pb2.AbortRunRequest(run_id=aid.run, reason="stop"))
        done = await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda r: r.details.status.phase in TERMINAL,
        )
        assert done.details.status.phase == P.ACTION_PHASE_ABORTED
        assert done.details.abort_info.reason == "stop"
    wait_until(lambda: not _pids(aid.run.name), timeout=10)
    assert devbox.stats()["active_actions"] == 0


async def test_abort_during_a_log_tail_ends_the_tail(devbox: Devbox) -> None:
    """A tail still following the attempt when it is aborted ends by itself, with its lines."""
    async with RunServiceClient(devbox.url) as runs, DataProxyServiceClient(devbox.url) as dp:
        spec = task_spec(mode="sleep", env={"FAKE_SLEEP": "120"})
        created = await runs.create_run(create_run_request(spec))
        aid = created.run.action.id
        await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda r: r.details.attempts and r.details.attempts[0].logs_available,
        )
        lines: list[str] = []
        started = asyncio.Event()

        async def follow() -> None:
            req = dataproxy_service_pb2.TailLogsRequest(action_id=aid, attempt=1)
            async for resp in dp.tail_logs(req):
                lines.extend(line.message for b in resp.logs for line in b.lines)
                if any("sleeping" in m for m in lines):
                    started.set()

        tail = asyncio.create_task(follow())
        async with asyncio.timeout(30):
            await started.wait()
        await runs.abort_run(run_service_pb2.AbortRunRequest(run_id=aid.run, reason="stop"))
        async with asyncio.timeout(30):
            await tail  # ends without being cancelled
        assert any("sleeping" in m for m in lines)
        details = await runs.get_action_details(
            run_service_pb2.GetActionDetailsRequest(action_id=aid)
        )
        assert details.details.status.phase == P.ACTION_PHASE_ABORTED
    wait_until(lambda: not _pids(aid.run.name), timeout=10)
