"""Remote runs: submit a task to a Flyte 2 control plane from a laptop (PROTOCOL.md section 3.1).

`flyte.run(task, **inputs)` after `flyte.init(endpoint=...)` (or with `mode="remote"`):

1. build the code bundle (`_codebundle`): a reproducible tgz of the loaded user modules under the
   root directory, or a pickle of the task (`copy_style="none"`); upload it once per process
   through `CreateUploadLocation` and a signed-URL PUT;
2. resolve the environment's image (`_images.resolve_image_uri`);
3. build the `TaskSpec` whose container runs `a0 ... --tgz <bundle> --resolver ...`;
4. `DataProxyService.UploadInputs`, then `RunService.CreateRun` with the `RunSpec` (env vars
   including `_F_SYS_PATH`, labels, annotations, cache and interruptible settings);
5. return a `flyte.remote.Run` handle.

Every control-plane call goes through `call(...)`: transient failures (UNAVAILABLE, ...) are
retried a bounded number of times, then turned into a `flyte_client.errors` exception that names
the endpoint and the fix.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from flyte_models import CodeBundle, SerializationContext, TaskTemplate
from flyte_models import errors as ferr

__all__ = [
    "RemoteOptions",
    "RemoteSettings",
    "call",
    "clients",
    "configure",
    "current_settings",
    "prepare_code_bundle",
    "run_remote",
    "task_spec_for",
]

logger = logging.getLogger("flyte_runtime")

T = TypeVar("T")

_PHASE_PREFIX = "ACTION_PHASE_"


@dataclass
class RemoteSettings:
    """The control plane `flyte.init` connected to, and the defaults of remote runs and deploys.

    Args:
        endpoint: The control plane (`dns:///host:port`, `host:port`, `http(s)://...`).
        insecure: Plain-text HTTP/2 (a devbox on loopback).
        org: The organisation.
        project: The default project.
        domain: The default domain.
        root_dir: The source root of code bundles (module names are relative to it).
        images: Image URIs by environment/image name (`flyte.init(images=...)`).
        image_builder: The image builder name (`local`, `remote`, a plugin).
        sync_local_sys_paths: Send the local `sys.path` entries under `root_dir` as `_F_SYS_PATH`.
        rpc_retries: Retries of a control-plane call that failed transiently.
        console_endpoint: The web console base URL, when it differs from the endpoint.
    """

    endpoint: str
    insecure: bool = False
    org: str = ""
    project: str = ""
    domain: str = ""
    root_dir: Path = field(default_factory=Path.cwd)
    images: dict[str, str] = field(default_factory=dict)
    image_builder: str | None = None
    sync_local_sys_paths: bool = True
    rpc_retries: int = 3
    console_endpoint: str | None = None


_OWN_CLIENTS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, Any
] = weakref.WeakKeyDictionary()


def configure(settings: RemoteSettings | None, auth: dict[str, Any] | None = None) -> None:
    """Make `settings` the remote target of this process (None: local runs only).

    Opens the `flyte_client` session (auth, TLS, retries; no connection yet) and points the
    remote objects (`flyte.remote.Run`, `Task`, ...) at the same control plane.

    Args:
        settings: The control plane and defaults, or None.
        auth: `flyte_client.PlatformConfig` fields (auth type, command, client id/secret, CA
            file, ...) from `flyte.init`.
    """
    import flyte_client
    from flyte_runtime import _run

    _run._CONFIG.remote = settings
    _OWN_CLIENTS.clear()
    init_session = getattr(flyte_client, "init_session", None)
    if settings is None:
        reset = getattr(flyte_client, "reset_session", None)
        if reset is not None:
            reset()
    elif init_session is not None:
        from flyte_client._config import Config, PlatformConfig, TaskConfig

        known = {f for f in PlatformConfig.__dataclass_fields__}
        extra = {k: v for k, v in (auth or {}).items() if k in known and v is not None}
        platform = PlatformConfig(
            endpoint=settings.endpoint,
            insecure=settings.insecure,
            rpc_retries=settings.rpc_retries,
            console_endpoint=settings.console_endpoint,
            **extra,
        )
        try:
            init_session(
                Config(
                    platform=platform,
                    task=TaskConfig(
                        org=settings.org or None,
                        project=settings.project or None,
                        domain=settings.domain or None,
                    ),
                )
            )
        except ImportError:  # the session's auth support is not installed: plain channel
            logger.debug("flyte_client session unavailable; using a plain channel")
    try:
        from flyte_client.remote import _client as remote_client
    except ImportError:  # pragma: no cover - flyte_client.remote not installed
        return
    if settings is None:
        remote_client.reset()
    else:
        remote_client.configure(
            settings.endpoint,
            insecure=settings.insecure,
            org=settings.org,
            project=settings.project,
            domain=settings.domain,
            console_endpoint=settings.console_endpoint,
        )


def _uses_session() -> bool:
    """Whether the `flyte_client` session (auth, TLS, retries) serves the runtime's calls."""
    try:
        from flyte_client._session import is_initialized
    except ImportError:  # pragma: no cover - an older flyte_client without sessions
        return False
    return bool(is_initialized())


