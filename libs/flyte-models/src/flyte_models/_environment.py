"""Environments: the shared configuration (image, resources, secrets, ...) of a group of tasks.

A `TaskEnvironment` sets the defaults of every task defined with its `@env.task` decorator, names
the tasks (`<environment>.<function>`), and lists the environments to deploy with it
(`depends_on`). Every environment created is recorded, in creation order, for deployment
(`list_loaded_environments`).
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Optional, TypeVar, Union, cast, overload

from flyte_models._cache import Cache, CacheRequest, cache_from_request
from flyte_models._context import MAX_INLINE_IO_BYTES
from flyte_models._docs import Documentation, Link
from flyte_models._image import Image
from flyte_models._interface import NativeInterface
from flyte_models._pod import PodTemplate
from flyte_models._resources import Resources
from flyte_models._retry import RetryStrategy
from flyte_models._reuse import ReusePolicy
from flyte_models._secret import Secret, SecretRequest
from flyte_models._task import AsyncFunctionTaskTemplate, TaskPluginRegistry, TaskTemplate
from flyte_models._timeout import TimeoutType
from flyte_models._trigger import Trigger

__all__ = [
    "Environment",
    "TaskEnvironment",
    "find_task_plugin",
    "list_loaded_environments",
    "load_task_plugin_entry_point",
    "set_sandbox_provider",
]

ENVIRONMENT_NAME_PATTERN = r"^[a-z0-9]+([_-][a-z0-9]+)*$"
_NAME_RE = re.compile(ENVIRONMENT_NAME_PATTERN)
_DESCRIPTION_LIMIT = 255

_LOADED: list[Environment] = []

FuncT = TypeVar("FuncT", bound=Callable[..., Any])


def list_loaded_environments() -> list[Environment]:
    """Return every environment created in this process, in creation order."""
    return list(_LOADED)


# ---------------------------------------------------------------------------------------------
# Extension hooks: task plugins found through entry points, and the sandbox namespace
# ---------------------------------------------------------------------------------------------

TASK_PLUGINS_GROUP = "flyte.plugins.tasks"
"""Entry points `"<module>.<ConfigQualName>" = "<module>:<TaskClass>"` (see `find_task_plugin`)."""

_TASK_PLUGIN_EPS_SEEN: set[str] = set()


def load_task_plugin_entry_point(ep: Any) -> bool:
    """Load one `flyte.plugins.tasks` entry point and register its plugin (once per entry point).

    The entry point's target is either a plugin task class (registered for the config class the
    entry point is named after) or a module / callable whose import or call registers plugins
    itself. Failures are logged, not raised.

    Returns:
        Whether the entry point was loaded by this call.
    """
    import logging

    key = f"{ep.name}={ep.value}"
    if key in _TASK_PLUGIN_EPS_SEEN:
        return False
    _TASK_PLUGIN_EPS_SEEN.add(key)
    try:
        obj = ep.load()
        if isinstance(obj, type) and issubclass(obj, AsyncFunctionTaskTemplate):
            module_name, _, qualname = ep.name.rpartition(".")
            config_type: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                config_type = getattr(config_type, part)
            TaskPluginRegistry.register(config_type, obj)
        elif callable(obj) and not isinstance(obj, type):
            obj()
        return True
    except Exception as e:  # a broken plugin must not break environments that do not use it
        logging.getLogger("flyte").warning(
            "Could not load the task plugin entry point %r (%s): %s", ep.name, ep.value, e
        )
        return False


def find_task_plugin(
    config_type: type,
) -> type[AsyncFunctionTaskTemplate[Any, Any, Any]] | None:
    """The task class for a plugin config type: registered, or declared by an entry point.

    A config class with no registered plugin is looked up in the `flyte.plugins.tasks`
    entry-point group by its `module.QualName` (then by the names of its base classes), so a
    plugin package can keep the config class light and have its task class imported only when
    an environment uses it.

    Args:
        config_type: The class of a `plugin_config`.

    Returns:
        The plugin task class, or None.
    """
    plugin = TaskPluginRegistry.find(config_type)
    if plugin is not None:
        return plugin
    from importlib.metadata import entry_points

    wanted = {f"{k.__module__}.{k.__qualname__}" for k in getattr(config_type, "__mro__", ())}
    for ep in entry_points(group=TASK_PLUGINS_GROUP):
        if ep.name in wanted:
            load_task_plugin_entry_point(ep)
    return TaskPluginRegistry.find(config_type)


_SANDBOX_PROVIDER: Optional[Callable[[TaskEnvironment], Any]] = None
# The sandbox is implemented by flyte-runtime (a later layer, which ships the `flyte` package
# users import): it installs its provider with `set_sandbox_provider` when imported, and
# `TaskEnvironment.sandbox` imports it by this name on first use, as a worker finds its task
# resolver by name. flyte_models never imports it statically.
_SANDBOX_MODULE = "flyte_runtime._sandbox"


def set_sandbox_provider(
    provider: Optional[Callable[[TaskEnvironment], Any]],
) -> Optional[Callable[[TaskEnvironment], Any]]:
    """Install what `env.sandbox` returns: a callable taking the environment (None uninstalls).

    Returns:
        The previously installed provider.
    """
    global _SANDBOX_PROVIDER
    previous, _SANDBOX_PROVIDER = _SANDBOX_PROVIDER, provider
    return previous


def _truncate_description(text: str) -> str:
    if len(text) <= _DESCRIPTION_LIMIT:
        return text
    return text[: _DESCRIPTION_LIMIT - 8] + "...(tr.)"


_SDK_PACKAGES = (
    "flyte",
    "flyte_models",
    "flyte_storage",
    "flyte_types",
    "flyte_client",
    "flyte_runtime",
    "flyte_imagebuild",
    "flyte_devbox",
    "flyte_cli",
)


def _is_sdk_module(module_name: str) -> bool:
    return module_name.split(".", 1)[0] in _SDK_PACKAGES


def _declaring_file() -> Optional[str]:
    """The first file on the call stack outside the SDK packages (anchor for `include` paths)."""
    frame = inspect.currentframe()
    try:
        while frame is not None:
            filename = frame.f_code.co_filename
            module_name = str(frame.f_globals.get("__name__", ""))
            if (
                not filename.startswith("<")
                and not _is_sdk_module(module_name)
                and os.path.exists(filename)
            ):
                return os.path.abspath(filename)
            frame = frame.f_back
    finally:
        del frame
    return None


@dataclass(init=True, repr=True)
class Environment:
    """The configuration shared by the tasks (or apps) of an environment.

    Use `TaskEnvironment` for tasks; this base class is also the base of app environments.

    Args:
        name: The environment name, snake_case or kebab-case (`^[a-z0-9]+([_-][a-z0-9]+)*$`).
        depends_on: Environments deployed together with this one.
        pod_template: A pod template, or the name of one.
        description: A description; longer than 255 characters is truncated.
        secrets: Secrets to inject.
        env_vars: Environment variables.
        resources: Compute resources.
        interruptible: May run on interruptible (spot) nodes.
        image: An `Image`, an image URI, or `"auto"` (the default image).
        include: Extra files (paths or globs, relative to the defining file) to bundle.
        service_account: Kubernetes service account.
    """

    name: str
    depends_on: list[Environment] = field(default_factory=list)
    pod_template: Optional[Union[str, PodTemplate]] = None
    description: Optional[str] = None
    secrets: Optional[SecretRequest] = None
    env_vars: Optional[dict[str, str]] = None
    resources: Optional[Resources] = None
    interruptible: bool = False
    image: Union[str, Image, Literal["auto"], None] = "auto"
    include: tuple[str, ...] = field(default_factory=tuple)
    service_account: Optional[str] = None
    _declaring_file: Optional[str] = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(
                f"{owner}.name must be snake_case or kebab-case ({ENVIRONMENT_NAME_PATTERN}), "
                f"got {self.name!r}"
            )
        if self.image is not None and not isinstance(self.image, Image | str):
            raise TypeError(
                f"{owner}.image must be an Image, an image URI or 'auto', got {self.image!r}"
            )
        if self.secrets is not None and not isinstance(self.secrets, str | Secret | list | tuple):
            raise TypeError(
                f"{owner}.secrets must be a str, a Secret or a list of them, got {self.secrets!r}"
            )
        if self.service_account is not None and not isinstance(self.service_account, str):
            raise TypeError(f"{owner}.service_account must be a str, got {self.service_account!r}")
        if not isinstance(self.depends_on, list):
            if isinstance(self.depends_on, tuple):
                self.depends_on = list(self.depends_on)
            else:
                raise TypeError(
                    f"{owner}.depends_on must be a list of Environment, got {self.depends_on!r}"
                )
        for dep in self.depends_on:
            if not isinstance(dep, Environment):
                raise TypeError(f"{owner}.depends_on entries must be Environment, got {dep!r}")
        if self.resources is not None and not isinstance(self.resources, Resources):
            raise TypeError(f"{owner}.resources must be a Resources, got {self.resources!r}")
        if self.env_vars is not None and not isinstance(self.env_vars, dict):
            raise TypeError(f"{owner}.env_vars must be a dict of str to str, got {self.env_vars!r}")
        if self.pod_template is not None and not isinstance(self.pod_template, str | PodTemplate):
            raise TypeError(
                f"{owner}.pod_template must be a str or a PodTemplate, got {self.pod_template!r}"
            )
        if not isinstance(self.interruptible, bool):
            raise TypeError(f"{owner}.interruptible must be a bool, got {self.interruptible!r}")
        if self.description is not None:
            if not isinstance(self.description, str):
                raise TypeError(f"{owner}.description must be a str, got {self.description!r}")
            self.description = _truncate_description(self.description)
        if isinstance(self.include, str):
            raise TypeError(
                f"{owner}.include must be a sequence of paths, not a single str, got {self.include!r}"
            )
        try:
            self.include = tuple(self.include or ())
        except TypeError:
            raise TypeError(
                f"{owner}.include must be a sequence of str paths, got {self.include!r}"
            ) from None
        for entry in self.include:
            if not isinstance(entry, str):
                raise TypeError(f"{owner}.include entries must be str, got {entry!r}")
        self._declaring_file = _declaring_file()
        _LOADED.append(self)

    @property
    def declaring_file(self) -> Optional[str]:
        """The file the environment was created in (anchors relative `include` paths)."""
        return self._declaring_file

    def add_dependency(self, *env: Environment) -> None:
        """Deploy further environments together with this one (duplicates are ignored).

        Args:
            *env: The environments.

        Raises:
            TypeError: For a value that is not an `Environment`.
            ValueError: For the environment itself (by name).
        """
        for e in env:
            if not isinstance(e, Environment):
                raise TypeError(f"add_dependency takes Environment instances, got {e!r}")
            if e.name == self.name:
                raise ValueError(f"add_dependency: environment {e.name!r} cannot depend on itself")
        for e in env:
            if not any(d is e for d in self.depends_on):
                self.depends_on.append(e)

    def clone_with(
        self,
        name: str,
        image: Optional[Union[str, Image, Literal["auto"]]] = None,
        resources: Optional[Resources] = None,
        env_vars: Optional[dict[str, str]] = None,
        secrets: Optional[SecretRequest] = None,
        depends_on: Optional[list[Environment]] = None,
        description: Optional[str] = None,
        **kwargs: Any,
    ) -> Environment:
        """Return a copy with a new name and some settings changed (subclasses implement it).

        Args:
            name: The new name.
            image: New image.
            resources: New resources.
            env_vars: New environment variables.
            secrets: New secrets.
            depends_on: New dependencies.
            description: New description.
            **kwargs: Subclass-specific settings.

        Returns:
            The new environment.
        """
        raise NotImplementedError(f"{type(self).__name__}.clone_with is not implemented")

    def _get_kwargs(self) -> dict[str, Any]:
        """The settings a clone inherits (`depends_on` copied, so clones do not share it)."""
        kwargs: dict[str, Any] = {"depends_on": list(self.depends_on), "image": self.image}
        for key in (
            "resources",
            "secrets",
            "service_account",
            "env_vars",
            "pod_template",
            "description",
        ):
            value = getattr(self, key)
            if value is not None:
                kwargs[key] = value
        if self.include:
            kwargs["include"] = self.include
        return kwargs


@dataclass(init=True, repr=True)
class TaskEnvironment(Environment):
    """An environment for tasks: decorate functions with `@env.task` to make them tasks.

    Args:
        name: The environment name (snake_case or kebab-case); task names are
            `<name>.<function>`.
        depends_on: Environments deployed together with this one.
        pod_template: A pod template, or the name of one.
        description: A description (truncated beyond 255 characters).
        secrets: Secrets to inject.
        env_vars: Environment variables.
        resources: Compute resources.
        interruptible: May run on interruptible (spot) nodes.
        image: An `Image`, an image URI, or `"auto"`.
        include: Extra files to bundle.
        service_account: Kubernetes service account.
        cache: The default cache of the tasks (`"disable"` unless set).
        reusable: Reusable-container policy of the tasks.
        plugin_config: Plugin configuration; selects the task class from `TaskPluginRegistry`.
        queue: The queue the tasks run in.

    Example:
        ```python
        env = TaskEnvironment(name="my_env", resources=Resources(cpu=1, memory="1Gi"))

        @env.task
        async def hello(name: str) -> str:
            return f"hello {name}"

        @env.task(retries=3, cache="auto")
        def add(x: int, y: int = 1) -> int:
            return x + y
        ```
    """

    cache: CacheRequest = "disable"
    reusable: Optional[ReusePolicy] = None
    plugin_config: Optional[Any] = None
    queue: Optional[str] = None
    _tasks: dict[str, TaskTemplate[Any, Any, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reusable is not None and not isinstance(self.reusable, ReusePolicy):
            raise TypeError(
                f"TaskEnvironment.reusable must be a ReusePolicy, got {self.reusable!r}"
            )
        if self.reusable is not None and self.plugin_config is not None:
            plugin = find_task_plugin(type(self.plugin_config))
            if plugin is None or not plugin.supports_reuse_policy:
                raise ValueError(
                    "TaskEnvironment.plugin_config cannot be combined with reusable, because its "
                    f"plugin does not support reuse; got plugin_config={self.plugin_config!r}"
                )
        if self.cache is not None and not isinstance(self.cache, str | Cache):
            raise TypeError(f"TaskEnvironment.cache must be a str or a Cache, got {self.cache!r}")
        try:
            cache_from_request(self.cache)
        except ValueError as e:
            raise ValueError(f"TaskEnvironment.cache is invalid: {e}") from None
        if self.queue is not None and not isinstance(self.queue, str):
            raise TypeError(f"TaskEnvironment.queue must be a str, got {self.queue!r}")

    def clone_with(
        self,
        name: str,
        image: Optional[Union[str, Image, Literal["auto"]]] = None,
        resources: Optional[Resources] = None,
        env_vars: Optional[dict[str, str]] = None,
        secrets: Optional[SecretRequest] = None,
        depends_on: Optional[list[Environment]] = None,
        description: Optional[str] = None,
        interruptible: Optional[bool] = None,
        include: Optional[tuple[str, ...]] = None,
        service_account: Optional[str] = None,
        **kwargs: Any,
    ) -> TaskEnvironment:
        """Return a new environment with this one's settings, a new name and some changes.

        The clone has no tasks. Settings not passed are inherited.

        Args:
            name: The new name.
            image: New image.
            resources: New resources.
            env_vars: New environment variables.
            secrets: New secrets.
            depends_on: New dependencies.
            description: New description.
            interruptible: New interruptible flag.
            include: New extra files.
            service_account: New service account.
            **kwargs: `cache`, `reusable` (may be `None` to turn reuse off), `plugin_config` or
                `queue`.

        Returns:
            The new environment.

        Raises:
            TypeError: For any other keyword argument.
        """
        extra: dict[str, Any] = {}
        for key in ("cache", "reusable", "plugin_config", "queue"):
            if key in kwargs:
                extra[key] = kwargs.pop(key)
        if kwargs:
            raise TypeError(f"clone_with got unexpected keyword arguments {sorted(kwargs)}")
        if "cache" in extra and extra["cache"] is None:
            del extra["cache"]
        values = self._get_kwargs()
        values["name"] = name
        for key, value in (
            ("image", image),
            ("resources", resources),
            ("env_vars", env_vars),
            ("secrets", secrets),
            ("service_account", service_account),
            ("depends_on", depends_on),
            ("description", description),
            ("interruptible", interruptible),
        ):
            if value is not None:
                values[key] = value
        if include is not None:
            values["include"] = tuple(include)
        values.update(extra)
        return replace(self, **values)

    @overload
    def task(
        self,
        _func: None = None,
        *,
        short_name: Optional[str] = None,
        cache: Optional[CacheRequest] = None,
        retries: Union[int, RetryStrategy] = 0,
        timeout: TimeoutType = 0,
        docs: Optional[Documentation] = None,
        pod_template: Optional[Union[str, PodTemplate]] = None,
        report: bool = False,
        interruptible: Optional[bool] = None,
        max_inline_io_bytes: int = MAX_INLINE_IO_BYTES,
        queue: Optional[str] = None,
        service_account: Optional[str] = None,
        triggers: Union[tuple[Trigger, ...], Trigger] = (),
        links: Union[tuple[Link, ...], Link] = (),
        task_resolver: Optional[Any] = None,
        entrypoint: bool = False,
        produces_artifacts: bool = False,
    ) -> Callable[[FuncT], AsyncFunctionTaskTemplate[Any, Any, FuncT]]:
        ...

    @overload
    def task(self, _func: FuncT) -> AsyncFunctionTaskTemplate[Any, Any, FuncT]:
        ...

    def task(
        self,
        _func: Optional[FuncT] = None,
        *,
        short_name: Optional[str] = None,
        cache: Optional[CacheRequest] = None,
        retries: Union[int, RetryStrategy] = 0,
        timeout: TimeoutType = 0,
        docs: Optional[Documentation] = None,
        pod_template: Optional[Union[str, PodTemplate]] = None,
        report: bool = False,
        interruptible: Optional[bool] = None,
        max_inline_io_bytes: int = MAX_INLINE_IO_BYTES,
        queue: Optional[str] = None,
        service_account: Optional[str] = None,
        triggers: Union[tuple[Trigger, ...], Trigger] = (),
        links: Union[tuple[Link, ...], Link] = (),
        task_resolver: Optional[Any] = None,
        entrypoint: bool = False,
        produces_artifacts: bool = False,
    ) -> Union[
        Callable[[FuncT], AsyncFunctionTaskTemplate[Any, Any, FuncT]],
        AsyncFunctionTaskTemplate[Any, Any, FuncT],
    ]:
        """Turn a function (sync or async) into a task of this environment.

        Usable bare (`@env.task`) or with options (`@env.task(retries=2)`).

        Args:
            _func: The function, when used bare.
            short_name: Display name (default: the function name).
            cache: Cache configuration (default: the environment's).
            retries: User retries: a count or a `RetryStrategy`.
            timeout: Time bounds: a `Timeout`, int seconds or a `timedelta` (0 = none).
            docs: Documentation.
            pod_template: Pod template (not allowed in a reusable environment).
            report: Produce an HTML report.
            interruptible: Interruptible flag (default: the environment's).
            max_inline_io_bytes: Cap on inline input/output size.
            queue: Queue (default: the environment's).
            service_account: Service account (default: the environment's).
            triggers: A trigger or a tuple of triggers.
            links: A link or a tuple of links.
            task_resolver: A custom task resolver.
            entrypoint: UI hint that this task is an entry point.
            produces_artifacts: Whether outputs carry artifact metadata.

        Returns:
            The task, or a decorator producing it.

        Raises:
            ValueError: For settings a reusable environment forbids, or a `plugin_config` with no
                registered plugin.
        """
        if self.reusable is not None:
            if pod_template is not None:
                raise ValueError(
                    f"pod_template cannot be set on a task of reusable environment {self.name!r}, "
                    f"got pod_template={pod_template!r}"
                )
            if service_account is not None and service_account != self.service_account:
                raise ValueError(
                    f"service_account cannot be changed on a task of reusable environment "
                    f"{self.name!r}, got service_account={service_account!r}"
                )

        def decorator(func: FuncT) -> AsyncFunctionTaskTemplate[Any, Any, FuncT]:
            if not callable(func):
                raise TypeError(f"@env.task decorates functions, got {func!r}")
            func_name = getattr(func, "__name__", None)
            if not func_name:
                raise TypeError(f"@env.task needs a function with a __name__, got {func!r}")
            if (
                self.reusable is not None
                and self.reusable.concurrency > 1
                and not inspect.iscoroutinefunction(func)
            ):
                raise ValueError(
                    f"function {func_name!r} is sync, but reusable environment {self.name!r} has "
                    f"concurrency={self.reusable.concurrency}; use an async function or "
                    "concurrency=1"
                )
            task_class: type[AsyncFunctionTaskTemplate[Any, Any, Any]] = AsyncFunctionTaskTemplate
            if self.plugin_config is not None:
                plugin = find_task_plugin(type(self.plugin_config))
                if plugin is None:
                    raise ValueError(
                        f"plugin_config of type {type(self.plugin_config).__name__} has no "
                        "registered task plugin; import the plugin package, or register one with "
                        "TaskPluginRegistry.register(config_type, plugin)"
                    )
                task_class = plugin
            task_name = f"{self.name}.{func_name}"
            template = task_class(
                func=func,
                name=task_name,
                image=self.image,
                resources=self.resources,
                cache=cache or self.cache,
                retries=retries,
                timeout=timeout,
                reusable=self.reusable,
                docs=docs,
                env_vars=self.env_vars,
                secrets=self.secrets,
                service_account=service_account or self.service_account,
                pod_template=pod_template or self.pod_template,
                parent_env=weakref.ref(self),
                parent_env_name=self.name,
                interface=NativeInterface.from_callable(func),
                report=report,
                short_name=short_name or func_name,
                plugin_config=self.plugin_config,
                max_inline_io_bytes=max_inline_io_bytes,
                queue=queue or self.queue,
                interruptible=self.interruptible if interruptible is None else interruptible,
                entrypoint=entrypoint,
                produces_artifacts=produces_artifacts,
                triggers=(triggers,) if isinstance(triggers, Trigger) else tuple(triggers),
                links=tuple(links) if isinstance(links, list | tuple) else (links,),
                task_resolver=task_resolver,
            )
            self._tasks[task_name] = template
            return cast("AsyncFunctionTaskTemplate[Any, Any, FuncT]", template)

        if _func is None:
            return decorator
        return decorator(_func)

    @property
    def tasks(self) -> dict[str, TaskTemplate[Any, Any, Any]]:
        """The tasks of this environment, by fully qualified name."""
        return self._tasks

    @property
    def sandbox(self) -> Any:
        """Sandboxed orchestrators of this environment: `@env.sandbox.orchestrator`.

        Needs the `sandbox` extra of flyte-runtime (`pip install 'flyte-runtime[sandbox]'`) to
        run them; see `flyte.sandbox`.
        """
        if _SANDBOX_PROVIDER is None:
            try:
                importlib.import_module(_SANDBOX_MODULE)
            except ImportError as e:
                raise ImportError(
                    f"env.sandbox needs flyte-runtime (it implements the sandbox): {e}"
                ) from e
        if _SANDBOX_PROVIDER is None:  # pragma: no cover - the module installs it
            raise RuntimeError(f"{_SANDBOX_MODULE} did not install a sandbox provider")
        return _SANDBOX_PROVIDER(self)

    def add_task(self, task: TaskTemplate[Any, Any, Any]) -> TaskTemplate[Any, Any, Any]:
        """Register an existing task template with this environment (and re-parent it).

        Args:
            task: The task.

        Returns:
            The task.
        """
        if not isinstance(task, TaskTemplate):
            raise TypeError(f"add_task takes a TaskTemplate, got {task!r}")
        self._tasks[task.name] = task
        task.parent_env = weakref.ref(self)
        task.parent_env_name = self.name
        return task

    @classmethod
    def from_task(
        cls,
        name: str,
        *tasks: TaskTemplate[Any, Any, Any],
        depends_on: Optional[list[Environment]] = None,
    ) -> TaskEnvironment:
        """Create an environment holding tasks that belong to no environment yet.

        Args:
            name: The environment name.
            *tasks: The tasks; they must share one image (or have none).
            depends_on: Dependencies of the new environment.

        Returns:
            The environment (its image is the tasks' image, or `"auto"`).

        Raises:
            ValueError: If a task already belongs to a live environment, or the images differ.
        """
        for t in tasks:
            if t.parent_env is not None and t.parent_env() is not None:
                raise ValueError(
                    f"task {t.name!r} already belongs to environment {t.parent_env_name!r}; "
                    "tasks cannot be assigned to several environments"
                )
        images = {t.image for t in tasks}
        if len(images) > 1:
            raise ValueError(
                f"tasks must share one image to form an environment, got {len(images)} images"
            )
        image: Union[str, Image, None] = images.pop() if images else "auto"
        env = cls(name, image=image, depends_on=list(depends_on or []))
        for t in tasks:
            env.add_task(t)
        return env
