"""`Action` and `ActionDetails`: one node of a run (the root action is `a0`).

Watching uses `RunService.WatchActionDetails`; a dropped stream (proxy reset, control plane
restart) is re-subscribed with backoff, so `wait()` survives a restarting control plane.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any, Literal

from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte_client.remote import _client
from flyte_client.remote._common import (
    TimeFilter,
    dual_iterator,
    eq_filter,
    phase_filter,
    sorting,
    time_filters,
)
from flyte_client.remote._console import WaitView
from flyte_client.remote._data import (
    ActionInputs,
    ActionOutputs,
    decode_inputs,
    decode_outputs,
    native_interface,
)
from flyte_client.remote._errors import is_transient, rpc_code, translate
from flyte_models import ActionPhase, syncify
from flyte_models import errors as ferr

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2

__all__ = ["Action", "ActionDetails", "PhaseTransitionInfo", "WaitFor"]

logger = logging.getLogger("flyte_client.remote")

WaitFor = Literal["terminal", "running", "logs-ready"]

_TERMINAL = frozenset(
    {
        phase_pb2.ACTION_PHASE_SUCCEEDED,
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_ABORTED,
        phase_pb2.ACTION_PHASE_TIMED_OUT,
        getattr(phase_pb2, "ACTION_PHASE_RECOVERED", 10),
    }
)

# Re-subscription after a dropped watch: backoff doubling from 0.5 s to 5 s, for as long as
# failures keep coming for less than the budget (any delivered update resets it).
_RECONNECT_INITIAL_SECS = 0.5
_RECONNECT_MAX_SECS = 5.0
_RECONNECT_BUDGET_SECS = 120.0


def _utc(ts: Any) -> datetime:
    return ts.ToDatetime().replace(tzinfo=timezone.utc)  # type: ignore[no-any-return]


def _phase(raw: int) -> ActionPhase | None:
    try:
        return ActionPhase.from_protobuf(raw)
    except (ValueError, TypeError):
        return None


def _done(raw: int) -> bool:
    return raw in _TERMINAL


def action_identifier(run_name: str, name: str) -> identifier_pb2.ActionIdentifier:
    org, project, domain = _client._scope()
    return identifier_pb2.ActionIdentifier(
        run=identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=run_name),
        name=name,
    )


def _id_text(action_id: identifier_pb2.ActionIdentifier) -> str:
    return f"action {action_id.name!r} of run {action_id.run.name!r}"


async def watch_action(
    action_id: identifier_pb2.ActionIdentifier,
) -> AsyncIterator[ActionDetails]:
    """Yield the action's details on every change until it is terminal, re-subscribing after a
    dropped stream.

    Raises:
        ActionNotFoundError: If the action does not exist.
        UnionRpcError: If the control plane stays unreachable beyond the reconnect budget.
    """
    request = run_service_pb2.WatchActionDetailsRequest(action_id=action_id)
    failing_since: float | None = None
    failures = 0
    while True:
        clients = _client._clients()
        call = clients.run_service.WatchActionDetails(request)
        try:
            async for resp in call:
                failing_since, failures = None, 0
                details = ActionDetails(resp.details)
                yield details
                if details.done():
                    return
        except asyncio.CancelledError:
            call.cancel()
            raise
        except Exception as exc:
            if not is_transient(exc):
                raise translate(exc, f"watch {_id_text(action_id)}") from exc
            now = time.monotonic()
            failing_since = failing_since or now
            if now - failing_since > _RECONNECT_BUDGET_SECS:
                raise translate(exc, f"watch {_id_text(action_id)}") from exc
            failures += 1
            backoff = min(_RECONNECT_INITIAL_SECS * 2 ** (failures - 1), _RECONNECT_MAX_SECS)
            logger.warning(
                "Watch of %s interrupted (%s); re-subscribing in %.1fs",
                _id_text(action_id),
                type(exc).__name__,
                backoff,
            )
            await _wait_ready(clients, backoff, failing_since)
            continue
        # The stream ended cleanly before a terminal phase (a proxy's stream limit): re-subscribe.
        logger.debug("Watch of %s ended early; re-subscribing", _id_text(action_id))
        await asyncio.sleep(_RECONNECT_INITIAL_SECS)


async def _wait_ready(clients: Any, backoff: float, failing_since: float) -> None:
    """Sleep `backoff`, then give the channel until the budget ends to reconnect."""
    await asyncio.sleep(backoff)
    channel = getattr(clients, "channel", None)
    if channel is None or not hasattr(channel, "channel_ready"):
        return
    remaining = _RECONNECT_BUDGET_SECS - (time.monotonic() - failing_since)
    try:
        await asyncio.wait_for(channel.channel_ready(), timeout=max(remaining, 0.1))
    except (asyncio.TimeoutError, Exception):
        pass  # the next subscription reports the failure


@dataclass
class PhaseTransitionInfo:
    """One phase of an attempt and how long the action stayed in it."""

    phase: ActionPhase
    start_time: datetime
    end_time: datetime | None

    @property
    def duration(self) -> timedelta:
        """Time spent in the phase (until now if it has not ended)."""
        end = self.end_time or datetime.now(timezone.utc)
        return abs(end - self.start_time)


class _ActionFields:
    """The properties `Action` and `ActionDetails` read the same way from their messages."""

    pb2: Any

    @property
    def action_id(self) -> identifier_pb2.ActionIdentifier:
        """The action's identifier."""
        return self.pb2.id  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        """The action's name (`a0` for a run's root action)."""
        return self.pb2.id.name  # type: ignore[no-any-return]

    @property
    def run_name(self) -> str:
        """The name of the run the action belongs to."""
        return self.pb2.id.run.name  # type: ignore[no-any-return]

    @property
    def parent_name(self) -> str | None:
        """The parent action's name, or None for the root."""
        return self.pb2.metadata.parent or None

    @property
    def task_name(self) -> str | None:
        """The task the action runs, if its metadata names one."""
        md = self.pb2.metadata
        if md.HasField("task") and md.task.HasField("id"):
            return md.task.id.name  # type: ignore[no-any-return]
        return None

    @property
    def relation(self) -> Any:
        """The rerun/recover provenance of a root action, or None."""
        md = self.pb2.metadata
        return md.relation if md.HasField("relation") else None

    @property
    def phase(self) -> ActionPhase:
        """The current phase.

        Raises:
            ValueError: While the phase is still unspecified.
        """
        return ActionPhase.from_protobuf(self.pb2.status.phase)

    @property
    def raw_phase(self) -> int:
        """The wire phase number."""
        return self.pb2.status.phase  # type: ignore[no-any-return]


