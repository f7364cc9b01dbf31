"""Starting runs: `flyte.init`, `flyte.run`, `flyte.with_runcontext(...)` and the local `Run`.

With no control plane configured (no `flyte.init(endpoint=...)`, no config file) runs are local:
the root task executes in this process on the SDK's background event loop, every task it calls
is a child action of the local controller, and `flyte.run` returns a `Run` whose `outputs()` are
already there. With a control plane configured, runs are submitted to it
(`flyte_runtime._remote_run`).
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

from flyte_client.remote._data import ActionOutputs as _ActionOutputs
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
    "rerun",
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
    # The control plane (flyte_runtime._remote_run.RemoteSettings) when one is configured.
    remote: Any = None


_CONFIG = _Config()


def current_project() -> str | None:
    """The project given to `flyte.init` (or the config file), if any."""
    return _CONFIG.project


def current_domain() -> str | None:
    """The domain given to `flyte.init` (or the config file), if any."""
    return _CONFIG.domain


def _set_log_level(log_level: int | str | None) -> None:
    if log_level is not None:
        logging.getLogger("flyte").setLevel(log_level)
        logging.getLogger("flyte_runtime").setLevel(log_level)


@syncify
async def init(
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    root_dir: str | Path | None = None,
    log_level: int | str | None = None,
    log_format: str | None = None,
    reset_root_logger: bool = False,
    user_log_level: int | None = None,
    endpoint: str | None = None,
    headless: bool = False,
    insecure: bool = False,
    insecure_skip_verify: bool = False,
    ca_cert_file_path: str | None = None,
    auth_type: str = "Pkce",
    command: list[str] | None = None,
    proxy_command: list[str] | None = None,
    api_key: str | None = None,
    client_id: str | None = None,
    client_credentials_secret: str | None = None,
    auth_client_config: Any = None,
    rpc_retries: int = 3,
    http_proxy_url: str | None = None,
    disable_keyring: bool = False,
    storage: Any = None,
    batch_size: int = 1000,
    image_builder: str | None = "local",
    images: dict[str, str] | None = None,
    image_registry: str | None = None,
    source_config_path: Path | None = None,
    sync_local_sys_paths: bool = True,
    load_plugin_type_transformers: bool = True,
    local_persistence: bool = False,
    local_tracked: bool = False,
    local_tracked_strict: bool = False,
    scopes: list[str] | None = None,
    **kwargs: Any,
) -> None:
    """Configure the SDK. Without `endpoint` or `api_key`, runs are local.

    With an endpoint, `flyte.run` submits runs to that control plane and `flyte.deploy`
    registers tasks there; no connection is made until the first call.

    Args:
        org: The organisation.
        project: The default project for runs and deployments.
        domain: The default domain.
        root_dir: The source root of code bundles (modules are named relative to it); the
            current directory by default. It is added to `sys.path`.
        log_level: The SDK's log level.
        log_format: `console` or `json` (sent to remote runs as `LOG_FORMAT`).
        reset_root_logger: Accepted for compatibility.
        user_log_level: The log level of `flyte.logger` in tasks.
        endpoint: A Flyte 2 control plane (`dns:///host:port`, `host:port`, `https://...`).
        headless: Accepted for compatibility (no browser-based login).
        insecure: Plain-text HTTP/2 (a devbox on loopback), no TLS.
        insecure_skip_verify: TLS without verifying the server certificate.
        ca_cert_file_path: A PEM CA bundle for TLS.
        auth_type: `Pkce`, `ClientSecret`, `ExternalCommand`, `DeviceFlow` or `Passthrough`.
        command: The external command printing a token (`ExternalCommand`).
        proxy_command: The command printing a `proxy-authorization` token.
        api_key: An encoded API key (implies the endpoint it names).
        client_id: OAuth2 client id.
        client_credentials_secret: OAuth2 client secret.
        auth_client_config: A prepared OAuth client configuration.
        rpc_retries: Retries of a control-plane call that failed transiently.
        http_proxy_url: HTTP proxy for token calls.
        disable_keyring: Do not cache tokens in the keyring.
        storage: Object-store settings for local runs.
        batch_size: Accepted for compatibility.
        image_builder: The image builder (`local`, `remote`, a plugin name).
        images: Image URIs by environment or image name, used instead of building.
        image_registry: The default registry of built images.
        source_config_path: The config file these settings came from.
        sync_local_sys_paths: Send local `sys.path` entries under `root_dir` to remote runs.
        load_plugin_type_transformers: Accepted for compatibility.
        local_persistence: Persist local runs.
        local_tracked: Mirror local runs as tracked runs.
        local_tracked_strict: Fail local runs whose tracking fails.
        scopes: OAuth2 scopes.
        kwargs: Other options, kept for plugins.
    """
    from flyte_runtime import _remote_run

    _set_log_level(log_level)
    api_endpoint = None
    if api_key and not endpoint:
        api_endpoint = _endpoint_from_api_key(api_key)
    target = endpoint or api_endpoint
    _CONFIG.org, _CONFIG.project, _CONFIG.domain = org, project, domain
    resolved_root = Path(root_dir).expanduser().resolve() if root_dir else None
    _CONFIG.root_dir = resolved_root
    _CONFIG.endpoint = target
    _CONFIG.extra = {
        **kwargs,
        "log_format": log_format,
        "user_log_level": user_log_level,
        "insecure_skip_verify": insecure_skip_verify,
        "ca_cert_file_path": ca_cert_file_path,
        "auth_type": auth_type,
        "command": command,
        "proxy_command": proxy_command,
        "api_key": api_key,
        "client_id": client_id,
        "client_credentials_secret": client_credentials_secret,
        "auth_client_config": auth_client_config,
        "http_proxy_url": http_proxy_url,
        "disable_keyring": disable_keyring,
        "storage": storage,
        "image_builder": image_builder,
        "images": dict(images or {}),
        "image_registry": image_registry,
        "source_config_path": source_config_path,
        "local_persistence": local_persistence,
        "local_tracked": local_tracked,
        "local_tracked_strict": local_tracked_strict,
        "scopes": scopes,
    }
    _CONFIG.initialized = True
    if not target:
        _remote_run.configure(None)
        return
    import sys

    root = resolved_root or Path.cwd().resolve()
    if str(root) not in sys.path:
        sys.path.append(str(root))
    if not isinstance(rpc_retries, int) or rpc_retries < 0:
        raise ferr.InitializationError(
            "BadConfig", "user", f"rpc_retries must be an int >= 0, got {rpc_retries!r}"
        )
    _remote_run.configure(
        _remote_run.RemoteSettings(
            endpoint=target,
            insecure=insecure,
            org=org or "",
            project=project or "",
            domain=domain or "",
            root_dir=root,
            images=dict(images or {}),
            image_builder=image_builder,
            sync_local_sys_paths=sync_local_sys_paths,
            rpc_retries=rpc_retries,
            console_endpoint=kwargs.get("console_endpoint"),
        ),
        auth={
            "insecure_skip_verify": insecure_skip_verify,
            "ca_cert_file_path": ca_cert_file_path,
            "auth_mode": auth_type,
            "command": command,
            "proxy_command": proxy_command,
            "api_key": api_key,
            "client_id": client_id,
            "client_credentials_secret": client_credentials_secret,
            "http_proxy_url": http_proxy_url,
            "disable_keyring": disable_keyring,
            "scopes": scopes,
        },
    )


def _endpoint_from_api_key(api_key: str) -> str:
    """The endpoint an API key names (base64 of `endpoint:client_id:client_secret:org`)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(api_key, validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    parts = decoded.split(":")
    if len(parts) < 4 or not parts[0]:
        raise ferr.InitializationError(
            "BadApiKey",
            "user",
            "api_key is not a valid Flyte API key (base64 of endpoint:client_id:secret:org); "
            "create one with `flyte create api-key` or pass endpoint=... instead.",
        )
    # endpoint may itself contain a port: everything but the last three fields.
    return ":".join(parts[:-3])


def _load_config(path_or_config: Any) -> Any:
    """A `flyte_client` `Config` from a path, a `Config`, or the usual places (None)."""
    from flyte_client._config import Config

    if path_or_config is not None and not isinstance(path_or_config, str | os.PathLike):
        return path_or_config
    return Config.auto(path_or_config)


@syncify
async def init_from_config(
    path_or_config: str | Path | Any | None = None,
    root_dir: str | Path | None = None,
    log_level: int | str | None = None,
    log_format: str = "console",
    user_log_level: int | None = None,
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    storage: Any = None,
    batch_size: int = 1000,
    image_builder: str | None = None,
    images: tuple[str, ...] | dict[str, str] | None = None,
    sync_local_sys_paths: bool = True,
    **kwargs: Any,
) -> None:
    """Configure the SDK from a config file (`admin.endpoint`, `task.project`, ...); with no
    file found and no `FLYTE_ADMIN_ENDPOINT`, runs are local.

    Args:
        path_or_config: A config file (it must exist), a `flyte_client` `Config`, or None to look
            in `./config.yaml`, `./.flyte/config.yaml`, the git root's `.flyte/config.yaml`,
            `$UCTL_CONFIG`, `$FLYTECTL_CONFIG`, `~/.union/config.yaml`, `~/.flyte/config.yaml`.
        root_dir: See `init`; a relative `path_or_config` is looked up under it.
        log_level: See `init`.
        log_format: See `init`.
        user_log_level: See `init`.
        org: Overrides `task.org`.
        project: Overrides `task.project`.
        domain: Overrides `task.domain`.
        storage: See `init`.
        batch_size: Accepted for compatibility.
        image_builder: Overrides `image.builder`.
        images: Extra image references (`name=uri` strings or a dict) over `image.image_refs`.
        sync_local_sys_paths: See `init`.
        kwargs: Other `init` options; those not None override the file (e.g. `endpoint=`,
            `insecure=`, `auth_type=` from command-line flags).

    Raises:
        InitializationError: If an explicit file does not exist or the config is malformed.
    """
    if isinstance(path_or_config, str | os.PathLike):
        path = Path(path_or_config).expanduser()
        if root_dir is not None and not path.is_absolute() and not path.exists():
            path = Path(root_dir).expanduser() / path
        if not path.exists():
            raise ferr.InitializationError(
                "ConfigFileNotFound",
                "user",
                f"Config file {str(path)!r} does not exist; pass an existing file or None to "
                "look in the usual places.",
            )
        path_or_config = path
    cfg = _load_config(path_or_config)
    platform, task_cfg, image_cfg = cfg.platform, cfg.task, cfg.image
    refs: dict[str, str] = dict(image_cfg.image_refs or {})
    if isinstance(images, dict):
        refs.update(images)
    elif images:
        for item in images:
            name, sep, uri = str(item).partition("=")
            if not sep:
                raise ValueError(f"images entries must be 'name=uri', got {item!r}")
            refs[name.strip()] = uri.strip()
    args: dict[str, Any] = {
        "org": org or task_cfg.org,
        "project": project or task_cfg.project,
        "domain": domain or task_cfg.domain,
        "root_dir": root_dir,
        "log_level": log_level,
        "log_format": log_format,
        "user_log_level": user_log_level,
        "endpoint": platform.endpoint,
        "insecure": platform.insecure,
        "insecure_skip_verify": platform.insecure_skip_verify,
        "ca_cert_file_path": platform.ca_cert_file_path,
        "auth_type": platform.auth_mode,
        "command": platform.command,
        "proxy_command": platform.proxy_command,
        "api_key": platform.api_key,
        "client_id": platform.client_id,
        "client_credentials_secret": platform.client_credentials_secret,
        "rpc_retries": platform.rpc_retries,
        "http_proxy_url": platform.http_proxy_url,
        "disable_keyring": platform.disable_keyring,
        "storage": storage,
        "batch_size": batch_size,
        "image_builder": image_builder or image_cfg.builder or "local",
        "images": refs,
        "image_registry": image_cfg.registry,
        "source_config_path": cfg.source,
        "sync_local_sys_paths": sync_local_sys_paths,
        "scopes": platform.scopes or None,
        "console_endpoint": platform.console_endpoint,
    }
    # Explicit keyword arguments (e.g. a CLI's --endpoint / --insecure) win over the file.
    args.update({k: v for k, v in kwargs.items() if v is not None})
    await init.aio(**args)


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


class ActionOutputs(_ActionOutputs):
    """The outputs of a local run: the shared `flyte.remote.ActionOutputs`, built from values."""

    def __new__(cls, values: tuple[Any, ...], names: tuple[str, ...]) -> ActionOutputs:
        return super().__new__(cls, None, values, names)  # type: ignore[return-value]


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
        from flyte_runtime._compose import dispatch_task_call

        run = _RUN.get()
        assert run is not None
        return dispatch_task_call(task, lambda: run.controller.submit(task, args, kwargs), run.loop)

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

    def __init__(self, mode: Mode | None, options: RunOptions, remote: Any = None) -> None:
        if mode not in (None, "local", "remote", "hybrid"):
            raise ValueError(f"mode must be 'local', 'remote', 'hybrid' or None, got {mode!r}")
        self.mode = mode
        self.options = options
        # flyte_runtime._remote_run.RemoteOptions: copy style, version, interruptible, ...
        self.remote = remote

    def _is_remote(self) -> bool:
        if self.mode == "local":
            return False
        if self.mode in ("remote", "hybrid"):
            return True
        return _CONFIG.remote is not None

    @syncify
    async def run(self, task: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `task` with these arguments and return the run.

        Locally (no control plane configured, or `mode="local"`) the run has finished when this
        returns. Remotely it has been created: `run.wait()`, `run.outputs()`.

        Raises:
            TypeError: If `task` is not a task, or an argument does not match its type.
            ValueError: If a required input is missing.
            InitializationError: For remote mode without a configured control plane.
            RuntimeUserError: If the (local) task, or a task it called, failed.
            flyte_client.errors.RpcError: If the control plane refused the run or is unreachable.
        """
        if self._is_remote():
            from flyte_runtime import _remote_run

            if self.mode == "hybrid":
                raise ferr.InitializationError(
                    "HybridModeNotSupported",
                    "user",
                    "mode='hybrid' is not supported by this SDK; use mode='remote' (or 'local').",
                )
            if _CONFIG.remote is None:
                raise ferr.InitializationError(
                    "ClientNotInitialized",
                    "user",
                    f"mode={self.mode!r} needs a control plane: call "
                    "flyte.init(endpoint=..., insecure=...) or flyte.init_from_config(...) first.",
                )
            ropts = self.remote or _remote_run.RemoteOptions()
            return await _remote_run.run_remote(task, args, kwargs, self.options, ropts)
        if not isinstance(task, TaskTemplate):
            raise TypeError(
                f"flyte.run expects a task (a function decorated with @env.task), got {task!r}"
            )
        return await self._run_local(task, args, kwargs)

    @syncify
    async def rerun(
        self,
        run_name: str,
        action_name: str = "a0",
        recover: bool = False,
        force_rerun_actions: Any = None,
        allow_missing_source_outputs: bool = False,
        **inputs: Any,
    ) -> Any:
        """Run an action of an earlier remote run again with these settings (`name`, `env_vars`,
        `labels`, `annotations`, `overwrite_cache`, ... override the earlier run's); see
        `flyte.rerun`."""
        from flyte_runtime import _remote_run

        return await _remote_run.rerun_remote(
            run_name,
            action_name,
            recover=recover,
            inputs=inputs,
            options=self.options,
            ropts=self.remote,
            force_rerun_actions=force_rerun_actions,
        )

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
    service_account: str | None = None,
    version: str | None = None,
    copy_style: Literal["loaded_modules", "all", "none"] = "loaded_modules",
    dry_run: bool = False,
    copy_bundle_to: Path | None = None,
    interactive_mode: bool | None = None,
    raw_data_path: str | None = None,
    run_base_dir: str | None = None,
    run_start_time: Any = None,
    overwrite_cache: bool = False,
    project: str | None = None,
    domain: str | None = None,
    env_vars: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    interruptible: bool | None = None,
    log_level: int | None = None,
    log_format: str = "console",
    user_log_level: int | None = None,
    reset_root_logger: bool = False,
    disable_run_cache: bool = False,
    queue: str | None = None,
    max_action_concurrency: int | None = None,
    notifications: Any = None,
    custom_context: dict[str, str] | None = None,
    cache_lookup_scope: str = "global",
    preserve_original_types: bool = False,
    debug: bool = False,
    tracked: bool = False,
    tracked_strict: bool = False,
    **kwargs: Any,
) -> Runner:
    """Settings for the next run: `flyte.with_runcontext(mode="remote", name="x").run(task, ...)`.

    `mode` is `"local"`, `"remote"`, or None (remote when `flyte.init` configured a control
    plane). Options that only matter remotely (copy style, version, service account, queue,
    interruptible, ...) are ignored by local runs.

    Args:
        mode: Where to run.
        name: The run name (generated when None).
        service_account: The Kubernetes service account of the run's pods.
        version: The task version (default: the code bundle's md5).
        copy_style: `loaded_modules` (the loaded modules under `root_dir`), `all` (every file
            under `root_dir`) or `none` (pickle the task).
        dry_run: Build everything but create nothing; the returned run carries `task_spec`,
            `inputs` and `run_spec`.
        copy_bundle_to: Also write the code bundle into this directory.
        interactive_mode: Accepted for compatibility (use `copy_style="none"` to pickle).
        raw_data_path: Where large outputs (files, data frames) go.
        run_base_dir: The run's metadata directory.
        run_start_time: Accepted for compatibility.
        overwrite_cache: Recompute cached tasks and overwrite their results.
        project: The project (default: `flyte.init`'s).
        domain: The domain (default: `flyte.init`'s).
        env_vars: Environment variables of every action of the run.
        labels: Labels of the run.
        annotations: Annotations of the run.
        interruptible: Run on interruptible nodes (None: each task's setting).
        log_level: `LOG_LEVEL` of the run's actions.
        log_format: `LOG_FORMAT` of the run's actions.
        user_log_level: `USER_LOG_LEVEL` of the run's actions.
        reset_root_logger: Reset the root logger in the actions.
        disable_run_cache: Do not reuse results cached by earlier runs.
        queue: The queue of the run.
        max_action_concurrency: Concurrent actions in the run: 0 (no limit) or at least 2.
        notifications: Accepted for compatibility.
        custom_context: String context propagated to every action.
        cache_lookup_scope: Where a remote run's cached tasks look results up: `"global"`
            (the default) or `"project-domain"`; sent in the run spec.
        preserve_original_types: Return outputs in their original Python types where possible.
        debug: Accepted for compatibility.
        tracked: Accepted for compatibility.
        tracked_strict: Accepted for compatibility.
        kwargs: Other options of the reference SDK, ignored.
    """
    from flyte_runtime._remote_run import RemoteOptions

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
    if copy_style not in ("loaded_modules", "all", "none"):
        raise ValueError(
            f"copy_style must be 'loaded_modules', 'all' or 'none', got {copy_style!r}"
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
        RemoteOptions(
            copy_style=copy_style,
            version=version,
            interruptible=interruptible,
            queue=queue,
            service_account=service_account,
            dry_run=dry_run,
            copy_bundle_to=Path(copy_bundle_to) if copy_bundle_to else None,
            log_level=log_level,
            log_format=log_format,
            user_log_level=user_log_level,
            reset_root_logger=reset_root_logger,
            cache_lookup_scope=cache_lookup_scope,
            interactive_mode=interactive_mode,
        ),
    )


@syncify
async def run(task: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `task(*args, **kwargs)`: locally unless a control plane is configured.

    Equivalent to `flyte.with_runcontext().run(task, *args, **kwargs)`.
    """
    return await with_runcontext().run.aio(task, *args, **kwargs)


@syncify
async def rerun(
    run_name: str,
    action_name: str = "a0",
    recover: bool = False,
    force_rerun_actions: Any = None,
    allow_missing_source_outputs: bool = False,
    **inputs: Any,
) -> Any:
    """Run an action of an earlier remote run again, as a new run: same task, same settings,
    same inputs except those passed as keyword arguments.

    Args:
        run_name: The earlier run.
        action_name: Its action to rerun (`a0`, the whole run, by default).
        recover: Reuse the earlier run's succeeded actions, running again only what failed or
            never ran (the new run's `RunSpec.relation` is RECOVER; a backend without recovery,
            such as the devbox, runs everything again). Only for the whole run (`a0`).
        force_rerun_actions: With `recover`: actions that run again although they succeeded.
        allow_missing_source_outputs: Accepted for compatibility.
        inputs: Inputs to change.

    Raises:
        InitializationError: If no control plane is configured.
        NotFoundError: If there is no such run or action.
    """
    from flyte_runtime import _remote_run

    return await _remote_run.rerun_remote(
        run_name,
        action_name,
        recover=recover,
        inputs=inputs,
        force_rerun_actions=force_rerun_actions,
    )
