"""Nested actions: QueueService + StateService and ActionsService, as the in-task controller uses them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import (
    DOMAIN,
    PROJECT,
    TERMINAL,
    create_run_request,
    inputs,
    task_spec,
    watch_until,
)
from flyteidl2.actions import actions_service_pb2
from flyteidl2.actions.actions_service_connect import ActionsServiceClient
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.core import literals_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.workflow import (
    queue_service_pb2,
    run_definition_pb2,
    run_service_pb2,
    state_service_pb2,
)
from flyteidl2.workflow.queue_service_connect import QueueServiceClient
from flyteidl2.workflow.run_service_connect import RunServiceClient
from flyteidl2.workflow.state_service_connect import StateServiceClient
from google.protobuf import wrappers_pb2

from flyte_devbox import Devbox

P = phase_pb2


class Parent:
    """A running root action (the fake a0 sleeps) under which the test enqueues children."""

    def __init__(self, devbox: Devbox, run: identifier_pb2.RunIdentifier) -> None:
        self.devbox = devbox
        self.run = run
        self.base = Path(devbox.config.state_dir) / "blobs" / PROJECT / DOMAIN / run.name
        self.id = identifier_pb2.ActionIdentifier(run=run, name="a0")

    def child_id(self, name: str) -> identifier_pb2.ActionIdentifier:
        return identifier_pb2.ActionIdentifier(run=self.run, name=name)

    def write_inputs(self, name: str, x: int) -> str:
        path = self.base / name / "inputs.pb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(inputs(x).SerializeToString())
        return str(path)

    def task_action(self, mode: str = "square", **kw: object) -> run_definition_pb2.TaskAction:
        spec = task_spec("env.child", mode=mode, **kw)  # type: ignore[arg-type]
        tid = spec.task_template.id
        return run_definition_pb2.TaskAction(
            id=task_definition_pb2.TaskIdentifier(
                project=tid.project, domain=tid.domain, name=tid.name, version=tid.version
            ),
            spec=spec,
        )

    def enqueue_request(
        self, name: str, x: int, mode: str = "square", **kw: object
    ) -> queue_service_pb2.EnqueueActionRequest:
        return queue_service_pb2.EnqueueActionRequest(
            action_id=self.child_id(name),
            parent_action_name="a0",
            input_uri=self.write_inputs(name, x),
            run_output_base=str(self.base),
            task=self.task_action(mode, **kw),
        )


async def start_parent(devbox: Devbox, runs: RunServiceClient, sleep: str = "60") -> Parent:
    spec = task_spec("env.parent", mode="sleep", env={"FAKE_SLEEP": sleep})
    created = await runs.create_run(create_run_request(spec))
    parent = Parent(devbox, created.run.action.id.run)
    await watch_until(
        runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=parent.id)),
        lambda r: r.details.status.phase == P.ACTION_PHASE_RUNNING,
    )
    return parent


@pytest.fixture
async def clients(
    devbox: Devbox,
) -> AsyncIterator[
    tuple[RunServiceClient, QueueServiceClient, StateServiceClient, ActionsServiceClient]
]:
    async with (
        RunServiceClient(devbox.url) as runs,
        QueueServiceClient(devbox.url) as queue,
        StateServiceClient(devbox.url) as state,
        ActionsServiceClient(devbox.url) as actions,
    ):
        yield runs, queue, state, actions


async def collect_until_done(stream: AsyncIterator[Any], names: set[str]) -> dict[str, Any]:
    """Follow a watch stream until every named child is terminal; returns the last updates."""
    last: dict[str, Any] = {}

    def seen(resp: Any) -> bool:
        if resp.HasField("action_update"):
            last[resp.action_update.action_id.name] = resp.action_update
        return all(n in last and last[n].phase in TERMINAL for n in names)

    await watch_until(stream, seen)
    return last


async def test_queue_and_state_watch_order(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, _ = clients
    parent = await start_parent(devbox, runs)
    await queue.enqueue_action(parent.enqueue_request("c1", 4))
    # c1 exists before the watch starts: it must come first, then the sentinel.
    first: list[state_service_pb2.WatchResponse] = []
    stream = state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id))

    def until_sentinel(resp: state_service_pb2.WatchResponse) -> bool:
        first.append(resp)
        return resp.HasField("control_message")

    await watch_until(stream, until_sentinel)
    assert first[0].action_update.action_id.name == "c1"
    assert first[-1].control_message.sentinel
    await queue.enqueue_action(parent.enqueue_request("c2", 5))
    last = await collect_until_done(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)), {"c1", "c2"}
    )
    for name, x in (("c1", 4), ("c2", 5)):
        update = last[name]
        assert update.phase == P.ACTION_PHASE_SUCCEEDED  # type: ignore[attr-defined]
        # The controller appends /outputs.pb to output_uri.
        out = Path(update.output_uri) / "outputs.pb"  # type: ignore[attr-defined]
        assert out.parent == parent.base / name / "1"
        value = common_pb2.Outputs.FromString(out.read_bytes()).literals[0].value
        assert value.scalar.primitive.integer == x * x

    with pytest.raises(ConnectError) as e:
        await queue.enqueue_action(parent.enqueue_request("c1", 4))
    assert e.value.code == Code.ALREADY_EXISTS


async def test_child_failure_carries_the_error(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, _ = clients
    parent = await start_parent(devbox, runs)
    await queue.enqueue_action(parent.enqueue_request("bad", 1, mode="fail"))
    last = await collect_until_done(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)), {"bad"}
    )
    update = last["bad"]
    assert update.phase == P.ACTION_PHASE_FAILED  # type: ignore[attr-defined]
    assert update.error.message == "bad value from fake a0"  # type: ignore[attr-defined]
    assert update.error.code == "ValueError"  # type: ignore[attr-defined]


async def test_actions_service(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, _, _, actions = clients
    parent = await start_parent(devbox, runs)
    headers = {
        "x-actions-project": PROJECT,
        "x-actions-domain": DOMAIN,
        "x-actions-run": parent.run.name,
        "x-actions-parent-action": "a0",
    }
    names = {f"n{i}" for i in range(6)}
    for i, name in enumerate(sorted(names)):
        await actions.enqueue(
            actions_service_pb2.EnqueueRequest(
                action=actions_service_pb2.Action(
                    action_id=parent.child_id(name),
                    parent_action_name="a0",
                    input_uri=parent.write_inputs(name, i),
                    run_output_base=str(parent.base),
                    task=parent.task_action(),
                )
            ),
            headers=headers,
        )
    last = await collect_until_done(
        actions.watch_for_updates(
            actions_service_pb2.WatchForUpdatesRequest(parent_action_id=parent.id), headers=headers
        ),
        names,
    )
    assert all(u.phase == P.ACTION_PHASE_SUCCEEDED for u in last.values())  # type: ignore[attr-defined]
    listed = await runs.list_actions(run_service_pb2.ListActionsRequest(run_id=parent.run))
    assert {a.id.name for a in listed.actions} == names | {"a0"}
    assert all(a.metadata.parent == "a0" for a in listed.actions if a.id.name != "a0")
    # The reference SDK filters children with `parent_name`; `parent` is the same field.
    for field in ("parent_name", "parent"):
        children = await runs.list_actions(
            run_service_pb2.ListActionsRequest(
                run_id=parent.run,
                request=list_pb2.ListRequest(
                    filters=[
                        list_pb2.Filter(function=list_pb2.Filter.EQUAL, field=field, values=["a0"])
                    ]
                ),
            )
        )
        assert {a.id.name for a in children.actions} == names


async def test_parent_gives_its_slot_to_children(make_devbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    devbox = make_devbox(max_concurrent_actions=1)
    async with (
        RunServiceClient(devbox.url) as runs,
        QueueServiceClient(devbox.url) as queue,
        StateServiceClient(devbox.url) as state,
    ):
        parent = await start_parent(devbox, runs)
        # With one slot, held by the sleeping parent, the children can only run because
        # enqueueing them released the parent's slot.
        for i in range(3):
            await queue.enqueue_action(parent.enqueue_request(f"k{i}", i))
        last = await collect_until_done(
            state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)),
            {"k0", "k1", "k2"},
        )
        assert all(u.phase == P.ACTION_PHASE_SUCCEEDED for u in last.values())  # type: ignore[attr-defined]


async def test_abort_run_aborts_children(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, _ = clients
    parent = await start_parent(devbox, runs)
    await queue.enqueue_action(
        parent.enqueue_request("long", 1, mode="sleep", env={"FAKE_SLEEP": "120"})
    )
    await watch_until(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)),
        lambda r: r.action_update.phase == P.ACTION_PHASE_RUNNING,
    )
    await runs.abort_run(run_service_pb2.AbortRunRequest(run_id=parent.run, reason="stop"))
    for name in ("a0", "long"):
        details = await runs.get_action_details(
            run_service_pb2.GetActionDetailsRequest(action_id=parent.child_id(name))
        )
        assert details.details.status.phase == P.ACTION_PHASE_ABORTED
    with pytest.raises(ConnectError) as e:
        await queue.enqueue_action(parent.enqueue_request("late", 1))
    assert e.value.code == Code.ABORTED
    assert devbox.stats()["active_actions"] == 0


async def test_abort_one_child(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, _ = clients
    parent = await start_parent(devbox, runs)
    await queue.enqueue_action(
        parent.enqueue_request("victim", 1, mode="sleep", env={"FAKE_SLEEP": "120"})
    )
    await queue.abort_queued_action(
        queue_service_pb2.AbortQueuedActionRequest(
            action_id=parent.child_id("victim"), reason="not needed"
        )
    )
    last = await collect_until_done(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)), {"victim"}
    )
    assert last["victim"].phase == P.ACTION_PHASE_ABORTED  # type: ignore[attr-defined]
    root = await runs.get_action_details(
        run_service_pb2.GetActionDetailsRequest(action_id=parent.id)
    )
    assert root.details.status.phase == P.ACTION_PHASE_RUNNING


async def test_trace_and_condition(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, actions = clients
    parent = await start_parent(devbox, runs)
    outputs_file = parent.base / "t1" / "outputs.pb"
    trace = run_definition_pb2.TraceAction(
        name="my_trace",
        phase=P.ACTION_PHASE_SUCCEEDED,
        spec=task_definition_pb2.TraceSpec(),
        outputs=common_pb2.OutputReferences(output_uri=str(outputs_file)),
    )
    trace.start_time.GetCurrentTime()
    trace.end_time.GetCurrentTime()
    await queue.enqueue_action(
        queue_service_pb2.EnqueueActionRequest(
            action_id=parent.child_id("t1"),
            parent_action_name="a0",
            input_uri=parent.write_inputs("t1", 1),
            run_output_base=str(parent.base),
            trace=trace,
        )
    )
    await actions.enqueue(
        actions_service_pb2.EnqueueRequest(
            action=actions_service_pb2.Action(
                action_id=parent.child_id("cond"),
                parent_action_name="a0",
                input_uri=parent.write_inputs("cond", 0),
                run_output_base=str(parent.base),
                condition=run_definition_pb2.ConditionAction(name="approve", prompt="ok?"),
            )
        )
    )
    got: dict[str, state_service_pb2.ActionUpdate] = {}

    def until_sentinel(resp: state_service_pb2.WatchResponse) -> bool:
        if resp.HasField("action_update"):
            got[resp.action_update.action_id.name] = resp.action_update
        return resp.HasField("control_message")

    await watch_until(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)), until_sentinel
    )
    assert got["t1"].phase == P.ACTION_PHASE_SUCCEEDED
    assert got["t1"].output_uri == str(outputs_file)
    assert got["cond"].phase == P.ACTION_PHASE_PAUSED
    # The reference's `flyte.remote.Condition.listall` filters on `action_type` (its number).
    for kind, expected in (
        (run_definition_pb2.ACTION_TYPE_CONDITION, {"cond"}),
        (run_definition_pb2.ACTION_TYPE_TRACE, {"t1"}),
        (run_definition_pb2.ACTION_TYPE_TASK, {"a0"}),
    ):
        listed = await runs.list_actions(
            run_service_pb2.ListActionsRequest(
                run_id=parent.run,
                request=list_pb2.ListRequest(
                    filters=[
                        list_pb2.Filter(
                            function=list_pb2.Filter.EQUAL,
                            field="action_type",
                            values=[str(int(kind))],
                        )
                    ]
                ),
            )
        )
        assert {a.id.name for a in listed.actions} == expected
    await runs.signal_event(
        run_service_pb2.SignalEventRequest(
            action_id=parent.child_id("cond"),
            parent_action_name="a0",
            payload=run_service_pb2.EventPayload(bool_value=True),
        )
    )
    details = await runs.get_action_details(
        run_service_pb2.GetActionDetailsRequest(action_id=parent.child_id("cond"))
    )
    assert details.details.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert details.details.signal_info.output.scalar.primitive.boolean is True
    with pytest.raises(ConnectError) as e:
        await actions.signal(
            actions_service_pb2.SignalRequest(
                action_id=parent.child_id("cond"),
                parent_action_name="a0",
                value=literals_pb2.Literal(),
            )
        )
    assert e.value.code == Code.FAILED_PRECONDITION


async def test_state_put_get(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, _, state, _ = clients
    parent = await start_parent(devbox, runs)
    await state.put(state_service_pb2.PutRequest(action_id=parent.id, state='{"k": 1}'))
    got = await state.get(state_service_pb2.GetRequest(action_id=parent.id))
    assert got.state == '{"k": 1}'
    with pytest.raises(ConnectError) as e:
        await state.get(state_service_pb2.GetRequest(action_id=parent.child_id("none")))
    assert e.value.code == Code.NOT_FOUND


async def test_cache_key_is_recorded(devbox: Devbox, clients: tuple) -> None:  # type: ignore[type-arg]
    runs, queue, state, _ = clients
    parent = await start_parent(devbox, runs)
    req = parent.enqueue_request("cached", 2)
    req.task.cache_key.CopyFrom(wrappers_pb2.StringValue(value="abc"))
    await queue.enqueue_action(req)
    last = await collect_until_done(
        state.watch(state_service_pb2.WatchRequest(parent_action_id=parent.id)), {"cached"}
    )
    assert last["cached"].phase == P.ACTION_PHASE_SUCCEEDED  # type: ignore[attr-defined]
