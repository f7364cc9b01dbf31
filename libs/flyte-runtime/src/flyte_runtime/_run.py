"""Starting runs: `flyte.init`, `flyte.run`, `flyte.with_runcontext(...)` and the local `Run`.

With no control plane configured (no `flyte.init(endpoint=...)`, no config file) runs are local:
the root task executes in this process on the SDK's background event loop, every task it calls
is a child action of the local controller, and `flyte.run` returns a `Run` whose `outputs()` are
already there. Remote mode arrives with the client library.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flyte_models import (
    ActionPhase,
    TaskTemplate,
    current_task_context,
    get_task_call_handler,
    set_task_call_handler,
    syncify,
)
from flyte_models import errors as ferr
from flyte_runtime._cache import LocalCache, default_cache_path
from flyte_runtime._compose import pending_custom_context
from flyte_runtime._controller import LocalController, inputs_digest
from flyte_runtime._state import _RUN, RunOptions, RunState, local_root

__all__ = [
    "ActionOutputs",
    "LocalRun",
    "Runner",
    "current_domain",
    "current_project",
    "init",
    "init_from_config",
    "run",
    "with_runcontext",
]

logger = logging.getLogger("flyte_runtime")

Mode = Literal["local", "remote", "hybrid"]


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------


@dataclass
class _Config:
    project: str | None = None
    domain: str | None = None
    org: str | None = None
    root_dir: Path | None = None
    endpoint: str | None = None
    initialized: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_CONFIG = _Config()


def current_project() -> str | None:
    """The project given to `flyte.init` (or the config file), if any."""
    return _CONFIG.project


def current_domain() -> str | None:
    """The domain given to `flyte.init` (or the config file), if any."""
    return _CONFIG.domain


@syncify
async def init(
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    root_dir: str | Path | None = None,
    log_level: int | str | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    **kwargs: Any,
) -> None:
    """Configure the SDK. Without `endpoint` or `api_key`, runs are local.

    Args:
        org: The organisation.
        project: The default project for runs and deployments.
        domain: The default domain.
        root_dir: The source root used to name modules in code bundles; the cwd by default.
        log_level: The SDK's log level.
        endpoint: A Flyte 2 control plane (`dns:///host:port` or `host:port`).
        api_key: An API key (implies the endpoint it encodes).
        kwargs: The reference SDK's other options (auth, TLS, storage, images); accepted and
            kept for the remote client.
    """
    if endpoint or api_key:
        raise ferr.InitializationError(
            "RemoteNotAvailable",
            "user",
            f"Remote control planes are not supported by this build yet (endpoint={endpoint!r}). "
            "Leave out endpoint/api_key to run locally.",
        )
    if log_level is not None:
        logging.getLogger("flyte").setLevel(log_level)
        logging.getLogger("flyte_runtime").setLevel(log_level)
    _CONFIG.org, _CONFIG.project, _CONFIG.domain = org, project, domain
    _CONFIG.root_dir = Path(root_dir) if root_dir else None
    _CONFIG.endpoint = None
    _CONFIG.extra = dict(kwargs)
    _CONFIG.initialized = True


def _config_search_paths() -> list[Path]:
    paths = [Path("config.yaml"), Path(".flyte/config.yaml")]
    for var in ("UCTL_CONFIG", "FLYTECTL_CONFIG"):
        if os.environ.get(var):
            paths.append(Path(os.environ[var]))
    home = Path.home()
    paths += [home / ".union" / "config.yaml", home / ".flyte" / "config.yaml"]
    return paths


@syncify
async def init_from_config(
    path_or_config: str | Path | None = None,
    root_dir: str | Path | None = None,
    log_level: int | str | None = None,
    **kwargs: Any,
) -> None:
    """Configure the SDK from a config file; with none found, runs are local.

    Args:
        path_or_config: An explicit config file; it must exist.
        root_dir: See `init`.
        log_level: See `init`.
        kwargs: The reference SDK's other options (org, project, domain, storage, images, ...).

    Raises:
        InitializationError: If an explicit path does not exist, or the file names a remote
            endpoint (remote mode arrives with the client library).
    """
    if path_or_config is not None:
        path = Path(path_or_config).expanduser()
        if not path.exists():
            raise ferr.InitializationError(
                "ConfigFileNotFound",
                "user",
                f"Config file {str(path)!r} does not exist; pass an existing file or None to "
                "look in the usual places.",
            )
        found: Path | None = path
    else:
        found = next((p for p in _config_search_paths() if p.is_file()), None)
    if found is not None and _names_endpoint(found):
        raise ferr.InitializationError(
            "RemoteNotAvailable",
            "user",
            f"{found} configures a remote control plane, which this build cannot reach yet; "
            "remove it (or run with an empty HOME) to run locally.",
        )
    await init.aio(
        project=kwargs.pop("project", None),
        domain=kwargs.pop("domain", None),
        org=kwargs.pop("org", None),
        root_dir=root_dir,
        log_level=log_level,
        **kwargs,
    )


def _names_endpoint(path: Path) -> bool:
    try:
        text = path.read_text()
    except OSError:
        return False
    return "endpoint:" in text


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


class ActionOutputs(tuple):  # type: ignore[type-arg]
    """The outputs of an action: a tuple (`outputs()[0]` for a single output) whose elements are
    also reachable by name (`outputs().o0`, `outputs().named_outputs["o0"]`)."""

    _names: tuple[str, ...]

    def __new__(cls, values: tuple[Any, ...], names: tuple[str, ...]) -> ActionOutputs:
        obj = super().__new__(cls, values)
        obj._names = names
        return obj

    @property
    def named_outputs(self) -> dict[str, Any]:
        """The outputs by name: `o0`, `o1`, ... (also for a NamedTuple return)."""
        return dict(zip(self._names, self, strict=False))

    def __getattr__(self, name: str) -> Any:
        names = object.__getattribute__(self, "_names")
        if name in names:
            return self[names.index(name)]
        raise AttributeError(f"ActionOutputs has no output {name!r}; outputs are {list(names)}")

    def __repr__(self) -> str:
        # Same rendering as the reference SDK, which users' logs and tests compare against.
        parts = (
            f'{n}="{v}"' if isinstance(v, str) else f"{n}={v}"
            for n, v in zip(self._names, self, strict=False)
        )
        return f"ActionOutputs({', '.join(parts)})"


@dataclass
class LocalRun:
    """The handle `flyte.run` returns for a local run: the run has already finished."""

    name: str
    url: str
    _outputs: ActionOutputs
    phase: ActionPhase = ActionPhase.SUCCEEDED
    action_name: str = "a0"

    def outputs(self) -> ActionOutputs:
        """The root action's outputs."""
        return self._outputs

    def wait(self, quiet: bool = False, wait_for: str = "terminal") -> None:
        """Return at once: a local run is complete when `flyte.run` returns."""

    def done(self) -> bool:
        """Always True for a local run."""
        return True

    def raise_for_status(self) -> None:
        """Nothing to raise: a failed local run raised from `flyte.run` already."""

    def __repr__(self) -> str:
        return f"LocalRun(name={self.name!r}, url={self.url!r}, phase={self.phase.value!r})"


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------