def current_settings() -> RemoteSettings | None:
    """The configured control plane, if any (kept in `flyte.init`'s configuration)."""
    from flyte_runtime import _run

    return _run._CONFIG.remote


def _require_settings() -> RemoteSettings:
    settings = current_settings()
    if settings is None:
        raise ferr.InitializationError(
            "ClientNotInitialized",
            "user",
            "Remote runs need a control plane: call flyte.init(endpoint=..., insecure=...) or "
            "flyte.init_from_config(<config.yaml>) first (for a local devbox: "
            "flyte.init(endpoint='localhost:30080', insecure=True)).",
        )
    return settings


def clients() -> Any:
    """The client set (grpc stubs per service) for the running event loop.

    The one place the runtime obtains its connection: the `flyte_client` session (auth, TLS,
    retries) when it is initialised, else a plain `ClientSet` owned here.
    """
    settings = _require_settings()
    if _uses_session():
        import flyte_client

        return flyte_client.get_client()
    loop = asyncio.get_running_loop()
    found = _OWN_CLIENTS.get(loop)
    if found is None:
        from flyte_client._clientset import ClientSet

        found = ClientSet.for_endpoint(settings.endpoint, insecure=settings.insecure)
        _OWN_CLIENTS[loop] = found
    return found


def _is_retryable(exc: BaseException) -> bool:
    code = getattr(exc, "code", None)
    if not callable(code):
        return bool(getattr(exc, "is_retryable", False))
    try:
        name = getattr(code(), "name", "")
    except Exception:  # pragma: no cover - defensive
        return False
    return name in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED")


async def call(what: str, fn: Callable[[], Awaitable[T]]) -> T:
    """Call the control plane: `await fn()`, retrying transient failures with backoff
    (0.5 s, doubling, `rpc_retries` times), then raising the translated error.

    Args:
        what: The operation, for messages (`"create run in flytesnacks/development"`).
        fn: Makes the call.

    Raises:
        flyte_client.errors.RpcError: A subclass per status; `EndpointUnreachableError` names the
            endpoint and how to fix it.
    """
    settings = _require_settings()
    # The session's interceptors already retry (and translate); retry here only without one.
    retries = 0 if _uses_session() else max(0, settings.rpc_retries)
    delay = 0.5
    attempt = 0
    while True:
        try:
            return await fn()
        except Exception as exc:
            if isinstance(exc, ferr.FlyteError) and not getattr(exc, "is_retryable", False):
                raise
            if attempt < retries and _is_retryable(exc):
                attempt += 1
                logger.debug("%s failed (%s); retry %d/%d", what, exc, attempt, retries)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if isinstance(exc, ferr.FlyteError):
                raise
            from flyte_client.errors import translate_rpc_error

            raise translate_rpc_error(exc, what=what, endpoint=settings.endpoint) from exc


# ---------------------------------------------------------------------------------------------
# per-run options
# ---------------------------------------------------------------------------------------------

CopyStyle = Literal["loaded_modules", "all", "none"]


@dataclass
class RemoteOptions:
    """The options of `flyte.with_runcontext(...)` that only matter for remote runs."""

    copy_style: CopyStyle = "loaded_modules"
    version: str | None = None
    interruptible: bool | None = None
    queue: str | None = None
    service_account: str | None = None
    dry_run: bool = False
    copy_bundle_to: Path | None = None
    log_level: int | None = None
    log_format: str = "console"
    user_log_level: int | None = None
    reset_root_logger: bool = False
    cache_lookup_scope: str | None = None
    interactive_mode: bool | None = None

    def __post_init__(self) -> None:
        _cache_lookup_scope(self.cache_lookup_scope)  # a bad value fails at with_runcontext


