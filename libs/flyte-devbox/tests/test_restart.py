"""A devbox restart loses nothing: running actions are recovered (or failed), never left hanging."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from devbox_helpers import (
    FAKE_A0,
    TERMINAL,
    create_run_request,
    fake_env,
    task_spec,
    wait_until,
    watch_until,
)
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

import flyte_devbox.__main__  # noqa: F401 - run below as `python -m flyte_devbox`; Pants ships it
from flyte_devbox import Devbox

P = phase_pb2


async def _phase(url: str, aid: identifier_pb2.ActionIdentifier) -> int:
    async with RunServiceClient(url) as runs:
        got = await runs.get_action_details(run_service_pb2.GetActionDetailsRequest(action_id=aid))
        return int(got.details.status.phase)


async def _wait(
    url: str, aid: identifier_pb2.ActionIdentifier, phases: set[int]
) -> run_definition_pb2.ActionDetails:
    async with RunServiceClient(url) as runs:
        w = await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda w: w.details.status.phase in phases,
        )
        return w.details


async def _create(
    url: str, spec_mode: str = "sleep", sleep: str = "2", name: str = ""
) -> identifier_pb2.ActionIdentifier:
    async with RunServiceClient(url) as runs:
        created = await runs.create_run(
            create_run_request(task_spec(mode=spec_mode, env={"FAKE_SLEEP": sleep}), name=name)
        )
        return created.run.action.id


async def test_running_action_is_recovered(make_devbox: Callable[..., Devbox]) -> None:
    first = make_devbox()
    aid = await _create(first.url, sleep="2")
    await _wait(first.url, aid, {P.ACTION_PHASE_RUNNING})
    await asyncio.to_thread(first.stop)

    second = make_devbox()
    details = await _wait(second.url, aid, TERMINAL)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert details.status.attempts == 2
    assert details.attempts[0].phase == P.ACTION_PHASE_FAILED
    assert details.attempts[0].error_info.code == "DevboxRestarted"
    assert details.attempts[1].phase == P.ACTION_PHASE_SUCCEEDED


async def test_running_action_fails_without_recovery(make_devbox: Callable[..., Devbox]) -> None:
    first = make_devbox()
    aid = await _create(first.url, sleep="30")
    await _wait(first.url, aid, {P.ACTION_PHASE_RUNNING})
    await asyncio.to_thread(first.stop)

    second = make_devbox(recover_running=False)
    details = await _wait(second.url, aid, TERMINAL)
    assert details.status.phase == P.ACTION_PHASE_FAILED
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert details.error_info.code == "DevboxRestarted"
    assert "not recovered" in details.error_info.message


async def test_queued_actions_survive(make_devbox: Callable[..., Devbox]) -> None:
    first = make_devbox(max_concurrent_actions=1)
    running = await _create(first.url, sleep="30")
    await _wait(first.url, running, {P.ACTION_PHASE_RUNNING})
    queued = await _create(first.url, spec_mode="square")
    assert await _phase(first.url, queued) == P.ACTION_PHASE_QUEUED
    await asyncio.to_thread(first.stop)

    second = make_devbox(max_concurrent_actions=1, recover_running=False)
    assert (await _wait(second.url, queued, TERMINAL)).status.phase == P.ACTION_PHASE_SUCCEEDED
    assert (await _wait(second.url, running, TERMINAL)).status.phase == P.ACTION_PHASE_FAILED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pids_of(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmd.replace(b"\0", b" ") and b"flyte_devbox" not in cmd:
                pids.append(int(entry.name))
    return pids


async def test_hard_crash_kills_strays_and_recovers(
    make_devbox: Callable[..., Devbox], tmp_path: Path
) -> None:
    """SIGKILL the devbox process: its action process survives (own session); the next devbox
    kills that stray and re-runs the action."""
    if not sys.platform.startswith("linux"):
        import pytest

        pytest.skip("uses /proc")
    state = tmp_path / "state"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flyte_devbox",
            "--port",
            str(port),
            "--state-dir",
            str(state),
            "--a0",
            f"{sys.executable} {FAKE_A0}",
            *[f"--env={k}={v}" for k, v in fake_env().items()],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), timeout=30)
        aid = await _create(url, sleep="300", name="crashy")
        await _wait(url, aid, {P.ACTION_PHASE_RUNNING})
        # RUNNING is reported once the process is forked; it may still be exec'ing.
        strays = wait_until(lambda: _pids_of("--run-name crashy"), timeout=10)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert all(_alive(p) for p in strays)  # orphaned, still running

    second = make_devbox(state_dir=state)
    wait_until(lambda: not any(_alive(p) for p in strays), timeout=10)
    details = await _wait(second.url, aid, {P.ACTION_PHASE_RUNNING})
    assert details.status.attempts == 2
    assert details.attempts[0].error_info.code == "DevboxRestarted"


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_wait_until_helper() -> None:
    t0 = time.monotonic()
    assert wait_until(lambda: time.monotonic() - t0 > 0.1, timeout=5) is True
