"""`Run` and `RunDetails`: a run on the control plane, read through its root action `a0`."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal

from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte_client.remote import _client
from flyte_client.remote._action import (
    Action,
    ActionDetails,
    _failure,
    _phase,
    _wait,
)
from flyte_client.remote._common import (
    TimeFilter,
    dual_iterator,
    eq_filter,
    paged,
    phase_filter,
    project_list,
    time_filters,
)
from flyte_client.remote._data import ActionInputs, ActionOutputs
from flyte_client.remote._errors import rpc_code, translate
from flyte_models import ActionPhase, syncify

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2

__all__ = ["Run", "RunDetails"]


def _run_id(name: str, project: str | None = None, domain: str | None = None) -> Any:
    org, project, domain = _client._scope(project, domain)
    return identifier_pb2.RunIdentifier(org=org, project=project, domain=domain, name=name)


@dataclass
class RunDetails:
    """A run's spec and the full details of its root action."""

    pb2: run_definition_pb2.RunDetails
    _preserve_original_types: bool = False
    action_details: ActionDetails = field(init=False)

    def __post_init__(self) -> None:
        self.action_details = ActionDetails(self.pb2.action)

    @syncify
    @classmethod
    async def get_details(cls, run_id: identifier_pb2.RunIdentifier) -> RunDetails:
        """Fetch the details of the run `run_id`.

        Raises:
            ActionNotFoundError: If there is no such run.
        """
        req = run_service_pb2.GetRunDetailsRequest(run_id=run_id)
        resp = await _client.call(
            lambda c: c.run_service.GetRunDetails(req), f"get run {run_id.name!r}"
        )
        return cls(resp.details)

    @syncify
    @classmethod
    async def get(cls, name: str | None = None) -> RunDetails:
        """Fetch the details of run `name` in the configured project/domain."""
        if not name:
            raise ValueError("RunDetails.get needs the run's name")
        return await cls.get_details.aio(_run_id(name))

    @property
    def name(self) -> str:
        return self.pb2.action.id.run.name

    @property
    def action_id(self) -> identifier_pb2.ActionIdentifier:
        return self.pb2.action.id

    @property
    def task_name(self) -> str | None:
        return self.action_details.task_name

    def done(self) -> bool:
        return self.action_details.done()

    async def inputs(self) -> ActionInputs:
        return await self.action_details.inputs.aio()

    async def outputs(self) -> ActionOutputs:
        return await self.action_details.outputs.aio()

    async def input_literals(self) -> dict[str, literals_pb2.Literal]:
        return await self.action_details.input_literals.aio()  # type: ignore[no-any-return]

    async def output_literals(self) -> dict[str, literals_pb2.Literal]:
        return await self.action_details.output_literals.aio()  # type: ignore[no-any-return]

    async def typed_inputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        return await self.action_details.typed_inputs.aio(types, deserializers)  # type: ignore[no-any-return]

    async def typed_outputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        return await self.action_details.typed_outputs.aio(types, deserializers)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"RunDetails(name={self.name!r}, action={self.action_details!r})"


class _RunMeta(abc.ABCMeta):
    pass