# ---------------------------------------------------------------------------------------------
# code bundle, task spec
# ---------------------------------------------------------------------------------------------


async def prepare_code_bundle(
    task: TaskTemplate[Any, Any, Any] | None,
    settings: RemoteSettings,
    *,
    copy_style: CopyStyle,
    project: str,
    domain: str,
    upload: bool = True,
    copy_bundle_to: Path | None = None,
    envs: Iterable[Any] = (),
) -> CodeBundle:
    """Build (and upload) the code bundle; return it with its native URL and computed version.

    `copy_style="none"` pickles `task` (which must then be given). The files named by the
    `include` of `envs` (by default the task's environment), and of the environments they
    depend on, are bundled too.
    """
    from flyte_runtime import _codebundle

    if not envs and task is not None and task.parent_env is not None:
        envs = (task.parent_env(),)
    extra = _codebundle.env_include_files(envs)
    if copy_style == "none":
        if task is None:
            raise ValueError("copy_style='none' (a pickled task) needs a task; deploy needs files")
        if extra:
            raise ValueError(
                "Environment.include cannot be shipped with a pickled task (copy_style='none' "
                "or an interactive session); run from a file or drop the include"
            )
        local = _codebundle.build_pkl_bundle(task)
    else:
        local = await asyncio.to_thread(
            functools.partial(
                _codebundle.build_tgz_bundle, settings.root_dir, copy_style, extra_files=extra
            )
        )
    if copy_bundle_to is not None:
        local.write_to(Path(copy_bundle_to))
    if upload:
        cs = clients()
        url = await call(
            f"upload the code bundle to {project}/{domain}",
            lambda: _codebundle.upload_bundle(
                cs, local, project=project, domain=domain, org=settings.org
            ),
        )
    else:
        url = f"dry-run://{local.filename}"
    files = list(local.files) or None
    if local.kind == "tgz":
        return CodeBundle(computed_version=local.md5_hex, tgz=url, files=files)
    return CodeBundle(computed_version=local.md5_hex, pkl=url)


def _image_ref(task: TaskTemplate[Any, Any, Any]) -> Any:
    image = getattr(task, "image", None)
    if image is None and task.parent_env is not None:
        env = task.parent_env()
        image = getattr(env, "image", None)
    return image


async def _resolve(image: Any, env_name: str, settings: RemoteSettings) -> str:
    from flyte_runtime._images import resolve_image_uri

    if image == "auto":
        image = None
    for key in (env_name, getattr(image, "name", None) or ""):
        if key and key in settings.images:
            return settings.images[key]
    if isinstance(image, str) and image in settings.images:
        return settings.images[image]
    # One resolution (and at most one build attempt) per image per process.
    key = (settings.endpoint, str(image if image is None or isinstance(image, str) else image.uri))
    found = _IMAGE_URIS.get(key)
    if found is None:
        found = await resolve_image_uri(image)
        _IMAGE_URIS[key] = found
    return found


async def resolve_image(task: TaskTemplate[Any, Any, Any], settings: RemoteSettings) -> str:
    """The container image URI of `task` (`flyte.init(images=...)` entries win)."""
    return await _resolve(_image_ref(task), task.parent_env_name or "", settings)


def env_closure(envs: list[Any]) -> dict[str, Any]:
    """The environments reachable from `envs` through `depends_on`, by name."""
    seen: dict[str, Any] = {}
    stack = list(envs)
    while stack:
        env = stack.pop(0)
        if env is None or env.name in seen:
            continue
        seen[env.name] = env
        stack.extend(getattr(env, "depends_on", None) or [])
    return seen


async def image_cache_for(envs: list[Any], settings: RemoteSettings) -> Any:
    """An `ImageCache` with the image URI of every environment in the `depends_on` closure of
    `envs`, so tasks can start children in other environments."""
    from flyte_runtime._images import ImageCache

    closure = env_closure(envs)
    uris = await asyncio.gather(
        *(_resolve(getattr(e, "image", None), name, settings) for name, e in closure.items())
    )
    return ImageCache(image_lookup=dict(zip(closure, uris, strict=True)))


_IMAGE_URIS: dict[tuple[str, Any], str] = {}


