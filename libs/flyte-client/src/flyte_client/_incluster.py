"""The control plane of the task this process runs, as the backend describes it in the environment.

A backend starts a task's runtime (`a0`) with variables naming the control plane that started it
(PROTOCOL.md section 3.3): `_U_EP_OVERRIDE` (the endpoint), `_U_INSECURE` (plain-text HTTP/2),
`_U_INSECURE_SKIP_VERIFY` (TLS without verifying the certificate), `_UNION_EAGER_API_KEY` or
`EAGER_API_KEY` (an API key for the task), and the run's `_U_ORG_NAME`,
`FLYTE_INTERNAL_EXECUTION_PROJECT` and `FLYTE_INTERNAL_EXECUTION_DOMAIN`.

This module turns those into a client: `InClusterEnv.read()` parses them (None outside a task),
`in_cluster_platform(...)` makes the `PlatformConfig` (the client configuration a task may have,
`FLYTE_*` variables or a mounted config file, for authentication, with the endpoint and TLS
setting from the backend), and `create_in_cluster_client_set(...)` the `ClientSet`. An interactive
login (PKCE, device flow) is never started inside a task.

Used by the runtime's in-task controller for its own calls, and by `flyte_client.remote` when
nothing else was configured (`flyte.remote.Run.get(...)` inside a task). Importing this module
costs only the standard library; the config and gRPC modules are imported when a client is made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_client._clientset import ClientSet
    from flyte_client._config import PlatformConfig

__all__ = [
    "API_KEY_ENVS",
    "DOMAIN_ENV",
    "ENDPOINT_ENV",
    "INSECURE_ENV",
    "INSECURE_SKIP_VERIFY_ENV",
    "ORG_ENV",
    "PROJECT_ENV",
    "InClusterEnv",
    "create_in_cluster_client_set",
    "default_insecure",
    "in_cluster_platform",
]

logger = logging.getLogger("flyte_client")

ENDPOINT_ENV = "_U_EP_OVERRIDE"
INSECURE_ENV = "_U_INSECURE"
INSECURE_SKIP_VERIFY_ENV = "_U_INSECURE_SKIP_VERIFY"
API_KEY_ENVS = ("_UNION_EAGER_API_KEY", "EAGER_API_KEY")
ORG_ENV = "_U_ORG_NAME"
PROJECT_ENV = "FLYTE_INTERNAL_EXECUTION_PROJECT"
DOMAIN_ENV = "FLYTE_INTERNAL_EXECUTION_DOMAIN"

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})
# Hosts a backend reaches over plain text when it does not say (a local backend, Docker's host).
_PLAIN_TEXT_HOSTS = ("localhost", "docker")


def _flag(value: str | None) -> bool | None:
    """True/False for a recognised boolean text, None when unset or empty."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def default_insecure(endpoint: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the backend's endpoint is plain text: `_U_INSECURE` when it is set to a boolean,
    else True only for an endpoint naming `localhost` or a Docker host (as the backend's own
    default endpoint does).

    Args:
        endpoint: The endpoint (`_U_EP_OVERRIDE`).
        environ: The environment (`os.environ` by default).
    """
    env = os.environ if environ is None else environ
    explicit = _flag(env.get(INSECURE_ENV))
    if explicit is not None:
        return explicit
    return any(host in endpoint.lower() for host in _PLAIN_TEXT_HOSTS)


def _api_key(env: Mapping[str, str]) -> str | None:
    """The task's API key: `_UNION_EAGER_API_KEY`, else `EAGER_API_KEY`."""
    return next((env[k] for k in API_KEY_ENVS if env.get(k)), None)


