"""The devbox's control plane: runs and actions, their phases, and the processes behind them.

Lifecycle of a task action (each step is committed to SQLite, then published to watchers):

    QUEUED --slot--> INITIALIZING --spawned--> RUNNING --exit--> SUCCEEDED | FAILED | TIMED_OUT
       ^                                                   |
       +------------- recoverable failure, budget left ----+

A task action with a `cache_key` whose task is discoverable (`cache="auto"`/"override") first
looks the key up in the task cache (see `_serve_from_cache`): a hit goes QUEUED -> SUCCEEDED with
the cached outputs and no process; a miss runs, and its SUCCEEDED attempt fills the cache.

Any non-terminal action can become ABORTED. At most `max_concurrent_actions` actions hold a
slot (i.e. run a process) at once; a parent gives its slot back when it enqueues a child, so a
fan-out never deadlocks on its own parent. The result of an attempt is read as a Flyte backend
reads it: `error.pb` first (the runtime exits 0 even on a user error), then `outputs.pb`.

Everything here runs on the devbox's event loop; there are no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
import secrets
import shutil
import string
import time
from collections.abc import Callable
from typing import Any

from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.core import execution_pb2, literals_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_devbox import _convert
from flyte_devbox._blobs import BlobStore
from flyte_devbox._config import DevboxConfig
from flyte_devbox._errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from flyte_devbox._hub import Hub
from flyte_devbox._launch import (
    AttemptPaths,
    build_argv,
    build_env,
    container_args,
    fsspec_local_env,
    placeholder_values,
    select_a0,
)
from flyte_devbox._process import (
    Launcher,
    LaunchSpec,
    Process,
    kill_stale,
    open_log,
    read_log_lines,
    terminate_group,
)
from flyte_devbox._records import (
    ABORTED,
    CACHE_HIT,
    CACHE_LOOKUP_FAILURE,
    CACHE_MISS,
    CACHE_POPULATED,
    CACHE_SKIPPED,
    FAILED,
    INITIALIZING,
    KIND_CONDITION,
    KIND_TASK,
    KIND_TRACE,
    PAUSED,
    QUEUED,
    RECOVERED,
    ROOT_ACTION,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    ActionKey,
    ActionRecord,
    AttemptRecord,
    CacheEntry,
    CacheScope,
    CacheSource,
    RunKey,
    RunRecord,
    TriggerKey,
    is_terminal,
)
from flyte_devbox._secrets import SECRETS_SUBDIR, SecretMissing, action_secrets
from flyte_devbox._store import Store

logger = logging.getLogger("flyte_devbox")

_RUN_NAME_ALPHABET = string.ascii_lowercase + string.digits
_KIND_USER = run_definition_pb2.ErrorInfo.KIND_USER
_KIND_SYSTEM = run_definition_pb2.ErrorInfo.KIND_SYSTEM


def new_run_name() -> str:
    """`r` + 19 random characters, the shape the Go backend uses."""
    return "r" + "".join(secrets.choice(_RUN_NAME_ALPHABET) for _ in range(19))


def error_bytes(code: str, message: str, kind: int) -> bytes:
    return run_definition_pb2.ErrorInfo(code=code, message=message, kind=kind).SerializeToString()  # type: ignore[arg-type]


@dataclasses.dataclass
class _Outcome:
    phase: int  # SUCCEEDED, FAILED or TIMED_OUT
    output_prefix: str = ""
    error: bytes = b""
    recoverable: bool = False
    system: bool = False


@dataclasses.dataclass
class _Active:
    """Runtime state of a non-terminal action (the record itself lives in SQLite)."""

    rec: ActionRecord
    task: asyncio.Task[None] | None = None
    process: Process | None = None
    holds_slot: bool = False
    #: The cache scope this action computes for the others waiting on it (`cache_serializable`).
    reservation: CacheScope | None = None


@dataclasses.dataclass(frozen=True)
class NewAction:
    """A child action as the in-task controller enqueues it (QueueService or ActionsService)."""

    key: ActionKey
    org: str
    parent: str
    group: str
    input_uri: str
    run_output_base: str
    task: run_definition_pb2.TaskAction | None = None
    trace: run_definition_pb2.TraceAction | None = None
    condition: run_definition_pb2.ConditionAction | None = None


class Engine:
    def __init__(
        self,
        config: DevboxConfig,
        store: Store,
        blobs: BlobStore,
        hub: Hub,
        launcher: Launcher,
    ) -> None:
        self.config = config
        self.store = store
        self.blobs = blobs
        self.hub = hub
        self.launcher = launcher
        #: The endpoint actions use to reach this devbox (set once the port is bound).
        self.endpoint = ""
        self.closing = asyncio.Event()
        self._active: dict[ActionKey, _Active] = {}
        self._slots = asyncio.Semaphore(config.max_concurrent_actions)
        self._background: set[asyncio.Task[Any]] = set()
        self._run_specs: dict[RunKey, run_pb2.RunSpec] = {}
        self._run_meta: dict[RunKey, RunRecord] = {}
        #: Serialized cache scopes being computed, each set when its computing action ends.
        self._reservations: dict[CacheScope, asyncio.Event] = {}
        self._work_root = config.state_dir / "work"
        self._log_root = config.state_dir / "logs"
        #: Called with a run key whenever a run's root reaches a terminal phase.
        self.on_run_done: Callable[[RunKey], None] | None = None

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Pick up what a previous devbox left unfinished (see `DevboxConfig.recover_running`)."""
        recovered = failed = 0
        for rec in self.store.list_unfinished_actions():
            if rec.kind == KIND_TRACE:
                self._finish(
                    rec,
                    FAILED,
                    error=error_bytes(
                        "DevboxRestarted", "trace action was never completed", _KIND_SYSTEM
                    ),
                )
                failed += 1
                continue
            attempts = self.store.get_attempts(rec.key)
            last = attempts[-1] if attempts else None
            if rec.kind == KIND_TASK and last is not None and not is_terminal(last.phase):
                if last.pid:
                    kill_stale(last.pid, last.pid_start)
                message = (
                    f"the devbox stopped while attempt {last.attempt} was "
                    f"{_convert.phase_name(last.phase).lower()}"
                )
                self._end_attempt(
                    rec, last.attempt, FAILED, error_bytes("DevboxRestarted", message, _KIND_SYSTEM)
                )
                if not self.config.recover_running:
                    self._finish(
                        rec,
                        FAILED,
                        error=error_bytes(
                            "DevboxRestarted",
                            message + "; it was not recovered " "(recover_running is off)",
                            _KIND_SYSTEM,
                        ),
                    )
                    failed += 1
                    continue
                rec.phase = QUEUED
                now = time.time()
                rec.updated_at = now
                with self.store.transaction():
                    self.store.update_action(rec.key, phase=QUEUED, updated_at=now)
                    self.store.add_transition(rec.key, rec.attempts + 1, QUEUED, now)
                recovered += 1
            self._adopt(rec)
        if recovered or failed:
            logger.warning(
                "recovered %d running action(s) with a new attempt, failed %d", recovered, failed
            )

    async def stop(self) -> None:
        """Stop all action processes. Their records stay as they are: `start` recovers them."""
        self.closing.set()
        actives = list(self._active.values())
        for a in actives:
            if a.task is not None:
                a.task.cancel()
        kills = [terminate_group(a.process, grace=0.5) for a in actives if a.process is not None]
        tasks = [a.task for a in actives if a.task is not None]
        if kills:
            await asyncio.gather(*kills, return_exceptions=True)
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        for t in list(self._background):
            t.cancel()
        if self._background:
            await asyncio.wait(self._background, timeout=2.0)

    def _spawn_background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---------------------------------------------------------------------------------- runs

    def run_output_base(self, key: RunKey, run_spec: run_pb2.RunSpec) -> str:
        if run_spec.run_base_dir:
            return run_spec.run_base_dir.rstrip("/")
        return self.blobs.join(self.blobs.root, key.project, key.domain, key.name)

    def offloaded_inputs_dir(self, project: str, domain: str, digest: str) -> str:
        return self.blobs.join(self.blobs.root, project, domain, "offloaded-inputs", digest)

    async def offload_inputs(
        self, project: str, domain: str, inputs: common_pb2.Inputs, base_dir: str = ""
    ) -> tuple[str, str]:
        """Write `inputs.pb` content-addressed; returns (directory URI, inputs hash)."""
        data = inputs.SerializeToString(deterministic=True)
        digest = hashlib.sha256(data).hexdigest()
        if base_dir:
            directory = self.blobs.join(base_dir, "offloaded-inputs", digest)
        else:
            directory = self.offloaded_inputs_dir(project, domain, digest)
        await self.blobs.write(self.blobs.join(directory, "inputs.pb"), data)
        return directory, digest

    def get_run(self, key: RunKey) -> RunRecord:
        rec = self.store.get_run(key)
        if rec is None:
            raise NotFound(f"run {key} not found")
        return rec

    def run_spec(self, key: RunKey) -> run_pb2.RunSpec:
        spec = self._run_specs.get(key)
        if spec is None:
            spec = run_pb2.RunSpec.FromString(self.get_run(key).run_spec)
            self._run_specs[key] = spec
        return spec

    def _run_record(self, key: RunKey) -> RunRecord:
        rec = self._run_meta.get(key)
        if rec is None:
            rec = self.get_run(key)
            self._run_meta[key] = rec
        return rec

    async def create_run(
        self,
        *,
        key: RunKey,
        org: str,
        spec: task_definition_pb2.TaskSpec,
        input_uri: str,
        run_spec: run_pb2.RunSpec,
        run_start_time: float | None = None,
        source: int = 0,
        trigger: TriggerKey | None = None,
        trigger_revision: int = 0,
        trigger_type: bytes = b"",
    ) -> tuple[RunRecord, ActionRecord]:
        """Record a run and its root action `a0`, and queue it."""
        if self.store.run_exists(key):
            raise AlreadyExists(f"run {key} already exists")
        container_args(spec)  # fail fast on tasks the devbox cannot run
        now = time.time()
        start_time = run_start_time or (
            _convert.seconds(run_spec.run_start_time)
            if run_spec.HasField("run_start_time")
            else now
        )
        tid = spec.task_template.id
        run = RunRecord(
            key=key,
            org=org,
            created_at=now,
            updated_at=now,
            run_spec=run_spec.SerializeToString(),
            labels=dict(run_spec.labels.values),
            source=source,
            task_name=tid.name,
            task_version=tid.version,
            run_output_base=self.run_output_base(key, run_spec),
            run_start_time=start_time,
            phase=QUEUED,
            trigger=trigger,
            trigger_revision=trigger_revision,
            trigger_type=trigger_type,
        )
        root = ActionRecord(
            key=key.action(ROOT_ACTION),
            org=org,
            parent=None,
            group="",
            kind=KIND_TASK,
            spec=spec.SerializeToString(),
            task_id=(tid.org, tid.project, tid.domain, tid.name, tid.version),
            short_name=spec.short_name or tid.name.rsplit(".", 1)[-1],
            env_name=spec.environment.name,
            task_type=spec.task_template.type,
            cache_key="",
            input_uri=input_uri,
            run_output_base=run.run_output_base,
            phase=QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        with self.store.transaction():
            self.store.insert_run(run)
            self.store.insert_action(root)
            self.store.add_transition(root.key, 1, QUEUED, now)
        self._run_specs[key] = run_spec
        self._run_meta[key] = run
        self._publish(root)
        self.hub.publish(("runs",), key)
        self._adopt(root)
        return run, root

    # ------------------------------------------------------------------------------ children

    def enqueue(self, new: NewAction) -> ActionRecord:
        """Record a child action for a running parent (Queue/Actions service)."""
        run_key = new.key.run_key
        run = self._run_record(run_key)
        parent_key = run_key.action(new.parent)
        parent = self._active.get(parent_key)
        if parent is not None:
            self._release_slot(parent)
            if not parent.rec.holds_children:
                parent.rec.holds_children = True
                self.store.update_action(parent_key, holds_children=True)
        if self.store.action_exists(new.key):
            raise AlreadyExists(f"action {new.key} already exists")
        if is_terminal(run.phase) or self._root_terminal(run_key):
            raise Aborted(f"run {run_key} has already finished")
        if parent is None and not self.store.action_exists(parent_key):
            raise NotFound(f"parent action {parent_key} not found")
        now = time.time()
        rec = ActionRecord(
            key=new.key,
            org=new.org or run.org,
            parent=new.parent,
            group=new.group,
            kind=KIND_TASK,
            spec=b"",
            task_id=("", "", "", "", ""),
            short_name="",
            env_name="",
            task_type="",
            cache_key="",
            input_uri=new.input_uri,
            run_output_base=new.run_output_base.rstrip("/") or run.run_output_base,
            phase=QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        if new.task is not None:
            t = new.task
            spec = t.spec
            container_args(spec)
            tid = spec.task_template.id
            rec.spec = spec.SerializeToString()
            rec.task_id = (
                t.id.org or tid.org,
                t.id.project or tid.project,
                t.id.domain or tid.domain,
                t.id.name or tid.name,
                t.id.version or tid.version,
            )
            rec.short_name = spec.short_name or rec.task_id[3].rsplit(".", 1)[-1]
            rec.env_name = spec.environment.name
            rec.task_type = spec.task_template.type
            rec.cache_key = t.cache_key.value if t.HasField("cache_key") else ""
        elif new.trace is not None:
            tr = new.trace
            rec.kind = KIND_TRACE
            rec.spec = tr.SerializeToString()
            rec.short_name = tr.name
            rec.phase = tr.phase if is_terminal(tr.phase) else SUCCEEDED
            rec.start_time = _convert.seconds(tr.start_time) if tr.HasField("start_time") else now
            rec.end_time = _convert.seconds(tr.end_time) if tr.HasField("end_time") else now
            rec.output_uri = tr.outputs.output_uri
        elif new.condition is not None:
            rec.kind = KIND_CONDITION
            rec.spec = new.condition.SerializeToString()
            rec.short_name = new.condition.name
            rec.phase = PAUSED
            rec.start_time = now
        else:
            raise InvalidArgument("the action has no task, trace or condition")
        with self.store.transaction():
            self.store.insert_action(rec)
            self.store.add_transition(rec.key, 1, rec.phase, now)
        if rec.kind == KIND_TRACE and rec.phase == FAILED:
            self._spawn_background(self._load_trace_error(rec))
        self._publish(rec)
        if not is_terminal(rec.phase):
            self._adopt(rec)
        return rec

    async def _load_trace_error(self, rec: ActionRecord) -> None:
        uri = self.blobs.join(rec.run_output_base, rec.key.name, "error.pb")
        err = await self._read_error(uri)
        if err is not None:
            rec.error = err.error
            self.store.update_action(rec.key, error=rec.error)
            self._publish(rec)

    def _root_terminal(self, run_key: RunKey) -> bool:
        active = self._active.get(run_key.action(ROOT_ACTION))
        if active is not None:
            return False
        root = self.store.get_action(run_key.action(ROOT_ACTION))
        return root is None or is_terminal(root.phase)

    # -------------------------------------------------------------------------------- aborts

    async def abort(self, key: ActionKey, reason: str) -> None:
        """Abort an action and every unfinished action below it."""
        rec = self._active[key].rec if key in self._active else self.store.get_action(key)
        if rec is None:
            raise NotFound(f"action {key} not found")
        await self._abort_tree(rec, reason or "aborted")

    async def _abort_tree(self, rec: ActionRecord, reason: str) -> None:
        kills: list[Any] = []
        self._abort_one(rec, reason, kills)
        # Descendants: breadth-first over the unfinished actions of the run.
        frontier = [rec.key.name]
        run_key = rec.key.run_key
        while frontier:
            parent = frontier.pop()
            for child in self.store.list_children(run_key, parent):
                if not is_terminal(child.phase):
                    active = self._active.get(child.key)
                    self._abort_one(active.rec if active else child, reason, kills)
                frontier.append(child.key.name)
        if kills:
            await asyncio.gather(*kills, return_exceptions=True)

    def _abort_one(self, rec: ActionRecord, reason: str, kills: list[Any]) -> None:
        if is_terminal(rec.phase):
            return
        active = self._active.get(rec.key)
        if active is not None:
            if active.process is not None:
                kills.append(terminate_group(active.process))
                active.process = None
            if active.task is not None:
                active.task.cancel()
            self._release_slot(active)
        info = run_definition_pb2.AbortInfo(reason=reason, aborted_by=_convert.identity())
        if rec.kind == KIND_TASK and rec.attempts and not self._attempt_terminal(rec):
            self._end_attempt(rec, rec.attempts, ABORTED, b"")
        self._finish(rec, ABORTED, abort_info=info.SerializeToString())

    def _attempt_terminal(self, rec: ActionRecord) -> bool:
        a = self.store.get_attempt(rec.key, rec.attempts)
        return a is None or is_terminal(a.phase)

    # ------------------------------------------------------------------------------- signals

    def signal(self, key: ActionKey, value: literals_pb2.Literal) -> None:
        active = self._active.get(key)
        rec = active.rec if active else self.store.get_action(key)
        if rec is None:
            raise NotFound(f"action {key} not found")
        if rec.kind != KIND_CONDITION:
            raise FailedPrecondition(f"action {key} is not a condition")
        if is_terminal(rec.phase):
            raise FailedPrecondition(f"condition {key} is already {_convert.phase_name(rec.phase)}")
        if active is not None and active.task is not None:
            active.task.cancel()
        rec.value = value.SerializeToString()
        self._finish(rec, SUCCEEDED, value=rec.value)

    # ------------------------------------------------------------------------------- scheduling

    def _adopt(self, rec: ActionRecord) -> None:
        """Start driving a non-terminal action."""
        active = _Active(rec=rec)
        self._active[rec.key] = active
        if rec.kind == KIND_TASK:
            active.task = asyncio.ensure_future(self._drive(active))
        elif rec.kind == KIND_CONDITION:
            active.task = asyncio.ensure_future(self._condition_timeout(active))

    def _release_slot(self, active: _Active) -> None:
        if active.holds_slot:
            active.holds_slot = False
            self._slots.release()

    async def _condition_timeout(self, active: _Active) -> None:
        rec = active.rec
        cond = run_definition_pb2.ConditionAction.FromString(rec.spec)
        if not cond.HasField("timeout"):
            return
        deadline = rec.created_at + cond.timeout.ToTimedelta().total_seconds()
        await asyncio.sleep(max(0.0, deadline - time.time()))
        if not is_terminal(rec.phase):
            self._finish(
                rec,
                TIMED_OUT,
                error=error_bytes(
                    "ConditionTimedoutError",
                    f"condition {cond.name!r} was not signalled in time",
                    _KIND_USER,
                ),
            )

    async def _drive(self, active: _Active) -> None:
        rec = active.rec
        limits = _limits(rec.spec)
        watchdog = None
        if limits.deadline:
            watchdog = asyncio.ensure_future(
                self._deadline(active, rec.created_at + limits.deadline)
            )
        try:
            if await self._recover(active) or await self._serve_from_cache(active):
                return
            while not is_terminal(rec.phase):
                if not await self._acquire_slot(active, limits.queued_timeout):
                    self._finish(
                        rec,
                        TIMED_OUT,
                        error=error_bytes(
                            "QUEUED_TIMEOUT_EXCEEDED",
                            f"the action waited more than {limits.queued_timeout:g}s for a slot",
                            _KIND_USER,
                        ),
                    )
                    return
                try:
                    outcome = await self._attempt(active, limits.max_runtime)
                finally:
                    self._release_slot(active)
                    active.process = None
                if outcome is None:  # aborted underneath us
                    return
                self._conclude(rec, outcome)
                if rec.phase == QUEUED:
                    await asyncio.sleep(_backoff(rec.spec, rec.user_failures + rec.system_failures))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a devbox bug must not leave the action hanging
            logger.exception("action %s failed inside the devbox", rec.key)
            if not is_terminal(rec.phase):
                if rec.attempts and not self._attempt_terminal(rec):
                    self._end_attempt(rec, rec.attempts, FAILED, b"")
                self._finish(
                    rec,
                    FAILED,
                    error=error_bytes(
                        "DevboxInternalError", f"{type(e).__name__}: {e}", _KIND_SYSTEM
                    ),
                )
        finally:
            if watchdog is not None:
                watchdog.cancel()
            self._release_reservation(active)
            if self._active.get(rec.key) is active:
                del self._active[rec.key]

    # ---------------------------------------------------------------------------- recovery

    async def _recover(self, active: _Active) -> bool:
        """In a run that recovers an earlier one (`RunSpec.relation` RECOVER), reuse the outputs
        of the earlier run's action of the same name when it succeeded; True when it did.

        Child names are deterministic (the SDK hashes the task, inputs and call order), so a
        child of the recovering run that the earlier run already finished gets the same name:
        it ends RECOVERED at once, pointing at the earlier outputs, and no process starts. The
        root runs again (it drives the children), as do the actions named in
        `RunSpec.recover.force_rerun_actions`, actions whose task changed, and actions whose
        earlier outputs are gone.
        """
        rec = active.rec
        if rec.kind != KIND_TASK or rec.parent is None:
            return False
        run_spec = self.run_spec(rec.key.run_key)
        relation = run_spec.relation
        if relation.relation_type != common_run_pb2.RELATION_TYPE_RECOVER:
            return False
        if rec.key.name in set(run_spec.recover.force_rerun_actions):
            return False
        source_run = relation.related_to
        source_key = RunKey(
            source_run.project or rec.key.project,
            source_run.domain or rec.key.domain,
            source_run.name,
        )
        source = self.store.get_action(source_key.action(rec.key.name))
        if (
            source is None
            or source.kind != KIND_TASK
            or source.phase not in (SUCCEEDED, RECOVERED)
            or source.task_id[3] != rec.task_id[3]
            or not source.output_uri
        ):
            return False
        spec = task_definition_pb2.TaskSpec.FromString(rec.spec)
        if spec.task_template.interface.outputs.variables and not await self.blobs.exists(
            self.blobs.join(source.output_uri, "outputs.pb")
        ):
            logger.info("not recovering %s: the outputs of %s are gone", rec.key, source.key)
            return False
        self._finish_reused(rec, RECOVERED, source.output_uri)
        return True

    def _finish_reused(
        self,
        rec: ActionRecord,
        phase: int,
        output_uri: str,
        cache_status: int = 0,
        source: CacheSource | None = None,
    ) -> None:
        """End `rec` at once with outputs produced before (a cache hit, a recovered action):
        one attempt, no process."""
        now = time.time()
        n = rec.attempts + 1
        rec.attempts = n
        changes: dict[str, Any] = {"attempts": n}
        if cache_status:
            rec.cache_status = cache_status
            rec.cache_source = source
            changes.update(cache_status=cache_status, cache_source=source)
        with self.store.transaction():
            self.store.update_action(rec.key, **changes)
            self.store.insert_attempt(
                AttemptRecord(
                    key=rec.key,
                    attempt=n,
                    phase=phase,
                    start_time=now,
                    end_time=now,
                    output_prefix=output_uri,
                )
            )
            self.store.add_transition(rec.key, n, phase, now)
            self._finish(rec, phase, output_uri=output_uri)

    # ---------------------------------------------------------------------------- task cache

    def _cache_scope(self, rec: ActionRecord) -> tuple[CacheScope, bool, bool] | None:
        """(scope, overwrite, serialize) of a cacheable task action; None when it is not one.

        Cacheable: a task action the SDK sent a `cache_key` for, whose task is discoverable. A
        run created with `overwrite_cache` computes its cacheable actions again and replaces
        their entries. The scope is the task's project/domain and name, and the key.
        """
        if rec.kind != KIND_TASK or not rec.cache_key or rec.parent is None:
            return None
        md = task_definition_pb2.TaskSpec.FromString(rec.spec).task_template.metadata
        if not md.discoverable:
            return None
        run_spec = self.run_spec(rec.key.run_key)
        overwrite = run_spec.overwrite_cache or run_spec.cache_config.overwrite_cache
        _, project, domain, name, _ = rec.task_id
        scope = CacheScope(
            project or rec.key.project, domain or rec.key.domain, name, rec.cache_key
        )
        return scope, overwrite, md.cache_serializable

    async def _serve_from_cache(self, active: _Active) -> bool:
        """Look a cacheable action up in the task cache; True when a hit finished it.

        On a miss the action's `cache_status` becomes CACHE_MISS (CACHE_SKIPPED when the run
        overwrites the cache), and the action runs. An entry whose outputs are gone is a miss
        (and is dropped). With `cache_serializable`, one action computes a scope at a time; the
        others wait for it and then look again.
        """
        rec = active.rec
        found = self._cache_scope(rec)
        if found is None:
            return False
        scope, overwrite, serialize = found
        if overwrite:
            self._set_cache_status(rec, CACHE_SKIPPED)
            return False
        spec = task_definition_pb2.TaskSpec.FromString(rec.spec)
        has_outputs = bool(spec.task_template.interface.outputs.variables)
        while True:
            try:
                entry = await self._cache_lookup(scope, spec, has_outputs)
            except Exception as e:
                logger.warning("task cache lookup for %s failed: %s", rec.key, e)
                self._set_cache_status(rec, CACHE_LOOKUP_FAILURE)
                return False
            if entry is not None:
                self._finish_from_cache(rec, entry)
                return True
            if not serialize:
                break
            busy = self._reservations.get(scope)
            if busy is None:
                self._reservations[scope] = asyncio.Event()
                active.reservation = scope
                break
            if rec.cache_status != CACHE_MISS:
                self._set_cache_status(rec, CACHE_MISS)
            await busy.wait()
        self._set_cache_status(rec, CACHE_MISS)
        return False

    async def _cache_lookup(
        self, scope: CacheScope, spec: task_definition_pb2.TaskSpec, has_outputs: bool
    ) -> CacheEntry | None:
        entry = self.store.get_cache(scope)
        if entry is None:
            return None
        md = spec.task_template.metadata
        if md.HasField("cache_max_age"):
            max_age = md.cache_max_age.ToTimedelta().total_seconds()
            if max_age > 0 and time.time() - entry.created_at > max_age:
                return None
        if has_outputs and not await self.blobs.exists(
            self.blobs.join(entry.output_uri, "outputs.pb")
        ):
            logger.info("task cache entry of %s lost its outputs %s", scope.task_name, entry)
            self.store.delete_cache(scope, entry.output_uri)
            return None
        return entry

    def _set_cache_status(self, rec: ActionRecord, status: int) -> None:
        if rec.cache_status == status:
            return
        rec.cache_status = status
        self.store.update_action(rec.key, cache_status=status)
        self._publish(rec)

    def _finish_from_cache(self, rec: ActionRecord, entry: CacheEntry) -> None:
        """A cache hit: one attempt, SUCCEEDED at once, whose outputs are the entry's."""
        self._finish_reused(rec, SUCCEEDED, entry.output_uri, CACHE_HIT, entry.source)

    def _populate_cache(self, rec: ActionRecord, attempt: int, output_prefix: str) -> None:
        found = self._cache_scope(rec)
        if found is None:
            return
        scope = found[0]
        self.store.put_cache(
            CacheEntry(
                scope=scope,
                output_uri=output_prefix,
                source=CacheSource(rec.key, attempt),
                created_at=time.time(),
                org=rec.org,
            )
        )
        rec.cache_status = CACHE_POPULATED
        self.store.update_action(rec.key, cache_status=CACHE_POPULATED)

    def _release_reservation(self, active: _Active) -> None:
        scope = active.reservation
        if scope is None:
            return
        active.reservation = None
        event = self._reservations.pop(scope, None)
        if event is not None:
            event.set()

    async def _acquire_slot(self, active: _Active, queued_timeout: float) -> bool:
        """Wait for a free slot; False if `queued_timeout` (seconds, 0 = none) ran out."""
        if not queued_timeout:
            await self._slots.acquire()
            active.holds_slot = True
            return True
        remaining = active.rec.updated_at + queued_timeout - time.time()
        waiter = asyncio.ensure_future(self._slots.acquire())
        try:
            done, _ = await asyncio.wait({waiter}, timeout=max(0.0, remaining))
        except asyncio.CancelledError:
            waiter.cancel()
            if waiter.done() and not waiter.cancelled():
                self._slots.release()
            raise
        if not done:
            waiter.cancel()
            # The acquire may have completed between the timeout and the cancel.
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
            if waiter.cancelled():
                return False
        active.holds_slot = True
        return True

    async def _deadline(self, active: _Active, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        rec = active.rec
        if is_terminal(rec.phase):
            return
        if active.process is not None:
            self._spawn_background(terminate_group(active.process))
            active.process = None
        if active.task is not None:
            active.task.cancel()
        self._release_slot(active)
        if rec.attempts and not self._attempt_terminal(rec):
            self._end_attempt(rec, rec.attempts, TIMED_OUT, b"")
        self._finish(
            rec,
            TIMED_OUT,
            error=error_bytes(
                "DEADLINE_EXCEEDED", "the action did not finish before its deadline", _KIND_USER
            ),
        )

    async def _attempt(self, active: _Active, max_runtime: float) -> _Outcome | None:
        rec = active.rec
        n = rec.attempts + 1
        run = self._run_record(rec.key.run_key)
        run_spec = self.run_spec(rec.key.run_key)
        spec = task_definition_pb2.TaskSpec.FromString(rec.spec)
        prefix = self.blobs.join(rec.run_output_base, rec.key.name, str(n))
        now = time.time()
        log_path = str(self._log_root.joinpath(*rec.key, f"{n}.log"))
        rec.attempts = n
        rec.phase = INITIALIZING
        rec.updated_at = now
        if rec.start_time is None:
            rec.start_time = now
        with self.store.transaction():
            self.store.update_action(
                rec.key, attempts=n, phase=INITIALIZING, updated_at=now, start_time=rec.start_time
            )
            self.store.insert_attempt(
                AttemptRecord(
                    key=rec.key,
                    attempt=n,
                    phase=INITIALIZING,
                    start_time=now,
                    output_prefix=prefix,
                    log_path=log_path,
                )
            )
            self.store.add_transition(rec.key, n, INITIALIZING, now)
        self._publish(rec)

        workdir = self._work_root.joinpath(*rec.key, str(n))
        try:
            spawn = await self._prepare(rec, run, run_spec, spec, n, prefix, str(workdir), log_path)
        except SecretMissing as e:
            log = open_log(log_path)
            log.system(str(e))
            log.close()
            return _Outcome(FAILED, error=error_bytes("SecretNotFound", str(e), _KIND_USER))
        except Exception as e:
            # No secret file of a half-prepared attempt stays behind.
            gone = workdir if not self.config.keep_workdirs else workdir / SECRETS_SUBDIR
            self._spawn_background(asyncio.to_thread(shutil.rmtree, gone, True))
            message = f"cannot start the action: {e}"
            return _Outcome(FAILED, error=error_bytes("LaunchFailed", message, _KIND_SYSTEM))
        try:
            try:
                process = await self.launcher.spawn(spawn)
            except OSError as e:
                log = open_log(log_path)
                log.system(f"failed to start {spawn.argv[0]!r}: {e}")
                log.close()
                return _Outcome(
                    FAILED,
                    error=error_bytes(
                        "LaunchFailed",
                        f"failed to start {spawn.argv[0]!r}: {e}. Configure the "
                        "runtime command with DevboxConfig.a0_command (--a0)",
                        _KIND_SYSTEM,
                    ),
                )
            active.process = process
            now = time.time()
            rec.phase = RUNNING
            rec.updated_at = now
            with self.store.transaction():
                self.store.update_action(rec.key, phase=RUNNING, updated_at=now)
                self.store.update_attempt(
                    rec.key,
                    n,
                    phase=RUNNING,
                    pid=process.pid,
                    pid_start=process.start_ticks,
                    logs_available=True,
                )
                self.store.add_transition(rec.key, n, RUNNING, now)
            self._publish(rec)

            timeout = max_runtime
            try:
                if timeout:
                    code = await asyncio.wait_for(asyncio.shield(process.wait()), timeout)
                else:
                    code = await process.wait()
            except asyncio.TimeoutError:
                await terminate_group(process)
                return _Outcome(
                    TIMED_OUT,
                    error=error_bytes(
                        "MAX_RUNTIME_EXCEEDED",
                        f"attempt {n} ran longer than its {timeout:g}s limit",
                        _KIND_USER,
                    ),
                    recoverable=True,
                )
            except asyncio.CancelledError:
                await asyncio.shield(terminate_group(process, grace=0.5))
                raise
            if is_terminal(rec.phase):  # aborted while we were waiting
                return None
            return await self._evaluate(spec, prefix, code, log_path)
        finally:
            if not self.config.keep_workdirs:
                self._spawn_background(asyncio.to_thread(shutil.rmtree, workdir, True))
            elif spec.task_template.security_context.secrets:
                # A kept work directory is for debugging: it does not keep the secret files.
                secrets_dir = workdir / SECRETS_SUBDIR
                self._spawn_background(asyncio.to_thread(shutil.rmtree, secrets_dir, True))

    async def _prepare(
        self,
        rec: ActionRecord,
        run: RunRecord,
        run_spec: run_pb2.RunSpec,
        spec: task_definition_pb2.TaskSpec,
        n: int,
        prefix: str,
        workdir: str,
        log_path: str,
    ) -> LaunchSpec:
        raw_base = run_spec.raw_data_storage.raw_data_prefix.rstrip("/") or self.blobs.join(
            self.blobs.root, "raw", rec.key.project, rec.key.domain, rec.key.run
        )
        prev = ""
        if n > 1:
            prev = self.blobs.join(
                rec.run_output_base, rec.key.name, str(n - 1), "_flytecheckpoints"
            )
        paths = AttemptPaths(
            inputs=_inputs_file(rec.input_uri),
            output_prefix=prefix,
            raw_output_prefix=self.blobs.join(raw_base, rec.key.name, str(n)),
            checkpoint_prefix=self.blobs.join(prefix, "_flytecheckpoints"),
            prev_checkpoint_prefix=prev,
        )
        values = placeholder_values(
            paths=paths,
            run_name=rec.key.run,
            action_name=rec.key.name,
            run_start_time=run.run_start_time,
        )
        argv = build_argv(
            spec,
            values=values,
            a0_command=self.config.a0_command,
            per_image=self.config.image_a0_commands,
        )
        image, _ = container_args(spec)
        command = select_a0(image, self.config.a0_command, self.config.image_a0_commands)
        defaults: dict[str, str] = {}
        if self.blobs.is_local:
            defaults.update(fsspec_local_env())
        if self.config.use_actions_service:
            defaults["_U_USE_ACTIONS"] = "1"
        system = {
            "ACTION_NAME": rec.key.name,
            "RUN_NAME": rec.key.run,
            "FLYTE_INTERNAL_EXECUTION_PROJECT": rec.key.project,
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": rec.key.domain,
            "FLYTE_INTERNAL_EXECUTION_ID": rec.key.run,
            "FLYTE_ATTEMPT_NUMBER": str(n - 1),
            "_U_ORG_NAME": rec.org or run.org or "local",
            "_U_RUN_BASE": rec.run_output_base,
            "_U_EP_OVERRIDE": self.endpoint,
            "_U_INSECURE": "true",
        }
        if self.config.token:
            system["FLYTE_AUTH_PROXY_COMMAND"] = f'["echo", "{self.config.token}"]'
        env = build_env(
            base=os.environ,
            devbox_env=self.config.env,
            spec=spec,
            run_spec=run_spec,
            system=system,
            defaults=defaults,
            command=command,
        )
        requested = spec.task_template.security_context.secrets
        found = None
        if requested:
            found = action_secrets(
                self.store,
                requested,
                orgs=(rec.org, run.org, ""),
                project=rec.key.project,
                domain=rec.key.domain,
                directory=os.path.join(workdir, SECRETS_SUBDIR),
            )
            env.update(found.env)
        await asyncio.to_thread(os.makedirs, workdir, exist_ok=True)
        if found is not None and found.files:
            await asyncio.to_thread(found.write, os.path.join(workdir, SECRETS_SUBDIR))
        return LaunchSpec(argv=argv, env=env, cwd=workdir, log_path=log_path)

    async def _read_error(self, uri: str) -> _Outcome | None:
        data = await self.blobs.read(uri)
        if data is None:
            return None
        try:
            doc = execution_pb2.ErrorDocument.FromString(data)
        except Exception:
            return _Outcome(
                FAILED, error=error_bytes("UnreadableError", f"could not parse {uri}", _KIND_SYSTEM)
            )
        ce = doc.error
        system = ce.origin == execution_pb2.ExecutionError.SYSTEM
        kind = _KIND_SYSTEM if system else _KIND_USER
        return _Outcome(
            FAILED,
            error=error_bytes(ce.code, ce.message, kind),
            recoverable=ce.kind == execution_pb2.ContainerError.RECOVERABLE,
            system=system,
        )

    async def _evaluate(
        self, spec: task_definition_pb2.TaskSpec, prefix: str, code: int, log_path: str
    ) -> _Outcome:
        err = await self._read_error(self.blobs.join(prefix, "error.pb"))
        if err is not None:
            return err
        if code == 0:
            has_outputs = bool(spec.task_template.interface.outputs.variables)
            if not has_outputs or await self.blobs.exists(self.blobs.join(prefix, "outputs.pb")):
                return _Outcome(SUCCEEDED, output_prefix=prefix)
            return _Outcome(
                FAILED,
                error=error_bytes(
                    "OutputsNotFound",
                    f"the task exited successfully but wrote no {prefix}/outputs.pb",
                    _KIND_SYSTEM,
                ),
                system=True,
            )
        tail = _log_tail(log_path)
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        message = f"the task process {how} without reporting an error"
        if tail:
            message += ". Last log lines:\n" + tail
        return _Outcome(
            FAILED,
            error=error_bytes("ProcessExited", message, _KIND_SYSTEM),
            recoverable=True,
            system=True,
        )

    def _conclude(self, rec: ActionRecord, outcome: _Outcome) -> None:
        # One commit: a crash never leaves a finished attempt under an unfinished action.
        with self.store.transaction():
            self._conclude_locked(rec, outcome)

    def _conclude_locked(self, rec: ActionRecord, outcome: _Outcome) -> None:
        n = rec.attempts
        if outcome.phase == SUCCEEDED:
            self._end_attempt(rec, n, SUCCEEDED, b"")
            if rec.cache_status in (CACHE_MISS, CACHE_SKIPPED, CACHE_LOOKUP_FAILURE):
                self._populate_cache(rec, n, outcome.output_prefix)
            self._finish(rec, SUCCEEDED, output_uri=outcome.output_prefix)
            return
        self._end_attempt(rec, n, outcome.phase, outcome.error)
        if outcome.recoverable and self._budget_left(rec, outcome.system):
            now = time.time()
            if outcome.system:
                rec.system_failures += 1
            else:
                rec.user_failures += 1
            rec.phase = QUEUED
            rec.updated_at = now
            with self.store.transaction():
                self.store.update_action(
                    rec.key,
                    phase=QUEUED,
                    updated_at=now,
                    system_failures=rec.system_failures,
                    user_failures=rec.user_failures,
                )
                self.store.add_transition(rec.key, n + 1, QUEUED, now)
            self._publish(rec)
            return
        self._finish(rec, outcome.phase, error=outcome.error)

    def _budget_left(self, rec: ActionRecord, system: bool) -> bool:
        if system and rec.system_failures < self.config.max_system_retries:
            return True
        spec = task_definition_pb2.TaskSpec.FromString(rec.spec)
        retries = spec.task_template.metadata.retries.retries
        return rec.user_failures < retries

    # ------------------------------------------------------------------------- transitions

    def _end_attempt(self, rec: ActionRecord, n: int, phase: int, error: bytes) -> None:
        now = time.time()
        with self.store.transaction():
            self.store.update_attempt(rec.key, n, phase=phase, end_time=now, error=error)
            self.store.add_transition(rec.key, n, phase, now)

    def _finish(
        self,
        rec: ActionRecord,
        phase: int,
        *,
        error: bytes = b"",
        abort_info: bytes = b"",
        output_uri: str = "",
        value: bytes = b"",
    ) -> None:
        """Move `rec` to a terminal phase, persist, publish, and tidy up below it."""
        now = time.time()
        rec.phase = phase
        rec.updated_at = now
        rec.end_time = now
        if rec.start_time is None:
            rec.start_time = now
        rec.error = error or rec.error
        rec.abort_info = abort_info
        rec.output_uri = output_uri or rec.output_uri
        rec.value = value or rec.value
        run_key = rec.key.run_key
        with self.store.transaction():
            self.store.update_action(
                rec.key,
                phase=phase,
                updated_at=now,
                end_time=now,
                start_time=rec.start_time,
                error=rec.error,
                abort_info=abort_info,
                output_uri=rec.output_uri,
                value=rec.value,
            )
            if rec.kind != KIND_TASK or not rec.attempts:
                self.store.add_transition(rec.key, max(rec.attempts, 1), phase, now)
            if rec.key.name == ROOT_ACTION:
                self.store.set_run_phase(run_key, phase, now)
        self._publish(rec)
        active = self._active.get(rec.key)
        if active is not None and active.task is not asyncio.current_task():
            self._active.pop(rec.key, None)
        if rec.key.name == ROOT_ACTION:
            meta = self._run_meta.get(run_key)
            if meta is not None:
                meta.phase = phase
            self.hub.publish(("runs",), run_key)
            self._run_specs.pop(run_key, None)
            self._run_meta.pop(run_key, None)
            if self.on_run_done is not None:
                self.on_run_done(run_key)
        if rec.kind == KIND_TASK and rec.holds_children:
            # A parent that finished leaves nothing running below it.
            self._spawn_background(self._abort_leftovers(rec))

    async def _abort_leftovers(self, rec: ActionRecord) -> None:
        run_key = rec.key.run_key
        reason = f"parent action {rec.key.name} finished ({_convert.phase_name(rec.phase)})"
        for child in self.store.list_children(run_key, rec.key.name):
            if not is_terminal(child.phase):
                active = self._active.get(child.key)
                await self._abort_tree(active.rec if active else child, reason)

    def _publish(self, rec: ActionRecord) -> None:
        key = rec.key
        if key.name == ROOT_ACTION and not is_terminal(rec.phase):
            self.store.set_run_phase(key.run_key, rec.phase, rec.updated_at)
        self.hub.publish(("action", key), None)
        run_key = key.run_key
        self.hub.publish(("run", run_key), key)
        if rec.parent is not None:
            topic = ("children", run_key, rec.parent)
            if self.hub.has_subscribers(topic):
                self.hub.publish(topic, _convert.action_update(rec))

    # ---------------------------------------------------------------------------- queries

    def get_action(self, key: ActionKey) -> ActionRecord:
        active = self._active.get(key)
        if active is not None:
            return active.rec
        rec = self.store.get_action(key)
        if rec is None:
            raise NotFound(f"action {key} not found")
        return rec

    def action_details(self, key: ActionKey) -> run_definition_pb2.ActionDetails:
        rec = self.get_action(key)
        run = self.store.get_run(key.run_key) if key.name == ROOT_ACTION else None
        return _convert.action_details(
            rec, self.store.get_attempts(key), self.store.get_transitions(key), run
        )

    def run_details(self, key: RunKey) -> run_definition_pb2.RunDetails:
        run = self.get_run(key)
        root_key = key.action(ROOT_ACTION)
        root = self.get_action(root_key)
        return _convert.run_details(
            run, root, self.store.get_attempts(root_key), self.store.get_transitions(root_key)
        )

    def children(self, run_key: RunKey, parent: str) -> list[ActionRecord]:
        out = []
        for rec in self.store.list_children(run_key, parent):
            active = self._active.get(rec.key)
            out.append(active.rec if active else rec)
        return out

    def outputs_uri(self, rec: ActionRecord) -> str:
        if rec.kind == KIND_TRACE:
            return rec.output_uri
        return self.blobs.join(rec.output_uri, "outputs.pb") if rec.output_uri else ""

    async def action_data(
        self, key: ActionKey
    ) -> tuple[common_pb2.Inputs, common_pb2.Outputs, str, str]:
        rec = self.get_action(key)
        inputs = common_pb2.Inputs()
        inputs_uri = _inputs_file(rec.input_uri)
        if inputs_uri:
            data = await self.blobs.read(inputs_uri)
            if data:
                inputs.ParseFromString(data)
        outputs = common_pb2.Outputs()
        outputs_uri = self.outputs_uri(rec)
        if outputs_uri and rec.phase == SUCCEEDED:
            data = await self.blobs.read(outputs_uri)
            if data:
                outputs.ParseFromString(data)
        return inputs, outputs, inputs_uri, outputs_uri

    def active_count(self) -> int:
        return len(self._active)


def _inputs_file(uri: str) -> str:
    if not uri:
        return ""
    uri = uri.rstrip("/")
    return uri if uri.endswith("/inputs.pb") or uri.endswith(".pb") else uri + "/inputs.pb"


@dataclasses.dataclass(frozen=True)
class _Limits:
    max_runtime: float = 0.0  # per attempt
    queued_timeout: float = 0.0
    deadline: float = 0.0  # from creation to a terminal phase


def _limits(raw_spec: bytes) -> _Limits:
    md = task_definition_pb2.TaskSpec.FromString(raw_spec).task_template.metadata

    def secs(d: Any) -> float:
        return float(d.ToTimedelta().total_seconds())

    return _Limits(
        max_runtime=secs(md.timeout) if md.HasField("timeout") else 0.0,
        queued_timeout=(
            secs(md.timeouts.queued_timeout) if md.timeouts.HasField("queued_timeout") else 0.0
        ),
        deadline=secs(md.timeouts.deadline) if md.timeouts.HasField("deadline") else 0.0,
    )


def _backoff(raw_spec: bytes, failures: int) -> float:
    """Delay before the next attempt, from the task's `RetryStrategy.backoff` (none if unset)."""
    md = task_definition_pb2.TaskSpec.FromString(raw_spec).task_template.metadata
    if not md.retries.HasField("backoff"):
        return 0.0
    b = md.retries.backoff
    base = b.base.ToTimedelta().total_seconds()
    factor = b.factor if b.HasField("factor") else 2.0
    delay = base * factor ** max(0, failures - 1)
    if b.HasField("cap"):
        delay = min(delay, b.cap.ToTimedelta().total_seconds())
    return float(max(0.0, delay))


def _log_tail(path: str, lines: int = 15) -> str:
    records, _ = read_log_lines(path)
    return "\n".join(text for _, text in records[-lines:])


def with_default_inputs(
    inputs: common_pb2.Inputs, spec: task_definition_pb2.TaskSpec
) -> common_pb2.Inputs:
    """`inputs` plus the task's declared defaults for anything missing."""
    present = {nl.name for nl in inputs.literals}
    out = common_pb2.Inputs()
    out.CopyFrom(inputs)
    for p in spec.default_inputs:
        if p.name not in present and p.parameter.HasField("default"):
            out.literals.append(common_pb2.NamedLiteral(name=p.name, value=p.parameter.default))
    return out