def task_spec_for(
    task: TaskTemplate[Any, Any, Any],
    sctx: SerializationContext,
    image_uri: str,
    default_inputs: Any = None,
) -> Any:
    """The flyteidl2 `TaskSpec` of `task`, its container running our `a0` on the bundle.

    Raises:
        SpecError: If the task cannot be turned into a spec (image, reuse policy, pod template).
        RuntimeSystemError: If the container args cannot be formed (no resolver or root dir).
    """
    from flyte_runtime._resolver import install_default_resolver

    install_default_resolver()
    from flyte_client._spec import translate_task_to_spec

    return translate_task_to_spec(task, sctx, image_uri=image_uri, default_inputs=default_inputs)


def sys_path_env(root_dir: Path) -> str:
    """`_F_SYS_PATH`: the local `sys.path` entries under `root_dir`, relative (`./sub`), so the
    worker, which unpacks the bundle into its working directory, imports modules the same way."""
    root = root_dir.resolve()
    out: list[str] = []
    for entry in sys.path:
        if not entry:
            continue
        try:
            rel = Path(entry).resolve().relative_to(root)
        except (ValueError, OSError):
            continue
        value = f"./{rel.as_posix()}" if rel.parts else "."
        if value not in out:
            out.append(value)
    return ":".join(out)


# ---------------------------------------------------------------------------------------------
# the run handle
# ---------------------------------------------------------------------------------------------


def _make_handle(pb2: Any, preserve_original_types: bool = False) -> Any:
    """The `flyte.remote.Run` for a `Run` message."""
    from flyte_client.remote import Run

    return Run._from_pb(pb2, preserve_original_types=preserve_original_types)


# ---------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------


def _build_env(
    run_env: dict[str, str], ropts: RemoteOptions, settings: RemoteSettings
) -> dict[str, str]:
    env = dict(run_env)
    env.setdefault(
        "LOG_LEVEL", str(ropts.log_level or logging.getLogger("flyte").getEffectiveLevel())
    )
    env["LOG_FORMAT"] = ropts.log_format
    env.setdefault(
        "USER_LOG_LEVEL",
        str(ropts.user_log_level or logging.getLogger("flyte.user").getEffectiveLevel()),
    )
    if ropts.reset_root_logger:
        env["FLYTE_RESET_ROOT_LOGGER"] = "1"
    if settings.sync_local_sys_paths:
        env["_F_SYS_PATH"] = sys_path_env(settings.root_dir)
    if os.environ.get("_U_USE_ACTIONS") == "1":
        env["_U_USE_ACTIONS"] = "1"
    return env


_CACHE_LOOKUP_SCOPES = {"global": 1, "project-domain": 2}  # run_pb2.CacheLookupScope values


def _cache_lookup_scope(scope: str | None) -> int:
    """The wire value of `with_runcontext(cache_lookup_scope=...)`; None leaves it unspecified."""
    if not scope:
        return 0
    try:
        return _CACHE_LOOKUP_SCOPES[scope]
    except KeyError:
        choices = ", ".join(repr(c) for c in _CACHE_LOOKUP_SCOPES)
        raise ValueError(f"cache_lookup_scope must be one of {choices}, got {scope!r}") from None


def build_run_spec(options: Any, ropts: RemoteOptions, settings: RemoteSettings, task: Any) -> Any:
    """The `RunSpec` of a remote run from `with_runcontext` options."""
    from flyteidl2.core import literals_pb2, security_pb2
    from flyteidl2.task import run_pb2
    from google.protobuf import wrappers_pb2

    env = _build_env(options.env_vars, ropts, settings)
    bad = {k: v for k, v in env.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"env_vars values must be strings, got {bad!r}")
    spec = run_pb2.RunSpec(
        overwrite_cache=options.overwrite_cache,
        labels=run_pb2.Labels(values=dict(options.labels)),
        annotations=run_pb2.Annotations(values=dict(options.annotations)),
        envs=run_pb2.Envs(
            values=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in env.items()]
        ),
        queue=ropts.queue or getattr(task, "queue", None) or "",
        max_action_concurrency=options.max_action_concurrency or 0,
        run_base_dir=options.run_base_dir or "",
        cache_config=run_pb2.CacheConfig(
            overwrite_cache=options.overwrite_cache,
            cache_lookup_scope=_cache_lookup_scope(ropts.cache_lookup_scope),
        ),
    )
    if ropts.interruptible is not None:
        spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=ropts.interruptible))
    if options.raw_data_path:
        spec.raw_data_storage.CopyFrom(
            run_pb2.RawDataStorage(raw_data_prefix=options.raw_data_path)
        )
    if ropts.service_account:
        spec.security_context.CopyFrom(
            security_pb2.SecurityContext(
                run_as=security_pb2.Identity(k8s_service_account=ropts.service_account)
            )
        )
    return spec