@dataclass
class ActionDetails(_ActionFields):
    """The full state of an action: spec, status, attempts, error; and its inputs/outputs."""

    pb2: run_definition_pb2.ActionDetails
    _inputs: ActionInputs | None = None
    _outputs: ActionOutputs | None = None
    _preserve_original_types: bool = False
    _action_data: dataproxy_service_pb2.GetActionDataResponse | None = None
    _interface_override: Any = field(default=None, repr=False)

    # ------------------------------------------------------------------ fetching
    @syncify
    @classmethod
    async def get_details(cls, action_id: identifier_pb2.ActionIdentifier) -> ActionDetails:
        """Fetch the details of the action `action_id`.

        Raises:
            ActionNotFoundError: If there is no such action.
        """
        req = run_service_pb2.GetActionDetailsRequest(action_id=action_id)
        resp = await _client.call(
            lambda c: c.run_service.GetActionDetails(req), f"get {_id_text(action_id)}"
        )
        return cls(resp.details)

    @syncify
    @classmethod
    async def get(
        cls, uri: str | None = None, /, run_name: str | None = None, name: str | None = None
    ) -> ActionDetails:
        """Fetch the details of action `name` of run `run_name` (or `uri` = "run/action")."""
        run_name, name = _split_uri(uri, run_name, name)
        return await cls.get_details.aio(action_identifier(run_name, name))

    @syncify
    @classmethod
    async def watch(
        cls, action_id: identifier_pb2.ActionIdentifier
    ) -> AsyncIterator[ActionDetails]:
        """Yield the action's details on every change until it is terminal."""
        if not action_id or not action_id.name:
            raise ValueError("watch needs an action id with a run and an action name")
        async for details in watch_action(action_id):
            yield details

    async def watch_updates(self, cache_data_on_done: bool = False) -> AsyncIterator[ActionDetails]:
        """Yield updates of this action until it is terminal; this object follows them."""
        async for d in watch_action(self.pb2.id):
            self.pb2 = d.pb2
            yield d
        if cache_data_on_done and self.done():
            await self._cache_data()

    # ------------------------------------------------------------------ properties
    @property
    def task_name(self) -> str | None:
        """The task the action runs, if it runs one."""
        name = super().task_name
        if name is None and self.pb2.HasField("task"):
            return self.pb2.task.task_template.id.name or None
        return name

    @property
    def metadata(self) -> run_definition_pb2.ActionMetadata:
        """The action's metadata message."""
        return self.pb2.metadata

    @property
    def status(self) -> run_definition_pb2.ActionStatus:
        """The action's status message."""
        return self.pb2.status

    @property
    def phase_or_none(self) -> ActionPhase | None:
        """The current phase, or None while it is unspecified."""
        return _phase(self.pb2.status.phase)

    @property
    def is_running(self) -> bool:
        """Whether the action is in the RUNNING phase."""
        return self.pb2.status.phase == phase_pb2.ACTION_PHASE_RUNNING

    @property
    def error_info(self) -> run_definition_pb2.ErrorInfo | None:
        """Why the action failed, or None."""
        return self.pb2.error_info if self.pb2.HasField("error_info") else None

    @property
    def error_message(self) -> str | None:
        """The failure message, or None."""
        return self.pb2.error_info.message if self.pb2.HasField("error_info") else None

    @property
    def abort_info(self) -> run_definition_pb2.AbortInfo | None:
        """Why and by whom the action was aborted, or None."""
        return self.pb2.abort_info if self.pb2.HasField("abort_info") else None

    @property
    def attempts(self) -> int:
        """The number of attempts so far."""
        return self.pb2.status.attempts

    @property
    def runtime(self) -> timedelta:
        """Time from start to end (or to now while running)."""
        st = self.pb2.status
        if not st.HasField("start_time"):
            return timedelta(0)
        end = _utc(st.end_time) if st.HasField("end_time") else datetime.now(timezone.utc)
        return end - _utc(st.start_time)

    @property
    def code_bundle(self) -> str | None:
        """The code bundle URI of the action's task, if any."""
        if self.pb2.HasField("task"):
            return self.pb2.task.task_template.metadata.code_bundle_uri or None
        return None

    def done(self) -> bool:
        """Whether the action reached a terminal phase."""
        return _done(self.pb2.status.phase)

    def logs_available(self, attempt: int | None = None) -> bool:
        """Whether logs of `attempt` (the latest by default) can be tailed."""
        attempt = attempt or self.attempts
        attempts = self.pb2.attempts
        return (
            bool(attempts) and 0 < attempt <= len(attempts) and attempts[attempt - 1].logs_available
        )

    def get_phase_transitions(self, attempt: int | None = None) -> list[PhaseTransitionInfo]:
        """The phases of `attempt` (latest by default), in order, with their times."""
        attempt = attempt or self.attempts
        if not (0 < attempt <= len(self.pb2.attempts)):
            return []
        return [
            PhaseTransitionInfo(
                phase=ActionPhase.from_protobuf(pt.phase),
                start_time=_utc(pt.start_time),
                end_time=_utc(pt.end_time) if pt.HasField("end_time") else None,
            )
            for pt in self.pb2.attempts[attempt - 1].phase_transitions
            if _phase(pt.phase) is not None
        ]

    @property
    def phase_durations(self) -> dict[ActionPhase, timedelta]:
        """Time spent in each phase of the latest attempt."""
        return {t.phase: t.duration for t in self.get_phase_transitions()}

    @property
    def queued_time(self) -> timedelta | None:
        return self.phase_durations.get(ActionPhase.QUEUED)

    @property
    def waiting_for_resources_time(self) -> timedelta | None:
        return self.phase_durations.get(ActionPhase.WAITING_FOR_RESOURCES)

    @property
    def initializing_time(self) -> timedelta | None:
        return self.phase_durations.get(ActionPhase.INITIALIZING)

    @property
    def running_time(self) -> timedelta | None:
        return self.phase_durations.get(ActionPhase.RUNNING)

    # ------------------------------------------------------------------ data
    def _interface(self) -> Any:
        if self._interface_override is not None:
            return self._interface_override
        if self.pb2.HasField("task"):
            spec = self.pb2.task
            return native_interface(
                spec.task_template.interface, spec.default_inputs, self._preserve_original_types
            )
        if self.pb2.HasField("trace"):
            return native_interface(
                self.pb2.trace.interface, preserve_original_types=self._preserve_original_types
            )
        return None

    async def _fetch_action_data(self) -> dataproxy_service_pb2.GetActionDataResponse:
        if self._action_data is None or (self._action_data.outputs.ByteSize() == 0 and self.done()):
            from flyteidl2.dataproxy import dataproxy_service_pb2

            try:
                self._action_data = await _client._clients().dataproxy_service.GetActionData(
                    dataproxy_service_pb2.GetActionDataRequest(action_id=self.pb2.id)
                )
            except Exception as exc:
                raise translate(exc, f"get the data of {_id_text(self.pb2.id)}") from exc
        return self._action_data

    async def _cache_data(self) -> bool:
        if self._inputs is not None and self._outputs is not None:
            return True
        resp = await self._fetch_action_data()
        iface = self._interface()
        if self._inputs is None:
            self._inputs = await decode_inputs(resp.inputs, iface)
        if (
            self.done()
            and self._outputs is None
            and self.phase_or_none
            in (
                ActionPhase.SUCCEEDED,
                ActionPhase.RECOVERED,
            )
        ):
            self._outputs = await decode_outputs(resp.outputs, iface)
        return self._outputs is not None

    @syncify
    async def inputs(self) -> ActionInputs:
        """The action's inputs, decoded with its task's interface."""
        if self._inputs is None:
            await self._cache_data()
        assert self._inputs is not None
        return self._inputs

    @syncify
    async def outputs(self) -> ActionOutputs:
        """The action's outputs, decoded with its task's interface.

        Raises:
            RuntimeError: If the action has not finished.
            RuntimeUserError: If the action failed (the error's code and message).
        """
        if self._outputs is not None:
            return self._outputs
        if not self.done():
            raise RuntimeError(
                f"Action {self.name!r} of run {self.run_name!r} is "
                f"{(self.phase_or_none or ActionPhase.QUEUED).value}, so it has no outputs yet; "
                "wait() for it first."
            )
        if not await self._cache_data():
            raise _failure(self)
        assert self._outputs is not None
        return self._outputs

    @syncify
    async def input_literals(self) -> dict[str, literals_pb2.Literal]:
        """The raw input literals by name, without decoding."""
        resp = await self._fetch_action_data()
        return {nl.name: nl.value for nl in resp.inputs.literals}

    @syncify
    async def output_literals(self) -> dict[str, literals_pb2.Literal]:
        """The raw output literals by name (`o0`, ...), without decoding."""
        resp = await self._fetch_action_data()
        return {nl.name: nl.value for nl in resp.outputs.literals}

    @syncify
    async def typed_inputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        """Decode the named inputs into the given Python types."""
        return await _typed(await self.input_literals.aio(), types, deserializers)

    @syncify
    async def typed_outputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        """Decode the named outputs into the given Python types."""
        return await _typed(await self.output_literals.aio(), types, deserializers)

    def __repr__(self) -> str:
        phase = self.phase_or_none
        return (
            f"ActionDetails(run={self.run_name!r}, name={self.name!r}, task={self.task_name!r}, "
            f"phase={phase.value if phase else None!r}, attempts={self.attempts})"
        )


