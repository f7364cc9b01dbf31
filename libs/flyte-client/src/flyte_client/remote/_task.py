"""Deployed tasks: `Task.get(...)` returns a `LazyEntity` that fetches the `TaskDetails` (spec and
typed interface, via `TaskService.GetTaskDetails`) on first use. It can be called from inside a
task (a child action of the running task) and run with `flyte.run` against a control plane.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from flyteidl2.task import task_definition_pb2, task_service_pb2

from flyte_client.remote import _client
from flyte_client.remote._common import eq_filter, paged, project_list
from flyte_client.remote._errors import rpc_code, translate
from flyte_models import current_task_context, get_task_call_handler, syncify
from flyte_models import errors as ferr

__all__ = ["AutoVersioning", "LazyEntity", "Task", "TaskDetails"]

AutoVersioning = Literal["latest", "current"]


@dataclass(frozen=True)
class TaskDetails:
    """A deployed task version: its `TaskSpec`, identifier and a native interface for calls."""

    pb2: task_definition_pb2.TaskDetails
    max_inline_io_bytes: int = 10 * 1024 * 1024
    overriden_queue: str | None = None
    overridden: bool = False
    _interface: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def get(
        cls,
        name: str,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        auto_version: AutoVersioning | None = None,
    ) -> LazyEntity:
        """A lazy reference to task `name` (see `Task.get`)."""
        return Task.get(name, project, domain, version, auto_version)

    @classmethod
    async def fetch(
        cls,
        name: str,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        auto_version: AutoVersioning | None = None,
    ) -> TaskDetails:
        """Fetch task `name` now."""
        return await Task.get(name, project, domain, version, auto_version).fetch.aio()  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return self.pb2.task_id.name

    @property
    def version(self) -> str:
        return self.pb2.task_id.version

    @property
    def task_id(self) -> task_definition_pb2.TaskIdentifier:
        """The deployed task's identifier (for `CreateRun.task_id` / child actions)."""
        return self.pb2.task_id

    @property
    def task_spec(self) -> task_definition_pb2.TaskSpec:
        """The deployed `TaskSpec` (with the queue override applied, if any)."""
        return self.pb2.spec

    @property
    def task_type(self) -> str:
        return self.pb2.spec.task_template.type

    @property
    def short_name(self) -> str:
        return self.pb2.spec.short_name or self.name.rsplit(".", 1)[-1]

    @property
    def interface(self) -> Any:
        """The `flyte_models.NativeInterface` guessed from the spec's typed interface."""
        if not self._interface:
            import flyte_types

            spec = self.pb2.spec
            self._interface.append(
                flyte_types.guess_interface(spec.task_template.interface, spec.default_inputs)
            )
        return self._interface[0]

    native_interface = interface

    @property
    def default_input_args(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.pb2.spec.default_inputs)

    @property
    def required_args(self) -> tuple[str, ...]:
        defaults = set(self.default_input_args)
        return tuple(n for n in self.interface.inputs if n not in defaults)

    @property
    def cache(self) -> Any:
        from flyte_models import Cache

        md = self.pb2.spec.task_template.metadata
        behavior = (
            "disable" if not md.discoverable else "override" if md.discovery_version else "auto"
        )
        return Cache(
            behavior=behavior,  # type: ignore[arg-type]
            version_override=md.discovery_version or None,
            serialize=md.cache_serializable,
            ignored_inputs=tuple(md.cache_ignore_input_vars),
        )

    @property
    def secrets(self) -> list[str]:
        return [s.key for s in self.pb2.spec.task_template.security_context.secrets]

    @property
    def resources(self) -> tuple[Any, ...]:
        tpl = self.pb2.spec.task_template
        if not tpl.HasField("container"):
            return ()
        return (tpl.container.resources.requests, tpl.container.resources.limits)

    @property
    def queue(self) -> str | None:
        return self.overriden_queue

    def override(
        self,
        *,
        short_name: str | None = None,
        retries: int | None = None,
        env_vars: dict[str, str] | None = None,
        max_inline_io_bytes: int | None = None,
        queue: str | None = None,
        **kwargs: Any,
    ) -> TaskDetails:
        """A copy of this task with call-time overrides.

        Raises:
            NotImplementedError: For overrides this client cannot apply to a deployed spec yet
                (resources, secrets, cache, timeout, service account); the message names them.
        """
        unsupported = sorted(k for k, v in kwargs.items() if v is not None)
        if unsupported:
            raise NotImplementedError(
                f"Overriding {', '.join(unsupported)} of the deployed task {self.name!r} is not "
                "supported yet; redeploy the task with the new settings instead."
            )
        pb = copy.deepcopy(self.pb2)
        if short_name:
            pb.spec.short_name = short_name
        if retries is not None:
            pb.spec.task_template.metadata.retries.retries = retries
        if env_vars:
            from flyteidl2.core import literals_pb2

            env = pb.spec.task_template.container.env
            keep = [kv for kv in env if kv.key not in env_vars]
            del env[:]
            env.extend(keep)
            env.extend(literals_pb2.KeyValuePair(key=k, value=v) for k, v in env_vars.items())
        return TaskDetails(
            pb,
            max_inline_io_bytes=max_inline_io_bytes or self.max_inline_io_bytes,
            overriden_queue=queue or self.overriden_queue,
            overridden=True,
        )

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the deployed task from inside a running task (a child action).

        Raises:
            RemoteTaskUsageError: Outside a task, or with positional arguments.
            ValueError: If a required input is missing.
        """
        if args:
            raise ferr.RemoteTaskUsageError(
                f"Remote task {self.name!r} takes keyword arguments only, e.g. "
                f"{self.short_name}({', '.join(f'{n}=...' for n in self.interface.inputs)})."
            )
        missing = [n for n in self.required_args if n not in kwargs]
        handler = get_task_call_handler()
        in_task = current_task_context() is not None
        if in_task and handler is not None and handler.is_active():
            if missing:
                raise ValueError(
                    f"Missing required inputs of task {self.name!r}: {', '.join(missing)}"
                )
            submit = getattr(handler, "submit_task_ref", None)
            if submit is not None:
                return await submit(self, kwargs)
            raise ferr.RemoteTaskUsageError(
                f"Remote task {self.name!r} cannot be called here: this run's controller does not "
                "call deployed tasks (local runs cannot); run the caller on a control plane."
            )
        raise ferr.RemoteTaskUsageError(
            f"Remote task {self.name!r} can only be called inside a task running on a control "
            "plane, or run with flyte.run(...) after flyte.init(endpoint=...)."
        )

    def __repr__(self) -> str:
        return f"TaskDetails(name={self.name!r}, version={self.version!r}, type={self.task_type!r})"


class LazyEntity:
    """A deployed task fetched on first use (call it, `fetch()` it or `flyte.run` it)."""

    def __init__(self, name: str, getter: Callable[[], Coroutine[Any, Any, TaskDetails]]) -> None:
        self._name = name
        self._getter = getter
        self._task: TaskDetails | None = None
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def name(self) -> str:
        return self._name

    @syncify
    async def fetch(self) -> TaskDetails:
        """Fetch (once) and return the task's details.

        Raises:
            RemoteTaskNotFoundError: If the task (version) does not exist.
        """
        if self._task is None:
            lock = self._locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
            async with lock:
                if self._task is None:
                    self._task = await self._getter()
        return self._task

    @syncify
    async def override(self, **kwargs: Any) -> LazyEntity:
        """A lazy entity for this task with overrides (see `TaskDetails.override`)."""
        details = (await self.fetch.aio()).override(**kwargs)
        entity = LazyEntity(self._name, self._getter)
        entity._task = details
        return entity

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the task from inside a task (fetching it first)."""
        details = await self.fetch.aio()
        return await details(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyEntity(task={self._name!r})"


@dataclass
class Task:
    """A deployed task (its latest version when listed)."""

    pb2: task_definition_pb2.Task

    @classmethod
    def get(
        cls,
        name: str,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        auto_version: AutoVersioning | None = None,
    ) -> LazyEntity:
        """A lazy reference to the deployed task `name`; nothing is fetched until it is used.

        Args:
            name: The task's full name (`<env>.<function>`).
            project: Its project (the configured one by default).
            domain: Its domain (the configured one by default).
            version: An exact version; or
            auto_version: "latest" (the most recently deployed) or "current" (the version of the
                task calling it; only inside a task).

        Raises:
            ValueError: If neither `version` nor a valid `auto_version` is given.
        """
        if version is None and auto_version is None:
            raise ValueError(
                f"Task.get({name!r}) needs version='...' or auto_version='latest' (or 'current' "
                "inside a task)."
            )
        if version is None and auto_version not in ("latest", "current"):
            raise ValueError(f"auto_version must be 'latest' or 'current', got {auto_version!r}")
        return LazyEntity(
            name, functools.partial(_fetch_details, name, project, domain, version, auto_version)
        )

    @syncify
    @classmethod
    async def listall(
        cls,
        by_task_name: str | None = None,
        by_task_env: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        sort_by: tuple[str, Literal["asc", "desc"]] | None = None,
        limit: int = 100,
        entrypoint: bool | None = None,
    ) -> AsyncIterator[Task]:
        """Yield deployed tasks (latest version of each), newest first by default.

        Args:
            by_task_name: Only this task.
            by_task_env: Only tasks of this environment.
            project: The project (the configured one by default).
            domain: The domain (the configured one by default).
            sort_by: `(field, "asc"|"desc")`.
            limit: The maximum number of tasks.
            entrypoint: Only entrypoint (True) or non-entrypoint (False) tasks.
        """
        org, project, domain = _client._scope(project, domain)
        filters = []
        if by_task_name:
            filters.append(eq_filter("name", by_task_name))
        if by_task_env:
            filters.append(eq_filter("environment_name", by_task_env))
        known = []
        if entrypoint is not None:
            known.append(task_service_pb2.ListTasksRequest.KnownFilter(is_entrypoint=entrypoint))

        async def page(size: int, token: str) -> tuple[Any, str]:
            req = task_service_pb2.ListTasksRequest(
                **project_list(size, token, sort_by, filters, org, project, domain),
                known_filters=known,
            )
            resp = await _client.call(
                lambda c: c.task_service.ListTasks(req), f"list the tasks of {project}/{domain}"
            )
            return resp.tasks, resp.token

        async for t in paged(limit, page):
            yield cls(t)

    @property
    def name(self) -> str:
        return self.pb2.task_id.name

    @property
    def version(self) -> str:
        return self.pb2.task_id.version

    @property
    def entrypoint(self) -> bool:
        """Whether the task is marked as an entrypoint (when the control plane reports it)."""
        return bool(getattr(self.pb2.metadata, "is_entrypoint", False))

    @property
    def url(self) -> str:
        tid = self.pb2.task_id
        return _client.console_url(
            f"v2/domain/{tid.domain}/project/{tid.project}/tasks/{tid.name}/{tid.version}"
        )

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, version={self.version!r})"