def _target(options: Any, settings: RemoteSettings) -> tuple[str, str, Any, Any]:
    from flyteidl2.common import identifier_pb2

    project = options.project or settings.project
    domain = options.domain or settings.domain
    if not project or not domain:
        raise ferr.InitializationError(
            "ProjectDomainNotSet",
            "user",
            f"A remote run needs a project and a domain (got project={project!r}, "
            f"domain={domain!r}): pass flyte.init(project=..., domain=...), set task.project / "
            "task.domain in the config file, or with_runcontext(project=..., domain=...).",
        )
    if options.name:
        return (
            project,
            domain,
            identifier_pb2.RunIdentifier(
                org=settings.org, project=project, domain=domain, name=options.name
            ),
            None,
        )
    return (
        project,
        domain,
        None,
        identifier_pb2.ProjectIdentifier(organization=settings.org, name=project, domain=domain),
    )


def _defined_without_file(task: Any) -> bool:
    """Whether `task` comes from code with no source file (a notebook cell, a REPL)."""
    func = getattr(task, "func", None)
    module = sys.modules.get(getattr(func, "__module__", "") or "")
    return module is not None and not getattr(module, "__file__", None)


def _remote_task_parts(obj: Any) -> tuple[Any, Any, Any] | None:
    """(task_id, task_spec, native interface) of a deployed task object (`flyte.remote.Task`
    or its details), or None when `obj` is not one."""
    pb2 = getattr(obj, "pb2", None)
    if pb2 is None or not hasattr(pb2, "task_id") or not hasattr(pb2, "spec"):
        return None
    interface = getattr(obj, "interface", None)
    if interface is None or not hasattr(interface, "inputs"):
        from flyte_client.remote._data import native_interface

        spec = pb2.spec
        interface = native_interface(spec.task_template.interface, spec.default_inputs)
    return pb2.task_id, pb2.spec, interface


async def _submit(
    cs: Any,
    settings: RemoteSettings,
    project: str,
    domain: str,
    upload: Any,
    task_id: Any,
    task_spec: Any,
    run_id: Any,
    project_id: Any,
    run_spec: Any,
) -> Any:
    """SelectCluster, UploadInputs, CreateRun; returns the CreateRun response."""
    from flyteidl2.cluster import payload_pb2 as cluster_pb2
    from flyteidl2.common import identifier_pb2
    from flyteidl2.workflow import run_service_pb2

    where = f"{project}/{domain}"
    await call(
        f"select a cluster for {where}",
        lambda: cs.cluster_service.SelectCluster(
            cluster_pb2.SelectClusterRequest(
                project_id=identifier_pb2.ProjectIdentifier(
                    organization=settings.org, name=project, domain=domain
                ),
                operation=cluster_pb2.SelectClusterRequest.Operation.OPERATION_UPLOAD_INPUTS,
            )
        ),
    )
    uploaded = await call(
        f"upload the inputs to {where}", lambda: cs.dataproxy_service.UploadInputs(upload)
    )
    create = run_service_pb2.CreateRunRequest(
        offloaded_input_data=uploaded.offloaded_input_data, run_spec=run_spec
    )
    if run_id is not None:
        create.run_id.CopyFrom(run_id)
    else:
        create.project_id.CopyFrom(project_id)
    if task_id is not None:
        create.task_id.CopyFrom(task_id)
    else:
        create.task_spec.CopyFrom(task_spec)
    return await call(f"create a run in {where}", lambda: cs.run_service.CreateRun(create))