async def fetch_report(action_id: identifier_pb2.ActionIdentifier, attempt: int) -> str:
    """Download the HTML report of one attempt of an action through a signed link."""
    import httpx
    from flyteidl2.dataproxy import dataproxy_service_pb2

    where = f"{_id_text(action_id)} (attempt {attempt})"
    try:
        resp = await _client._clients().dataproxy_service.CreateDownloadLink(
            dataproxy_service_pb2.CreateDownloadLinkRequest(
                artifact_type=dataproxy_service_pb2.ARTIFACT_TYPE_REPORT,
                action_attempt_id=identifier_pb2.ActionAttemptIdentifier(
                    action_id=action_id, attempt=attempt
                ),
            )
        )
    except Exception as exc:
        if rpc_code(exc) == "NOT_FOUND":
            raise RuntimeError(f"No report is available for {where}.") from exc
        raise translate(exc, f"get the report link of {where}") from exc
    urls = list(resp.pre_signed_urls.signed_url)
    if not urls:
        raise RuntimeError(f"No report is available for {where}.")
    async with httpx.AsyncClient(timeout=120) as http:
        got = await http.get(urls[0])
    if got.status_code == 404:
        raise RuntimeError(f"No report is available for {where}.")
    got.raise_for_status()
    return got.text


def _failure(details: ActionDetails) -> Exception:
    phase = details.phase_or_none
    err = details.error_info
    where = f"Action {details.name!r} of run {details.run_name!r}"
    if err is not None:
        kind = run_definition_pb2.ErrorInfo.Kind.Name(err.kind) if err.kind else ""
        cls = ferr.RuntimeSystemError if kind == "KIND_SYSTEM" else ferr.RuntimeUserError
        return cls(err.code or "Failed", f"{where} failed: {err.message}")
    if phase == ActionPhase.ABORTED:
        info = details.abort_info
        reason = f": {info.reason}" if info is not None and info.reason else ""
        return ferr.ActionAbortedError(f"{where} was aborted{reason}")
    if phase == ActionPhase.TIMED_OUT:
        return ferr.TaskTimeoutError(f"{where} timed out")
    return ferr.RuntimeUserError("Failed", f"{where} ended in phase {phase}")