async def _fetch_details(
    name: str,
    project: str | None,
    domain: str | None,
    version: str | None,
    auto_version: AutoVersioning | None,
) -> TaskDetails:
    org, project, domain = _client._scope(project, domain)
    if version is None:
        if auto_version == "latest":
            latest = [
                t
                async for t in Task.listall.aio(
                    by_task_name=name, project=project, domain=domain, limit=1
                )
            ]
            if not latest:
                raise ferr.RemoteTaskNotFoundError(
                    f"Task {name!r} is not deployed in {project}/{domain}; deploy it first "
                    "(flyte deploy ...)."
                )
            version = latest[0].version
        else:
            ctx = current_task_context()
            if ctx is None:
                raise ValueError("auto_version='current' can only be used inside a task")
            version = getattr(ctx, "version", None)
            if not version:
                raise ValueError(
                    "The current task has no version to match (auto_version='current')"
                )
    tid = task_definition_pb2.TaskIdentifier(
        org=org, project=project, domain=domain, name=name, version=version
    )
    try:
        resp = await _client._clients().task_service.GetTaskDetails(
            task_service_pb2.GetTaskDetailsRequest(task_id=tid)
        )
    except Exception as exc:
        if rpc_code(exc) == "NOT_FOUND":
            raise ferr.RemoteTaskNotFoundError(
                f"Task {name!r} version {version!r} is not deployed in {project}/{domain}."
            ) from exc
        raise translate(exc, f"get task {name!r} version {version!r}") from exc
    return TaskDetails(resp.details)