def _explain(exc: BaseException, where: str, name: str | None, task_id: Any) -> BaseException:
    """A user-facing error for a failed submission (taken name, unknown project or task)."""
    status = getattr(exc, "status", "")
    details = getattr(exc, "details", "") or str(exc)
    if status == "ALREADY_EXISTS":
        return ferr.RuntimeUserError(
            "RunAlreadyExistsError",
            f"A run named {name!r} already exists in {where}; choose another name "
            "(with_runcontext(name=...)) or leave it out to get a generated one.",
        )
    if status == "NOT_FOUND":
        what = (
            f"task {task_id.name!r} version {task_id.version!r} in {where}"
            if task_id is not None
            else f"project/domain {where}"
        )
        return ferr.RuntimeUserError(
            "ProjectNotFoundError" if task_id is None else "TaskNotFoundError",
            f"The control plane does not know the {what} ({details}). Fix: check the project and "
            "domain (flyte.init(project=..., domain=...) or with_runcontext(project=..., "
            "domain=...)), create the project (flyte create project), or deploy the task first.",
        )
    return exc


async def run_remote(
    obj: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: Any,
    ropts: RemoteOptions,
) -> Any:
    """Submit `obj` (a local task, or a deployed task object) as a new run; return its handle."""
    import flyte_types

    settings = _require_settings()
    project, domain, run_id, project_id = _target(options, settings)
    started = time.monotonic()

    task_id = None
    task_spec = None
    if isinstance(obj, TaskTemplate):
        interface = obj.native_interface
        bound = interface.convert_to_kwargs(*args, **kwargs)
        missing = [n for n in interface.required_inputs() if n not in bound]
        if missing:
            raise ValueError(f"Missing required inputs: {', '.join(missing)}")
        copy_style = ropts.copy_style
        if ropts.interactive_mode or (
            ropts.interactive_mode is None and _defined_without_file(obj)
        ):
            copy_style = "none"  # a notebook or REPL: nothing to bundle, pickle the task
        bundle = await prepare_code_bundle(
            obj,
            settings,
            copy_style=copy_style,
            project=project,
            domain=domain,
            upload=not ropts.dry_run,
            copy_bundle_to=ropts.copy_bundle_to,
        )
        version = ropts.version or bundle.computed_version
        parent = obj.parent_env() if obj.parent_env is not None else None
        sctx = SerializationContext(
            version=version,
            project=project,
            domain=domain,
            org=settings.org or None,
            code_bundle=bundle,
            root_dir=settings.root_dir,
            image_cache=await image_cache_for([parent] if parent else [], settings),
        )
        image = await resolve_image(obj, settings)
        task_spec = task_spec_for(obj, sctx, image)
        max_bytes = obj.max_inline_io_bytes
    else:
        parts = None
        fetch = getattr(obj, "fetch", None)
        if parts is None and fetch is not None and not hasattr(obj, "pb2"):
            obj = await (fetch.aio() if hasattr(fetch, "aio") else fetch())
        parts = _remote_task_parts(obj)
        if parts is None:
            raise TypeError(
                f"flyte.run expects a task (a function decorated with @env.task) or a deployed "
                f"task (flyte.remote.Task.get(...)), got {obj!r}"
            )
        task_id, task_spec, interface = parts
        if getattr(obj, "overridden", False):
            task_id = None
        bound = interface.convert_to_kwargs(*args, **kwargs)
        max_bytes = None

    try:
        inputs = await flyte_types.build_inputs(
            interface, bound, context=options.custom_context or None, max_bytes=max_bytes
        )
    except TypeError as exc:
        raise TypeError(f"Type conversion failed for {getattr(obj, 'name', obj)}: {exc}") from exc

    run_spec = build_run_spec(options, ropts, settings, obj)
    if ropts.dry_run:
        from flyteidl2.common import identifier_pb2
        from flyteidl2.workflow import run_definition_pb2

        pb2 = run_definition_pb2.Run(
            action=run_definition_pb2.Action(
                id=identifier_pb2.ActionIdentifier(
                    name="a0", run=identifier_pb2.RunIdentifier(name="dry-run")
                )
            )
        )
        # As with the reference SDK, a run named "dry-run" that carries what would have been sent.
        handle = _make_handle(pb2)
        handle.task_spec = task_spec
        handle.inputs = inputs
        handle.run_spec = run_spec
        return handle

    from flyteidl2.common import identifier_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2

    cs = clients()
    await upload_local_data(inputs)
    upload = dp_pb2.UploadInputsRequest(inputs=inputs)
    if options.run_base_dir:
        upload.base_dir = options.run_base_dir
    if task_id is not None:
        upload.task_id.CopyFrom(task_id)
    else:
        upload.task_spec.CopyFrom(task_spec)
    if run_id is not None:
        upload.run_id.CopyFrom(run_id)
    else:
        upload.project_id.CopyFrom(project_id)
    where = f"{project}/{domain}"
    try:
        resp = await _submit(
            cs, settings, project, domain, upload, task_id, task_spec, run_id, project_id, run_spec
        )
    except Exception as exc:
        raise _explain(exc, where, options.name, task_id) from exc
    handle = _make_handle(resp.run, options.preserve_original_types)
    logger.info("run %s created in %.2fs: %s", handle.name, time.monotonic() - started, handle.url)
    return handle