@dataclass
class Run(metaclass=_RunMeta):
    """A run on the control plane. `flyte.run(...)` returns one; `Run.get(name)` fetches one.

    Every method is callable synchronously and awaitable through `.aio`:
    `run.wait()` / `await run.wait.aio()`.
    """

    pb2: run_definition_pb2.Run
    _details: RunDetails | None = field(default=None, repr=False)
    _preserve_original_types: bool = False
    action: Action = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.pb2.HasField("action"):
            raise ValueError("A Run message without its root action cannot be used")
        self.action = Action(self.pb2.action)
        self._interface: Any = None

    @classmethod
    def _from_pb(
        cls,
        pb: run_definition_pb2.Run,
        preserve_original_types: bool = False,
        interface: Any = None,
    ) -> Run:
        """Wrap a `Run` message (e.g. `CreateRunResponse.run`).

        Args:
            pb: The run message.
            preserve_original_types: Kept for the reference SDK's signature.
            interface: The task's `NativeInterface` when the caller has the task (`flyte.run`):
                outputs then decode to the task's own Python types instead of guessed ones.
        """
        run = cls(pb, _preserve_original_types=preserve_original_types)
        run._interface = interface
        return run

    # ------------------------------------------------------------------ fetching
    @syncify
    @classmethod
    async def get(cls, name: str) -> Run:
        """Fetch run `name` of the configured project/domain.

        Raises:
            ActionNotFoundError: If there is no such run.
        """
        details = await RunDetails.get.aio(name=name)
        pb = run_definition_pb2.Run(
            action=run_definition_pb2.Action(
                id=details.pb2.action.id,
                metadata=details.pb2.action.metadata,
                status=details.pb2.action.status,
            )
        )
        run = cls(pb, _details=details)
        run.action._details = details.action_details
        return run

    @syncify
    @classmethod
    async def listall(
        cls,
        in_phase: Any = None,
        task_name: str | None = None,
        task_version: str | None = None,
        created_by_subject: str | None = None,
        sort_by: tuple[str, Literal["asc", "desc"]] | None = None,
        limit: int = 100,
        project: str | None = None,
        domain: str | None = None,
        created_at: TimeFilter | None = None,
        updated_at: TimeFilter | None = None,
        with_labels: dict[str, str] | None = None,
        with_label_keys: list[str] | None = None,
        paused_actions_only: bool = False,
    ) -> AsyncIterator[Run]:
        """Yield the runs of a project/domain, newest first by default, at most `limit`.

        Args:
            in_phase: Only runs in this phase (or any of a tuple of phases).
            task_name: Only runs of this task.
            task_version: Only runs of this task version.
            created_by_subject: Only runs created by this subject.
            sort_by: `(field, "asc"|"desc")`, e.g. `("created_at", "desc")`.
            limit: The maximum number of runs.
            project: The project (the configured one by default).
            domain: The domain (the configured one by default).
            created_at: Only runs created in this range.
            updated_at: Only runs updated in this range.
            with_labels: Only runs carrying all these labels.
            with_label_keys: Only runs carrying all these label keys.
            paused_actions_only: Only runs with a paused action.
        """
        org, project, domain = _client._scope(project, domain)
        filters = [*phase_filter(in_phase)]
        if task_name:
            filters.append(eq_filter("task_name", task_name))
        if task_version:
            filters.append(eq_filter("task_version", task_version))
        if created_by_subject:
            filters.append(eq_filter("created_by", created_by_subject))
        filters += time_filters("created_at", created_at) + time_filters("updated_at", updated_at)
        for k, v in (with_labels or {}).items():
            filters.append(eq_filter(f"labels.{k}", v))
        for k in with_label_keys or ():
            filters.append(list_pb2.Filter(function=list_pb2.Filter.EXISTS, field=f"labels.{k}"))

        async def page(size: int, token: str) -> tuple[Any, str]:
            req = run_service_pb2.ListRunsRequest(
                **project_list(size, token, sort_by, filters, org, project, domain),
                paused_actions_only=paused_actions_only,
            )
            resp = await _client.call(
                lambda c: c.run_service.ListRuns(req), f"list the runs of {project}/{domain}"
            )
            return resp.runs, resp.token

        async for r in paged(limit, page):
            yield cls(r)

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """The run's name."""
        return self.pb2.action.id.run.name

    @property
    def phase(self) -> ActionPhase:
        """The phase of the root action (as last seen; `wait()`/`sync()` refresh it)."""
        return self.action.phase

    @property
    def raw_phase(self) -> int:
        return self.action.raw_phase

    @property
    def url(self) -> str:
        """The run's page in the web console."""
        rid = self.pb2.action.id.run
        return _client.console_url(f"v2/domain/{rid.domain}/project/{rid.project}/runs/{rid.name}")

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.pb2.labels)

    def done(self) -> bool:
        """Whether the run reached a terminal phase (as last seen)."""
        return self.action.done()

    def _follow(self) -> None:
        self.pb2.action.CopyFrom(self.action.pb2)

    @syncify
    async def sync(self) -> Run:
        """Refresh the run's state from the control plane; returns self."""
        await self.action.sync()
        self._follow()
        return self

    # ------------------------------------------------------------------ waiting
    @syncify
    async def wait(
        self,
        quiet: bool = False,
        wait_for: Literal["terminal", "running"] = "terminal",
        stream: IO[str] | None = None,
    ) -> None:
        """Wait until the run is terminal (or running), showing its progress.

        On a terminal a live line is drawn when rich is installed; otherwise (and when the output
        is not a terminal) one line per phase change is printed to stderr. A dropped connection
        (a restarting control plane) is re-subscribed transparently.

        Args:
            quiet: Print nothing.
            wait_for: "terminal" (default) or "running".
            stream: Where to print (stderr by default).
        """
        try:
            await _wait(self.action, f"Run '{self.name}'", quiet, wait_for, stream)
        finally:
            self._follow()

    @dual_iterator
    async def watch(self, cache_data_on_done: bool = False) -> AsyncIterator[ActionDetails]:
        """Yield the root action's details on every change until the run is terminal.

        Works with `async for d in run.watch()` and with `for d in run.watch()`.
        """
        async for d in self.action.watch.aio(cache_data_on_done=cache_data_on_done):
            self._follow()
            if d.done() and cache_data_on_done:
                self._details = None
            yield d

    @syncify
    async def get_report(self, attempt: int | None = None) -> str:
        """The HTML report of the run's root action (`Action.get_report` for another action),
        of its latest attempt unless `attempt` is given.

        Raises:
            RuntimeError: If there is no report for that attempt.
        """
        return await self.action.get_report.aio(attempt=attempt)  # type: ignore[no-any-return]

    @syncify
    async def get_debug_url(self) -> str | None:
        """The URL of the run's VS Code debugger (`flyte.with_runcontext(debug=True)`), once the
        backend reports it ready; None if the run ends first or the backend has no debugger."""
        if getattr(self, "_debug_url", None):
            return self._debug_url  # type: ignore[has-type,no-any-return]
        from flyteidl2.core.execution_pb2 import TaskLog

        async for d in self.action.watch.aio():
            for attempt in d.pb2.attempts:
                for log in attempt.log_info:
                    if log.ready and log.link_type == TaskLog.LinkType.IDE:
                        self._debug_url: str | None = (
                            log.uri if "://" in log.uri else _client.console_url(log.uri)
                        )
                        return self._debug_url
            if d.done():
                return None
        return None

    @syncify
    async def abort(self, reason: str = "Manually aborted from the SDK api.") -> None:
        """Abort the run and all its actions; a vanished run is ignored."""
        try:
            await _client._clients().run_service.AbortRun(
                run_service_pb2.AbortRunRequest(run_id=self.pb2.action.id.run, reason=reason)
            )
        except Exception as exc:
            if rpc_code(exc) == "NOT_FOUND":
                return
            raise translate(exc, f"abort run {self.name!r}") from exc

    # ------------------------------------------------------------------ details and data
    @syncify
    async def details(self) -> RunDetails:
        """The run's details (re-fetched until the run is terminal)."""
        if self._details is None or not self._details.done():
            self._details = await RunDetails.get_details.aio(self.pb2.action.id.run)
            self.action._absorb(self._details.action_details)
            self._follow()
        self._details._preserve_original_types = self._preserve_original_types
        self._details.action_details._preserve_original_types = self._preserve_original_types
        if self._interface is not None:
            self._details.action_details._interface_override = self._interface
        return self._details

    @syncify
    async def inputs(self) -> ActionInputs:
        """The run's inputs, decoded with its task's interface."""
        return await (await self.details.aio()).inputs()  # type: ignore[no-any-return]

    @syncify
    async def outputs(self) -> ActionOutputs:
        """The run's outputs (`outputs()[0]` for a single output).

        Raises:
            RuntimeError: If the run has not finished (call `wait()` first).
            RuntimeUserError: If the run failed.
        """
        return await (await self.details.aio()).outputs()  # type: ignore[no-any-return]

    @syncify
    async def input_literals(self) -> dict[str, literals_pb2.Literal]:
        return await (await self.details.aio()).input_literals()  # type: ignore[no-any-return]

    @syncify
    async def output_literals(self) -> dict[str, literals_pb2.Literal]:
        return await (await self.details.aio()).output_literals()  # type: ignore[no-any-return]

    @syncify
    async def typed_inputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        return await (await self.details.aio()).typed_inputs(types, deserializers)  # type: ignore[no-any-return]

    @syncify
    async def typed_outputs(
        self, types: dict[str, type], deserializers: dict[type, Any] | None = None
    ) -> dict[str, Any]:
        return await (await self.details.aio()).typed_outputs(types, deserializers)  # type: ignore[no-any-return]

    @syncify
    async def raise_for_status(self) -> None:
        """Raise if the run failed, was aborted or timed out; return if it succeeded.

        Raises:
            RuntimeError: If the run has not finished.
            RuntimeUserError / RuntimeSystemError: With the failure's code and message.
            ActionAbortedError: If the run was aborted.
            TaskTimeoutError: If the run timed out.
        """
        details = await self.details.aio()
        ad = details.action_details
        if not ad.done():
            raise RuntimeError(
                f"Run {self.name!r} has not finished ({ad.phase_or_none}); wait() first"
            )
        phase = ad.phase_or_none
        if phase is not None and phase.is_success:
            return
        raise _failure(ad)

    @syncify
    async def first_failure(self) -> ActionDetails | None:
        """The details of the earliest failed action of the run, or None."""
        async for a in Action.listall.aio(
            self.name, in_phase=(ActionPhase.FAILED, ActionPhase.TIMED_OUT)
        ):
            return await a.details()
        return None

    @syncify
    async def get_logs(
        self, attempt: int | None = None, filter_system: bool = False, show_ts: bool = False
    ) -> AsyncIterator[str]:
        """Yield the root action's log lines."""
        async for line in self.action.get_logs.aio(attempt, filter_system, show_ts):
            yield line

    @syncify
    async def show_logs(
        self,
        attempt: int | None = None,
        max_lines: int = 100,
        show_ts: bool = False,
        raw: bool = False,
        filter_system: bool = False,
        stream: IO[str] | None = None,
    ) -> None:
        """Print the root action's last `max_lines` log lines (all of them with `raw`)."""
        await self.action.show_logs.aio(attempt, max_lines, show_ts, raw, filter_system, stream)

    @property
    def logs(self) -> Any:
        """The root action's log lines, as a (lazy) iterator of strings."""
        return self.action.get_logs()

    def __repr__(self) -> str:
        phase = _phase(self.pb2.action.status.phase)
        return (
            f"Run(name={self.name!r}, phase={phase.value if phase else None!r}, url={self.url!r})"
        )
