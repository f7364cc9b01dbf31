"""Triggers of deployed tasks: `Trigger.create/get/listall/update/delete`, `TriggerDetails`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2

from flyte_client.remote import _client
from flyte_client.remote._common import paged
from flyte_client.remote._errors import translate
from flyte_models import syncify

if TYPE_CHECKING:
    from flyteidl2.task import common_pb2, run_pb2

__all__ = [
    "Trigger",
    "TriggerDetails",
    "trigger_automation",
    "trigger_run_spec",
    "trigger_values",
    "trigger_wire",
]


def _name(name: str, task_name: str, project: str | None = None, domain: str | None = None) -> Any:
    org, project, domain = _client._scope(project, domain)
    return identifier_pb2.TriggerName(
        org=org, project=project, domain=domain, name=name, task_name=task_name
    )


async def trigger_wire(trigger: Any, interface: Any) -> tuple[Any, Any, Any]:
    """The wire form of a `flyte.Trigger` for a task with `interface` (a NativeInterface):
    `(inputs, run_spec, automation_spec)`.

    Raises:
        ValueError: If the trigger sets inputs the task does not have.
        NotImplementedError: For automations other than Cron, FixedRate or none.
    """
    import flyte_types

    kickoff, values = trigger_values(trigger)
    known = set(interface.inputs)
    unknown = sorted((set(values) | ({kickoff} if kickoff else set())) - known)
    if unknown:
        raise ValueError(
            f"Trigger {trigger.name!r} sets inputs {unknown} that the task does not have; its "
            f"inputs are {sorted(known)}"
        )
    # The trigger's values plus every input that has a default; the schedule fills the kickoff
    # time at each firing, and the server rejects what is still missing.
    inputs = await flyte_types.build_inputs(_bindable(interface, values), values)
    return inputs, trigger_run_spec(trigger), trigger_automation(trigger, kickoff)


def trigger_values(trigger: Any) -> tuple[str, dict[str, Any]]:
    """A `flyte.Trigger`'s inputs split: the name of the input set to `flyte.TriggerTime` (the
    schedule's firing time; "" for none) and the other inputs' values."""
    from flyte_models import TriggerTime

    kickoff = ""
    values: dict[str, Any] = {}
    for k, v in (trigger.inputs or {}).items():
        if v is TriggerTime:
            kickoff = k
        else:
            values[k] = v
    return kickoff, values


def trigger_automation(trigger: Any, kickoff: str) -> common_pb2.TriggerAutomationSpec:
    """The `TriggerAutomationSpec` of a `flyte.Trigger`'s automation (Cron, FixedRate or none);
    `kickoff` names the input the schedule fills with its firing time ("" for none).

    Raises:
        NotImplementedError: For automations other than Cron, FixedRate or none.
    """
    from flyteidl2.task import common_pb2
    from google.protobuf import timestamp_pb2

    from flyte_models import Cron, FixedRate

    auto = trigger.automation
    if auto is None:
        return common_pb2.TriggerAutomationSpec(type=common_pb2.TriggerAutomationSpecType.TYPE_NONE)
    if isinstance(auto, Cron):
        return common_pb2.TriggerAutomationSpec(
            type=common_pb2.TriggerAutomationSpecType.TYPE_SCHEDULE,
            schedule=common_pb2.Schedule(
                cron=common_pb2.Cron(expression=auto.expression, timezone=str(auto.timezone or "")),
                kickoff_time_input_arg=kickoff,
            ),
        )
    if isinstance(auto, FixedRate):
        start = None
        if auto.start_time is not None:
            start = timestamp_pb2.Timestamp()
            start.FromDatetime(auto.start_time)
        return common_pb2.TriggerAutomationSpec(
            type=common_pb2.TriggerAutomationSpecType.TYPE_SCHEDULE,
            schedule=common_pb2.Schedule(
                rate=common_pb2.FixedRate(
                    value=auto.interval_minutes,
                    unit=common_pb2.FixedRateUnit.FIXED_RATE_UNIT_MINUTE,
                    start_time=start,
                ),
                kickoff_time_input_arg=kickoff,
            ),
        )
    raise NotImplementedError(
        f"Trigger {trigger.name!r}: {type(auto).__name__} automations cannot be created by "
        "this client yet; use Cron, FixedRate or no automation."
    )


def trigger_run_spec(trigger: Any) -> run_pb2.RunSpec:
    """The `RunSpec` of the runs a `flyte.Trigger` starts (cache, env vars, queue, labels...)."""
    from flyteidl2.core import literals_pb2
    from flyteidl2.task import run_pb2
    from google.protobuf import wrappers_pb2

    run_spec = run_pb2.RunSpec(
        overwrite_cache=bool(trigger.overwrite_cache),
        envs=run_pb2.Envs(
            values=[
                literals_pb2.KeyValuePair(key=k, value=v)
                for k, v in (trigger.env_vars or {}).items()
            ]
        ),
        queue=trigger.queue or "",
        max_action_concurrency=trigger.max_action_concurrency or 0,
        labels=run_pb2.Labels(values=dict(trigger.labels or {})),
        annotations=run_pb2.Annotations(values=dict(trigger.annotations or {})),
    )
    if trigger.interruptible is not None:
        run_spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=trigger.interruptible))
    return run_spec


def _bindable(interface: Any, values: dict[str, Any]) -> Any:
    """The interface restricted to the inputs in `values` or with a default (no outputs)."""
    import inspect

    from flyte_models import NativeInterface

    keep = {
        k: spec
        for k, spec in interface.inputs.items()
        if k in values or spec[1] is not inspect.Parameter.empty
    }
    defaults = {k: v for k, v in interface.remote_defaults.items() if k in keep}
    return NativeInterface.from_types(keep, {}, defaults or None)


class _TriggerFields:
    """The properties `Trigger` and `TriggerDetails` read the same way from their messages."""

    pb2: Any

    @property
    def id(self) -> identifier_pb2.TriggerIdentifier:
        return self.pb2.id  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self.pb2.id.name.name  # type: ignore[no-any-return]

    @property
    def task_name(self) -> str:
        return self.pb2.id.name.task_name  # type: ignore[no-any-return]

    @property
    def automation_spec(self) -> Any:
        return self.pb2.automation_spec


@dataclass
class TriggerDetails(_TriggerFields):
    """A trigger's full state: spec (inputs, run settings, active), automation and status."""

    pb2: trigger_definition_pb2.TriggerDetails

    @syncify
    @classmethod
    async def get(cls, *, name: str, task_name: str) -> TriggerDetails:
        """Fetch trigger `name` of task `task_name`."""
        try:
            resp = await _client._clients().trigger_service.GetTriggerDetails(
                trigger_service_pb2.GetTriggerDetailsRequest(name=_name(name, task_name))
            )
        except Exception as exc:
            raise translate(exc, f"get trigger {name!r} of task {task_name!r}") from exc
        return cls(resp.trigger)

    @property
    def metadata(self) -> trigger_definition_pb2.TriggerMetadata:
        return self.pb2.metadata

    @property
    def status(self) -> trigger_definition_pb2.TriggerStatus:
        return self.pb2.status

    @property
    def is_active(self) -> bool:
        return self.pb2.spec.active

    @property
    def trigger(self) -> trigger_definition_pb2.Trigger:
        """The summary `Trigger` message of these details."""
        return trigger_definition_pb2.Trigger(
            id=self.pb2.id,
            metadata=self.pb2.metadata,
            status=self.pb2.status,
            active=self.is_active,
            automation_spec=self.pb2.automation_spec,
        )

    def __repr__(self) -> str:
        return (
            f"TriggerDetails(name={self.name!r}, task_name={self.task_name!r}, "
            f"active={self.is_active})"
        )


