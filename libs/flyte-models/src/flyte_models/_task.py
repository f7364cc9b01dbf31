"""Task templates: the specification of a task, and the hooks through which it is executed.

A `TaskTemplate` describes *what* runs (name, interface, image, resources, cache, retries, ...);
an `AsyncFunctionTaskTemplate` wraps a Python function. Execution lives in the runtime layer, which
plugs in here in three ways:

* **Call handler.** Calling a task (`task(...)` or `await task.aio(...)`) asks the installed
  `TaskCallHandler` (see `set_task_call_handler`) whether a run is active; if so, the handler
  submits the call (as a child action). With no handler installed, or outside a run, the call runs
  the function directly (`forward`).
* **Task resolver.** `container_args` names the resolver the worker uses to load the task; the
  default one is installed with `set_default_task_resolver`.
* **Plugins.** `TaskPluginRegistry.register(ConfigType, PluginTaskClass)` makes
  `TaskEnvironment(plugin_config=ConfigType(...))` build its tasks as `PluginTaskClass`, which can
  override `task_type`, `custom_config`, `container_args`, `pre`, `post`, `execute`, ...
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import timedelta
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    Optional,
    ParamSpec,
    Protocol,
    TypeVar,
    Union,
    cast,
    runtime_checkable,
)

from flyte_models._cache import CacheRequest, cache_from_request
from flyte_models._context import (
    MAX_INLINE_IO_BYTES,
    SerializationContext,
    current_task_context,
    use_task_context,
)
from flyte_models._docs import Documentation, Link
from flyte_models._image import Image
from flyte_models._interface import NativeInterface
from flyte_models._pod import PodTemplate
from flyte_models._resources import Resources
from flyte_models._retry import RetryStrategy
from flyte_models._reuse import ReusePolicy
from flyte_models._secret import SecretRequest
from flyte_models._timeout import Timeout, TimeoutType, timeout_from_request
from flyte_models._trigger import Trigger
from flyte_models.errors import BaseRuntimeError, RuntimeSystemError, RuntimeUserError

if TYPE_CHECKING:
    from flyte_models._environment import TaskEnvironment

__all__ = [
    "AsyncFunctionTaskTemplate",
    "RuntimeTaskTemplate",
    "TaskCallHandler",
    "TaskPluginRegistry",
    "TaskResolver",
    "TaskTemplate",
    "get_default_task_resolver",
    "get_task_call_handler",
    "set_default_task_resolver",
    "set_task_call_handler",
]

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
_TemplateT = TypeVar("_TemplateT", bound="TaskTemplate[Any, Any, Any]")


# ---------------------------------------------------------------------------------------------
# Hooks the runtime installs
# ---------------------------------------------------------------------------------------------


@runtime_checkable
class TaskCallHandler(Protocol):
    """What the runtime installs to take over task calls made inside a run.

    `is_active()` is asked on every call; when it returns `False` the call runs the function
    directly (`TaskTemplate.forward`), as outside any run.
    """

    def is_active(self) -> bool:
        """Return whether calls must be submitted (a run is executing in this context)."""
        ...

    def call(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Handle `task(*args, **kwargs)`: return the value (sync task) or an awaitable (async).

        Args:
            task: The called task.
            args: Positional arguments.
            kwargs: Keyword arguments.

        Returns:
            What the call evaluates to.
        """
        ...

    async def call_aio(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Handle `await task.aio(*args, **kwargs)` and return the task's result.

        Args:
            task: The called task.
            args: Positional arguments.
            kwargs: Keyword arguments.

        Returns:
            The task's result.
        """
        ...


@runtime_checkable
class TaskResolver(Protocol):
    """Finds a task again in the worker: `import_path` names the resolver class to load there,
    `loader_args` are its arguments (e.g. `mod <module> instance <variable>`)."""

    @property
    def import_path(self) -> str:
        """The dotted path of the resolver, importable in the worker."""
        ...

    def loader_args(self, task: TaskTemplate[Any, Any, Any], root_dir: Any) -> list[str]:
        """Return the arguments that let `load_task` find `task` again.

        Args:
            task: The task.
            root_dir: The source root the code bundle is made from.

        Returns:
            The arguments.
        """
        ...

    def load_task(self, loader_args: list[str]) -> TaskTemplate[Any, Any, Any]:
        """Load the task described by `loader_args`.

        Args:
            loader_args: What `loader_args` returned.

        Returns:
            The task.
        """
        ...


_CALL_HANDLER: TaskCallHandler | None = None
_DEFAULT_RESOLVER: TaskResolver | None = None


def set_task_call_handler(handler: TaskCallHandler | None) -> TaskCallHandler | None:
    """Install the handler that takes over task calls inside runs (`None` uninstalls it).

    Args:
        handler: An object with `is_active()`, `call(task, args, kwargs)` and
            `async call_aio(task, args, kwargs)`.

    Returns:
        The previously installed handler.

    Raises:
        TypeError: If `handler` lacks those methods.
    """
    global _CALL_HANDLER
    if handler is not None and not isinstance(handler, TaskCallHandler):
        raise TypeError(
            f"handler must have is_active(), call() and call_aio() methods, got {handler!r}"
        )
    previous, _CALL_HANDLER = _CALL_HANDLER, handler
    return previous


def get_task_call_handler() -> TaskCallHandler | None:
    """Return the installed task call handler, if any."""
    return _CALL_HANDLER


def set_default_task_resolver(resolver: TaskResolver | None) -> TaskResolver | None:
    """Install the resolver used by tasks that do not name one (`None` uninstalls it).

    Args:
        resolver: An object with `import_path`, `loader_args(task, root_dir)` and
            `load_task(loader_args)`.

    Returns:
        The previously installed resolver.

    Raises:
        TypeError: If `resolver` lacks those members.
    """
    global _DEFAULT_RESOLVER
    if resolver is not None and not isinstance(resolver, TaskResolver):
        raise TypeError(
            f"resolver must have import_path, loader_args() and load_task(), got {resolver!r}"
        )
    previous, _DEFAULT_RESOLVER = _DEFAULT_RESOLVER, resolver
    return previous


def get_default_task_resolver() -> TaskResolver | None:
    """Return the installed default task resolver, if any."""
    return _DEFAULT_RESOLVER


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


def _check_instance(owner: str, name: str, value: Any, types: Any, what: str) -> None:
    if value is not None and not isinstance(value, types):
        raise TypeError(f"{owner}.{name} must be {what} or None, got {value!r}")


@dataclass(kw_only=True)
class TaskTemplate(Generic[P, R, F]):
    """The specification of a task.

    Configuration comes in three levels: the `TaskEnvironment`, the `@env.task(...)` decorator,
    and `task.override(...)` at call time. After construction `image` is an `Image`, `cache` a
    `Cache` and `retries` a `RetryStrategy`.

    The template is a mutable dataclass (not frozen): `TaskEnvironment.from_task` re-parents
    existing tasks after construction. Treat it as read-only otherwise and derive variants with
    `override`.

    Args:
        name: Fully qualified task name, `<environment>.<function>`.
        interface: The task's inputs and outputs.
        short_name: Display name (defaults to `name`).
        task_type: The execution plugin type (`python` for plain tasks).
        task_type_version: Version of the plugin's custom config format.
        image: An `Image`, an image URI, or `"auto"` (the default Debian image).
        resources: Compute resources.
        cache: A `Cache` or behavior string (`"auto"`, `"override"`, `"disable"` or alias).
        interruptible: May run on interruptible (spot) nodes.
        retries: User retries: a count or a `RetryStrategy`.
        reusable: Reusable-container policy.
        docs: Documentation.
        env_vars: Environment variables.
        secrets: Secrets to inject.
        service_account: Kubernetes service account.
        timeout: Time bounds.
        pod_template: Pod template or the name of one.
        report: Whether the task produces an HTML report.
        queue: The queue to run in.
        debuggable: Whether the task supports debugging.
        entrypoint: UI hint that this task is an entry point.
        produces_artifacts: Whether outputs carry artifact metadata.
        parent_env: Weak reference to the environment that defined the task.
        parent_env_name: That environment's name.
        max_inline_io_bytes: Cap on inline input/output size.
        triggers: Triggers attached to the task.
        links: UI links of the task.
        _call_as_synchronous: Whether calls return values rather than awaitables.
    """

    supports_reuse_policy: ClassVar[bool] = False
    """Whether this task class can run in reusable containers together with a plugin config."""

    name: str
    interface: NativeInterface
    short_name: str = ""
    task_type: str = "python"
    task_type_version: int = 0
    image: Union[str, Image, Literal["auto"], None] = "auto"
    resources: Optional[Resources] = None
    cache: CacheRequest = "disable"
    interruptible: bool = False
    retries: Union[int, RetryStrategy] = 0
    reusable: Union[ReusePolicy, None] = None
    docs: Optional[Documentation] = None
    env_vars: Optional[dict[str, str]] = None
    secrets: Optional[SecretRequest] = None
    service_account: Optional[str] = None
    timeout: Optional[TimeoutType] = None
    pod_template: Optional[Union[str, PodTemplate]] = None
    report: bool = False
    queue: Optional[str] = None
    debuggable: bool = False
    entrypoint: bool = False
    produces_artifacts: bool = False
    parent_env: Optional[weakref.ReferenceType[TaskEnvironment]] = None
    parent_env_name: Optional[str] = None
    ref: bool = field(default=False, init=False, repr=False, compare=False)
    max_inline_io_bytes: int = MAX_INLINE_IO_BYTES
    triggers: tuple[Trigger, ...] = field(default_factory=tuple)
    links: tuple[Link, ...] = field(default_factory=tuple)
    _call_as_synchronous: bool = False

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"{owner}.name must be a non-empty str, got {self.name!r}")
        if not isinstance(self.interface, NativeInterface):
            raise TypeError(f"{owner}.interface must be a NativeInterface, got {self.interface!r}")
        if self.image == "auto":
            self.image = Image.from_debian_base()
        elif isinstance(self.image, str):
            self.image = Image.from_base(self.image)
        elif self.image is not None and not isinstance(self.image, Image):
            raise TypeError(
                f"{owner}.image must be an Image, an image URI, 'auto' or None, got {self.image!r}"
            )
        self.cache = cache_from_request(self.cache)
        if isinstance(self.retries, RetryStrategy):
            pass
        elif isinstance(self.retries, int) and not isinstance(self.retries, bool):
            self.retries = RetryStrategy(count=self.retries)
        else:
            raise ValueError(
                f"{owner}.retries must be an int (a retry count) or a RetryStrategy, got {self.retries!r}"
            )
        if not self.short_name:
            self.short_name = self.name
        _check_instance(owner, "service_account", self.service_account, str, "a str")
        _check_instance(owner, "resources", self.resources, Resources, "a Resources")
        _check_instance(owner, "reusable", self.reusable, ReusePolicy, "a ReusePolicy")
        _check_instance(owner, "docs", self.docs, Documentation, "a Documentation")
        _check_instance(owner, "env_vars", self.env_vars, dict, "a dict")
        _check_instance(
            owner, "pod_template", self.pod_template, (str, PodTemplate), "a str or PodTemplate"
        )
        _check_instance(owner, "queue", self.queue, str, "a str")
        if self.timeout is not None:
            if isinstance(self.timeout, bool) or not isinstance(
                self.timeout, Timeout | int | timedelta
            ):
                raise ValueError(
                    f"{owner}.timeout must be a Timeout, an int (seconds) or a timedelta, "
                    f"got {self.timeout!r}"
                )
            timeout_from_request(self.timeout)
        if (
            isinstance(self.max_inline_io_bytes, bool)
            or not isinstance(self.max_inline_io_bytes, int)
            or self.max_inline_io_bytes <= 0
        ):
            raise ValueError(
                f"{owner}.max_inline_io_bytes must be a positive int, got {self.max_inline_io_bytes!r}"
            )
        self.triggers = tuple(self.triggers or ())
        for trigger in self.triggers:
            if not isinstance(trigger, Trigger):
                raise TypeError(f"{owner}.triggers entries must be Trigger, got {trigger!r}")
        self.links = tuple(self.links or ())

    # -- pickling keeps no reference to the environment ---------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("parent_env", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.parent_env = None

    def __copy__(self) -> TaskTemplate[P, R, F]:
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        return new

    # -- properties -----------------------------------------------------------------------------

    @property
    def native_interface(self) -> NativeInterface:
        """The task's interface."""
        return self.interface

    @property
    def source_file(self) -> Optional[str]:
        """The file the task is defined in, when known."""
        return None

    @property
    def json_schema(self) -> dict[str, Any]:
        """A JSON schema of the task's inputs (see `NativeInterface.json_schema`)."""
        return self.interface.json_schema

    # -- execution hooks ------------------------------------------------------------------------

    async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run before the task body; the returned dict is merged into `TaskContext.data`."""
        return {}

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task body (plugins override this)."""
        raise NotImplementedError(f"{type(self).__name__}.execute is not implemented")

    async def post(self, return_vals: Any) -> Any:
        """Run after the task body with its result; returns the (possibly changed) result."""
        return return_vals

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task as a plain Python call (what calling it outside a run does)."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    # -- serialisation hooks --------------------------------------------------------------------

    def config(self, sctx: SerializationContext) -> dict[str, str]:
        """Return extra key/value configuration of the task's container (plugins)."""
        return {}

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        """Return the plugin-specific `custom` section of the serialised task."""
        return {}

    def data_loading_config(self, sctx: SerializationContext) -> Any:
        """Return the raw-container data loading configuration, if the task uses one."""
        return None

    def container_args(self, serialize_context: SerializationContext) -> list[str]:
        """Return the container arguments that start the task."""
        return []

    def sql(self, sctx: SerializationContext) -> Optional[str]:
        """Return the SQL statement of a SQL task, if any."""
        return None

    # -- calling --------------------------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Call the task.

        Inside a run (a call handler is installed and active) the call is submitted as a child
        action; otherwise the function runs directly. An async task returns an awaitable either
        way. Exceptions other than Flyte runtime errors are wrapped as `RuntimeUserError` with the
        exception's class name as `code`.
        """
        try:
            handler = _CALL_HANDLER
            if handler is not None and handler.is_active():
                return handler.call(self, args, kwargs)
            return self.forward(*args, **kwargs)
        except BaseRuntimeError:
            raise
        except Exception as e:
            raise RuntimeUserError(type(e).__name__, str(e)) from e

    async def aio(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Call the task and await its result, whether the task is sync or async.

        Use it to call sync tasks from async tasks without blocking the event loop.
        """
        handler = _CALL_HANDLER
        if handler is not None and handler.is_active():
            return await handler.call_aio(self, args, kwargs)
        result = self.forward(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    # -- derivation -----------------------------------------------------------------------------

    def override(
        self: _TemplateT,
        *,
        short_name: Optional[str] = None,
        resources: Optional[Resources] = None,
        cache: Optional[CacheRequest] = None,
        retries: Union[int, RetryStrategy] = 0,
        timeout: Optional[TimeoutType] = None,
        reusable: Union[ReusePolicy, Literal["off"], None] = None,
        env_vars: Optional[dict[str, str]] = None,
        secrets: Optional[SecretRequest] = None,
        service_account: Optional[str] = None,
        max_inline_io_bytes: Optional[int] = None,
        pod_template: Optional[Union[str, PodTemplate]] = None,
        queue: Optional[str] = None,
        interruptible: Optional[bool] = None,
        entrypoint: Optional[bool] = None,
        produces_artifacts: Optional[bool] = None,
        links: tuple[Link, ...] = (),
        plugin_config: Optional[Any] = None,
        **kwargs: Any,
    ) -> _TemplateT:
        """Return a copy with some settings changed (unset arguments keep the current value).

        `name`, `image`, `docs` and `interface` cannot be overridden. While the task is reusable,
        `resources`, `env_vars`, `secrets` and `service_account` can only be changed together with
        `reusable="off"`. A `plugin_config` rebuilds the task as the registered plugin class.

        Args:
            short_name: Display name.
            resources: Compute resources.
            cache: Cache configuration.
            retries: Retries (0 keeps the current value).
            timeout: Time bounds.
            reusable: A `ReusePolicy`, or `"off"` to stop reusing containers.
            env_vars: Environment variables.
            secrets: Secrets.
            service_account: Kubernetes service account.
            max_inline_io_bytes: Inline input/output cap.
            pod_template: Pod template.
            queue: Queue.
            interruptible: Interruptible flag.
            entrypoint: Entry point hint.
            produces_artifacts: Artifact metadata flag.
            links: UI links.
            plugin_config: Plugin configuration (the task class must support it).
            **kwargs: Further fields of the template class.

        Returns:
            The new template.

        Raises:
            ValueError: For a forbidden override or an unregistered plugin config type.
        """
        for forbidden in ("name", "image", "docs", "interface"):
            if forbidden in kwargs:
                raise ValueError(
                    f"{forbidden} cannot be overridden, got {forbidden}={kwargs[forbidden]!r}"
                )
        new_reusable: Any = reusable if reusable is not None else self.reusable
        if new_reusable == "off":
            new_reusable = None
        if new_reusable is not None:
            for label, value in (
                ("resources", resources),
                ("env_vars", env_vars),
                ("secrets", secrets),
                ("service_account", service_account),
            ):
                if value is not None:
                    raise ValueError(
                        f"{label} cannot be overridden while the task is reusable, got "
                        f"{label}={value!r}; pass reusable='off' as well to change it"
                    )
        plugin_class: type[AsyncFunctionTaskTemplate[Any, Any, Any]] | None = None
        if plugin_config is not None:
            plugin_class = TaskPluginRegistry.find(type(plugin_config))
            if plugin_class is None:
                raise ValueError(
                    f"plugin_config of type {type(plugin_config).__name__} has no registered task "
                    "plugin; register one with TaskPluginRegistry.register(config_type, plugin)"
                )
            kwargs["plugin_config"] = plugin_config
        new_task = replace(
            self,
            short_name=short_name or self.short_name,
            resources=resources or self.resources,
            cache=cache or self.cache,
            retries=retries or self.retries,
            timeout=timeout or self.timeout,
            reusable=new_reusable,
            env_vars=env_vars or self.env_vars,
            secrets=secrets or self.secrets,
            service_account=service_account or self.service_account,
            max_inline_io_bytes=max_inline_io_bytes or self.max_inline_io_bytes,
            pod_template=pod_template or self.pod_template,
            queue=queue or self.queue,
            interruptible=self.interruptible if interruptible is None else interruptible,
            entrypoint=self.entrypoint if entrypoint is None else entrypoint,
            produces_artifacts=(
                self.produces_artifacts if produces_artifacts is None else produces_artifacts
            ),
            links=links or self.links,
            **kwargs,
        )
        if plugin_class is not None and not isinstance(new_task, plugin_class):
            return cast(_TemplateT, _rebuild_as(new_task, plugin_class))
        return new_task


def _rebuild_as(task: TaskTemplate[Any, Any, Any], cls: type[TaskTemplate[Any, Any, Any]]) -> Any:
    """Rebuild `task` as an instance of `cls` (a plugin class).

    Every init field is carried over, except that a field the plugin class gives a different
    default keeps the plugin's default when the task still holds its own class's default.
    """
    own_defaults = {f.name: f.default for f in fields(type(task))}
    plugin_defaults = {f.name: f.default for f in fields(cls)}
    plugin_fields = set(plugin_defaults)
    carried: dict[str, Any] = {}
    for f in fields(task):
        if not f.init or f.name not in plugin_fields:
            continue
        value = getattr(task, f.name)
        own = own_defaults.get(f.name, MISSING)
        plugin_default = plugin_defaults.get(f.name, MISSING)
        if plugin_default is not MISSING and plugin_default != own and value == own:
            continue
        carried[f.name] = value
    return cls(**carried)


def _image_cache_arg(image_cache: Any) -> str | None:
    if image_cache is None:
        return None
    if isinstance(image_cache, str):
        return image_cache
    for attr in ("serialized_form", "to_transport"):
        value = getattr(image_cache, attr, None)
        if callable(value):
            value = value()
        if value:
            return str(value)
    return None


@dataclass(kw_only=True)
class RuntimeTaskTemplate(TaskTemplate[P, R, F]):
    """A task run by the Flyte Python runtime entrypoint (`a0`) in its container.

    Args:
        task_resolver: The resolver the worker uses to load the task; the default resolver
            (`set_default_task_resolver`) when `None`.
    """

    task_resolver: Optional[Any] = None

    def container_args(self, serialize_context: SerializationContext) -> list[str]:
        """Return the `a0` arguments (PROTOCOL.md section 3.3); `{{.x}}` are backend placeholders.

        Args:
            serialize_context: The serialisation context (version, code bundle, root dir, ...).

        Returns:
            The container arguments.

        Raises:
            RuntimeSystemError: If a resolver is needed but none is set or installed, or no
                `root_dir` is known for it.
        """
        sctx = serialize_context
        args = [
            "a0",
            "--inputs",
            sctx.input_path,
            "--outputs-path",
            sctx.output_path,
            "--version",
            sctx.version,
            "--raw-data-path",
            SerializationContext.RAW_OUTPUT_DATA_PREFIX,
            "--checkpoint-path",
            SerializationContext.CHECKPOINT_OUTPUT_PREFIX,
            "--prev-checkpoint",
            SerializationContext.PREV_CHECKPOINT_PREFIX,
            "--run-name",
            SerializationContext.RUN_NAME,
            "--name",
            SerializationContext.ACTION_NAME,
            "--run-start-time",
            SerializationContext.RUN_START_TIME,
        ]
        image_cache = _image_cache_arg(sctx.image_cache)
        if image_cache:
            args += ["--image-cache", image_cache]
        bundle = sctx.code_bundle
        if bundle is not None:
            if bundle.tgz:
                args += ["--tgz", bundle.tgz]
            elif bundle.pkl:
                args += ["--pkl", bundle.pkl]
            args += ["--dest", bundle.destination or "."]
        if bundle is None or not bundle.pkl:
            resolver = self.task_resolver or _DEFAULT_RESOLVER
            if resolver is None:
                raise RuntimeSystemError(
                    "SerializationError",
                    f"task {self.name!r} has no task_resolver and no default resolver is installed "
                    "(flyte_models.set_default_task_resolver)",
                )
            if not sctx.root_dir:
                raise RuntimeSystemError(
                    "SerializationError",
                    f"SerializationContext.root_dir is {sctx.root_dir!r}; the task resolver needs "
                    "it when the code bundle is not pickled",
                )
            args += [
                "--resolver",
                resolver.import_path,
                *resolver.loader_args(self, sctx.root_dir),
            ]
        for arg in args:
            if not isinstance(arg, str):
                raise RuntimeSystemError(
                    "SerializationError", f"container args must be strings, got {arg!r} in {args!r}"
                )
        return args


@dataclass(kw_only=True)
class AsyncFunctionTaskTemplate(RuntimeTaskTemplate[P, R, F]):
    """A task that runs a Python function (sync or async); what `@env.task` creates.

    Calling it outside a run calls the function; an async function then returns its coroutine.

    Args:
        func: The function.
        plugin_config: Plugin configuration (set for plugin task classes).
        debuggable: Whether the task supports debugging.
    """

    func: F
    plugin_config: Optional[Any] = None
    debuggable: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.func):
            raise TypeError(f"{type(self).__name__}.func must be callable, got {self.func!r}")
        if not inspect.iscoroutinefunction(self.func):
            self._call_as_synchronous = True

    @property
    def source_file(self) -> Optional[str]:
        """The file the function is defined in, when known."""
        code = getattr(self.func, "__code__", None)
        return code.co_filename if code is not None else None

    def forward(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R] | R:
        """Call the function directly (an async function returns its coroutine)."""
        return cast("Coroutine[Any, Any, R] | R", self.func(*args, **kwargs))

    async def execute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `pre`, the function (a sync function in a worker thread) and `post`.

        The dict returned by `pre` is merged into the current `TaskContext.data` while the
        function runs.

        Returns:
            The function's result.
        """
        ctx_data = await self.pre(*args, **kwargs)
        tctx = current_task_context()
        inner = tctx.replace(data=ctx_data) if tctx is not None and ctx_data else tctx
        with use_task_context(inner):
            if inspect.iscoroutinefunction(self.func):
                value = await self.func(*args, **kwargs)
            else:
                import asyncio  # here: importing flyte (and defining tasks) stays asyncio-free

                value = await asyncio.to_thread(self.func, *args, **kwargs)
            await self.post(value)
        return cast(R, value)


class _TaskPluginRegistry:
    """Maps plugin configuration types to the task classes that implement them."""

    def __init__(self) -> None:
        self._plugins: dict[type, type[AsyncFunctionTaskTemplate[Any, Any, Any]]] = {}

    def register(
        self, config_type: type, plugin: type[AsyncFunctionTaskTemplate[Any, Any, Any]]
    ) -> None:
        """Make environments with a `plugin_config` of `config_type` build tasks as `plugin`.

        Args:
            config_type: The plugin's configuration class.
            plugin: A subclass of `AsyncFunctionTaskTemplate`.

        Raises:
            TypeError: If `config_type` is not a class or `plugin` is not such a subclass.
        """
        if not isinstance(config_type, type):
            raise TypeError(f"config_type must be a class, got {config_type!r}")
        if not (isinstance(plugin, type) and issubclass(plugin, AsyncFunctionTaskTemplate)):
            raise TypeError(
                f"plugin must be a subclass of AsyncFunctionTaskTemplate, got {plugin!r}"
            )
        self._plugins[config_type] = plugin

    def find(self, config_type: type) -> type[AsyncFunctionTaskTemplate[Any, Any, Any]] | None:
        """Return the task class registered for `config_type` (or for its nearest base class).

        Args:
            config_type: A plugin configuration class.

        Returns:
            The task class, or `None`.
        """
        for klass in getattr(config_type, "__mro__", (config_type,)):
            plugin = self._plugins.get(klass)
            if plugin is not None:
                return plugin
        return None

    def unregister(self, config_type: type) -> None:
        """Remove the plugin registered for `config_type`, if any."""
        self._plugins.pop(config_type, None)

    def list_plugins(self) -> list[type]:
        """Return the registered configuration types."""
        return list(self._plugins)

    def __repr__(self) -> str:
        return f"TaskPluginRegistry(plugins={self.list_plugins()})"


TaskPluginRegistry = _TaskPluginRegistry()
"""The process-wide registry of task plugins."""
