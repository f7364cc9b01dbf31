"""Scheduled triggers (Cron and FixedRate) that actually fire runs.

Semantics, matching the reference SDK's documentation of `flyte.FixedRate` and `flyte.Cron`:

* FixedRate without a start time first fires one interval after the trigger was deployed or
  activated; with a start time it fires at the start time and every interval after it.
* Cron fires at the expression's times in the trigger's timezone (UTC by default).
* A fire that fell while the devbox was not running is skipped, not replayed: on start the
  next fire time is computed from "now".

Each fire creates a run of the trigger's pinned task version with the trigger's inputs and run
spec; its run start time is the scheduled time, which the runtime binds to a `TriggerTime` input.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime, timezone

from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.trigger import trigger_definition_pb2
from flyteidl2.workflow import run_definition_pb2

from flyte_devbox import _convert
from flyte_devbox._engine import Engine, new_run_name, with_default_inputs
from flyte_devbox._errors import InvalidArgument
from flyte_devbox._records import RunKey, TaskKey, TriggerRecord

logger = logging.getLogger("flyte_devbox")

_UNIT_SECONDS = {
    common_pb2.FIXED_RATE_UNIT_UNSPECIFIED: 60,
    common_pb2.FIXED_RATE_UNIT_MINUTE: 60,
    common_pb2.FIXED_RATE_UNIT_HOUR: 3600,
    common_pb2.FIXED_RATE_UNIT_DAY: 86400,
}


def check_automation(automation: common_pb2.TriggerAutomationSpec) -> None:
    """Reject schedules the devbox cannot compute (bad cron, zero rate, unknown timezone)."""
    if automation.type != common_pb2.TYPE_SCHEDULE:
        return
    next_fire(automation, after=time.time(), anchor=time.time())


def next_fire(
    automation: common_pb2.TriggerAutomationSpec, *, after: float, anchor: float
) -> float | None:
    """The first fire time strictly after `after`; `anchor` is the deploy/activation time."""
    if automation.type != common_pb2.TYPE_SCHEDULE:
        return None
    sched = automation.schedule
    which = sched.WhichOneof("expression")
    if which == "rate":
        rate = sched.rate
        interval = rate.value * _UNIT_SECONDS.get(rate.unit, 60)
        if interval <= 0:
            raise InvalidArgument("a FixedRate trigger needs a positive interval")
        start = (
            _convert.seconds(rate.start_time) if rate.HasField("start_time") else anchor + interval
        )
        if after < start:
            return start
        return start + (math.floor((after - start) / interval) + 1) * interval
    if which in ("cron", "cron_expression"):
        expression = sched.cron.expression if which == "cron" else sched.cron_expression
        tz_name = sched.cron.timezone if which == "cron" else ""
        return _next_cron(expression, tz_name, after)
    return None


def _next_cron(expression: str, tz_name: str, after: float) -> float:
    from croniter import croniter

    tz: timezone | object = timezone.utc
    if tz_name:
        try:
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(tz_name)
        except Exception:
            raise InvalidArgument(f"unknown timezone {tz_name!r}") from None
    base = datetime.fromtimestamp(after, tz=tz)  # type: ignore[arg-type]
    try:
        it = croniter(expression, base)
    except Exception as e:
        raise InvalidArgument(f"invalid cron expression {expression!r}: {e}") from None
    nxt: datetime = it.get_next(datetime)
    return nxt.timestamp()


class TriggerScheduler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        now = time.time()
        for t in self.store.list_triggers(active_only=True):
            # Skip fires missed while the devbox was down.
            if t.next_fire_at is None or t.next_fire_at < now:
                self.reschedule(t, after=now)
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    def reschedule(self, t: TriggerRecord, *, after: float) -> None:
        """Recompute and store `t.next_fire_at` (None when inactive or not scheduled)."""
        nxt = None
        if t.active:
            automation = common_pb2.TriggerAutomationSpec.FromString(t.automation)
            try:
                nxt = next_fire(automation, after=after, anchor=t.activated_at or t.deployed_at)
            except InvalidArgument as e:
                logger.error("trigger %s cannot be scheduled: %s", t.key, e.message)
        t.next_fire_at = nxt
        self.store.upsert_trigger(t)
        self.wake()

    async def _loop(self) -> None:
        while True:
            now = time.time()
            upcoming: list[float] = []
            for t in self.store.list_triggers(active_only=True):
                if t.next_fire_at is None:
                    continue
                if t.next_fire_at <= now:
                    try:
                        await self.fire(t, scheduled=t.next_fire_at)
                    except Exception:
                        logger.exception("trigger %s failed to fire", t.key)
                    self.reschedule(t, after=max(now, t.next_fire_at))
                if t.next_fire_at is not None:
                    upcoming.append(t.next_fire_at)
            self._wake.clear()
            delay = min(upcoming) - time.time() if upcoming else 3600.0
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=min(delay, 3600.0))
                except asyncio.TimeoutError:
                    pass

    async def fire(self, t: TriggerRecord, *, scheduled: float) -> RunKey:
        """Create the run this trigger stands for, as of `scheduled`."""
        engine = self.engine
        task = self.store.get_task(
            TaskKey(t.key.project, t.key.domain, t.key.task_name, t.task_version)
        )
        if task is None:
            raise InvalidArgument(
                f"trigger {t.key.name!r} points at task {t.key.task_name}@{t.task_version}, "
                "which is not deployed"
            )
        spec = task_definition_pb2.TaskSpec.FromString(task.spec)
        tspec = trigger_definition_pb2.TriggerSpec.FromString(t.spec)
        input_uri = await trigger_inputs(engine, t, tspec, spec)
        key = RunKey(t.key.project, t.key.domain, new_run_name())
        await engine.create_run(
            key=key,
            org=t.org,
            spec=spec,
            input_uri=input_uri,
            run_spec=tspec.run_spec if tspec.HasField("run_spec") else run_pb2.RunSpec(),
            run_start_time=scheduled,
            source=run_definition_pb2.RUN_SOURCE_SCHEDULE_TRIGGER,
            trigger=t.key,
            trigger_revision=t.revision,
            trigger_type=t.automation,
        )
        t.triggered_at = time.time()
        self.store.upsert_trigger(t)
        logger.info("trigger %s fired run %s", t.key.name, key)
        return key


async def trigger_inputs(
    engine: Engine,
    t: TriggerRecord,
    tspec: trigger_definition_pb2.TriggerSpec,
    spec: task_definition_pb2.TaskSpec,
) -> str:
    """The inputs.pb for a run of `t`: its inputs (inline or offloaded) plus task defaults."""
    inputs = common_pb2.Inputs()
    which = tspec.WhichOneof("input_wrapper")
    if which == "inputs":
        inputs.CopyFrom(tspec.inputs)
    elif which == "offloaded_input_data":
        uri = _inputs_file(tspec.offloaded_input_data)
        data = await engine.blobs.read(uri)
        if data is None:
            raise InvalidArgument(f"the trigger's offloaded inputs {uri} are missing")
        inputs.ParseFromString(data)
    merged = with_default_inputs(inputs, spec)
    directory, _ = await engine.offload_inputs(t.key.project, t.key.domain, merged)
    return directory + "/inputs.pb"


def _inputs_file(data: common_run_pb2.OffloadedInputData) -> str:
    uri = data.uri.rstrip("/")
    return uri if uri.endswith(".pb") else uri + "/inputs.pb"
