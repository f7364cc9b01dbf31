"""How the remote objects reach the control plane: one `ClientSet` per event loop, and defaults.

Everything in `flyte_client.remote` goes through `_clients()` and `_scope()`. The control plane
is, in this order: the `flyte_client` session (`init_session(...)`, which `flyte.init(endpoint=...)`
opens), the endpoint given to `configure(...)`, and, inside a task a backend started, the control
plane the backend names in the environment (`_U_EP_OVERRIDE`, see `flyte_client._incluster`),
with the run's org, project and domain as defaults. The last is looked up on the first call, so
starting a task costs nothing for it.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from flyte_models import errors as ferr

if TYPE_CHECKING:
    from flyte_client._clientset import ClientSet
    from flyte_client._incluster import InClusterEnv

__all__ = ["RemoteConfig", "configure", "console_url", "current_config", "reset"]


@dataclass
class RemoteConfig:
    """Where the remote objects connect and which project/domain they default to."""

    endpoint: str | None = None
    insecure: bool = False
    org: str = ""
    project: str = ""
    domain: str = ""
    console_endpoint: str | None = None


_CONFIG = RemoteConfig()
_FACTORY: Callable[[], ClientSet] | None = None
# One ClientSet per event loop: grpc.aio channels are bound to the loop that created them.
_BY_LOOP: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, ClientSet
] = weakref.WeakKeyDictionary()
# The task environment `_BY_LOOP`'s client sets were made from (None: from `_CONFIG`).
_BY_LOOP_SOURCE: InClusterEnv | None = None


def configure(
    endpoint: str | None,
    *,
    insecure: bool = False,
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    console_endpoint: str | None = None,
    client_factory: Callable[[], ClientSet] | None = None,
) -> None:
    """Point the remote objects at a control plane (used until a session API is configured).

    Args:
        endpoint: `host:port`, `dns:///host:port` or an `http(s)://` URL; None disconnects.
        insecure: Plain-text HTTP/2 (e.g. a devbox on loopback).
        org: The organisation sent in identifiers.
        project: Default project for `Run.listall`, `Task.get`, ...
        domain: Default domain.
        console_endpoint: Base URL of the web console for `Run.url` (defaults to the endpoint).
        client_factory: Makes the ClientSet of each event loop (e.g. with the auth a task
            inherits from its environment); a plain channel to `endpoint` when None.
    """
    global _FACTORY, _BY_LOOP_SOURCE
    _FACTORY = client_factory
    _BY_LOOP_SOURCE = None
    _CONFIG.endpoint = endpoint
    _CONFIG.insecure = insecure
    _CONFIG.org = org or ""
    _CONFIG.project = project or ""
    _CONFIG.domain = domain or ""
    _CONFIG.console_endpoint = console_endpoint
    _BY_LOOP.clear()


def reset() -> None:
    """Forget the configured endpoint and cached channels (tests use this between devboxes)."""
    configure(None)


def current_config() -> RemoteConfig:
    """The configuration in effect (a copy): `configure(...)`'s, else the session's, else the
    control plane of the task this process runs (`_in_cluster()`)."""
    if _CONFIG.endpoint:
        return RemoteConfig(**vars(_CONFIG))
    session = _session_config()
    if session is not None:
        return session
    task_env = _in_cluster()
    if task_env is not None:
        return RemoteConfig(
            endpoint=task_env.endpoint,
            insecure=task_env.insecure,
            org=task_env.org,
            project=task_env.project,
            domain=task_env.domain,
        )
    return RemoteConfig(**vars(_CONFIG))


def _in_cluster() -> InClusterEnv | None:
    """The control plane the backend named for the task this process runs, or None."""
    if not os.environ.get("_U_EP_OVERRIDE"):  # outside a task: skip the import
        return None
    from flyte_client._incluster import InClusterEnv

    return InClusterEnv.read()


def _session_initialized() -> bool:
    try:
        from flyte_client._session import is_initialized
    except ImportError:  # pragma: no cover - session support not installed
        return False
    return bool(is_initialized())


def _session_config() -> RemoteConfig | None:
    if not _session_initialized():
        return None
    from flyte_client._session import current_config as session_config

    cfg = session_config()
    return RemoteConfig(
        endpoint=cfg.platform.endpoint,
        insecure=bool(cfg.platform.insecure),
        org=cfg.task.org or "",
        project=cfg.task.project or "",
        domain=cfg.task.domain or "",
        console_endpoint=cfg.platform.console_endpoint,
    )


# Reconnect quickly after the control plane restarts (gRPC's default backoff grows to 120 s).
_CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.min_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5000),
)


def _clients() -> ClientSet:
    """The ClientSet for the running event loop: the `flyte_client` session's (auth, TLS,
    retries) when one is initialised, else a plain channel to the `configure(...)` endpoint,
    else, inside a task, one to the control plane that started it (with the task's auth).

    Raises:
        InitializationError: If no control plane is configured.
    """
    global _BY_LOOP_SOURCE
    if _session_initialized():
        from flyte_client._session import get_client

        return get_client()
    task_env = None if _CONFIG.endpoint else _in_cluster()
    if not _CONFIG.endpoint and task_env is None:
        raise ferr.InitializationError(
            "ClientNotInitialized",
            "user",
            "No control plane is configured: call flyte.init(endpoint=...) (or "
            "flyte.init_from_config(...)) before using flyte.remote. (Inside a task, the "
            "backend names its control plane in _U_EP_OVERRIDE; it is not set here.)",
        )
    loop = asyncio.get_running_loop()
    if task_env != _BY_LOOP_SOURCE:  # made from another configuration
        _BY_LOOP.clear()
        _BY_LOOP_SOURCE = task_env
    clients = _BY_LOOP.get(loop)
    if clients is None:
        if task_env is not None:
            from flyte_client._incluster import create_in_cluster_client_set

            clients = create_in_cluster_client_set(
                task_env.endpoint, insecure=task_env.insecure, options=_CHANNEL_OPTIONS
            )
        elif _FACTORY is not None:
            clients = _FACTORY()
        else:
            from flyte_client._clientset import ClientSet

            assert _CONFIG.endpoint is not None
            clients = ClientSet.for_endpoint(
                _CONFIG.endpoint, insecure=_CONFIG.insecure, options=_CHANNEL_OPTIONS
            )
        _BY_LOOP[loop] = clients
    return clients


T = TypeVar("T")


async def call(rpc: Callable[[ClientSet], Awaitable[T]], what: str) -> T:
    """Await `rpc(clients)`; a failure (or a missing configuration) is raised as
    `translate(exc, what)`, the typed error naming `what` (e.g. "get run 'r1'")."""
    from flyte_client.remote._errors import translate

    try:
        return await rpc(_clients())
    except Exception as exc:
        raise translate(exc, what) from exc


def _scope(project: str | None = None, domain: str | None = None) -> tuple[str, str, str]:
    """(org, project, domain), explicit arguments first, then the configured defaults."""
    cfg = current_config()
    return (
        cfg.org,
        project or cfg.project or os.environ.get("FLYTE_INTERNAL_EXECUTION_PROJECT", ""),
        domain or cfg.domain or os.environ.get("FLYTE_INTERNAL_EXECUTION_DOMAIN", ""),
    )


def console_url(path: str) -> str:
    """The web console URL for `path` (e.g. `v2/domain/d/project/p/runs/r`)."""
    cfg = current_config()
    base = cfg.console_endpoint or cfg.endpoint or ""
    if not base:
        return ""
    if base.startswith("dns:///"):
        base = base[len("dns:///") :]
    if "://" not in base:
        base = ("http://" if cfg.insecure else "https://") + base
    base = base.rstrip("/")
    # The reference points its console at 8080 when the API is the local backend on 8090.
    if base.endswith("localhost:8090"):
        base = base[: -len("8090")] + "8080"
    return f"{base}/{path.lstrip('/')}"
