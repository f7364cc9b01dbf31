"""Runs over Connect (HTTP/1.1): create, watch, outputs, failures, retries, aborts, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import (
    DOMAIN,
    PROJECT,
    TERMINAL,
    create_run_request,
    task_spec,
    watch_until,
)
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox

P = phase_pb2


@pytest.fixture
async def runs(devbox: Devbox) -> AsyncIterator[RunServiceClient]:
    async with RunServiceClient(devbox.url) as client:
        yield client


async def finish(
    client: RunServiceClient, run: identifier_pb2.RunIdentifier, action: str = "a0"
) -> run_definition_pb2.ActionDetails:
    """Follow WatchActionDetails to a terminal phase (the way `Run.wait()` does)."""
    req = run_service_pb2.WatchActionDetailsRequest(
        action_id=identifier_pb2.ActionIdentifier(run=run, name=action)
    )
    resp = await watch_until(
        client.watch_action_details(req), lambda r: r.details.status.phase in TERMINAL
    )
    return resp.details


async def test_simple_run_succeeds_with_outputs(runs: RunServiceClient, devbox: Devbox) -> None:
    created = await runs.create_run(create_run_request(task_spec(), x=7))
    run = created.run.action.id.run
    assert run.name.startswith("r") and len(run.name) == 20
    assert created.run.action.id.name == "a0"
    assert created.run.action.status.phase == P.ACTION_PHASE_QUEUED

    details = await finish(runs, run)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert details.status.attempts == 1
    phases = [t.phase for t in details.attempts[0].phase_transitions]
    assert phases == [
        P.ACTION_PHASE_QUEUED,
        P.ACTION_PHASE_INITIALIZING,
        P.ACTION_PHASE_RUNNING,
        P.ACTION_PHASE_SUCCEEDED,
    ]
    assert details.attempts[0].logs_available

    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=details.id))
    assert data.inputs.literals[0].value.scalar.primitive.integer == 7
    assert data.outputs.literals[0].name == "o0"
    assert data.outputs.literals[0].value.scalar.primitive.integer == 49

    async with DataProxyServiceClient(devbox.url) as dp:
        both = await dp.get_action_data(
            dataproxy_service_pb2.GetActionDataRequest(action_id=details.id)
        )
    assert both.outputs.literals[0].value.scalar.primitive.integer == 49
    assert both.outputs_uri.endswith("/a0/1/outputs.pb")
    assert both.inputs_uri.endswith("/inputs.pb")

    got = await runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run))
    assert got.details.action.status.phase == P.ACTION_PHASE_SUCCEEDED


async def test_defaults_fill_missing_inputs(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec(), x=None))
    details = await finish(runs, created.run.action.id.run)
    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=details.id))
    assert data.outputs.literals[0].value.scalar.primitive.integer == 9  # default x=3


async def test_user_error_fails_with_message(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec(mode="fail")))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_FAILED
    assert details.error_info.message == "bad value from fake a0"
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
    assert details.error_info.code == "ValueError"
    assert details.status.attempts == 1  # no retries configured


async def test_recoverable_error_is_retried(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec(mode="flaky", retries=2)))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert details.status.attempts == 2
    assert details.attempts[0].phase == P.ACTION_PHASE_FAILED
    assert details.attempts[0].error_info.message == "first attempt always fails"
    assert details.attempts[1].phase == P.ACTION_PHASE_SUCCEEDED
    # Each attempt writes under its own prefix: .../a0/1 and .../a0/2.
    assert details.attempts[1].outputs.output_uri.endswith("/a0/2/outputs.pb")


async def test_crash_is_a_system_error_with_log_tail(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec(mode="crash")))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_FAILED
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert "exited with code 3" in details.error_info.message
    assert "something went badly wrong" in details.error_info.message
    assert details.status.attempts == 2  # one system retry (max_system_retries=1)


async def test_missing_outputs_fail(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec(mode="nooutputs")))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_FAILED
    assert details.error_info.code == "OutputsNotFound"


async def test_no_outputs_declared_succeeds_without_outputs(runs: RunServiceClient) -> None:
    spec = task_spec(mode="nooutputs", outputs=False)
    created = await runs.create_run(create_run_request(spec))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED


async def test_timeout(runs: RunServiceClient) -> None:
    spec = task_spec(mode="sleep", timeout=1, env={"FAKE_SLEEP": "30"})
    created = await runs.create_run(create_run_request(spec))
    details = await finish(runs, created.run.action.id.run)
    assert details.status.phase == P.ACTION_PHASE_TIMED_OUT
    assert details.error_info.code == "MAX_RUNTIME_EXCEEDED"


async def test_abort_kills_the_process(runs: RunServiceClient, devbox: Devbox) -> None:
    spec = task_spec(mode="sleep", env={"FAKE_SLEEP": "120"})
    created = await runs.create_run(create_run_request(spec))
    run = created.run.action.id.run
    action_id = identifier_pb2.ActionIdentifier(run=run, name="a0")
    req = run_service_pb2.WatchActionDetailsRequest(action_id=action_id)
    await watch_until(
        runs.watch_action_details(req), lambda r: r.details.status.phase == P.ACTION_PHASE_RUNNING
    )
    await runs.abort_run(run_service_pb2.AbortRunRequest(run_id=run, reason="enough"))
    details = await finish(runs, run)
    assert details.status.phase == P.ACTION_PHASE_ABORTED
    assert details.abort_info.reason == "enough"
    assert details.attempts[0].phase == P.ACTION_PHASE_ABORTED
    assert devbox.stats()["active_actions"] == 0


async def test_env_and_placeholders(runs: RunServiceClient, devbox: Devbox) -> None:
    spec = task_spec(mode="env", env={"FROM_TASK": "task"})
    req = create_run_request(spec, name="envcheck")
    req.run_spec.envs.values.add(key="FROM_RUN", value="run")
    req.run_spec.envs.values.add(key="FROM_TASK", value="overridden-by-run")
    await runs.create_run(req)
    run = identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="envcheck")
    details = await finish(runs, run)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED
    log = devbox.config.state_dir / "logs" / PROJECT / DOMAIN / "envcheck" / "a0" / "1.log"
    record = next(
        line.split("\t", 1)[1]
        for line in log.read_text().splitlines()
        if line.split("\t", 1)[1].startswith("{")
    )
    seen = json.loads(record)
    env, argv = seen["env"], seen["argv"]
    assert env["ACTION_NAME"] == "a0" and env["RUN_NAME"] == "envcheck"
    assert env["FLYTE_INTERNAL_EXECUTION_PROJECT"] == PROJECT
    assert env["FLYTE_INTERNAL_EXECUTION_DOMAIN"] == DOMAIN
    assert env["_U_ORG_NAME"]  # asserted non-empty by the runtime
    assert env["_U_EP_OVERRIDE"] == devbox.endpoint
    assert env["FROM_RUN"] == "run" and env["FROM_TASK"] == "overridden-by-run"
    assert json.loads(env["FSSPEC_FILE"]) == {"auto_mkdir": True}
    run_base = env["_U_RUN_BASE"]
    assert run_base.endswith(f"/{PROJECT}/{DOMAIN}/envcheck")
    assert not any("{{" in a for a in argv), argv
    assert argv[argv.index("--outputs-path") + 1] == f"{run_base}/a0/1"
    assert argv[argv.index("--inputs") + 1].endswith("/inputs.pb")
    assert argv[argv.index("--run-name") + 1] == "envcheck"
    assert argv[argv.index("--name") + 1] == "a0"
    assert argv[argv.index("--run-start-time") + 1].endswith("Z")
    assert argv[argv.index("--checkpoint-path") + 1] == f"{run_base}/a0/1/_flytecheckpoints"


async def test_explicit_run_name_conflict(runs: RunServiceClient) -> None:
    await runs.create_run(create_run_request(task_spec(), name="samename"))
    with pytest.raises(ConnectError) as e:
        await runs.create_run(create_run_request(task_spec(), name="samename"))
    assert e.value.code == Code.ALREADY_EXISTS


async def test_unknown_run_is_not_found(runs: RunServiceClient) -> None:
    missing = identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="rnothere")
    for call in (
        runs.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=missing)),
        runs.abort_run(run_service_pb2.AbortRunRequest(run_id=missing)),
        runs.get_action_details(
            run_service_pb2.GetActionDetailsRequest(
                action_id=identifier_pb2.ActionIdentifier(run=missing, name="a0")
            )
        ),
    ):
        with pytest.raises(ConnectError) as e:
            await call
        assert e.value.code == Code.NOT_FOUND
        assert "rnothere" in e.value.message
    with pytest.raises(ConnectError) as e:
        async for _ in runs.watch_action_details(
            run_service_pb2.WatchActionDetailsRequest(
                action_id=identifier_pb2.ActionIdentifier(run=missing, name="a0")
            )
        ):
            pass
    assert e.value.code == Code.NOT_FOUND


async def test_list_runs_filters_and_pages(runs: RunServiceClient) -> None:
    from flyteidl2.common import list_pb2

    for name in ("list-a", "list-b", "list-c"):
        await runs.create_run(
            create_run_request(task_spec(mode="fail" if name == "list-b" else "square"), name=name)
        )
    for name in ("list-a", "list-b", "list-c"):
        await finish(runs, identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name))
    pid = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    first = await runs.list_runs(
        run_service_pb2.ListRunsRequest(
            project_id=pid,
            request=list_pb2.ListRequest(
                limit=2, sort_by=list_pb2.Sort(key="created_at", direction=list_pb2.Sort.ASCENDING)
            ),
        )
    )
    assert [r.action.id.run.name for r in first.runs] == ["list-a", "list-b"]
    assert first.token
    second = await runs.list_runs(
        run_service_pb2.ListRunsRequest(
            project_id=pid,
            request=list_pb2.ListRequest(
                limit=2,
                token=first.token,
                sort_by=list_pb2.Sort(key="created_at", direction=list_pb2.Sort.ASCENDING),
            ),
        )
    )
    assert [r.action.id.run.name for r in second.runs] == ["list-c"]
    assert not second.token
    failed = await runs.list_runs(
        run_service_pb2.ListRunsRequest(
            project_id=pid,
            request=list_pb2.ListRequest(
                filters=[
                    list_pb2.Filter(
                        function=list_pb2.Filter.EQUAL,
                        field="phase",
                        values=[str(P.ACTION_PHASE_FAILED)],
                    )
                ]
            ),
        )
    )
    assert [r.action.id.run.name for r in failed.runs] == ["list-b"]
    with pytest.raises(ConnectError) as e:
        await runs.list_runs(
            run_service_pb2.ListRunsRequest(
                project_id=pid,
                request=list_pb2.ListRequest(
                    filters=[list_pb2.Filter(field="no_such_field", values=["x"])]
                ),
            )
        )
    assert e.value.code == Code.INVALID_ARGUMENT and "no_such_field" in e.value.message


async def test_logs_are_served_per_attempt(runs: RunServiceClient, devbox: Devbox) -> None:
    created = await runs.create_run(create_run_request(task_spec(mode="flaky", retries=1)))
    details = await finish(runs, created.run.action.id.run)
    async with DataProxyServiceClient(devbox.url) as dp:
        for attempt in (1, 2):
            lines = []
            async for resp in dp.tail_logs(
                dataproxy_service_pb2.TailLogsRequest(action_id=details.id, attempt=attempt)
            ):
                for logs in resp.logs:
                    lines += [line.message for line in logs.lines]
            assert any("fake a0 starting: mode=flaky" in m for m in lines), lines
        with pytest.raises(ConnectError) as e:
            async for _ in dp.tail_logs(
                dataproxy_service_pb2.TailLogsRequest(action_id=details.id, attempt=9)
            ):
                pass
        assert e.value.code == Code.NOT_FOUND


async def test_tail_logs_follows_a_running_action(runs: RunServiceClient, devbox: Devbox) -> None:
    spec = task_spec(mode="sleep", env={"FAKE_SLEEP": "1"})
    created = await runs.create_run(create_run_request(spec))
    aid = identifier_pb2.ActionIdentifier(run=created.run.action.id.run, name="a0")
    await watch_until(
        runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
        lambda r: r.details.attempts and r.details.attempts[0].logs_available,
    )
    async with asyncio.timeout(30):
        lines: list[str] = []
        async with DataProxyServiceClient(devbox.url) as dp:
            async for resp in dp.tail_logs(
                dataproxy_service_pb2.TailLogsRequest(action_id=aid, attempt=1)
            ):
                for logs in resp.logs:
                    lines += [line.message for line in logs.lines]
    # The stream ended by itself once the attempt finished, with everything it printed.
    assert any("sleeping" in m for m in lines), lines
    details = await finish(runs, aid.run)
    assert details.status.phase == P.ACTION_PHASE_SUCCEEDED


async def test_watch_run_details_and_actions(runs: RunServiceClient) -> None:
    created = await runs.create_run(create_run_request(task_spec()))
    run = created.run.action.id.run
    phases = []
    async with asyncio.timeout(30):
        async for resp in runs.watch_run_details(
            run_service_pb2.WatchRunDetailsRequest(run_id=run)
        ):
            phases.append(resp.details.action.status.phase)
    assert phases[-1] == P.ACTION_PHASE_SUCCEEDED
    resp = await watch_until(
        runs.watch_actions(run_service_pb2.WatchActionsRequest(run_id=run)), lambda r: True
    )
    assert [e.action.id.name for e in resp.enriched_actions] == ["a0"]
    assert resp.enriched_actions[0].action.status.phase == P.ACTION_PHASE_SUCCEEDED
    listed = await runs.list_actions(run_service_pb2.ListActionsRequest(run_id=run))
    assert [a.id.name for a in listed.actions] == ["a0"]


async def test_deadline_and_queued_timeout(make_devbox: Callable[..., Devbox]) -> None:
    devbox = make_devbox(max_concurrent_actions=1)
    async with RunServiceClient(devbox.url) as runs:
        slow = task_spec(mode="sleep", env={"FAKE_SLEEP": "60"})
        slow.task_template.metadata.timeouts.deadline.FromSeconds(2)
        first = await runs.create_run(create_run_request(slow))
        waiting = task_spec()
        waiting.task_template.metadata.timeouts.queued_timeout.FromSeconds(1)
        second = await runs.create_run(create_run_request(waiting))
        queued = await finish(runs, second.run.action.id.run)
        assert queued.status.phase == P.ACTION_PHASE_TIMED_OUT
        assert queued.error_info.code == "QUEUED_TIMEOUT_EXCEEDED"
        late = await finish(runs, first.run.action.id.run)
        assert late.status.phase == P.ACTION_PHASE_TIMED_OUT
        assert late.error_info.code == "DEADLINE_EXCEEDED"
    assert devbox.stats()["active_actions"] == 0
