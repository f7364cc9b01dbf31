"""The unmodified reference client (PyPI `flyte==2.12.1`) against our devbox.

Through its Python API and its CLI: a simple task, a user exception, a nested fan-out of 50
children over Queue/State and again over ActionsService, `flyte get run`, `flyte abort run` of a
sleeping run, the deploy of a task whose FixedRate trigger fires, a cached task served from the
devbox's task cache, and a devbox restart in the middle of a run.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from devbox.devbox_ref_client import RefClient, devbox_config, make_workdir
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.core import catalog_pb2
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox

pytestmark = [pytest.mark.integration, pytest.mark.reference]

PROJECT, DOMAIN = "flytesnacks", "development"
P = phase_pb2


def _calls(devbox: Devbox, method: str) -> int:
    return int(devbox.stats()["rpc_calls"].get(method, 0))


def test_simple_task(ref: RefClient) -> None:
    result = ref.python("run", "square", json.dumps({"x": 7}))
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [49]


def test_user_exception_fails_with_message(ref: RefClient) -> None:
    result = ref.python("run", "explode", json.dumps({"x": 3}))
    assert result["phase"] == "FAILED", result
    assert "devbox-it: cannot handle 3" in result["error"]
    assert result["error_kind"] == 1  # KIND_USER
    shown = ref.cli("get", "run", result["run"])
    assert "devbox-it: cannot handle 3" in shown
    assert "ACTION_PHASE_FAILED" in shown


def test_fanout_over_queue_and_state(ref: RefClient) -> None:
    devbox = ref.devbox
    enqueued = _calls(devbox, "QueueService/EnqueueAction")
    result = ref.python("run", "fanout", json.dumps({"n": 50}))
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [[i * i for i in range(50)]]
    assert _calls(devbox, "QueueService/EnqueueAction") - enqueued == 50
    assert _calls(devbox, "StateService/Watch") >= 1


def test_fanout_over_actions_service(ref: RefClient) -> None:
    devbox = ref.devbox
    enqueued = _calls(devbox, "ActionsService/Enqueue")
    queued = _calls(devbox, "QueueService/EnqueueAction")
    result = ref.python("run", "fanout", json.dumps({"n": 50}), "wait", "_U_USE_ACTIONS=1")
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [[i * i for i in range(50)]]
    assert _calls(devbox, "ActionsService/Enqueue") - enqueued == 50
    assert _calls(devbox, "QueueService/EnqueueAction") == queued


def test_task_cache_serves_repeated_calls(ref: RefClient, tmp_path: Path) -> None:
    log = tmp_path / "executions.log"
    args = ("run", "cached_calls", json.dumps({"x": 4}), "wait", f"DBX_CACHE_LOG={log}")
    first = ref.python(*args)
    assert first["phase"] == "SUCCEEDED" and first["outputs"] == [[16, 16, 25]], first
    c = catalog_pb2.CatalogCacheStatus
    assert sorted(_cache_statuses(ref.devbox, first["run"])) == sorted(
        [c.CACHE_POPULATED, c.CACHE_HIT, c.CACHE_POPULATED]
    )
    second = ref.python(*args)
    assert second["phase"] == "SUCCEEDED" and second["outputs"] == [[16, 16, 25]], second
    assert _cache_statuses(ref.devbox, second["run"]) == [c.CACHE_HIT] * 3
    assert sorted(log.read_text().split()) == ["4", "5"]  # each input computed once, ever


def test_cli_run_and_get_run(ref: RefClient) -> None:
    out = ref.cli("run", "wf.py", "square", "--x", "6")
    run_name = _created_run(out)
    result = ref.python("wait", run_name)
    assert result["phase"] == "SUCCEEDED" and result["outputs"] == [36]
    shown = ref.cli("get", "run", run_name)
    assert run_name in shown and "ACTION_PHASE_SUCCEEDED" in shown
    listed = ref.cli("get", "run")
    assert run_name in listed


def test_cli_abort_sleeping_run(ref: RefClient) -> None:
    started = ref.python("run", "sleeper", json.dumps({"seconds": 600}), "nowait")
    run_name = started["run"]
    _wait_phase(ref.devbox, run_name, {P.ACTION_PHASE_RUNNING})
    out = ref.cli("abort", "run", run_name)
    assert "aborted" in out.lower()
    details = _wait_phase(ref.devbox, run_name, {P.ACTION_PHASE_ABORTED})
    assert details.action.abort_info.reason
    result = ref.python("wait", run_name)
    assert result["phase"] == "ABORTED"
    assert ref.devbox.stats()["active_actions"] == 0 or _no_process_for(run_name)


def test_deploy_with_fixed_rate_trigger(ref: RefClient) -> None:
    deployed = ref.python("deploy", "trigger_env")
    assert "ticker" in deployed["deployed"]
    listed = ref.cli("get", "trigger")
    assert "dbx_it_tick" in listed
    run = _wait_for_trigger_run(ref.devbox, "dbx_it_tick", timeout=120)
    result = ref.python("wait", run)
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [6]


def test_restart_in_the_middle_of_a_run(ref_venv: Path, tmp_path: Path) -> None:
    """Stop the devbox while a parent (its children done) is running; start it again on the
    same port and state: the parent gets a new attempt, its finished children are reused, and
    the run completes with the right outputs."""
    state = tmp_path / "state"
    first = Devbox(devbox_config(ref_venv, state)).start()
    port = first.port
    client = RefClient(ref_venv, first, make_workdir(tmp_path / "work"))
    client.write_config()
    try:
        started = client.python(
            "run", "fan_then_sleep", json.dumps({"n": 3, "seconds": 8}), "nowait"
        )
        run_name = started["run"]
        children = _wait_children_done(first, run_name, 3)
    finally:
        first.stop()
    second = Devbox(devbox_config(ref_venv, state, port=port)).start()
    try:
        client.devbox = second
        result = client.python("wait", run_name)
        assert result["phase"] == "SUCCEEDED", result
        assert result["outputs"] == [[0, 1, 4]]
        assert result["attempts"] == 2
        for name, attempts in _child_attempts(second, run_name).items():
            assert attempts == 1, f"child {name} ran again after the restart"
        assert set(_child_attempts(second, run_name)) == set(children)
    finally:
        second.stop()


def test_fork_server_launcher(ref_venv: Path, tmp_path: Path) -> None:
    """The warm fork server runs the real runtime correctly, cold and once warmed."""
    with Devbox(devbox_config(ref_venv, tmp_path / "state", launcher="fork-server")) as devbox:
        client = RefClient(ref_venv, devbox, make_workdir(tmp_path / "work"))
        client.write_config()
        for n in (5, 20):  # the second run forks from a server that learned the imports
            result = client.python("run", "fanout", json.dumps({"n": n}))
            assert result["phase"] == "SUCCEEDED", result
            assert result["outputs"] == [[i * i for i in range(n)]]
        failed = client.python("run", "explode", json.dumps({"x": 1}))
        assert failed["phase"] == "FAILED" and "devbox-it: cannot handle 1" in failed["error"]
    warm = list((tmp_path / "state" / "forkserver").glob("*.warm.json"))
    assert warm, "the fork server should have learned the runtime's imports"


# ------------------------------------------------------------------------------- helpers


def _created_run(cli_output: str) -> str:
    for line in cli_output.splitlines():
        if "Created Run:" in line:
            return line.split("Created Run:", 1)[1].strip(" │|\t")
    raise AssertionError(f"no run name in:\n{cli_output}")


def _run_id(name: str) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def _details(devbox: Devbox, run: str) -> run_service_pb2.GetRunDetailsResponse:
    async def get() -> run_service_pb2.GetRunDetailsResponse:
        async with RunServiceClient(devbox.url) as runs:
            return await runs.get_run_details(
                run_service_pb2.GetRunDetailsRequest(run_id=_run_id(run))
            )

    return asyncio.run(get())


def _wait_phase(
    devbox: Devbox, run: str, phases: set[int], timeout: float = 120
) -> run_service_pb2.GetRunDetailsResponse:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = _details(devbox, run)
        if resp.details.action.status.phase in phases:
            return resp.details  # type: ignore[return-value]
        time.sleep(0.2)
    raise AssertionError(f"run {run} did not reach {phases} in {timeout}s")


def _actions(devbox: Devbox, run: str) -> list[run_service_pb2.ListActionsResponse]:
    async def get() -> list:  # type: ignore[type-arg]
        async with RunServiceClient(devbox.url) as runs:
            resp = await runs.list_actions(
                run_service_pb2.ListActionsRequest(
                    run_id=_run_id(run), request=list_pb2.ListRequest(limit=1000)
                )
            )
            return list(resp.actions)

    return asyncio.run(get())


def _wait_children_done(devbox: Devbox, run: str, n: int, timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = [a for a in _actions(devbox, run) if a.id.name != "a0"]
        if len(children) == n and all(a.status.phase == P.ACTION_PHASE_SUCCEEDED for a in children):
            return [a.id.name for a in children]
        time.sleep(0.2)
    raise AssertionError(f"the children of {run} did not finish in {timeout}s")


def _cache_statuses(devbox: Devbox, run: str) -> list[int]:
    return [a.status.cache_status for a in _actions(devbox, run) if a.id.name != "a0"]


def _child_attempts(devbox: Devbox, run: str) -> dict[str, int]:
    return {a.id.name: a.status.attempts for a in _actions(devbox, run) if a.id.name != "a0"}


def _wait_for_trigger_run(devbox: Devbox, trigger: str, timeout: float) -> str:
    async def find() -> str | None:
        async with RunServiceClient(devbox.url) as runs:
            resp = await runs.list_runs(
                run_service_pb2.ListRunsRequest(
                    project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
                    request=list_pb2.ListRequest(
                        filters=[
                            list_pb2.Filter(
                                function=list_pb2.Filter.EQUAL,
                                field="trigger_name",
                                values=[trigger],
                            )
                        ]
                    ),
                )
            )
            return resp.runs[0].action.id.run.name if resp.runs else None

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = asyncio.run(find())
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"trigger {trigger} did not fire within {timeout}s")


def _no_process_for(run: str) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if run.encode() in (entry / "cmdline").read_bytes():
                    return False
            except OSError:
                continue
    return True
