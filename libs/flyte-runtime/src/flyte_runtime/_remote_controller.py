# Imported by `a0` at start-up: keep the module light. grpc, flyte_client, flyte_storage and the
# protobuf modules are imported on the first nested task call, not here.
"""The in-task ("remote") controller: task calls made inside `a0` become child actions.

When a task running in `a0` calls another task, the call is submitted to the control plane as a
child action of the running action (PROTOCOL.md sections 3.3 to 3.5):

1. the arguments become a flyteidl2 `Inputs` message written to `{run_base}/{child}/inputs.pb`;
2. the called task is translated to a `TaskSpec` (`flyte_client._spec`), carrying the same code
   bundle and version as the running task;
3. the child is enqueued with `QueueService.EnqueueAction` (or `ActionsService.Enqueue` when
   `_U_USE_ACTIONS=1`, with the `x-actions-*` headers);
4. one `StateService.Watch` (or `ActionsService.WatchForUpdates`) stream per parent action, shared
   by all its children, reports their phases; the server first sends the children that already
   exist (from an earlier attempt of the parent), then a sentinel, then live updates. A dropped
   stream is re-opened with backoff;
5. a child that succeeded has its outputs read from `<output_uri>/outputs.pb`; a failed child's
   error is raised in the parent as the matching `flyte.errors` exception (a user error as
   `RuntimeUserError` with the child's code and message, a system error as `RuntimeSystemError`,
   a timeout as the `TaskTimeoutError` subclass its code names); an aborted child raises
   `ActionAbortedError`. Cancelling the call (e.g. a parent timeout) aborts the child.

A deployed task called from the task (`await flyte.remote.Task.get("env.t", ...)(x=1)`) is
enqueued the same way, with the deployed task's identifier and fetched `TaskSpec`
(`submit_task_ref`); `flyte.remote` used by the task finds the same control plane by itself, on
its first call (`flyte_client._incluster`), so starting `a0` imports nothing for it. A
`@flyte.trace` function called from the task runs in the task's process and is recorded as a
trace child action (`run_trace`), so a retried parent replays it instead of running it again.
A condition (`flyte.new_condition`) is a condition child action (`register_condition`) that
stays PAUSED until it is signalled; `wait_for_condition` takes the value from its update on the
same watch stream.

Child action names are deterministic: an MD5 (base 36) of the parent action name, the inputs
hash, the task identity (name, interface, code version) hash, the call's sequence number among
identical calls, and the group, computed the way the reference SDK computes them, so an attempt
of the parent that is retried finds the children its earlier attempt started instead of running
them again.

Connection: `_U_EP_OVERRIDE` (e.g. `dns:///127.0.0.1:8090`) and `_U_INSECURE`; the client set,
with the task's authentication, is `flyte_client.create_in_cluster_client_set`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from flyte_models import errors as ferr

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import execution_pb2, interface_pb2, literals_pb2
    from flyteidl2.task import common_pb2, task_definition_pb2
    from flyteidl2.workflow import state_service_pb2

    from flyte_client import ClientSet
    from flyte_client.remote import TaskDetails
    from flyte_models import NativeInterface, TaskContext, TaskTemplate

__all__ = [
    "RemoteController",
    "RemoteControllerUnavailableError",
    "RemoteTaskCallHandler",
    "cache_key_hash",
    "error_to_exception",
    "inputs_hash",
    "task_identity_hash",
]

logger = logging.getLogger("flyte_runtime")

ENDPOINT_ENV = "_U_EP_OVERRIDE"
INSECURE_ENV = "_U_INSECURE"
USE_ACTIONS_ENV = "_U_USE_ACTIONS"
PARENT_CONCURRENCY_ENV = "_F_P_CNC"
"""Most child calls one parent action has in flight at once (default 1000)."""

# ActionPhase numbers (PROTOCOL.md section 4).
_SUCCEEDED, _FAILED, _ABORTED, _TIMED_OUT, _RECOVERED = 5, 6, 7, 8, 10
_TERMINAL = frozenset({_SUCCEEDED, _FAILED, _ABORTED, _TIMED_OUT, _RECOVERED})
_TRANSIENT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL"})
_ENQUEUE_TIMEOUT_S = 30.0
_ENQUEUE_ATTEMPTS = 8
_WATCH_MAX_FAILURES = 12
_SENTINEL_WAIT_S = 30.0
_BACKOFF_MIN_S, _BACKOFF_MAX_S = 0.2, 10.0


class RemoteControllerUnavailableError(ferr.RuntimeSystemError):
    """A task called a task inside `a0`, but no control plane endpoint is known.

    Args:
        task_name: The called task.
    """

    is_retryable = False  # another attempt has the same environment

    def __init__(self, task_name: str) -> None:
        super().__init__(
            "RemoteControllerUnavailable",
            f"task {task_name!r} was called from inside a task, which submits it as a child "
            f"action to the control plane, but ${ENDPOINT_ENV} is not set: the backend that "
            f"starts a0 must set {ENDPOINT_ENV} (e.g. dns:///host:port) and {INSECURE_ENV}",
        )
        self.task_name = task_name


# ---------------------------------------------------------------------------------------------
# Hashes (the same values the reference SDK computes, so names and cache keys agree)
# ---------------------------------------------------------------------------------------------


def _hash(data: str | bytes) -> str:
    """Base64 of the SHA-256 digest."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii")


def _literal_repr(literal: literals_pb2.Literal) -> bytes:
    """The bytes a literal contributes to an inputs hash; a literal's own `hash` wins."""
    if literal.hash:
        return literal.hash.encode("utf-8")
    if literal.HasField("collection"):
        return b"".join(
            (item.hash.encode("utf-8") if item.hash else _literal_repr(item))
            for item in literal.collection.literals
        )
    if literal.HasField("map"):
        out = bytearray()
        for key in sorted(literal.map.literals):
            item = literal.map.literals[key]
            out += key.encode("utf-8")
            out += item.hash.encode("utf-8") if item.hash else _literal_repr(item)
        return bytes(out)
    if (
        literal.HasField("scalar")
        and literal.scalar.HasField("binary")
        and literal.scalar.binary.tag == "msgpack"
    ):
        copy = type(literal)()
        copy.CopyFrom(literal)
        copy.scalar.binary.value = _canonical_msgpack(literal.scalar.binary.value)
        return bytes(copy.SerializeToString(deterministic=True))
    return bytes(literal.SerializeToString(deterministic=True))


