"""A task's control plane from the backend's environment (`flyte_client._incluster`), and
`flyte_client.remote` finding it on its first call when nothing else was configured.

The servers are real loopback gRPC servers (conftest `ControlPlane`), plain text or TLS with a
real OAuth2 token endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import pathlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from flyteidl2.project import project_service_pb2

import flyte_client
from flyte_client import ConfigError, PlatformConfig
from flyte_client._incluster import (
    InClusterEnv,
    create_in_cluster_client_set,
    default_insecure,
    in_cluster_platform,
)
from flyte_client.remote import Project
from flyte_client.remote import _client as remote_client
from flyte_models.errors import InitializationError

if TYPE_CHECKING:
    from conftest import ControlPlane, Tls

BACKEND_VARS = (
    "_U_EP_OVERRIDE",
    "_U_INSECURE",
    "_U_INSECURE_SKIP_VERIFY",
    "_UNION_EAGER_API_KEY",
    "EAGER_API_KEY",
    "_U_ORG_NAME",
    "FLYTE_INTERNAL_EXECUTION_PROJECT",
    "FLYTE_INTERNAL_EXECUTION_DOMAIN",
)


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> Iterator[None]:
    """No backend variables, no client config from this machine, nothing configured."""
    for name in BACKEND_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in ("FLYTE_AUTH_TYPE", "FLYTE_AUTH_COMMAND", "FLYTE_ADMIN_ENDPOINT", "FLYTE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("UCTL_CONFIG", "FLYTECTL_CONFIG", "FLYTE_ADMIN_CACERTFILEPATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLYTE_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    flyte_client.reset_session()
    remote_client.reset()
    yield
    flyte_client.reset_session()
    remote_client.reset()


def backend_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, **extra: str) -> None:
    """The variables a backend sets when it starts a task (PROTOCOL.md section 3.3)."""
    monkeypatch.setenv("_U_EP_OVERRIDE", endpoint)
    monkeypatch.setenv("_U_ORG_NAME", "acme")
    monkeypatch.setenv("FLYTE_INTERNAL_EXECUTION_PROJECT", "flytesnacks")
    monkeypatch.setenv("FLYTE_INTERNAL_EXECUTION_DOMAIN", "development")
    for k, v in extra.items():
        monkeypatch.setenv(k, v)


# ---------------------------------------------------------------------------------------------
# Reading the environment
# ---------------------------------------------------------------------------------------------


def test_outside_a_task_there_is_nothing_to_read() -> None:
    assert InClusterEnv.read({}) is None
    assert InClusterEnv.read({"_U_EP_OVERRIDE": "  ", "_U_ORG_NAME": "acme"}) is None
    assert InClusterEnv.read() is None  # the (cleaned) process environment


def test_the_backends_variables_are_read() -> None:
    env = InClusterEnv.read(
        {
            "_U_EP_OVERRIDE": "dns:///flyte.internal:8090",
            "_U_INSECURE": "true",
            "_U_INSECURE_SKIP_VERIFY": "1",
            "_UNION_EAGER_API_KEY": "key-1",
            "EAGER_API_KEY": "key-2",
            "_U_ORG_NAME": "acme",
            "FLYTE_INTERNAL_EXECUTION_PROJECT": "p",
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": "d",
        }
    )
    assert env == InClusterEnv(
        endpoint="dns:///flyte.internal:8090",
        insecure=True,
        insecure_skip_verify=True,
        api_key="key-1",  # _UNION_EAGER_API_KEY before EAGER_API_KEY
        org="acme",
        project="p",
        domain="d",
    )
    assert "key-1" not in repr(env)
    only = InClusterEnv.read({"_U_EP_OVERRIDE": "h:1", "EAGER_API_KEY": "key-2"})
    assert only is not None and only.api_key == "key-2"
    assert (only.org, only.project, only.domain, only.insecure_skip_verify) == ("", "", "", False)


@pytest.mark.parametrize(
    ("endpoint", "flag", "insecure"),
    [
        ("dns:///flyte.internal:8090", None, False),  # TLS unless told otherwise
        ("dns:///flyte.internal:8090", "", False),
        ("dns:///flyte.internal:8090", "true", True),
        ("dns:///flyte.internal:8090", "1", True),
        ("dns:///flyte.internal:8090", "False", False),
        ("localhost:8090", None, True),  # a local backend, as the reference decides
        ("host.docker.internal:8090", None, True),
        ("localhost:8090", "false", False),  # an explicit setting wins
        ("dns:///127.0.0.1:8090", None, False),
    ],
)
def test_the_insecure_flag(endpoint: str, flag: str | None, insecure: bool) -> None:
    environ = {"_U_EP_OVERRIDE": endpoint}
    if flag is not None:
        environ["_U_INSECURE"] = flag
    assert default_insecure(endpoint, environ) is insecure
    env = InClusterEnv.read(environ)
    assert env is not None and env.insecure is insecure
    assert in_cluster_platform(environ=environ).insecure is insecure


# ---------------------------------------------------------------------------------------------
# The client configuration
# ---------------------------------------------------------------------------------------------


def test_platform_from_the_environment_never_logs_in_interactively() -> None:
    platform = in_cluster_platform(
        environ={"_U_EP_OVERRIDE": "dns:///flyte.internal:8090", "_U_INSECURE_SKIP_VERIFY": "yes"}
    )
    assert platform.endpoint == "dns:///flyte.internal:8090"
    assert platform.insecure is False and platform.insecure_skip_verify is True
    assert platform.auth_mode == "Passthrough"  # the default Pkce needs a browser
    assert platform.api_key is None
    assert platform.disable_keyring is True


def test_platform_carries_the_backends_api_key() -> None:
    platform = in_cluster_platform(environ={"_U_EP_OVERRIDE": "h:1", "_UNION_EAGER_API_KEY": "k"})
    assert platform.api_key == "k"
    assert platform.auth_mode == "Pkce"  # the key decides (client credentials); not replaced


def test_platform_keeps_the_tasks_own_auth_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_AUTH_COMMAND", "print-token --audience flyte")
    monkeypatch.setenv("FLYTE_ADMIN_ENDPOINT", "dns:///elsewhere:443")  # the backend's wins
    platform = in_cluster_platform(environ={"_U_EP_OVERRIDE": "dns:///flyte.internal:8090"})
    assert platform.auth_mode == "ExternalCommand"
    assert platform.command == ["print-token", "--audience", "flyte"]
    assert platform.endpoint == "dns:///flyte.internal:8090"


def test_explicit_endpoint_and_insecure_win_over_the_environment() -> None:
    environ = {"_U_EP_OVERRIDE": "dns:///flyte.internal:8090", "_U_INSECURE": "false"}
    platform = in_cluster_platform("dns:///other:1", insecure=True, environ=environ)
    assert (platform.endpoint, platform.insecure) == ("dns:///other:1", True)
    # an explicit endpoint needs no _U_EP_OVERRIDE
    assert in_cluster_platform("h:1", insecure=False, environ={}).endpoint == "h:1"


def test_no_endpoint_anywhere_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"_U_EP_OVERRIDE is not set.*flyte.init"):
        in_cluster_platform(environ={})


def test_a_broken_config_file_does_not_stop_the_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FLYTECTL_CONFIG", str(tmp_path / "missing.yaml"))
    with caplog.at_level(logging.WARNING, logger="flyte_client"):
        platform = in_cluster_platform(environ={"_U_EP_OVERRIDE": "h:1", "_U_INSECURE": "1"})
    assert (platform.endpoint, platform.insecure) == ("h:1", True)
    assert "missing.yaml" in caplog.text


async def test_client_set_reaches_the_control_plane(
    plain_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_env(monkeypatch, plain_plane.endpoint, _U_INSECURE="true")
    async with create_in_cluster_client_set() as clients:
        assert clients.platform is not None and clients.platform.auth_mode == "Passthrough"
        resp = await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
        assert [p.id for p in resp.projects.projects] == ["flytesnacks"]
    assert plain_plane.calls.methods == ["ListProjects"]


# ---------------------------------------------------------------------------------------------
# flyte_client.remote inside a task
# ---------------------------------------------------------------------------------------------


async def test_remote_objects_find_the_tasks_control_plane(
    plain_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_env(monkeypatch, plain_plane.endpoint, _U_INSECURE="true")
    cfg = remote_client.current_config()
    assert (cfg.endpoint, cfg.insecure, cfg.org, cfg.project, cfg.domain) == (
        plain_plane.endpoint,
        True,
        "acme",
        "flytesnacks",
        "development",
    )
    assert remote_client._scope() == ("acme", "flytesnacks", "development")

    assert [p.id async for p in Project.listall.aio()] == ["flytesnacks"]
    assert plain_plane.calls.methods == ["ListProjects"]
    here = remote_client._clients()
    assert remote_client._clients() is here  # one per event loop
    assert here.endpoint == plain_plane.endpoint and here.insecure

    other: list[object] = []

    def in_other_loop() -> None:
        async def use() -> None:
            other.append(remote_client._clients())
            other.append([p.id async for p in Project.listall.aio()])

        asyncio.run(use())

    await asyncio.wait_for(asyncio.to_thread(in_other_loop), 30)
    assert other[0] is not here and other[1] == ["flytesnacks"]


async def test_remote_objects_authenticate_with_the_backends_api_key(
    tls_plane: ControlPlane, tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS (no `_U_INSECURE`) and the key the backend gives the task: a bearer token from the
    OAuth2 server is attached, as the control plane demands."""
    key = base64.b64encode(f"{tls_plane.endpoint}:flyte-cli:s3cret:acme".encode()).decode()
    backend_env(monkeypatch, tls_plane.endpoint, _UNION_EAGER_API_KEY=key)
    monkeypatch.setenv("FLYTE_ADMIN_CACERTFILEPATH", str(tls.ca_path))
    assert [p.id async for p in Project.listall.aio()] == ["flytesnacks"]
    assert tls_plane.calls.metadata[-1]["authorization"].startswith("Bearer tok-")
    assert remote_client._clients().authenticator is not None


