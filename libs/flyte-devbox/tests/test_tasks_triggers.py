"""TaskService and TriggerService, and triggers that fire runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import DOMAIN, PROJECT, TERMINAL, inputs, task_spec, watch_until
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceClient
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2
from flyteidl2.trigger.trigger_service_connect import TriggerServiceClient
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from google.protobuf import timestamp_pb2

from flyte_devbox import Devbox
from flyte_devbox._triggers import next_fire

TASK = "env.square"


def task_id(version: str = "v1", name: str = TASK) -> task_definition_pb2.TaskIdentifier:
    return task_definition_pb2.TaskIdentifier(
        project=PROJECT, domain=DOMAIN, name=name, version=version
    )


def rate(minutes: int, start: float | None = None) -> common_pb2.TriggerAutomationSpec:
    fr = common_pb2.FixedRate(value=minutes, unit=common_pb2.FIXED_RATE_UNIT_MINUTE)
    if start is not None:
        fr.start_time.CopyFrom(timestamp_pb2.Timestamp(seconds=int(start)))
    return common_pb2.TriggerAutomationSpec(
        type=common_pb2.TYPE_SCHEDULE, schedule=common_pb2.Schedule(rate=fr)
    )


def cron(expr: str, tz: str = "") -> common_pb2.TriggerAutomationSpec:
    return common_pb2.TriggerAutomationSpec(
        type=common_pb2.TYPE_SCHEDULE,
        schedule=common_pb2.Schedule(cron=common_pb2.Cron(expression=expr, timezone=tz)),
    )


def trigger(
    name: str, automation: common_pb2.TriggerAutomationSpec, x: int = 4, active: bool = True
) -> task_definition_pb2.TaskTrigger:
    return task_definition_pb2.TaskTrigger(
        name=name,
        automation_spec=automation,
        spec=task_definition_pb2.TaskTriggerSpec(active=active, inputs=inputs(x)),
    )


@pytest.fixture
async def clients(
    devbox: Devbox,
) -> AsyncIterator[tuple[TaskServiceClient, TriggerServiceClient, RunServiceClient]]:
    async with (
        TaskServiceClient(devbox.url) as tasks,
        TriggerServiceClient(devbox.url) as trig,
        RunServiceClient(devbox.url) as runs,
    ):
        yield tasks, trig, runs


async def test_deploy_get_list(clients: tuple) -> None:  # type: ignore[type-arg]
    tasks, _, runs = clients
    for version in ("v1", "v2"):
        await tasks.deploy_task(
            task_service_pb2.DeployTaskRequest(
                task_id=task_id(version), spec=task_spec(version=version)
            )
        )
    got = await tasks.get_task_details(
        task_service_pb2.GetTaskDetailsRequest(task_id=task_id("v1"))
    )
    assert got.details.spec.task_template.id.version == "v1"
    assert got.details.metadata.short_name == "square"
    with pytest.raises(ConnectError) as e:  # the version is required (buf.validate)
        await tasks.get_task_details(task_service_pb2.GetTaskDetailsRequest(task_id=task_id("")))
    assert e.value.code == Code.INVALID_ARGUMENT and "task_id.version" in e.value.message
    listed = await tasks.list_tasks(
        task_service_pb2.ListTasksRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
        )
    )
    assert [(t.task_id.name, t.task_id.version) for t in listed.tasks] == [(TASK, "v2")]
    versions = await tasks.list_versions(
        task_service_pb2.ListVersionsRequest(
            task_name=task_definition_pb2.TaskName(project=PROJECT, domain=DOMAIN, name=TASK)
        )
    )
    assert [v.version for v in versions.versions] == ["v2", "v1"]
    with pytest.raises(ConnectError) as e:
        await tasks.get_task_details(task_service_pb2.GetTaskDetailsRequest(task_id=task_id("v9")))
    assert e.value.code == Code.NOT_FOUND
    # A run of a deployed task, by reference.
    created = await runs.create_run(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_id=task_id("v1"),
            inputs=inputs(8),
        )
    )
    assert created.run.action.id.name == "a0"
    phase = await wait_run(runs, created.run.action.id.run)
    assert phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    filtered = await runs.list_runs(
        run_service_pb2.ListRunsRequest(task_id=task_id("v1"), request=list_pb2.ListRequest())
    )
    assert [r.action.id.run.name for r in filtered.runs] == [created.run.action.id.run.name]


async def wait_run(runs: RunServiceClient, run: identifier_pb2.RunIdentifier) -> int:
    aid = identifier_pb2.ActionIdentifier(run=run, name="a0")
    w = await watch_until(
        runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
        lambda w: w.details.status.phase in TERMINAL,
    )
    return int(w.details.status.phase)


async def wait_for_trigger_run(
    runs: RunServiceClient, name: str, timeout: float = 30
) -> run_definition_pb2.Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await runs.list_runs(
            run_service_pb2.ListRunsRequest(
                trigger_name=identifier_pb2.TriggerName(
                    project=PROJECT, domain=DOMAIN, name=name, task_name=TASK
                )
            )
        )
        if resp.runs:
            return resp.runs[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"trigger {name} did not fire within {timeout}s")


async def test_fixed_rate_trigger_fires(clients: tuple) -> None:  # type: ignore[type-arg]
    tasks, triggers, runs = clients
    # Started ~58 s ago (whole seconds on the wire) with a 1-minute rate: next fire in 1-2 s.
    start = time.time() - 58
    await tasks.deploy_task(
        task_service_pb2.DeployTaskRequest(
            task_id=task_id(), spec=task_spec(), triggers=[trigger("tick", rate(1, start), x=6)]
        )
    )
    run = await wait_for_trigger_run(runs, "tick")
    assert run.action.metadata.trigger_name == "tick"
    assert run.action.metadata.source == run_definition_pb2.RUN_SOURCE_SCHEDULE_TRIGGER
    assert await wait_run(runs, run.action.id.run) == phase_pb2.ACTION_PHASE_SUCCEEDED
    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=run.action.id))
    assert data.outputs.literals[0].value.scalar.primitive.integer == 36
    details = await runs.get_run_details(
        run_service_pb2.GetRunDetailsRequest(run_id=run.action.id.run)
    )
    assert details.details.action.metadata.trigger_id.name.name == "tick"

    name = identifier_pb2.TriggerName(project=PROJECT, domain=DOMAIN, name="tick", task_name=TASK)
    got = await triggers.get_trigger_details(
        trigger_service_pb2.GetTriggerDetailsRequest(name=name)
    )
    assert got.trigger.status.HasField("triggered_at")
    assert got.trigger.spec.task_version == "v1"
    listed = await triggers.list_triggers(
        trigger_service_pb2.ListTriggersRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
        )
    )
    assert [(t.id.name.name, t.active) for t in listed.triggers] == [("tick", True)]

    await triggers.update_triggers(
        trigger_service_pb2.UpdateTriggersRequest(names=[name], active=False)
    )
    got = await triggers.get_trigger_details(
        trigger_service_pb2.GetTriggerDetailsRequest(name=name)
    )
    assert not got.trigger.spec.active
    history = await triggers.get_trigger_revision_history(
        trigger_service_pb2.GetTriggerRevisionHistoryRequest(name=name)
    )
    assert [h.action for h in history.triggers] == [
        trigger_definition_pb2.TRIGGER_REVISION_ACTION_DEACTIVATE,
        trigger_definition_pb2.TRIGGER_REVISION_ACTION_DEPLOY,
    ]
    await triggers.delete_triggers(trigger_service_pb2.DeleteTriggersRequest(names=[name]))
    with pytest.raises(ConnectError) as e:
        await triggers.get_trigger_details(trigger_service_pb2.GetTriggerDetailsRequest(name=name))
    assert e.value.code == Code.NOT_FOUND


async def test_run_a_trigger_on_demand(clients: tuple) -> None:  # type: ignore[type-arg]
    tasks, _, runs = clients
    await tasks.deploy_task(
        task_service_pb2.DeployTaskRequest(
            task_id=task_id(),
            spec=task_spec(),
            triggers=[
                trigger("manual", common_pb2.TriggerAutomationSpec(type=common_pb2.TYPE_NONE), x=5)
            ],
        )
    )
    created = await runs.create_run(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            trigger_name=identifier_pb2.TriggerName(
                project=PROJECT, domain=DOMAIN, name="manual", task_name=TASK
            ),
        )
    )
    assert await wait_run(runs, created.run.action.id.run) == phase_pb2.ACTION_PHASE_SUCCEEDED
    data = await runs.get_action_data(
        run_service_pb2.GetActionDataRequest(action_id=created.run.action.id)
    )
    assert data.outputs.literals[0].value.scalar.primitive.integer == 25


async def test_bad_schedule_is_refused(clients: tuple) -> None:  # type: ignore[type-arg]
    tasks, triggers, _ = clients
    with pytest.raises(ConnectError) as e:
        await tasks.deploy_task(
            task_service_pb2.DeployTaskRequest(
                task_id=task_id(), spec=task_spec(), triggers=[trigger("bad", cron("not a cron"))]
            )
        )
    assert e.value.code == Code.INVALID_ARGUMENT and "cron" in e.value.message
    with pytest.raises(ConnectError) as e:
        await triggers.deploy_trigger(
            trigger_service_pb2.DeployTriggerRequest(
                name=identifier_pb2.TriggerName(
                    project=PROJECT, domain=DOMAIN, name="t", task_name="never.deployed"
                ),
                spec=trigger_definition_pb2.TriggerSpec(task_version="v1"),
                automation_spec=cron("* * * * *"),
            )
        )
    assert e.value.code == Code.NOT_FOUND


def test_next_fire_fixed_rate() -> None:
    minute = rate(1)
    deployed = 1000.0
    # No start time: one interval after deployment, then every interval.
    assert next_fire(minute, after=deployed, anchor=deployed) == 1060.0
    assert next_fire(minute, after=1060.0, anchor=deployed) == 1120.0
    assert next_fire(minute, after=1065.0, anchor=deployed) == 1120.0
    # With a start time: at the start, then aligned to it.
    assert next_fire(rate(1, 5000), after=1000.0, anchor=deployed) == 5000.0
    assert next_fire(rate(1, 5000), after=5030.0, anchor=deployed) == 5060.0
    hourly = common_pb2.TriggerAutomationSpec(
        type=common_pb2.TYPE_SCHEDULE,
        schedule=common_pb2.Schedule(
            rate=common_pb2.FixedRate(value=2, unit=common_pb2.FIXED_RATE_UNIT_HOUR)
        ),
    )
    assert next_fire(hourly, after=0.0, anchor=0.0) == 7200.0
    assert (
        next_fire(common_pb2.TriggerAutomationSpec(type=common_pb2.TYPE_NONE), after=0, anchor=0)
        is None
    )


def test_next_fire_cron() -> None:
    t = datetime(2026, 1, 1, 10, 7, 30, tzinfo=timezone.utc).timestamp()
    nxt = next_fire(cron("*/15 * * * *"), after=t, anchor=t)
    assert nxt is not None
    assert datetime.fromtimestamp(nxt, timezone.utc) == datetime(
        2026, 1, 1, 10, 15, tzinfo=timezone.utc
    )
    # 09:00 in New York is 14:00 UTC in January.
    nyc = next_fire(cron("0 9 * * *", "America/New_York"), after=t, anchor=t)
    assert nyc is not None
    assert datetime.fromtimestamp(nyc, timezone.utc) == datetime(
        2026, 1, 1, 14, 0, tzinfo=timezone.utc
    )
    legacy = common_pb2.TriggerAutomationSpec(
        type=common_pb2.TYPE_SCHEDULE, schedule=common_pb2.Schedule(cron_expression="@hourly")
    )
    assert (
        next_fire(legacy, after=t, anchor=t)
        == datetime(2026, 1, 1, 11, 0, tzinfo=timezone.utc).timestamp()
    )