def _canonical_msgpack(data: bytes) -> bytes:
    """Re-encode msgpack with map keys sorted, so equal dicts hash equally."""
    try:
        import msgpack
    except ImportError:  # pragma: no cover - flyte-types depends on msgpack
        return data

    def canon(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: canon(obj[k]) for k in sorted(obj, key=msgpack.packb)}
        if isinstance(obj, list | tuple):
            return [canon(v) for v in obj]
        return obj

    try:
        packed = msgpack.packb(canon(msgpack.unpackb(data, strict_map_key=False)))
    except Exception:
        return data
    return bytes(packed)


def inputs_hash(inputs: common_pb2.Inputs, ignored: frozenset[str] = frozenset()) -> str:
    """Hash of a call's inputs (names and values; `ignored` inputs left out); "" for none.

    Args:
        inputs: The call's inputs.
        ignored: Input names to leave out (the cache's `ignored_inputs`).

    Returns:
        The hash.
    """
    literals = [nl for nl in inputs.literals if nl.name not in ignored]
    if not literals:
        return ""
    return _hash(
        b"".join(nl.name.encode() + b":" + _literal_repr(nl.value) + b";" for nl in literals)
    )


def _interface_hash(iface: interface_pb2.TypedInterface) -> str:
    ordered = type(iface)()
    ordered.CopyFrom(iface)
    for side in (ordered.inputs, ordered.outputs):
        entries = sorted(side.variables, key=lambda e: e.key)
        del side.variables[:]
        side.variables.extend(entries)
    return _hash(ordered.SerializeToString(deterministic=True))


def task_identity_hash(template: Any) -> str:
    """Hash of a task's run-independent identity: name, interface and code version.

    Args:
        template: The task's `core.TaskTemplate`.

    Returns:
        The hash (independent of image, bundle version and resources).
    """
    version = template.metadata.discovery_version if template.HasField("metadata") else ""
    return _hash(f"{template.id.name}-{_interface_hash(template.interface)}-{version}")


def cache_key_hash(
    task_name: str, inputs_digest: str, iface: interface_pb2.TypedInterface, cache_version: str
) -> str:
    """The cache key the backend looks up for a cached task call.

    Args:
        task_name: The task name.
        inputs_digest: `inputs_hash` of the inputs minus the ignored ones.
        iface: The typed interface.
        cache_version: The task's cache (discovery) version.

    Returns:
        The key.
    """
    return _hash(f"{inputs_digest}{task_name}{_interface_hash(iface)}{cache_version}")


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

_TIMEOUT_CODES: dict[str, type[ferr.TaskTimeoutError]] = {
    "QUEUED_TIMEOUT_EXCEEDED": ferr.MaxQueuedTimeExceededError,
    "MAX_RUNTIME_EXCEEDED": ferr.MaxRuntimeExceededError,
    "DEADLINE_EXCEEDED": ferr.DeadlineExceededError,
    "MaxQueuedTimeExceededError": ferr.MaxQueuedTimeExceededError,
    "MaxRuntimeExceededError": ferr.MaxRuntimeExceededError,
    "DeadlineExceededError": ferr.DeadlineExceededError,
    "TaskTimeoutError": ferr.TaskTimeoutError,
}
_USER_CODE_CLASSES: tuple[tuple[str, type[ferr.RuntimeUserError]], ...] = (
    ("Interrupted", ferr.TaskInterruptedError),
    ("PrimaryContainerNotFound", ferr.PrimaryContainerNotFoundError),
    ("RetriesExhausted", ferr.RetriesExhaustedError),
    ("InvalidImageName", ferr.InvalidImageNameError),
    ("ImagePullBackOff", ferr.ImagePullBackOffError),
)


def _user_code(code: str) -> str:
    """A server may prefix the code: `<server code>|<user code>`."""
    return code.split("|", 1)[1].strip() if "|" in code else code.strip()


def error_to_exception(err: execution_pb2.ExecutionError) -> ferr.BaseRuntimeError:
    """Turn a child action's `ExecutionError` into the exception raised in its parent.

    Args:
        err: The error the control plane reported.

    Returns:
        `RuntimeUserError` (or the subclass its code names: timeouts, OOM, ...) for user errors,
        `RuntimeSystemError` for system errors, `RuntimeUnknownError` otherwise.
    """
    from flyteidl2.core import execution_pb2

    code = _user_code(err.code)
    worker = err.worker or None
    if err.kind == execution_pb2.ExecutionError.USER:
        if code in _TIMEOUT_CODES:
            return _TIMEOUT_CODES[code](err.message)
        if "OOM" in err.code.upper():
            return ferr.OOMError(code, err.message, worker)
        for marker, cls in _USER_CODE_CLASSES:
            if marker in err.code:
                return cls(code, err.message, worker)
        if "Unknown" in err.code:
            return ferr.RuntimeUnknownError(code, err.message, worker)
        return ferr.RuntimeUserError(code, err.message, worker)
    if err.kind == execution_pb2.ExecutionError.SYSTEM:
        return ferr.RuntimeSystemError(code, err.message, worker)
    return ferr.RuntimeUnknownError(code, err.message, worker)


def _rpc_code(exc: BaseException) -> str | None:
    """The gRPC status name of a failed call (a grpc error or a `flyte_client.errors.RpcError`)."""
    from flyte_client.remote._errors import rpc_code

    return rpc_code(exc)