@dataclass
class Trigger(_TriggerFields):
    """A trigger of a deployed task (as listed)."""

    pb2: trigger_definition_pb2.Trigger
    details: TriggerDetails | None = None

    @syncify
    @classmethod
    async def create(cls, trigger: Any, task_name: str, task_version: str | None = None) -> Trigger:
        """Create (or replace) `trigger` (a `flyte.Trigger`) on the deployed task `task_name`
        (its latest version unless `task_version` is given).

        Raises:
            RemoteTaskNotFoundError: If the task is not deployed.
            ValueError: If the trigger sets inputs the task does not have.
        """
        from flyte_client.remote._task import Task

        lazy = (
            Task.get(task_name, version=task_version)
            if task_version
            else Task.get(task_name, auto_version="latest")
        )
        task = await lazy.fetch.aio()
        inputs, run_spec, automation = await trigger_wire(trigger, task.interface)
        spec = trigger_definition_pb2.TriggerSpec(
            active=trigger.auto_activate,
            run_spec=run_spec,
            task_version=task.version,
            inputs=inputs,
            description=trigger.description or "",
        )
        try:
            resp = await _client._clients().trigger_service.DeployTrigger(
                trigger_service_pb2.DeployTriggerRequest(
                    name=_name(trigger.name, task_name), spec=spec, automation_spec=automation
                )
            )
        except Exception as exc:
            raise translate(exc, f"create trigger {trigger.name!r} of task {task_name!r}") from exc
        details = TriggerDetails(resp.trigger)
        return cls(details.trigger, details)

    @syncify
    @classmethod
    async def get(cls, *, name: str, task_name: str) -> TriggerDetails:
        """Fetch trigger `name` of task `task_name` (its details)."""
        return await TriggerDetails.get.aio(name=name, task_name=task_name)  # type: ignore[no-any-return]

    @syncify
    @classmethod
    async def listall(
        cls, task_name: str | None = None, task_version: str | None = None, limit: int = 100
    ) -> AsyncIterator[Trigger]:
        """Yield the triggers of the configured project/domain (of one task, or task version)."""
        from flyteidl2.task import task_definition_pb2

        org, project, domain = _client._scope()
        scope: dict[str, Any] = {}
        if task_name and task_version:
            scope["task_id"] = task_definition_pb2.TaskIdentifier(
                org=org, project=project, domain=domain, name=task_name, version=task_version
            )
        elif task_name:
            scope["task_name"] = task_definition_pb2.TaskName(
                org=org, project=project, domain=domain, name=task_name
            )
        else:
            scope["project_id"] = identifier_pb2.ProjectIdentifier(
                organization=org, name=project, domain=domain
            )

        async def page(size: int, token: str) -> tuple[Any, str]:
            req = trigger_service_pb2.ListTriggersRequest(
                request=list_pb2.ListRequest(limit=size, token=token), org=org, **scope
            )
            try:
                resp = await _client._clients().trigger_service.ListTriggers(req)
            except Exception as exc:
                raise translate(exc, "list triggers") from exc
            return resp.triggers, resp.token

        async for t in paged(limit, page):
            yield cls(t)

    @syncify
    @classmethod
    async def update(cls, name: str, task_name: str, active: bool) -> None:
        """Activate (`active=True`) or deactivate trigger `name` of task `task_name`."""
        try:
            await _client._clients().trigger_service.UpdateTriggers(
                trigger_service_pb2.UpdateTriggersRequest(
                    names=[_name(name, task_name)], active=active
                )
            )
        except Exception as exc:
            raise translate(exc, f"update trigger {name!r} of task {task_name!r}") from exc

    @syncify
    async def activate(self) -> None:
        """Activate this trigger."""
        await Trigger.update.aio(self.name, self.task_name, True)

    @syncify
    async def deactivate(self) -> None:
        """Deactivate this trigger."""
        await Trigger.update.aio(self.name, self.task_name, False)

    @syncify
    @classmethod
    async def delete(
        cls, name: str, task_name: str, project: str | None = None, domain: str | None = None
    ) -> None:
        """Delete trigger `name` of task `task_name`."""
        try:
            await _client._clients().trigger_service.DeleteTriggers(
                trigger_service_pb2.DeleteTriggersRequest(
                    names=[_name(name, task_name, project, domain)]
                )
            )
        except Exception as exc:
            raise translate(exc, f"delete trigger {name!r} of task {task_name!r}") from exc

    @syncify
    async def get_details(self) -> TriggerDetails:
        """This trigger's details (fetched once)."""
        if self.details is None:
            self.details = await TriggerDetails.get.aio(name=self.name, task_name=self.task_name)
        return self.details

    @property
    def is_active(self) -> bool:
        return self.pb2.active

    @property
    def url(self) -> str:
        n = self.pb2.id.name
        return _client.console_url(
            f"v2/domain/{n.domain}/project/{n.project}/triggers/{n.task_name}/{n.name}"
        )

    def __repr__(self) -> str:
        return f"Trigger(name={self.name!r}, task_name={self.task_name!r}, active={self.is_active})"