@dataclass(frozen=True)
class InClusterEnv:
    """The control plane and run scope the backend gave this task.

    Args:
        endpoint: `_U_EP_OVERRIDE`.
        insecure: Plain-text HTTP/2 (see `default_insecure`).
        insecure_skip_verify: `_U_INSECURE_SKIP_VERIFY`.
        api_key: `_UNION_EAGER_API_KEY`, else `EAGER_API_KEY`.
        org: `_U_ORG_NAME`.
        project: `FLYTE_INTERNAL_EXECUTION_PROJECT`.
        domain: `FLYTE_INTERNAL_EXECUTION_DOMAIN`.
    """

    endpoint: str
    insecure: bool = False
    insecure_skip_verify: bool = False
    api_key: str | None = field(default=None, repr=False)
    org: str = ""
    project: str = ""
    domain: str = ""

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> InClusterEnv | None:
        """The backend's settings, or None when `_U_EP_OVERRIDE` is not set (not in a task, or
        a backend that does not offer its control plane to tasks).

        Args:
            environ: The environment (`os.environ` by default).
        """
        env = os.environ if environ is None else environ
        endpoint = (env.get(ENDPOINT_ENV) or "").strip()
        if not endpoint:
            return None
        return cls(
            endpoint=endpoint,
            insecure=default_insecure(endpoint, env),
            insecure_skip_verify=bool(_flag(env.get(INSECURE_SKIP_VERIFY_ENV))),
            api_key=_api_key(env),
            org=env.get(ORG_ENV) or "",
            project=env.get(PROJECT_ENV) or "",
            domain=env.get(DOMAIN_ENV) or "",
        )


def in_cluster_platform(
    endpoint: str | None = None,
    *,
    insecure: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> PlatformConfig:
    """The `PlatformConfig` to reach the control plane that started this task.

    Authentication comes from what the task's environment offers: the backend's API key
    (`_UNION_EAGER_API_KEY` / `EAGER_API_KEY`), else the client configuration
    (`flyte_client.PlatformConfig.auto()`: `FLYTE_AUTH_COMMAND`, client
    credentials, `FLYTE_AUTH_PROXY_COMMAND`, a config file such as `$FLYTECTL_CONFIG`). A
    configured interactive login (PKCE, device flow) becomes `Passthrough`: a task has no browser.
    The token cache does not use the keyring. The endpoint and TLS setting are the backend's.

    Args:
        endpoint: The control plane; `_U_EP_OVERRIDE` by default.
        insecure: Plain-text HTTP/2; by default as `default_insecure` decides.
        environ: Where the `_U_*` variables are read (`os.environ` by default); the client
            configuration is always read from the process environment.

    Raises:
        ConfigError: If no endpoint is given and `_U_EP_OVERRIDE` is not set.
    """
    from flyte_client._config import PlatformConfig
    from flyte_client.errors import ConfigError

    env = os.environ if environ is None else environ
    backend = InClusterEnv.read(env)
    if endpoint is None:
        if backend is None:
            raise ConfigError(
                f"no control plane endpoint in this task's environment: ${ENDPOINT_ENV} is not "
                f"set. Fix: the backend that starts the task must set {ENDPOINT_ENV} (e.g. "
                "dns:///host:port), or call flyte.init(endpoint=...) in the task.",
                key=ENDPOINT_ENV,
            )
        endpoint = backend.endpoint
    if insecure is None:
        insecure = default_insecure(endpoint, env)
    try:
        base = PlatformConfig.auto()
    except Exception as e:  # a broken config file must not stop the task's calls
        logger.warning("ignoring the Flyte client configuration in this task: %s", e)
        base = PlatformConfig()
    api_key = _api_key(env) or base.api_key
    mode = base.auth_mode
    if not (api_key or base.command or base.client_credentials_secret) and mode in (
        "Pkce",
        "DeviceFlow",
    ):
        mode = "Passthrough"
    return base.replace(
        endpoint=endpoint,
        insecure=insecure,
        insecure_skip_verify=base.insecure_skip_verify
        or bool(backend and backend.insecure_skip_verify),
        api_key=api_key,
        auth_mode=mode,
        disable_keyring=True,
    )


def create_in_cluster_client_set(
    endpoint: str | None = None,
    *,
    insecure: bool | None = None,
    environ: Mapping[str, str] | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> ClientSet:
    """A `ClientSet` (TLS, request ids, retries, auth) to the control plane that started this
    task, configured by `in_cluster_platform`. No connection is made until the first call; call
    it on the event loop that will use the client set.

    Args:
        endpoint: The control plane; `_U_EP_OVERRIDE` by default.
        insecure: Plain-text HTTP/2; by default from the environment.
        environ: Where the `_U_*` variables are read (`os.environ` by default).
        options: Extra gRPC channel options.

    Raises:
        ConfigError: If no endpoint is given and `_U_EP_OVERRIDE` is not set.
    """
    from flyte_client._session import create_client_set

    platform = in_cluster_platform(endpoint, insecure=insecure, environ=environ)
    return create_client_set(platform, options=options)