async def upload_local_data(inputs: Any) -> int:
    """Upload the local files, directories and dataframes a run's inputs reference (`File`,
    `Dir`, `DataFrame` made from local data on this machine) through the control plane's data
    proxy, and point the literals at the uploaded copies; return how many were uploaded.

    The control plane runs the task elsewhere, where this machine's paths mean nothing. Blobs
    and structured datasets are found in the input literals, their collections and maps; a path
    referenced twice is uploaded once. A local path that no longer exists is an error that
    names it.
    """
    import flyte_storage
    from flyte_client.remote import upload_dir, upload_file

    found: list[Any] = []

    def visit(lit: Any) -> None:
        kind = lit.WhichOneof("value")
        if kind == "scalar":
            which = lit.scalar.WhichOneof("value")
            if which == "blob":
                found.append(lit.scalar.blob)
            elif which == "structured_dataset":
                found.append(lit.scalar.structured_dataset)
        elif kind == "collection":
            for item in lit.collection.literals:
                visit(item)
        elif kind == "map":
            for item in lit.map.literals.values():
                visit(item)

    for named in inputs.literals:
        visit(named.value)
    local = [m for m in found if m.uri and not flyte_storage.is_remote(m.uri)]
    if not local:
        return 0

    async def upload(path: str) -> str:
        if os.path.isfile(path):
            return (await upload_file.aio(Path(path)))[1]  # type: ignore[no-any-return]
        if os.path.isdir(path):
            return await upload_dir.aio(Path(path))  # type: ignore[no-any-return]
        raise FileNotFoundError(
            f"an input references the local path {path}, which does not exist; a remote run "
            "needs the data uploaded, so pass an existing file or directory"
        )

    def local_os_path(uri: str) -> str:
        return uri.removeprefix("file://")

    paths = sorted({local_os_path(m.uri) for m in local})
    urls = await asyncio.gather(*(upload(p) for p in paths))
    uploaded = dict(zip(paths, urls, strict=True))
    for message in local:
        message.uri = uploaded[local_os_path(message.uri)]
    logger.info("uploaded %d local input path(s) for the run", len(paths))
    return len(paths)