async def _typed(
    literals: dict[str, Any], types: dict[str, type], deserializers: dict[type, Any] | None
) -> dict[str, Any]:
    from flyte_types import TypeEngine

    out: dict[str, Any] = {}
    for name, tp in types.items():
        if name not in literals:
            continue
        if deserializers and tp in deserializers:
            raw = await TypeEngine.to_python_value(literals[name], dict)
            out[name] = deserializers[tp](raw)
        else:
            out[name] = await TypeEngine.to_python_value(literals[name], tp)
    return out


def _split_uri(uri: str | None, run_name: str | None, name: str | None) -> tuple[str, str]:
    if uri:
        parts = uri.strip("/").split("/")
        if len(parts) >= 2:
            return parts[-2], parts[-1]
        if name is None:
            return parts[0], "a0"
        return parts[0], name
    if not run_name or not name:
        raise ValueError("Give the action as uri ('run/action') or as run_name= and name=")
    return run_name, name


@dataclass
class Action(_ActionFields):
    """One action of a run: a task call (or trace/condition) with its own phase and attempts."""

    pb2: run_definition_pb2.Action
    _details: ActionDetails | None = field(default=None, repr=False)

    @syncify
    @classmethod
    async def get(
        cls, uri: str | None = None, /, run_name: str | None = None, name: str | None = None
    ) -> Action:
        """Fetch action `name` of run `run_name` (or `uri` = "run/action").

        Raises:
            ActionNotFoundError: If there is no such action.
        """
        details = await ActionDetails.get.aio(uri, run_name=run_name, name=name)
        return cls._from_details(details)

    @classmethod
    def _from_details(cls, details: ActionDetails) -> Action:
        pb = run_definition_pb2.Action(
            id=details.pb2.id, metadata=details.pb2.metadata, status=details.pb2.status
        )
        return cls(pb, details)

    @syncify
    @classmethod
    async def listall(
        cls,
        for_run_name: str,
        in_phase: Any = None,
        parent_name: str | None = None,
        sort_by: tuple[str, Literal["asc", "desc"]] | None = None,
        created_at: TimeFilter | None = None,
        updated_at: TimeFilter | None = None,
    ) -> AsyncIterator[Action]:
        """Yield the actions of run `for_run_name` (oldest first by default).

        Args:
            for_run_name: The run.
            in_phase: Only actions in this phase (or any of a tuple of phases).
            parent_name: Only direct children of this action (e.g. "a0").
            sort_by: `(field, "asc"|"desc")`.
            created_at: Only actions created in this range.
            updated_at: Only actions updated in this range.
        """
        org, project, domain = _client._scope()
        filters = [*phase_filter(in_phase)]
        filters += time_filters("created_at", created_at) + time_filters("updated_at", updated_at)
        run_id = identifier_pb2.RunIdentifier(
            org=org, project=project, domain=domain, name=for_run_name
        )
        # The reference client filters children server-side on "parent_name"; a server that does
        # not know that field (INVALID_ARGUMENT) gets the unfiltered listing, filtered here.
        server_side = bool(parent_name)
        token = ""
        while True:
            page_filters = filters + (
                [eq_filter("parent_name", parent_name or "")] if server_side else []
            )
            req = run_service_pb2.ListActionsRequest(
                request=list_pb2.ListRequest(
                    limit=100,
                    token=token,
                    sort_by=sorting(sort_by, ("created_at", "asc")),
                    filters=page_filters,
                ),
                run_id=run_id,
            )
            try:
                resp = await _client._clients().run_service.ListActions(req)
            except Exception as exc:
                if server_side and not token and rpc_code(exc) == "INVALID_ARGUMENT":
                    server_side = False
                    continue
                raise translate(exc, f"list the actions of run {for_run_name!r}") from exc
            for a in resp.actions:
                if parent_name and not server_side and a.metadata.parent != parent_name:
                    continue
                yield cls(a)
            token = resp.token
            if not token:
                return

    # ------------------------------------------------------------------ properties
    @property
    def start_time(self) -> datetime:
        return _utc(self.pb2.status.start_time)

    def done(self) -> bool:
        """Whether the action reached a terminal phase."""
        return _done(self.pb2.status.phase)

    async def sync(self) -> Action:
        """Refresh from the control plane; returns self."""
        self._absorb(await ActionDetails.get_details.aio(self.pb2.id))
        return self

    def _absorb(self, details: ActionDetails) -> None:
        self._details = details
        self.pb2.status.CopyFrom(details.pb2.status)
        self.pb2.metadata.CopyFrom(details.pb2.metadata)

    async def details(self) -> ActionDetails:
        """The action's full details (fetched once, refreshed while not terminal)."""
        if self._details is None or not self._details.done():
            self._absorb(await ActionDetails.get_details.aio(self.pb2.id))
        assert self._details is not None
        return self._details

    @syncify
    async def outputs(self) -> ActionOutputs:
        """The action's outputs (see `ActionDetails.outputs`)."""
        return await (await self.details()).outputs.aio()  # type: ignore[no-any-return]

    @syncify
    async def inputs(self) -> ActionInputs:
        """The action's inputs (see `ActionDetails.inputs`)."""
        return await (await self.details()).inputs.aio()  # type: ignore[no-any-return]

    @syncify
    async def get_report(self, attempt: int | None = None) -> str:
        """The HTML report of this action (`@env.task(report=True)`), of its latest attempt
        unless `attempt` is given.

        Raises:
            RuntimeError: If the action has no report for that attempt.
        """
        if attempt is None:
            attempt = (await self.details()).attempts
        return await fetch_report(self.pb2.id, attempt)

    @syncify
    async def abort(self, reason: str = "Manually aborted from the SDK.") -> None:
        """Abort the action (and its children); a vanished action is ignored."""
        try:
            await _client._clients().run_service.AbortAction(
                run_service_pb2.AbortActionRequest(action_id=self.pb2.id, reason=reason)
            )
        except Exception as exc:
            if rpc_code(exc) == "NOT_FOUND":
                return
            raise translate(exc, f"abort {_id_text(self.pb2.id)}") from exc

    @dual_iterator
    async def watch(
        self, cache_data_on_done: bool = False, wait_for: WaitFor = "terminal"
    ) -> AsyncIterator[ActionDetails]:
        """Yield the action's details on each change until `wait_for` holds.

        Works with `for` and `async for`; this object follows the updates.
        """
        last: ActionDetails | None = None
        async for d in watch_action(self.pb2.id):
            last = d
            self._absorb(d)
            yield d
            if wait_for == "running" and (d.is_running or d.done()):
                break
            if wait_for == "logs-ready" and (d.logs_available() or d.done()):
                break
        if cache_data_on_done and last is not None and last.done():
            await last._cache_data()

    async def wait(
        self, quiet: bool = False, wait_for: WaitFor = "terminal", stream: IO[str] | None = None
    ) -> None:
        """Wait until the action is terminal (or running / has logs), showing progress."""
        await _wait(self, f"Action '{self.name}' of run '{self.run_name}'", quiet, wait_for, stream)

    @syncify
    async def get_logs(
        self, attempt: int | None = None, filter_system: bool = False, show_ts: bool = False
    ) -> AsyncIterator[str]:
        """Yield the log lines of `attempt` (the latest by default)."""
        async for line in _tail(self, attempt, filter_system, show_ts):
            yield line

    @syncify
    async def show_logs(
        self,
        attempt: int | None = None,
        max_lines: int = 30,
        show_ts: bool = False,
        raw: bool = False,
        filter_system: bool = False,
        stream: IO[str] | None = None,
    ) -> None:
        """Print the log lines of `attempt` (the last `max_lines` unless `raw`)."""
        await _show(self, attempt, max_lines, show_ts, raw, filter_system, stream)

    def __repr__(self) -> str:
        phase = _phase(self.pb2.status.phase)
        return (
            f"Action(run={self.run_name!r}, name={self.name!r}, task={self.task_name!r}, "
            f"phase={phase.value if phase else None!r})"
        )


