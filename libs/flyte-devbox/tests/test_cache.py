"""The task cache: child actions with a `cache_key` of a discoverable task are looked up, served
from the cache without a process on a hit, and fill the cache when they succeed.

A real devbox over sockets; the "tasks" are the fake a0, which appends a line to `FAKE_RECORD`
each time it really runs, so a hit is proven by the line that is not there.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from devbox_helpers import (
    DOMAIN,
    PROJECT,
    TERMINAL,
    create_run_request,
    inputs,
    task_spec,
    watch_until,
)
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.core import catalog_pb2
from flyteidl2.task import run_pb2, task_definition_pb2
from flyteidl2.workflow import queue_service_pb2, run_definition_pb2, run_service_pb2
from flyteidl2.workflow.queue_service_connect import QueueServiceClient
from flyteidl2.workflow.run_service_connect import RunServiceClient
from google.protobuf import wrappers_pb2

from flyte_devbox import Devbox
from flyte_devbox._records import ActionKey, CacheEntry, CacheScope, CacheSource
from flyte_devbox._store import Store

P = phase_pb2
C = catalog_pb2


def cached_spec(
    record: Path,
    *,
    discoverable: bool = True,
    serializable: bool = False,
    mode: str = "square",
    env: dict[str, str] | None = None,
    name: str = "env.child",
) -> task_definition_pb2.TaskSpec:
    spec = task_spec(name, mode=mode, env={"FAKE_RECORD": str(record), **(env or {})})
    md = spec.task_template.metadata
    md.discoverable = discoverable
    md.discovery_version = "cv1"
    md.cache_serializable = serializable
    return spec


class Parent:
    """A running root action (the fake a0 sleeps) under which the test enqueues children."""

    def __init__(self, devbox: Devbox, run: identifier_pb2.RunIdentifier) -> None:
        self.run = run
        self.base = Path(devbox.config.state_dir) / "blobs" / PROJECT / DOMAIN / run.name

    def child_id(self, name: str) -> identifier_pb2.ActionIdentifier:
        return identifier_pb2.ActionIdentifier(run=self.run, name=name)

    def enqueue_request(
        self, name: str, x: int, spec: task_definition_pb2.TaskSpec, cache_key: str | None
    ) -> queue_service_pb2.EnqueueActionRequest:
        path = self.base / name / "inputs.pb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(inputs(x).SerializeToString())
        tid = spec.task_template.id
        return queue_service_pb2.EnqueueActionRequest(
            action_id=self.child_id(name),
            parent_action_name="a0",
            input_uri=str(path),
            run_output_base=str(self.base),
            task=run_definition_pb2.TaskAction(
                id=task_definition_pb2.TaskIdentifier(
                    project=tid.project, domain=tid.domain, name=tid.name, version=tid.version
                ),
                spec=spec,
                cache_key=wrappers_pb2.StringValue(value=cache_key) if cache_key else None,
            ),
        )


class Client:
    def __init__(self, devbox: Devbox, runs: RunServiceClient, queue: QueueServiceClient) -> None:
        self.devbox = devbox
        self.runs = runs
        self.queue = queue

    async def parent(self, **run_spec: object) -> Parent:
        spec = task_spec("env.parent", mode="sleep", env={"FAKE_SLEEP": "120"})
        created = await self.runs.create_run(create_run_request(spec, **run_spec))
        return Parent(self.devbox, created.run.action.id.run)

    async def call(
        self,
        parent: Parent,
        name: str,
        x: int,
        spec: task_definition_pb2.TaskSpec,
        cache_key: str | None = "key-1",
    ) -> run_definition_pb2.ActionDetails:
        """Enqueue a child and wait for it to end; its details."""
        await self.queue.enqueue_action(parent.enqueue_request(name, x, spec, cache_key))
        return await self.wait(parent.child_id(name))

    async def wait(self, aid: identifier_pb2.ActionIdentifier) -> run_definition_pb2.ActionDetails:
        got = await watch_until(
            self.runs.watch_action_details(
                run_service_pb2.WatchActionDetailsRequest(action_id=aid)
            ),
            lambda r: r.details.status.phase in TERMINAL,
        )
        return got.details  # type: ignore[no-any-return]

    async def output(self, details: run_definition_pb2.ActionDetails) -> int:
        data = await self.runs.get_action_data(
            run_service_pb2.GetActionDataRequest(action_id=details.id)
        )
        return int(data.outputs.literals[0].value.scalar.primitive.integer)


@pytest.fixture
async def client(devbox: Devbox) -> AsyncIterator[Client]:
    async with RunServiceClient(devbox.url) as runs, QueueServiceClient(devbox.url) as queue:
        yield Client(devbox, runs, queue)


def ran(record: Path) -> list[str]:
    """The actions that really ran a process (`<action>` of each line)."""
    if not record.exists():
        return []
    return [line.split()[1] for line in record.read_text().splitlines()]


def output_prefix(details: run_definition_pb2.ActionDetails) -> str:
    return details.attempts[-1].outputs.output_uri.removesuffix("/outputs.pb")


async def test_miss_populates_then_hit_runs_nothing(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    parent = await client.parent()

    first = await client.call(parent, "c1", 4, spec)
    assert first.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert first.status.cache_status == C.CACHE_POPULATED
    assert first.attempts[-1].cache_status == C.CACHE_POPULATED
    assert ran(record) == ["c1"]

    second = await client.call(parent, "c2", 4, spec)
    assert second.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert second.status.cache_status == C.CACHE_HIT
    assert ran(record) == ["c1"]  # no process for the hit
    assert await client.output(second) == 16
    assert second.status.attempts == 1 and len(second.attempts) == 1
    hit = second.attempts[0]
    assert hit.phase == P.ACTION_PHASE_SUCCEEDED and not hit.logs_available
    assert hit.cache_status == C.CACHE_HIT
    assert hit.cache_metadata.source_action_attempt.action_id.name == "c1"
    assert hit.cache_metadata.source_action_attempt.attempt == 1
    assert output_prefix(second) == output_prefix(first)
    assert [t.phase for t in hit.phase_transitions] == [
        P.ACTION_PHASE_QUEUED,
        P.ACTION_PHASE_SUCCEEDED,
    ]
    # The listing and the run's own view carry it too.
    listed = await client.runs.list_actions(run_service_pb2.ListActionsRequest(run_id=parent.run))
    statuses = {a.id.name: a.status.cache_status for a in listed.actions}
    assert statuses == {"a0": C.CACHE_DISABLED, "c1": C.CACHE_POPULATED, "c2": C.CACHE_HIT}


async def test_what_misses(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    parent = await client.parent()
    assert (await client.call(parent, "a", 2, spec)).status.cache_status == C.CACHE_POPULATED

    # Another key (other inputs or another cache version: the SDK hashes them into the key).
    other = await client.call(parent, "b", 3, spec, cache_key="key-2")
    assert other.status.cache_status == C.CACHE_POPULATED and await client.output(other) == 9

    # Another task name with the same key.
    renamed = await client.call(parent, "c", 2, cached_spec(record, name="env.other"))
    assert renamed.status.cache_status == C.CACHE_POPULATED

    # Not discoverable (cache disabled): never looked up, nothing stored.
    off = await client.call(parent, "d", 2, cached_spec(record, discoverable=False))
    assert off.status.cache_status == C.CACHE_DISABLED
    assert off.attempts[-1].cache_status == C.CACHE_DISABLED

    # No cache key: the same.
    nokey = await client.call(parent, "e", 2, spec, cache_key=None)
    assert nokey.status.cache_status == C.CACHE_DISABLED
    assert ran(record) == ["a", "b", "c", "d", "e"]

    # The root action of a run is never a hit: CreateRun carries no cache key.
    root = await client.runs.get_action_details(
        run_service_pb2.GetActionDetailsRequest(action_id=parent.child_id("a0"))
    )
    assert root.details.status.cache_status == C.CACHE_DISABLED


async def test_failures_are_not_cached(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    parent = await client.parent()
    bad = await client.call(parent, "f1", 2, cached_spec(record, mode="fail"))
    assert bad.status.phase == P.ACTION_PHASE_FAILED
    assert bad.status.cache_status == C.CACHE_MISS
    again = await client.call(parent, "f2", 2, cached_spec(record, mode="fail"))
    assert again.status.phase == P.ACTION_PHASE_FAILED
    assert ran(record) == ["f1", "f2"]


async def test_lost_outputs_are_a_miss(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    parent = await client.parent()
    first = await client.call(parent, "c1", 5, spec)
    Path(output_prefix(first), "outputs.pb").unlink()
    second = await client.call(parent, "c2", 5, spec)
    assert second.status.phase == P.ACTION_PHASE_SUCCEEDED
    assert second.status.cache_status == C.CACHE_POPULATED
    assert await client.output(second) == 25
    third = await client.call(parent, "c3", 5, spec)
    assert third.status.cache_status == C.CACHE_HIT
    assert third.attempts[0].cache_metadata.source_action_attempt.action_id.name == "c2"
    assert ran(record) == ["c1", "c2"]


async def test_entries_older_than_cache_max_age_miss(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    spec.task_template.metadata.cache_max_age.FromSeconds(1)
    parent = await client.parent()
    await client.call(parent, "m1", 3, spec)
    assert (await client.call(parent, "m2", 3, spec)).status.cache_status == C.CACHE_HIT
    await asyncio.sleep(1.2)
    late = await client.call(parent, "m3", 3, spec)
    assert late.status.cache_status == C.CACHE_POPULATED
    assert ran(record) == ["m1", "m3"]


async def test_overwrite_cache_recomputes_and_replaces(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    first_run = await client.parent()
    await client.call(first_run, "c1", 6, spec)

    for how in (
        {"overwrite_cache": True},
        {"cache_config": run_pb2.CacheConfig(overwrite_cache=True)},
    ):
        redo = await client.parent(**how)
        again = await client.call(redo, "c1", 6, spec)
        assert again.status.phase == P.ACTION_PHASE_SUCCEEDED
        assert again.status.cache_status == C.CACHE_POPULATED
        assert ran(record)[-1] == "c1"
        # The entry now points at the recomputed outputs.
        later = await client.parent()
        hit = await client.call(later, "c1", 6, spec)
        assert hit.status.cache_status == C.CACHE_HIT
        source = hit.attempts[0].cache_metadata.source_action_attempt.action_id
        assert source.run.name == redo.run.name
    assert len(ran(record)) == 3


async def test_serializable_calls_compute_once(client: Client, tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record, serializable=True, mode="sleep", env={"FAKE_SLEEP": "1"})
    parent = await client.parent()
    for name in ("s1", "s2", "s3"):
        await client.queue.enqueue_action(parent.enqueue_request(name, 7, spec, "key-s"))
    done = await asyncio.gather(*(client.wait(parent.child_id(n)) for n in ("s1", "s2", "s3")))
    assert all(d.status.phase == P.ACTION_PHASE_SUCCEEDED for d in done)
    assert sorted(d.status.cache_status for d in done) == [
        C.CACHE_HIT,
        C.CACHE_HIT,
        C.CACHE_POPULATED,
    ]
    assert len(ran(record)) == 1
    assert {await client.output(d) for d in done} == {49}


async def test_cache_survives_a_restart(make_devbox: Callable[..., Devbox], tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    spec = cached_spec(record)
    first = make_devbox()
    async with RunServiceClient(first.url) as runs, QueueServiceClient(first.url) as queue:
        c = Client(first, runs, queue)
        populated = await c.call(await c.parent(), "c1", 8, spec)
        assert populated.status.cache_status == C.CACHE_POPULATED
    await asyncio.to_thread(first.stop)

    second = make_devbox()
    async with RunServiceClient(second.url) as runs, QueueServiceClient(second.url) as queue:
        c = Client(second, runs, queue)
        hit = await c.call(await c.parent(), "c1", 8, spec)
        assert hit.status.cache_status == C.CACHE_HIT
        assert await c.output(hit) == 64
        # The first devbox's actions kept their status too.
        old = await c.wait(populated.id)
        assert old.status.cache_status == C.CACHE_POPULATED
    assert ran(record) == ["c1"]


def test_store_cache_table_and_old_databases(tmp_path: Path) -> None:
    path = tmp_path / "devbox.db"
    # A database of a devbox from before the task cache: no cache columns on `actions`.
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE actions (project TEXT NOT NULL, domain TEXT NOT NULL, run_name TEXT NOT "
        "NULL, name TEXT NOT NULL, org TEXT NOT NULL, parent TEXT, group_name TEXT NOT NULL, "
        "kind INTEGER NOT NULL, spec BLOB NOT NULL, task_org TEXT NOT NULL, task_project TEXT "
        "NOT NULL, task_domain TEXT NOT NULL, task_name TEXT NOT NULL, task_version TEXT NOT "
        "NULL, short_name TEXT NOT NULL, env_name TEXT NOT NULL, task_type TEXT NOT NULL, "
        "cache_key TEXT NOT NULL, input_uri TEXT NOT NULL, run_output_base TEXT NOT NULL, "
        "phase INTEGER NOT NULL, attempts INTEGER NOT NULL, created_at REAL NOT NULL, "
        "updated_at REAL NOT NULL, start_time REAL, end_time REAL, error BLOB NOT NULL, "
        "abort_info BLOB NOT NULL, output_uri TEXT NOT NULL, value BLOB NOT NULL, "
        "system_failures INTEGER NOT NULL, user_failures INTEGER NOT NULL, "
        "holds_children INTEGER NOT NULL, PRIMARY KEY (project, domain, run_name, name))"
    )
    db.execute(
        "INSERT INTO actions VALUES ('p', 'd', 'r', 'a0', '', NULL, '', 1, x'', '', 'p', 'd', "
        "'t', 'v', 't', 'e', 'python', '', '', '/b', 5, 1, 1.0, 1.0, 1.0, 2.0, x'', x'', '', "
        "x'', 0, 0, 0)"
    )
    db.commit()
    db.close()

    store = Store(path)
    old = store.get_action(ActionKey("p", "d", "r", "a0"))
    assert old is not None and old.cache_status == C.CACHE_DISABLED and old.cache_source is None
    scope = CacheScope("p", "d", "env.t", "k")
    assert store.get_cache(scope) is None
    source = CacheSource(ActionKey("p", "d", "r", "a1"), 1)
    with store.transaction():
        store.put_cache(CacheEntry(scope, "/out/1", source, 10.0, org="o1"))
        store.put_cache(CacheEntry(scope, "/out/2", source._replace(attempt=2), 11.0, org="o2"))
    got = store.get_cache(scope)
    assert got == CacheEntry(scope, "/out/2", CacheSource(source.action, 2), 11.0, org="o2")
    assert store.get_cache(scope._replace(project="other")) is None
    store.update_action(old.key, cache_status=C.CACHE_HIT, cache_source=source)
    again = store.get_action(old.key)
    assert again is not None and again.cache_source == source
    assert not store.delete_cache(scope, "/out/1")  # not the current entry: kept
    assert [e.output_uri for e in store.list_cache(project="p")] == ["/out/2"]
    assert store.delete_cache(scope)
    assert store.list_cache() == []
    store.close()