_ALNUM = string.ascii_lowercase + string.digits


def _new_run_name() -> str:
    return "r" + "".join(secrets.choice(_ALNUM) for _ in range(19))


class _CallHandler:
    """What `flyte_models` task calls are routed to while a run executes in this context."""

    def is_active(self) -> bool:
        return _RUN.get() is not None and current_task_context() is not None

    def call(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        run = _RUN.get()
        assert run is not None
        if not getattr(task, "_call_as_synchronous", False):
            return run.controller.submit(task, args, kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise ferr.SyncTaskCallInAsyncContextError(
                f"Sync task {task.name!r} was called in a blocking way from async code, which "
                f"would block the event loop. Use `await {task.short_name or task.name}.aio(...)`."
            )
        import contextvars

        from flyte_runtime._compose import _in_context

        ctx_copy = contextvars.copy_context()
        future = asyncio.run_coroutine_threadsafe(
            _in_context(ctx_copy, lambda: run.controller.submit(task, args, kwargs)), run.loop
        )
        return future.result()

    async def call_aio(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        run = _RUN.get()
        assert run is not None
        return await run.controller.submit(task, args, kwargs)


# The local engine takes over task calls inside local runs, unless a handler is already installed
# (`a0` installs one that refuses nested calls until the remote controller exists).
if get_task_call_handler() is None:
    set_task_call_handler(_CallHandler())

_CACHE: LocalCache | None = None


def _local_cache() -> LocalCache:
    global _CACHE
    # Follow FLYTE_LOCAL_CACHE_DIR when it changes between runs of one process.
    if _CACHE is None or _CACHE.path != default_cache_path():
        _CACHE = LocalCache()
    return _CACHE


class Runner:
    """Runs tasks with per-run settings; made by `flyte.with_runcontext(...)`."""

    def __init__(self, mode: Mode | None, options: RunOptions) -> None:
        if mode not in (None, "local", "remote", "hybrid"):
            raise ValueError(f"mode must be 'local', 'remote', 'hybrid' or None, got {mode!r}")
        self.mode = mode
        self.options = options

    @syncify
    async def run(self, task: Any, *args: Any, **kwargs: Any) -> LocalRun:
        """Run `task` with these arguments and return the run.

        Raises:
            TypeError: If `task` is not a task, or an argument does not match its type.
            ValueError: If a required input is missing.
            InitializationError: For remote mode without a configured control plane.
            RuntimeUserError: If the task (or a task it called) failed.
        """
        if not isinstance(task, TaskTemplate):
            raise TypeError(
                f"flyte.run expects a task (a function decorated with @env.task), got {task!r}"
            )
        if self.mode in ("remote", "hybrid"):
            raise ferr.InitializationError(
                "ClientNotInitialized",
                "user",
                f"mode={self.mode!r} needs a control plane: call flyte.init(endpoint=...) first.",
            )
        return await self._run_local(task, args, kwargs)

    async def _run_local(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> LocalRun:
        from flyte_types import build_inputs

        interface = task.native_interface
        bound = interface.convert_to_kwargs(*args, **kwargs)
        missing = [n for n in interface.required_inputs() if n not in bound]
        if missing:
            raise ValueError(f"Missing required inputs: {', '.join(missing)}")
        run_name = self.options.name or _new_run_name()
        root = local_root()
        metadata_dir = Path(self.options.run_base_dir or root / "metadata" / run_name)
        raw_data_dir = Path(self.options.raw_data_path or root / "raw_data" / run_name)
        raw_data_dir.mkdir(parents=True, exist_ok=True)
        options = self.options
        pending = pending_custom_context()
        if pending:
            from dataclasses import replace

            options = replace(options, custom_context={**pending, **options.custom_context})
        controller = LocalController(_local_cache())
        controller.limit_concurrency(options.max_action_concurrency)
        state = RunState(
            run_name=run_name,
            options=options,
            metadata_dir=metadata_dir,
            raw_data_dir=raw_data_dir,
            loop=asyncio.get_running_loop(),
            controller=controller,
        )
        try:
            inputs = await build_inputs(
                interface,
                bound,
                context=options.custom_context or None,
                max_bytes=task.max_inline_io_bytes,
            )
        except TypeError as exc:
            raise TypeError(f"Type conversion failed for {task.name}: {exc}") from exc
        serialized = inputs.SerializeToString(deterministic=True)
        token = _RUN.set(state)
        saved_env = _apply_env(options.env_vars)
        try:
            value = await controller.run_action(
                task, "a0", inputs, inputs_digest(serialized), None, state, write_io=True
            )
        finally:
            _RUN.reset(token)
            _restore_env(saved_env)
        # As in the reference SDK, a run's outputs are named o0, o1, ... (also for a NamedTuple
        # return), and a task without outputs has the single output None.
        values = tuple(value) if len(interface.outputs) > 1 else (value,)
        names = tuple(f"o{i}" for i in range(len(values)))
        return LocalRun(name=run_name, url=str(metadata_dir), _outputs=ActionOutputs(values, names))


def _apply_env(env: dict[str, str]) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def with_runcontext(
    mode: Mode | None = None,
    *,
    name: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    raw_data_path: str | None = None,
    run_base_dir: str | None = None,
    overwrite_cache: bool = False,
    disable_run_cache: bool = False,
    env_vars: dict[str, str] | None = None,
    custom_context: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    max_action_concurrency: int | None = None,
    preserve_original_types: bool = False,
    **kwargs: Any,
) -> Runner:
    """Settings for the next run: `flyte.with_runcontext(mode="local", name="x").run(task, ...)`.

    Options of the reference SDK that only matter remotely (copy style, version, queue,
    interruptible, notifications, ...) are accepted and ignored by local runs.
    """
    bad = {k: v for k, v in (custom_context or {}).items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"custom_context values must be strings, got {bad!r}")
    if max_action_concurrency is not None and (
        max_action_concurrency < 0 or max_action_concurrency == 1
    ):
        raise ValueError(
            f"max_action_concurrency must be 0 (no limit) or at least 2, got "
            f"{max_action_concurrency}; 1 would deadlock the run on a cluster, where a parent "
            "action holds a slot while it waits for its children."
        )
    return Runner(
        mode,
        RunOptions(
            name=name,
            project=project or _CONFIG.project,
            domain=domain or _CONFIG.domain,
            raw_data_path=raw_data_path,
            run_base_dir=run_base_dir,
            overwrite_cache=overwrite_cache,
            disable_run_cache=disable_run_cache,
            env_vars=dict(env_vars or {}),
            custom_context=dict(custom_context or {}),
            labels=dict(labels or {}),
            annotations=dict(annotations or {}),
            max_action_concurrency=max_action_concurrency,
            preserve_original_types=preserve_original_types,
        ),
    )


@syncify
async def run(task: Any, *args: Any, **kwargs: Any) -> LocalRun:
    """Run `task(*args, **kwargs)`: locally unless a control plane is configured.

    Equivalent to `flyte.with_runcontext().run(task, *args, **kwargs)`.
    """
    return await with_runcontext().run.aio(task, *args, **kwargs)