async def _wait(
    action: Action, label: str, quiet: bool, wait_for: WaitFor, stream: IO[str] | None
) -> None:
    if wait_for not in ("terminal", "running", "logs-ready"):
        raise ValueError(
            f"wait_for must be 'terminal', 'running' or 'logs-ready', got {wait_for!r}"
        )
    with WaitView(label, quiet=quiet, stream=stream) as view:
        last: ActionDetails | None = None
        async for d in action.watch.aio(cache_data_on_done=False, wait_for=wait_for):
            last = d
            view.update(d)
        if last is not None and last.done():
            view.finish(last)


async def _tail(
    action: Action, attempt: int | None, filter_system: bool, show_ts: bool
) -> AsyncIterator[str]:
    from flyteidl2.dataproxy import dataproxy_service_pb2

    details = await action.details()
    if not details.done() and not details.logs_available():
        async for d in action.watch.aio(wait_for="logs-ready"):
            details = d
    attempt = attempt or max(details.attempts, 1)
    req = dataproxy_service_pb2.TailLogsRequest(action_id=action.pb2.id, attempt=attempt)
    try:
        async for resp in _client._clients().dataproxy_service.TailLogs(req):
            for batch in resp.logs:
                for line in batch.lines:
                    if filter_system and line.originator == 2:  # SYSTEM
                        continue
                    text = line.message.rstrip("\n")
                    if show_ts and line.HasField("timestamp"):
                        text = f"{_utc(line.timestamp).isoformat()} {text}"
                    yield text
    except Exception as exc:
        raise translate(exc, f"get the logs of {_id_text(action.pb2.id)}") from exc


async def _show(
    action: Action,
    attempt: int | None,
    max_lines: int,
    show_ts: bool,
    raw: bool,
    filter_system: bool,
    stream: IO[str] | None,
) -> None:
    import collections
    import sys

    out = stream if stream is not None else sys.stdout
    if raw:
        async for line in _tail(action, attempt, filter_system, show_ts):
            out.write(line + "\n")
        out.flush()
        return
    tail: collections.deque[str] = collections.deque(maxlen=max(max_lines, 1))
    async for line in _tail(action, attempt, filter_system, show_ts):
        tail.append(line)
    out.write("".join(f"{line}\n" for line in tail))
    out.flush()
