"""The process-wide client session: one configuration, one `ClientSet` per running event loop.

grpc.aio channels are bound to the event loop they were created on, and the SDK runs coroutines
on more than one loop (the caller's, and the background loop that runs sync wrappers). So the
session keeps the configuration and an authenticator (tokens are shared), and creates a
`ClientSet` lazily for each loop that asks for one.

```python
import flyte_client

flyte_client.init_session(flyte_client.auto())      # or a PlatformConfig
async def main():
    clients = flyte_client.get_client()             # the ClientSet for this loop
    await clients.project_service.ListProjects(...)
flyte_client.reset_session()                        # closes every channel
```
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flyte_client._clientset import ClientSet, normalize_endpoint
from flyte_client._config import Config, PlatformConfig
from flyte_client.errors import ConfigError

if TYPE_CHECKING:
    from flyte_client._auth import Authenticator

__all__ = [
    "create_client_set",
    "current_config",
    "get_client",
    "init_session",
    "is_initialized",
    "reset_session",
]


class _Session:
    def __init__(self, config: Config, authenticator: Authenticator | None) -> None:
        self.config = config
        self.authenticator = authenticator
        self.clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, ClientSet
        ] = weakref.WeakKeyDictionary()


_lock = threading.Lock()
_session: _Session | None = None


def _as_config(config: Config | PlatformConfig) -> Config:
    if isinstance(config, Config):
        return config
    if isinstance(config, PlatformConfig):
        return Config(platform=config)
    raise TypeError(
        f"init_session() takes a flyte_client.Config or PlatformConfig, got {type(config).__name__}"
    )


def init_session(config: Config | PlatformConfig) -> None:
    """Configure the process-wide session (replacing, and closing, any previous one).

    No connection is made here; channels open on first use, one per event loop.

    Args:
        config: A `Config` (e.g. `flyte_client.auto()`) or just its `PlatformConfig`.

    Raises:
        ConfigError: If the platform config has no endpoint or an inconsistent auth setup.
    """
    global _session
    cfg = _as_config(config)
    platform = cfg.platform
    if platform.api_key and not platform.endpoint:
        from flyte_client._auth import platform_from_api_key

        platform = platform_from_api_key(platform.api_key, platform)
        cfg = cfg.with_params(platform=platform)
    if not platform.endpoint:
        raise ConfigError(
            "no endpoint configured. Fix: pass one (flyte.init(endpoint='dns:///localhost:30080')),"
            " set admin.endpoint in a config file, or set FLYTE_ADMIN_ENDPOINT / FLYTE_API_KEY.",
            key="admin.endpoint",
        )
    from flyte_client._auth import create_authenticator

    authenticator = create_authenticator(platform)
    with _lock:
        old, _session = _session, _Session(cfg, authenticator)
    if old is not None:
        _close_all(old)


def is_initialized() -> bool:
    """Whether `init_session` has been called (and not reset)."""
    return _session is not None


def current_config() -> Config:
    """The session's configuration.

    Raises:
        InitializationError: If no session is initialised.
    """
    session = _session
    if session is None:
        raise _not_initialized()
    return session.config


def get_client() -> ClientSet:
    """The `ClientSet` for the running event loop, created (with auth and retries) on first use.

    Must be called from a coroutine: grpc.aio channels belong to one event loop.

    Raises:
        InitializationError: If no session is initialised, or no event loop is running.
    """
    session = _session
    if session is None:
        raise _not_initialized()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        from flyte_models.errors import InitializationError

        raise InitializationError(
            "NoEventLoop",
            "user",
            "flyte_client.get_client() must be called from a coroutine (a running event loop): "
            "gRPC channels are bound to their loop. Fix: call it inside `async def`, or use the "
            "synchronous wrappers.",
        ) from None
    with _lock:
        clients = session.clients.get(loop)
        if clients is None:
            clients = create_client_set(
                session.config.platform, authenticator=session.authenticator
            )
            session.clients[loop] = clients
    return clients


def reset_session() -> None:
    """Forget the session and close its channels (on their own loops)."""
    global _session
    with _lock:
        old, _session = _session, None
    if old is not None:
        _close_all(old)


def _close_all(session: _Session) -> None:
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for loop, clients in list(session.clients.items()):
        if loop.is_closed():
            continue
        if loop is running:
            task = loop.create_task(clients.close())
            _PENDING.add(task)
            task.add_done_callback(_PENDING.discard)
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(clients.close(), loop)
        else:
            try:
                loop.run_until_complete(clients.close())
            except RuntimeError:  # another loop runs in this thread: the channel dies with it
                pass
    session.clients.clear()


_PENDING: set[asyncio.Task[None]] = set()


def _not_initialized() -> Exception:
    from flyte_models.errors import InitializationError

    return InitializationError(
        "NotInitialized",
        "user",
        "no Flyte client session. Fix: call flyte.init(endpoint=...) / flyte.init_from_config() "
        "(or flyte_client.init_session(config)) first.",
    )


def _is_loopback(target: str) -> bool:
    host = target.rsplit(":", 1)[0].strip("[]")
    return host in {"localhost", "127.0.0.1", "::1", "0.0.0.0"} or host.startswith("127.")


# insecure_skip_verify: the certificate fetched per target, reused by later client sets (loops).
_SKIP_VERIFY_CERTS: dict[str, tuple[bytes, str | None]] = {}


def _target(endpoint: str, *, insecure: bool) -> str:
    """`normalize_endpoint`, but a TLS endpoint written without a port gets 443, not 80."""
    target = normalize_endpoint(endpoint)
    bare = endpoint.strip()
    for prefix in ("dns:///", "grpcs://"):
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
    if not insecure and "://" not in bare and ":" not in bare.rstrip("/").split("]")[-1]:
        target = target.rsplit(":", 1)[0] + ":443"
    return target


def fetch_server_certificate(target: str, timeout: float = 10.0) -> tuple[bytes, str | None]:
    """Fetch the certificate a TLS server presents, without verifying it (insecure_skip_verify).

    Returns:
        The PEM certificate(s) and the name the certificate is issued to (to override the
        TLS target name, since skip-verify must not fail on a host-name mismatch).
    """
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    import socket

    try:
        with (
            socket.create_connection((host, int(port)), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=host) as tls,
        ):
            chain_fn = getattr(tls, "get_unverified_chain", None)  # Python >= 3.13
            if chain_fn is not None:
                ders = [_der(c) for c in chain_fn()]
            else:
                leaf = tls.getpeercert(binary_form=True)
                ders = [leaf] if leaf else []
    except OSError as e:
        from flyte_client.errors import EndpointUnreachableError

        raise EndpointUnreachableError(
            f"cannot fetch the TLS certificate of {target} (insecure_skip_verify): {e}. Fix: "
            "check the endpoint and that the server speaks TLS (use insecure for plain text).",
            status="UNAVAILABLE",
            details=str(e),
            what="fetch server certificate",
        ) from e
    pems = b"".join(ssl.DER_cert_to_PEM_cert(d).encode() for d in ders)
    return pems, _certificate_name(ders[0]) if ders else None


def _der(cert: Any) -> bytes:
    if isinstance(cert, bytes):
        return cert
    return ssl.PEM_cert_to_DER_cert(cert.public_bytes())  # ssl.Certificate (PEM by default)


def _certificate_name(der: bytes) -> str | None:
    try:
        from cryptography import x509  # pants: no-infer-dep
        from cryptography.x509.oid import NameOID  # pants: no-infer-dep
    except ImportError:  # optional: keyring's Secret Service backend brings it on Linux
        return None
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = san.value.get_values_for_type(x509.DNSName)
        if names:
            return str(names[0])
    except x509.ExtensionNotFound:
        pass
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else None


def create_client_set(
    platform: PlatformConfig,
    *,
    authenticator: Authenticator | None = None,
    interceptors: Sequence[Any] = (),
    options: Sequence[tuple[str, Any]] = (),
) -> ClientSet:
    """A `ClientSet` for `platform` with TLS, request ids, retries and auth wired in.

    Interceptors, outermost first: request id, retry (`rpc_retries`), auth (skipped when
    `insecure`, or when there is nothing to authenticate with), then `interceptors`.
    Call it on the event loop that will use the client set.

    Args:
        platform: The endpoint and TLS/auth settings.
        authenticator: Share one authenticator (and its tokens) between client sets; by default
            one is made from `platform`.
        interceptors: Extra grpc.aio client interceptors (innermost).
        options: Extra gRPC channel options.

    Raises:
        ConfigError: No endpoint, or an unreadable CA file.
    """
    from flyte_client._interceptors import (
        AuthInterceptor,
        RequestIdInterceptor,
        RetryInterceptor,
    )

    if not platform.endpoint:
        raise ConfigError(
            "no endpoint configured. Fix: set admin.endpoint (or FLYTE_ADMIN_ENDPOINT).",
            key="admin.endpoint",
        )
    target = _target(platform.endpoint, insecure=platform.insecure)
    opts: list[tuple[str, Any]] = list(options)
    root_certificates: bytes | None = None
    insecure = platform.insecure
    if not insecure:
        if platform.insecure_skip_verify:
            cached = _SKIP_VERIFY_CERTS.get(target)
            if cached is None:
                cached = _SKIP_VERIFY_CERTS[target] = fetch_server_certificate(target)
            root_certificates, name = cached
            if name and not name.startswith("*"):
                opts.append(("grpc.ssl_target_name_override", name))
        elif platform.ca_cert_file_path:
            path = os.path.expanduser(platform.ca_cert_file_path)
            try:
                with open(path, "rb") as fh:
                    root_certificates = fh.read()
            except OSError as e:
                raise ConfigError(
                    f"admin.caCertFilePath {path} cannot be read ({e}). Fix: point it to a PEM "
                    "CA bundle.",
                    key="admin.caCertFilePath",
                ) from e
    if platform.http_proxy_url:
        opts.append(("grpc.http_proxy", platform.http_proxy_url))

    if authenticator is None and not insecure:
        from flyte_client._auth import create_authenticator

        authenticator = create_authenticator(platform)
    chain: list[Any] = [
        *RequestIdInterceptor().interceptors(),
        *RetryInterceptor(max_retries=platform.rpc_retries, endpoint=target).interceptors(),
    ]
    if authenticator is not None and not insecure:
        chain.extend(AuthInterceptor(authenticator).interceptors())
    if platform.proxy_command:
        from flyte_client._auth import ProxyAuthInterceptor

        chain.extend(ProxyAuthInterceptor(platform.proxy_command).interceptors())
    chain.extend(interceptors)
    clients = ClientSet.for_endpoint(
        target,
        insecure=insecure,
        root_certificates=root_certificates,
        interceptors=chain,
        options=opts,
    )
    clients.platform = platform
    clients.authenticator = authenticator
    if authenticator is not None:
        authenticator.bind_metadata_source(target, insecure, root_certificates, opts)
    return clients