async def test_explicit_configuration_wins(
    plain_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_env(monkeypatch, "127.0.0.1:9", _U_INSECURE="true")  # nothing listens there
    remote_client.configure(plain_plane.endpoint, insecure=True, project="mine")
    cfg = remote_client.current_config()
    assert (cfg.endpoint, cfg.project) == (plain_plane.endpoint, "mine")
    assert [p.id async for p in Project.listall.aio()] == ["flytesnacks"]

    remote_client.reset()
    assert remote_client.current_config().endpoint == "127.0.0.1:9"  # back to the task's

    flyte_client.init_session(PlatformConfig(endpoint=plain_plane.endpoint, insecure=True))
    assert remote_client.current_config().endpoint == plain_plane.endpoint
    assert remote_client._clients() is flyte_client.get_client()
    assert [p.id async for p in Project.listall.aio()] == ["flytesnacks"]
    assert len(plain_plane.calls.methods) == 2


async def test_without_configuration_or_task_environment_the_error_says_what_to_do() -> None:
    assert remote_client.current_config().endpoint is None
    with pytest.raises(InitializationError, match=r"flyte.init\(endpoint=\.\.\.\)"):
        remote_client._clients()
    with pytest.raises(Exception, match="flyte.init"):
        [p async for p in Project.listall.aio()]


async def test_a_changed_environment_makes_a_new_client_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend_env(monkeypatch, "127.0.0.1:9", _U_INSECURE="true")
    first = remote_client._clients()
    assert first.endpoint == "127.0.0.1:9"
    monkeypatch.setenv("_U_EP_OVERRIDE", "127.0.0.1:10")
    second = remote_client._clients()
    assert second is not first and second.endpoint == "127.0.0.1:10"
    await first.close()
    await second.close()