async def rerun_remote(
    run_name: str,
    action_name: str = "a0",
    *,
    recover: bool = False,
    inputs: dict[str, Any] | None = None,
    options: Any = None,
    ropts: RemoteOptions | None = None,
    force_rerun_actions: Any = None,
) -> Any:
    """Run `action_name` of run `run_name` again as a new run: the same task spec and run
    settings, the same inputs except those given in `inputs`.

    The new run's `RunSpec.relation` points at `run_name` (RERUN; RECOVER with `recover`, which
    asks the backend to reuse the source run's succeeded actions, except those named in
    `force_rerun_actions`)."""
    from flyteidl2.common import identifier_pb2
    from flyteidl2.common import run_pb2 as common_run_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
    from flyteidl2.task import common_pb2
    from flyteidl2.task import run_pb2 as task_run_pb2
    from flyteidl2.workflow import run_service_pb2

    import flyte_types

    if force_rerun_actions and not recover:
        raise ValueError("force_rerun_actions requires recover=True")
    if recover and action_name != "a0":
        raise ValueError(
            f"recover=True cannot be combined with action_name={action_name!r}: recovery reuses "
            "the source run's succeeded actions by name, and a run rooted at one action has a "
            "different action tree; rerun that action without recover, or recover the whole run"
        )
    if recover and inputs:
        logger.warning(
            "Recovering %s with changed inputs %s: recovered actions keep the outputs they "
            "produced from the original inputs; list the ones that must run again in "
            "force_rerun_actions=[...]",
            run_name,
            sorted(inputs),
        )
    settings = _require_settings()
    project = (options.project if options else None) or settings.project
    domain = (options.domain if options else None) or settings.domain
    cs = clients()
    action_id = identifier_pb2.ActionIdentifier(
        name=action_name,
        run=identifier_pb2.RunIdentifier(
            org=settings.org, project=project, domain=domain, name=run_name
        ),
    )
    details = await call(
        f"get action {action_name!r} of run {run_name!r}",
        lambda: cs.run_service.GetActionDetails(
            run_service_pb2.GetActionDetailsRequest(action_id=action_id)
        ),
    )
    run_details = await call(
        f"get run {run_name!r}",
        lambda: cs.run_service.GetRunDetails(
            run_service_pb2.GetRunDetailsRequest(run_id=action_id.run)
        ),
    )
    spec = details.details.task
    data = await call(
        f"get the inputs of run {run_name!r}",
        lambda: cs.dataproxy_service.GetActionData(
            dp_pb2.GetActionDataRequest(action_id=action_id)
        ),
    )
    literals = {nl.name: nl for nl in data.inputs.literals}
    if inputs:
        from flyte_client.remote._data import native_interface

        interface = native_interface(spec.task_template.interface, spec.default_inputs)
        unknown = set(inputs) - set(interface.inputs)
        if unknown:
            raise ValueError(
                f"rerun: {sorted(unknown)} are not inputs of {spec.task_template.id.name!r}; its "
                f"inputs are {sorted(interface.inputs)}"
            )
        import dataclasses

        changed = dataclasses.replace(
            interface,
            inputs={k: (interface.inputs[k][0], None) for k in inputs},
            _remote_defaults=None,
        )
        new = await flyte_types.build_inputs(changed, inputs, max_bytes=None)
        for nl in new.literals:
            literals[nl.name] = nl
    merged = common_pb2.Inputs(literals=list(literals.values()), context=data.inputs.context)
    run_spec = run_details.details.run_spec
    # Provenance belongs to each run: point at the run rerun here, not at its own source.
    for provenance in ("relation", "related_to", "recover"):
        run_spec.ClearField(provenance)  # type: ignore[arg-type]
    run_spec.relation.CopyFrom(
        common_run_pb2.Relation(
            related_to=action_id.run,
            relation_type=(
                common_run_pb2.RELATION_TYPE_RECOVER
                if recover
                else common_run_pb2.RELATION_TYPE_RERUN
            ),
        )
    )
    if recover and force_rerun_actions:
        run_spec.recover.CopyFrom(
            task_run_pb2.Recover(force_rerun_actions=list(force_rerun_actions))
        )
    if options is not None:
        overrides = build_run_spec(options, ropts or RemoteOptions(), settings, None)
        env = {kv.key: kv.value for kv in run_spec.envs.values}
        env.update({kv.key: kv.value for kv in overrides.envs.values})
        run_spec.envs.ClearField("values")
        run_spec.envs.values.extend(_key_values(env))
        for k, v in options.labels.items():
            run_spec.labels.values[k] = v
        for k, v in options.annotations.items():
            run_spec.annotations.values[k] = v
        if options.overwrite_cache:
            run_spec.overwrite_cache = True
            run_spec.cache_config.overwrite_cache = True
        if ropts is not None and ropts.cache_lookup_scope:
            run_spec.cache_config.cache_lookup_scope = overrides.cache_config.cache_lookup_scope
    project_id = identifier_pb2.ProjectIdentifier(
        organization=settings.org, name=project, domain=domain
    )
    upload = dp_pb2.UploadInputsRequest(inputs=merged, task_spec=spec, project_id=project_id)
    uploaded = await call(
        f"upload the inputs to {project}/{domain}",
        lambda: cs.dataproxy_service.UploadInputs(upload),
    )
    create = run_service_pb2.CreateRunRequest(
        task_spec=spec, offloaded_input_data=uploaded.offloaded_input_data, run_spec=run_spec
    )
    if options is not None and options.name:
        create.run_id.CopyFrom(
            identifier_pb2.RunIdentifier(
                org=settings.org, project=project, domain=domain, name=options.name
            )
        )
    else:
        create.project_id.CopyFrom(project_id)
    resp = await call(
        f"create a run in {project}/{domain}", lambda: cs.run_service.CreateRun(create)
    )
    return _make_handle(resp.run)


def _key_values(env: dict[str, str]) -> list[Any]:
    """`KeyValuePair`s of `env`."""
    from flyteidl2.core import literals_pb2

    return [literals_pb2.KeyValuePair(key=k, value=v) for k, v in env.items()]