def _rpc_details(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    if isinstance(details, str):
        return details or str(exc)
    if callable(details):
        try:
            return str(details() or exc)
        except Exception:
            pass
    return str(exc)


def _is_remote(uri: str) -> bool:
    scheme, sep, _ = uri.partition("://")
    return bool(sep) and scheme != "file"


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


async def _write_blob(uri: str, data: bytes) -> str:
    if _is_remote(uri):
        import flyte_storage

        return str(await flyte_storage.put_stream(data, to_path=uri) or uri)
    path = _local(uri)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # Written aside and renamed into place: another process (a child action) may read `path`
    # at any moment, and a sibling parent may write the same content-addressed file.
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return uri


async def _read_blob(uri: str) -> bytes:
    if _is_remote(uri):
        import flyte_storage

        return b"".join([chunk async for chunk in flyte_storage.get_stream(uri)])
    with open(_local(uri), "rb") as f:
        return f.read()


def _run_id(action: Any) -> identifier_pb2.RunIdentifier:
    from flyteidl2.common import identifier_pb2

    return identifier_pb2.RunIdentifier(
        org=action.org or "",
        project=action.project or "",
        domain=action.domain or "",
        name=action.run_name or "",
    )


def _trace_identity(func: Any) -> str:
    """The function's name and a hash of its body (its bare name when the source is unknown)."""
    from flyte_models import FunctionBodyPolicy, VersionParameters

    name = getattr(func, "__name__", str(func))
    try:
        version = FunctionBodyPolicy().get_version("", VersionParameters(func=func))
    except Exception:
        return name
    return f"{name}-{version}"


def _error_document(error: BaseException) -> bytes:
    """`core.ErrorDocument` for an exception raised by a trace (or a task)."""
    from flyteidl2.core import execution_pb2

    ee, ce = execution_pb2.ExecutionError, execution_pb2.ContainerError
    if isinstance(error, ferr.BaseRuntimeError):
        code = error.code
        origin = {"system": ee.SYSTEM, "user": ee.USER}.get(error.kind, ee.UNKNOWN)
        recoverable = error.is_retryable
    else:
        code, origin, recoverable = type(error).__name__, ee.USER, True
    doc = execution_pb2.ErrorDocument(
        error=ce(
            code=code,
            message=str(error) or type(error).__name__,
            kind=ce.RECOVERABLE if recoverable else ce.NON_RECOVERABLE,
            origin=origin,
        )
    )
    return bytes(doc.SerializeToString())


def _backoff(failures: int) -> float:
    import random

    delay: float = min(_BACKOFF_MIN_S * 2 ** min(failures, 16), _BACKOFF_MAX_S)
    return delay * (0.75 + random.random() / 2)


# ---------------------------------------------------------------------------------------------
# One watch stream per parent action
# ---------------------------------------------------------------------------------------------


class _ParentWatch:
    """The children of one parent action, kept current by one shared watch stream.

    The stream is opened on first use; the server sends the existing children, a sentinel
    (`ready`), then live updates. When the stream drops it is re-opened with backoff; the resent
    snapshot brings every child up to date. After too many consecutive failures every waiter
    fails with a system error.
    """

    def __init__(
        self,
        controller: RemoteController,
        run_id: identifier_pb2.RunIdentifier,
        parent_name: str,
    ) -> None:
        self.controller = controller
        self.run_id = run_id
        self.parent_name = parent_name
        self.states: dict[str, state_service_pb2.ActionUpdate] = {}
        self._waiters: dict[str, list[asyncio.Future[Any]]] = {}
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        self.subscriptions = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"flyte-watch-{self.parent_name}"
            )

    async def wait_ready(self) -> None:
        """Wait for the snapshot of existing children (the sentinel).

        A backend that never sends a sentinel is tolerated: after `_SENTINEL_WAIT_S` the calls
        go ahead (a child that already exists is then reported by `ALREADY_EXISTS`).
        """
        self.start()
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), _SENTINEL_WAIT_S)
            except asyncio.TimeoutError:
                logger.warning(
                    "no sentinel on the watch of %s's children after %.0fs; going ahead",
                    self.parent_name,
                    _SENTINEL_WAIT_S,
                )
                self.ready.set()
        if self.failure is not None:
            raise self.failure

    def _stream(self) -> Any:
        from flyteidl2.common import identifier_pb2

        c = self.controller
        parent = identifier_pb2.ActionIdentifier(name=self.parent_name, run=self.run_id)
        clients = c.clients()
        if c.use_actions:
            from flyteidl2.actions import actions_service_pb2

            return clients.actions_service.WatchForUpdates(
                actions_service_pb2.WatchForUpdatesRequest(parent_action_id=parent),
                metadata=c.actions_headers(self.run_id, self.parent_name),
            )
        from flyteidl2.workflow import state_service_pb2

        return clients.state_service.Watch(state_service_pb2.WatchRequest(parent_action_id=parent))

    async def _run(self) -> None:
        failures = 0
        while True:
            call = None
            try:
                call = self._stream()
                self.subscriptions += 1
                async for resp in call:
                    failures = 0
                    if resp.HasField("control_message"):
                        if resp.control_message.sentinel:
                            self.ready.set()
                        continue
                    if resp.HasField("action_update"):
                        self._observe(resp.action_update)
                logger.info("watch of %s's children ended; re-subscribing", self.parent_name)
            except asyncio.CancelledError:
                if call is not None:
                    call.cancel()
                raise
            except Exception as e:
                failures += 1
                code = _rpc_code(e)
                logger.warning(
                    "watch of %s's children failed (%s: %s), attempt %d/%d",
                    self.parent_name,
                    code or type(e).__name__,
                    _rpc_details(e),
                    failures,
                    _WATCH_MAX_FAILURES,
                )
                if failures >= _WATCH_MAX_FAILURES or (
                    code is not None and code not in _TRANSIENT_CODES and failures >= 3
                ):
                    self._fail(
                        ferr.RuntimeSystemError(
                            "InformerWatchFailure",
                            f"cannot watch the child actions of {self.parent_name}: "
                            f"{code or type(e).__name__}: {_rpc_details(e)}",
                        )
                    )
                    return
            await asyncio.sleep(_backoff(failures))

    def _observe(self, update: state_service_pb2.ActionUpdate) -> None:
        name = update.action_id.name
        self.states[name] = update
        if update.phase in _TERMINAL:
            for fut in self._waiters.pop(name, ()):
                if not fut.done():
                    fut.set_result(update)

    def _fail(self, error: BaseException) -> None:
        self.failure = error
        self.ready.set()
        waiters, self._waiters = self._waiters, {}
        for futs in waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(error)

    async def wait_terminal(self, name: str) -> state_service_pb2.ActionUpdate:
        current = self.states.get(name)
        if current is not None and current.phase in _TERMINAL:
            return current
        if self.failure is not None:
            raise self.failure
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(fut)
        try:
            result: state_service_pb2.ActionUpdate = await fut
            return result
        finally:
            futs = self._waiters.get(name)
            if futs is not None and fut in futs:
                futs.remove(fut)
                if not futs:
                    self._waiters.pop(name, None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass


# ---------------------------------------------------------------------------------------------
# The controller
# ---------------------------------------------------------------------------------------------


async def _call_inputs(
    name: str,
    interface: NativeInterface,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    tctx: TaskContext,
    max_bytes: int,
) -> common_pb2.Inputs:
    """The `Inputs` of a task call; arguments the interface rejects raise `RuntimeUserError`."""
    from flyte_types import build_inputs

    try:
        bound = interface.convert_to_kwargs(*args, **kwargs)
        return await build_inputs(
            interface, bound, context=tctx.custom_context or None, max_bytes=max_bytes
        )
    except ferr.BaseRuntimeError:
        raise
    except Exception as e:
        raise ferr.RuntimeUserError(type(e).__name__, f"{name}: {e}") from e


class _Prepared:
    """What a task needs for every call: its spec and identity (computed once per task)."""

    __slots__ = ("spec", "identity", "task_id", "ignored", "discoverable", "version")

    def __init__(
        self,
        spec: task_definition_pb2.TaskSpec,
        task_id: task_definition_pb2.TaskIdentifier | None = None,
    ) -> None:
        from flyteidl2.task import task_definition_pb2

        tmpl = spec.task_template
        self.spec = spec
        self.identity = task_identity_hash(tmpl)
        self.task_id = task_id or task_definition_pb2.TaskIdentifier(
            org=tmpl.id.org,
            project=tmpl.id.project,
            domain=tmpl.id.domain,
            name=tmpl.id.name,
            version=tmpl.id.version,
        )
        self.ignored = frozenset(tmpl.metadata.cache_ignore_input_vars)
        self.discoverable = tmpl.metadata.discoverable
        self.version = tmpl.metadata.discovery_version


class RemoteController:
    """Submits the task calls made inside one `a0` process as child actions and waits for them.

    Args:
        endpoint: The control plane (`dns:///host:port`, `host:port`, `http(s)://...`).
        insecure: Plain-text HTTP/2 instead of TLS; None: as the backend's environment says
            (`_U_INSECURE`, see `flyte_client.InClusterEnv`), decided on first use.
        use_actions: Use ActionsService instead of QueueService + StateService.
        client_factory: Builds the `flyte_client.ClientSet` (tests); by default
            `flyte_client.create_in_cluster_client_set` on first use.
    """

    def __init__(
        self,
        endpoint: str | None,
        *,
        insecure: bool | None = False,
        use_actions: bool = False,
        client_factory: Callable[[], ClientSet] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._insecure = insecure
        self._environ: Any = None  # where `insecure=None` is looked up (os.environ by default)
        self.use_actions = use_actions
        self._client_factory = client_factory
        self._clients: ClientSet | None = None
        self._watches: dict[tuple[str, str, str, str], _ParentWatch] = {}
        self._prepared: dict[int, tuple[Any, _Prepared]] = {}
        self._prepare_locks: dict[int, asyncio.Lock] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._parent_limit = int(os.environ.get(PARENT_CONCURRENCY_ENV) or 1000)
        self._image_cache: Any = None
        self.enqueued = 0

    @classmethod
    def from_env(cls, environ: Any = None) -> RemoteController:
        """Build the controller the backend configured through `_U_*` environment variables.

        Only the endpoint and `_U_USE_ACTIONS` are read here (`a0` imports no client module at
        start-up); the TLS setting and credentials are read by `flyte_client._incluster` on the
        first nested call.
        """
        env = os.environ if environ is None else environ
        truthy = ("1", "true", "yes", "on")
        controller = cls(
            (env.get(ENDPOINT_ENV) or "").strip() or None,
            insecure=None,
            use_actions=str(env.get(USE_ACTIONS_ENV, "")).strip().lower() in truthy,
        )
        controller._environ = environ
        return controller

    @property
    def insecure(self) -> bool:
        """Whether the control plane is reached over plain-text HTTP/2."""
        if self._insecure is None:
            if not self.endpoint:
                return False
            from flyte_client._incluster import default_insecure

            self._insecure = default_insecure(self.endpoint, self._environ)
        return self._insecure

    # -- connections -----------------------------------------------------------------------------

    def clients(self) -> ClientSet:
        """The client set, created on first use (this is when grpc is imported).

        Authentication comes from the environment the backend gives the task
        (`flyte_client.in_cluster_platform`): `_UNION_EAGER_API_KEY` /
        `EAGER_API_KEY` (an API key), `FLYTE_AUTH_PROXY_COMMAND` (a
        `proxy-authorization` token command), or the other `FLYTE_*` settings
        `flyte_client.PlatformConfig.auto()` reads; the endpoint and TLS setting are the
        controller's. Calls carry request ids and retry transient failures.
        """
        if self._clients is None:
            if self._client_factory is not None:
                self._clients = self._client_factory()
            else:
                from flyte_client import create_in_cluster_client_set

                assert self.endpoint is not None
                self._clients = create_in_cluster_client_set(self.endpoint, insecure=self.insecure)
        return self._clients

    @staticmethod
    def actions_headers(
        run_id: identifier_pb2.RunIdentifier, parent: str
    ) -> tuple[tuple[str, str], ...]:
        return (
            ("x-actions-project", run_id.project),
            ("x-actions-domain", run_id.domain),
            ("x-actions-run", run_id.name),
            ("x-actions-parent-action", parent),
        )

    async def close(self) -> None:
        """Stop the watch streams and close the channel."""
        watches, self._watches = list(self._watches.values()), {}
        for w in watches:
            await w.close()
        if self._clients is not None:
            clients, self._clients = self._clients, None
            try:
                await clients.close(None)
            except Exception:  # pragma: no cover - closing a broken channel
                pass

    def _watch(self, run_id: identifier_pb2.RunIdentifier, parent: str) -> _ParentWatch:
        key = (run_id.project, run_id.domain, run_id.name, parent)
        w = self._watches.get(key)
        if w is None:
            w = self._watches[key] = _ParentWatch(self, run_id, parent)
        return w

    # -- translation -------------------------------------------------------------------------------

    def _decoded_image_cache(self, raw: Any) -> Any:
        if raw is None or not isinstance(raw, str):
            return raw
        if self._image_cache is None:
            from flyte_runtime._images import ImageCache

            try:
                self._image_cache = ImageCache.from_transport(raw)
            except Exception as e:
                raise ferr.RuntimeSystemError(
                    "BadImageCache", f"cannot decode the --image-cache value: {e}"
                ) from e
        return self._image_cache

    async def _prepare(self, task: TaskTemplate[Any, Any, Any], tctx: TaskContext) -> _Prepared:
        cached = self._prepared.get(id(task))
        if cached is not None and cached[0] is task:
            return cached[1]
        # Concurrent first calls of one task (a gather) prepare it once: a pkl bundle is written
        # once, not rewritten while an earlier child may be reading it.
        async with self._prepare_locks.setdefault(id(task), asyncio.Lock()):
            cached = self._prepared.get(id(task))
            if cached is not None and cached[0] is task:
                return cached[1]
            return await self._prepare_once(task, tctx)

    async def _prepare_once(
        self, task: TaskTemplate[Any, Any, Any], tctx: TaskContext
    ) -> _Prepared:
        from pathlib import Path

        from flyte_client._spec import translate_task_to_spec
        from flyte_models import SerializationContext

        action = tctx.action
        bundle = tctx.code_bundle
        if tctx.interactive_mode or (bundle is not None and bundle.pkl):
            bundle = await self._child_pkl_bundle(task, tctx)
        root_dir = Path(bundle.destination).absolute() if bundle is not None else Path.cwd()
        sctx = SerializationContext(
            version=tctx.version or "unknown",
            project=action.project,
            domain=action.domain,
            org=action.org,
            code_bundle=bundle,
            image_cache=self._decoded_image_cache(tctx.compiled_image_cache),
            root_dir=root_dir,
        )
        try:
            spec = translate_task_to_spec(task, sctx, documentation=False)
        except ferr.BaseRuntimeError:
            raise
        except Exception as e:
            raise ferr.RuntimeSystemError(
                "SerializationError", f"cannot submit task {task.name!r}: {type(e).__name__}: {e}"
            ) from e
        prepared = _Prepared(spec)
        self._prepared[id(task)] = (task, prepared)
        return prepared

    async def _child_pkl_bundle(self, task: TaskTemplate[Any, Any, Any], tctx: TaskContext) -> Any:
        """A task loaded from a pkl bundle (or run interactively) calls others through pkl
        bundles of their own, written under the run base directory."""
        import dataclasses

        from flyte_models import CodeBundle
        from flyte_runtime._codebundle import build_pkl_bundle

        local = await asyncio.to_thread(build_pkl_bundle, task)
        uri = await _write_blob(tctx.run_base_dir.rstrip("/") + "/" + local.filename, local.data)
        if tctx.code_bundle is None:
            return CodeBundle(pkl=uri, computed_version=local.md5_hex)
        return dataclasses.replace(
            tctx.code_bundle, pkl=uri, tgz=None, computed_version=local.md5_hex
        )

    # -- submission --------------------------------------------------------------------------------

    async def submit(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run `task(*args, **kwargs)` as a child action of the running task; return its result.

        Raises:
            TraceDoesNotAllowNestedTasksError: When called inside `@flyte.trace`.
            RuntimeUserError: The child's user error (its code and message), or bad arguments.
            RuntimeSystemError: The child's system error, or the control plane failing.
            TaskTimeoutError: The child timed out.
            ActionAbortedError: The child was aborted.
        """
        tctx = self._call_context(task.name, remote=False)
        async with self._parent_slot(tctx):
            max_bytes = task.max_inline_io_bytes
            interface = task.native_interface
            inputs = await _call_inputs(task.name, interface, args, kwargs, tctx, max_bytes)
            prepared = await self._prepare(task, tctx)
            return await self._call_child(
                tctx, task.name, interface, max_bytes, inputs, prepared, task.queue
            )

    def _call_context(self, name: str, *, remote: bool) -> TaskContext:
        """The running task's context for a child call of `name`.

        Raises:
            TraceDoesNotAllowNestedTasksError: When called inside `@flyte.trace`.
            RuntimeSystemError: When no task is running.
            RemoteControllerUnavailableError: When there is no control plane to submit to.
        """
        from flyte_models import current_task_context
        from flyte_runtime._state import in_trace

        trace_name = in_trace()
        if trace_name is not None:
            what, it = ("Remote task", "it") if remote else ("Task", "the task")
            raise ferr.TraceDoesNotAllowNestedTasksError(
                f"{what} {name!r} was called inside the trace {trace_name!r}; traces may not "
                f"call tasks. Call {it} from the task body instead."
            )
        tctx = current_task_context()
        if tctx is None:
            call = "remote task call" if remote else "task call"
            raise ferr.RuntimeSystemError("BadContext", f"a {call} was submitted outside a task")
        if not self.endpoint and self._client_factory is None:
            raise RemoteControllerUnavailableError(name)
        return tctx

    def _parent_slot(self, tctx: TaskContext) -> asyncio.Semaphore:
        """The semaphore bounding the concurrent child calls of the running task."""
        parent = (tctx.task_action or tctx.action).name
        limit = self._limits.get(parent)
        if limit is None:
            limit = self._limits[parent] = asyncio.Semaphore(max(1, self._parent_limit))
        return limit

    async def _call_child(
        self,
        tctx: TaskContext,
        name: str,
        interface: NativeInterface,
        max_bytes: int,
        inputs: Any,
        prepared: _Prepared,
        queue: str | None,
    ) -> Any:
        """Run one task call as a child action (or watch the one an earlier attempt started).

        The child's name is deterministic (task identity, inputs, call sequence, group); its
        inputs are written and it is enqueued only if the run does not have it yet. Waits for it
        to end and returns its decoded outputs; aborts it if the caller is cancelled.
        """
        from flyteidl2.common import identifier_pb2
        from flyteidl2.workflow import run_definition_pb2
        from google.protobuf import wrappers_pb2

        from flyte_types import write_inputs

        action = tctx.action
        parent = (tctx.task_action or action).name
        group = tctx.group_data.name if tctx.group_data else ""
        full_hash = inputs_hash(inputs)
        name_hash = inputs_hash(inputs, prepared.ignored) if prepared.ignored else full_hash
        call_key = f"{prepared.identity}:{name_hash}" + (f":{group}" if group else "")
        seq = tctx._call_counter.next(call_key)
        child = action.new_sub_action_from(
            task_call_seq=seq,
            task_hash=prepared.identity,
            input_hash=name_hash,
            group=group or None,
        ).name
        run_id = _run_id(action)
        child_id = identifier_pb2.ActionIdentifier(name=child, run=run_id)
        run_base = tctx.run_base_dir.rstrip("/")
        input_uri = f"{run_base}/{child}/inputs.pb"

        watch = self._watch(run_id, parent)
        await watch.wait_ready()
        if child not in watch.states:
            try:
                await write_inputs(inputs, input_uri, max_bytes=max_bytes)
            except ferr.BaseRuntimeError:
                raise
            except Exception as e:
                raise ferr.RuntimeSystemError(
                    type(e).__name__, f"cannot write the inputs of {name} to {input_uri}: {e}"
                ) from e
            cache_key = None
            if prepared.discoverable:
                cache_key = cache_key_hash(
                    name, name_hash, prepared.spec.task_template.interface, prepared.version
                )
            task_action = run_definition_pb2.TaskAction(
                id=prepared.task_id,
                spec=prepared.spec,
                cache_key=wrappers_pb2.StringValue(value=cache_key) if cache_key else None,
                queue=queue or "",
            )
            await self._send(child_id, parent, group, input_uri, run_base, task=task_action)
        else:
            logger.info("child action %s of %s already exists; watching it", child, parent)
        try:
            update = await watch.wait_terminal(child)
        except asyncio.CancelledError:
            await asyncio.shield(self._abort(child_id, parent, "the calling task was cancelled"))
            raise
        return await self._result(name, interface, max_bytes, update, run_base, child, action.name)

    # -- deployed tasks ("task references") ----------------------------------------------------------

    async def submit_task_ref(self, task: TaskDetails, kwargs: dict[str, Any]) -> Any:
        """Run a deployed task (`flyte.remote.Task.get(...)`) as a child action; return its result.

        The child is enqueued with the deployed task's own identifier and `TaskSpec` (its image,
        code bundle and version, not the caller's); the arguments are converted with the
        interface read from that spec, and the outputs are decoded with it.

        Args:
            task: The fetched task (`flyte_client.remote.TaskDetails`).
            kwargs: The call's arguments, by input name.

        Raises:
            TraceDoesNotAllowNestedTasksError: When called inside `@flyte.trace`.
            RuntimeUserError: The child's user error, or arguments the interface rejects.
            RuntimeSystemError: The child's system error, or the control plane failing.
            TaskTimeoutError: The child timed out.
            ActionAbortedError: The child was aborted.
        """
        tctx = self._call_context(task.name, remote=True)
        async with self._parent_slot(tctx):
            max_bytes = task.max_inline_io_bytes
            interface = task.interface
            inputs = await _call_inputs(task.name, interface, (), kwargs, tctx, max_bytes)
            prepared = _Prepared(task.task_spec, task_id=task.task_id)
            return await self._call_child(
                tctx, task.name, interface, max_bytes, inputs, prepared, task.queue
            )

    # -- traces ------------------------------------------------------------------------------------

    async def run_trace(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        call: Callable[[], Awaitable[Any]],
    ) -> Any:
        """Run an async `@flyte.trace` function as a recorded trace action of the running task.

        The call gets a deterministic child name (function name and body, inputs, sequence,
        group). If an earlier attempt of the parent recorded it, its outputs are returned (or its
        non-recoverable error raised) without running it again; otherwise `call()` runs here,
        in the parent's process, and its outputs (`outputs.pb`) or error (`error.pb`) are
        written under `{run_base}/{child}/` and recorded with a `TraceAction`.

        Args:
            func: The traced function (its signature gives the trace's interface).
            args: Positional arguments of the call.
            kwargs: Keyword arguments of the call.
            call: Runs the function and returns its result.

        Returns:
            The function's result (replayed or fresh).
        """
        from flyte_models import NativeInterface, current_task_context
        from flyte_types import build_inputs, write_inputs

        tctx = current_task_context()
        if tctx is None or (not self.endpoint and self._client_factory is None):
            return await call()
        name = getattr(func, "__name__", "trace")
        try:
            interface = NativeInterface.from_callable(func)
            inputs = await build_inputs(interface, interface.convert_to_kwargs(*args, **kwargs))
        except Exception as e:  # values the type engine cannot carry: run it, unrecorded
            logger.info("trace %s is not recorded: its inputs cannot be converted (%s)", name, e)
            return await call()
        action = tctx.action
        parent = (tctx.task_action or action).name
        group = tctx.group_data.name if tctx.group_data else ""
        identity = _trace_identity(func)
        ihash = inputs_hash(inputs)
        seq = tctx._call_counter.next(f"{identity}:{ihash}" + (f":{group}" if group else ""))
        child = action.new_sub_action_from(
            task_call_seq=seq, task_hash=identity, input_hash=ihash, group=group or None
        ).name
        run_id = _run_id(action)
        run_base = tctx.run_base_dir.rstrip("/")
        input_uri = f"{run_base}/{child}/inputs.pb"
        await write_inputs(inputs, input_uri)
        watch = self._watch(run_id, parent)
        await watch.wait_ready()
        replayed = await self._replay_trace(watch.states.get(child), interface, name)
        if replayed is not None:
            return replayed[0]

        import time

        start = time.time()
        error: BaseException | None = None
        value: Any = None
        try:
            value = await call()
        except Exception as e:
            error = e
        end = time.time()
        output_uri = ""
        if error is not None:
            await _write_blob(f"{run_base}/{child}/error.pb", _error_document(error))
        elif interface.outputs:
            from flyte_types import build_outputs, write_outputs

            output_uri = f"{run_base}/{child}/outputs.pb"
            await write_outputs(await build_outputs(interface, value), output_uri)
        await self._record_trace(
            run_id,
            child,
            parent,
            group,
            input_uri,
            run_base,
            name,
            interface,
            start,
            end,
            output_uri,
            failed=error is not None,
        )
        await watch.wait_terminal(child)
        if error is not None:
            raise error
        return value

    async def _replay_trace(
        self, prev: state_service_pb2.ActionUpdate | None, interface: Any, name: str
    ) -> tuple[Any] | None:
        """`(value,)` of a trace an earlier attempt recorded, or None to run it again."""
        if prev is None or prev.phase not in _TERMINAL:
            return None
        from flyteidl2.core import execution_pb2

        if prev.phase == _FAILED:
            recoverable = prev.error.recoverability == execution_pb2.ContainerError.RECOVERABLE
            if prev.HasField("error") and not recoverable:
                raise error_to_exception(prev.error)
            return None  # a recoverable (or unknown) failure: run it again
        if prev.phase not in (_SUCCEEDED, _RECOVERED):
            return None
        if not interface.outputs:
            return (None,)
        if not prev.output_uri:
            return None
        from flyte_types import read_outputs

        uri = prev.output_uri
        if not uri.endswith("/outputs.pb"):
            uri = uri.rstrip("/") + "/outputs.pb"
        logger.info("trace %s replayed from %s", name, uri)
        return (await read_outputs(uri, interface),)

    async def _record_trace(
        self,
        run_id: identifier_pb2.RunIdentifier,
        child: str,
        parent: str,
        group: str,
        input_uri: str,
        run_base: str,
        name: str,
        interface: Any,
        start: float,
        end: float,
        output_uri: str,
        *,
        failed: bool,
    ) -> None:
        from flyteidl2.common import identifier_pb2
        from flyteidl2.task import common_pb2, task_definition_pb2
        from flyteidl2.workflow import run_definition_pb2
        from google.protobuf import timestamp_pb2

        from flyte_types import translate_interface

        def ts(t: float) -> timestamp_pb2.Timestamp:
            out = timestamp_pb2.Timestamp()
            out.FromNanoseconds(int(t * 1e9))
            return out

        trace = run_definition_pb2.TraceAction(
            name=name,
            phase=_FAILED if failed else _SUCCEEDED,  # type: ignore[arg-type]
            start_time=ts(start),
            end_time=ts(end),
            outputs=common_pb2.OutputReferences(output_uri=output_uri),
            spec=task_definition_pb2.TraceSpec(interface=translate_interface(interface)),
        )
        child_id = identifier_pb2.ActionIdentifier(name=child, run=run_id)
        await self._send(child_id, parent, group, input_uri, run_base, trace=trace)

    # -- conditions ----------------------------------------------------------------------------

    async def register_condition(self, condition: Any) -> None:
        """Create `condition` (`flyte.new_condition`) as a condition action of the running task.

        The action's name is deterministic (the condition's name as both identity and inputs
        hash, its sequence among same-named conditions, the group), so a retried parent finds
        the condition its earlier attempt created (and the value it may have received) instead of
        creating another. The action carries a `ConditionAction` (name, prompt, prompt type,
        description, payload `LiteralType`, timeout, webhook) and no inputs (its `input_uri`,
        which the control plane requires, points at `{run_base}/{child}/inputs.pb`, never
        written). Returns once it is enqueued; `wait_for_condition` waits for its value.

        Raises:
            RuntimeSystemError: Outside a task, or the control plane failing.
            RemoteControllerUnavailableError: When there is no control plane to submit to.
        """
        from flyteidl2.common import identifier_pb2

        from flyte_models import current_task_context

        tctx = current_task_context()
        if tctx is None:
            raise ferr.RuntimeSystemError(
                "BadContext", f"condition {condition.name!r} was created outside a task"
            )
        if not self.endpoint and self._client_factory is None:
            raise RemoteControllerUnavailableError(f"condition {condition.name}")
        action = tctx.action
        # A condition created inside a trace still belongs to the task (the trace's parent).
        parent = (tctx.task_action or action).name
        group = tctx.group_data.name if tctx.group_data else ""
        seq = tctx._call_counter.next(condition.name + (f":{group}" if group else ""))
        child = action.new_sub_action_from(
            task_call_seq=seq,
            task_hash=condition.name,
            input_hash=condition.name,
            group=group or None,
        ).name
        run_id = _run_id(action)
        child_id = identifier_pb2.ActionIdentifier(name=child, run=run_id)
        run_base = tctx.run_base_dir.rstrip("/")
        condition._remote = (child_id, parent)
        watch = self._watch(run_id, parent)
        await watch.wait_ready()
        if child in watch.states:
            logger.info("condition %s (%s) already exists; watching it", condition.name, child)
            return
        logger.info("condition %s is the condition action %s of %s", condition.name, child, parent)
        await self._send(
            child_id,
            parent,
            group,
            f"{run_base}/{child}/inputs.pb",
            run_base,
            condition=_condition_action(condition),
        )

    async def wait_for_condition(self, condition: Any) -> Any:
        """Wait until `condition`'s action ends; return the signalled value as its `data_type`.

        The value arrives in the action's update (`ActionUpdate.value`, a `Literal`), on the
        parent's shared watch stream. A condition not registered yet is registered first.

        Raises:
            ConditionTimedoutError: The condition was not signalled within its timeout.
            ConditionFailedError: The condition action failed, or its value is not a
                `data_type` value.
            ActionAbortedError: The condition action was aborted.
        """
        handle = getattr(condition, "_remote", None)
        if handle is None:
            await self.register_condition(condition)
            handle = condition._remote
        child_id, parent = handle
        watch = self._watch(child_id.run, parent)
        await watch.wait_ready()
        logger.info("waiting for condition %s (%s)", condition.name, child_id.name)
        update = await watch.wait_terminal(child_id.name)
        return _condition_result(condition, update)

    async def _send(
        self,
        child_id: identifier_pb2.ActionIdentifier,
        parent: str,
        group: str,
        input_uri: str,
        run_base: str,
        *,
        task: Any = None,
        trace: Any = None,
        condition: Any = None,
    ) -> None:
        """Enqueue a child action (a task, a recorded trace or a condition), retrying transient
        errors."""
        clients = self.clients()
        if task is not None:
            what = task.id.name
        elif trace is not None:
            what = f"trace {trace.name}"
        else:
            what = f"condition {condition.name}"
        failures = 0
        while True:
            try:
                if self.use_actions:
                    from flyteidl2.actions import actions_service_pb2

                    await clients.actions_service.Enqueue(
                        actions_service_pb2.EnqueueRequest(
                            action=actions_service_pb2.Action(
                                action_id=child_id,
                                parent_action_name=parent,
                                input_uri=input_uri,
                                run_output_base=run_base,
                                group=group,
                                task=task,
                                trace=trace,
                                condition=condition,
                            )
                        ),
                        metadata=self.actions_headers(child_id.run, parent),
                        timeout=_ENQUEUE_TIMEOUT_S,
                    )
                else:
                    from flyteidl2.workflow import queue_service_pb2

                    await clients.queue_service.EnqueueAction(
                        queue_service_pb2.EnqueueActionRequest(
                            action_id=child_id,
                            parent_action_name=parent,
                            input_uri=input_uri,
                            run_output_base=run_base,
                            group=group,
                            task=task,
                            trace=trace,
                            condition=condition,
                        ),
                        timeout=_ENQUEUE_TIMEOUT_S,
                    )
                self.enqueued += 1
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                code = _rpc_code(e)
                if code == "ALREADY_EXISTS":
                    return  # an earlier attempt (or a racing call) enqueued it: watch it
                failures += 1
                if code is None or code not in _TRANSIENT_CODES or failures >= _ENQUEUE_ATTEMPTS:
                    raise ferr.RuntimeSystemError(
                        code or type(e).__name__,
                        f"cannot enqueue child action {child_id.name} ({what}): {_rpc_details(e)}",
                    ) from e
                logger.warning(
                    "enqueue of %s failed (%s), retrying", child_id.name, _rpc_details(e)
                )
                await asyncio.sleep(_backoff(failures))

    async def _abort(
        self, child_id: identifier_pb2.ActionIdentifier, parent: str, why: str
    ) -> None:
        try:
            clients = self.clients()
            if self.use_actions:
                from flyteidl2.actions import actions_service_pb2

                await clients.actions_service.Abort(
                    actions_service_pb2.AbortRequest(action_id=child_id, reason=why),
                    metadata=self.actions_headers(child_id.run, parent),
                    timeout=_ENQUEUE_TIMEOUT_S,
                )
            else:
                from flyteidl2.workflow import queue_service_pb2

                await clients.queue_service.AbortQueuedAction(
                    queue_service_pb2.AbortQueuedActionRequest(action_id=child_id, reason=why),
                    timeout=_ENQUEUE_TIMEOUT_S,
                )
        except Exception as e:  # the child may have finished; nothing else to do
            logger.info("abort of %s failed: %s", child_id.name, _rpc_details(e))

    async def _result(
        self,
        task_name: str,
        interface: NativeInterface,
        max_bytes: int,
        update: state_service_pb2.ActionUpdate,
        run_base: str,
        child: str,
        parent: str,
    ) -> Any:
        phase = update.phase
        if phase == _ABORTED:
            raise ferr.ActionAbortedError(
                f"Action {child} ({task_name}) was aborted, aborting current action {parent}"
            )
        if phase == _TIMED_OUT:
            message = f"Action {child} ({task_name}) timed out, in action {parent}"
            if update.HasField("error"):
                cls = _TIMEOUT_CODES.get(_user_code(update.error.code), ferr.TaskTimeoutError)
                raise cls(f"{message}: {update.error.message}")
            raise ferr.TaskTimeoutError(message)
        if phase == _FAILED or update.HasField("error"):
            if update.HasField("error"):
                raise error_to_exception(update.error)
            raise await self._error_from_file(run_base, child, task_name)
        if not interface.outputs:
            return None
        if not update.output_uri:
            raise ferr.RuntimeSystemError(
                "OutputsNotFound",
                f"action {child} ({task_name}) succeeded without an output location, but the "
                "task declares outputs",
            )
        from flyte_types import read_outputs

        uri = update.output_uri
        if not uri.endswith("/outputs.pb"):
            uri = uri.rstrip("/") + "/outputs.pb"
        try:
            return await read_outputs(uri, interface, max_bytes=max_bytes)
        except ferr.BaseRuntimeError:
            raise
        except Exception as e:
            raise ferr.RuntimeSystemError(
                type(e).__name__, f"cannot read the outputs of {child} ({task_name}) at {uri}: {e}"
            ) from e

    async def _error_from_file(self, run_base: str, child: str, task_name: str) -> Exception:
        """The error of a child that failed without reporting one: its first attempt's error.pb."""
        from flyteidl2.core import execution_pb2

        uri = f"{run_base}/{child}/1/error.pb"
        try:
            data = await _read_blob(uri)
            ce = execution_pb2.ErrorDocument.FromString(data).error
        except Exception as e:
            return ferr.RuntimeSystemError(
                type(e).__name__,
                f"child action {child} ({task_name}) failed and its error file {uri} could not be "
                f"read: {e}",
            )
        return error_to_exception(
            execution_pb2.ExecutionError(code=ce.code, message=ce.message, kind=ce.origin)
        )


def _condition_action(condition: Any) -> Any:
    """The `ConditionAction` of a `flyte.new_condition` condition."""
    from datetime import timedelta

    from flyteidl2.core import types_pb2
    from flyteidl2.workflow import run_definition_pb2

    simple = {
        bool: types_pb2.BOOLEAN,
        int: types_pb2.INTEGER,
        float: types_pb2.FLOAT,
        str: types_pb2.STRING,
    }[condition.data_type]
    prompt_type = {
        "text": run_definition_pb2.CONDITION_PROMPT_TYPE_TEXT,
        "markdown": run_definition_pb2.CONDITION_PROMPT_TYPE_MARKDOWN,
    }[condition.prompt_type]
    action = run_definition_pb2.ConditionAction(
        name=condition.name,
        type=types_pb2.LiteralType(simple=simple),
        prompt=condition.prompt,
        description=condition.description,
        prompt_type=prompt_type,
    )
    if condition.timeout_seconds:
        action.timeout.FromTimedelta(timedelta(seconds=condition.timeout_seconds))
    if condition.webhook is not None:
        action.webhook.url = condition.webhook.url
        if condition.webhook.payload:
            action.webhook.payload.update(condition.webhook.payload)
    return action


def _condition_result(condition: Any, update: state_service_pb2.ActionUpdate) -> Any:
    """The value of a condition action that ended (or the error it ended with)."""
    from flyte_runtime._condition import payload_from_literal

    name, child = condition.name, update.action_id.name
    detail = f": {update.error.message}" if update.HasField("error") else ""
    if update.phase == _ABORTED:
        raise ferr.ActionAbortedError(f"Condition {name!r} (action {child}) was aborted{detail}")
    if update.phase == _TIMED_OUT:
        raise ferr.ConditionTimedoutError(
            f"Condition {name!r} (action {child}) was not signalled within its timeout of "
            f"{condition.timeout_seconds:g} seconds"
            if condition.timeout_seconds
            else f"Condition {name!r} (action {child}) timed out{detail}"
        )
    if update.phase == _FAILED or update.HasField("error"):
        raise ferr.ConditionFailedError(f"Condition {name!r} (action {child}) failed{detail}")
    if not update.HasField("value"):
        logger.warning("condition %s (%s) ended without a value", name, child)
        return None
    return payload_from_literal(update.value, condition.data_type, name)


# ---------------------------------------------------------------------------------------------
# The call handler `a0` installs
# ---------------------------------------------------------------------------------------------


class RemoteTaskCallHandler:
    """Routes task calls made inside `a0`'s task to a `RemoteController` (a `TaskCallHandler`).

    Args:
        controller: The controller.
        loop: The event loop `a0` runs the task on (sync tasks submit to it from their thread).
    """

    def __init__(self, controller: RemoteController, loop: asyncio.AbstractEventLoop) -> None:
        self.controller = controller
        self.loop = loop

    def is_active(self) -> bool:
        from flyte_models import current_task_context

        return current_task_context() is not None

    def call(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        from flyte_runtime._compose import dispatch_task_call

        return dispatch_task_call(
            task, lambda: self.controller.submit(task, args, kwargs), self.loop
        )

    async def call_aio(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        return await self.controller.submit(task, args, kwargs)

    async def submit_task_ref(self, task: TaskDetails, kwargs: dict[str, Any]) -> Any:
        """A deployed task called from the task (`await flyte.remote.Task.get(...)(x=1)`).

        A call made on another event loop (a sync task running `asyncio.run(...)` in its thread)
        is submitted on `a0`'s loop, where the controller's watch streams live.
        """
        from flyte_runtime._compose import await_on_loop

        return await await_on_loop(self.loop, lambda: self.controller.submit_task_ref(task, kwargs))
