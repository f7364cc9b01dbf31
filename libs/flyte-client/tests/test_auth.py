"""Auth flows against a real OAuth2 server and a TLS grpc.aio server that demands bearer tokens."""

from __future__ import annotations

import asyncio
import base64
import pathlib
import stat
import sys
from typing import TYPE_CHECKING

import grpc
import grpc.aio
import httpx
import pytest
from flyteidl2.project import project_service_pb2

import flyte_client
from flyte_client import OAuthEndpoints, PlatformConfig, TokenStore, create_client_set
from flyte_client._auth import (
    Credentials,
    DeviceFlowAuthenticator,
    PkceAuthenticator,
    create_authenticator,
)
from flyte_client.errors import AuthenticationError

if TYPE_CHECKING:
    from conftest import ControlPlane, OAuthServer, Tls

LIST = project_service_pb2.ListProjectsRequest


def bearer(md: dict[str, str]) -> str:
    return md.get("authorization", "").removeprefix("Bearer ")


def platform(plane: ControlPlane, tls: Tls, **kw: object) -> PlatformConfig:
    return PlatformConfig(endpoint=plane.endpoint, ca_cert_file_path=str(tls.ca_path), **kw)  # type: ignore[arg-type]


async def list_projects(clients: flyte_client.ClientSet) -> list[str]:
    resp = await clients.project_service.ListProjects(LIST())
    return [p.id for p in resp.projects.projects]


async def test_client_credentials_attach_and_refresh_on_unauthenticated(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    p = platform(
        tls_plane,
        tls,
        auth_mode="ClientSecret",
        client_id="flyte-cli",
        client_credentials_secret="s3cret",
    )
    async with create_client_set(p) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
        assert bearer(tls_plane.calls.metadata[-1]) == "tok-1"
        oauth.state.revoke_all()  # the server now rejects tok-1
        assert await list_projects(clients) == ["flytesnacks"]
    assert oauth.state.grants == ["client_credentials", "client_credentials"]
    assert tls_plane.discovery_calls == 1  # endpoints discovered once, then reused
    assert [bearer(md) for md in tls_plane.calls.metadata] == ["tok-1", "tok-1", "tok-2"]


async def test_concurrent_rejections_refresh_once(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    p = platform(
        tls_plane,
        tls,
        auth_mode="ClientSecret",
        client_id="flyte-cli",
        client_credentials_secret="s3cret",
    )
    async with create_client_set(p) as clients:
        await list_projects(clients)
        oauth.state.revoke_all()
        results = await asyncio.gather(*(list_projects(clients) for _ in range(8)))
    assert all(r == ["flytesnacks"] for r in results)
    assert oauth.state.grants == ["client_credentials", "client_credentials"]


async def test_oauth_endpoints_from_config_skip_discovery(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    p = platform(
        tls_plane,
        tls,
        auth_mode="ClientSecret",
        client_id="flyte-cli",
        client_credentials_secret="s3cret",
        auth_endpoints=OAuthEndpoints(token_endpoint=f"{oauth.url}/token"),
    )
    async with create_client_set(p) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
    assert tls_plane.discovery_calls == 0
    assert oauth.state.grants == ["client_credentials"]


async def test_wrong_client_secret_is_a_clear_authentication_error(
    tls_plane: ControlPlane, tls: Tls, token_dir: pathlib.Path
) -> None:
    p = platform(
        tls_plane,
        tls,
        auth_mode="ClientSecret",
        client_id="flyte-cli",
        client_credentials_secret="nope",
    )
    async with create_client_set(p) as clients:
        with pytest.raises(AuthenticationError, match="invalid_client"):
            await list_projects(clients)


async def test_api_key_session(tls_plane: ControlPlane, tls: Tls, token_dir: pathlib.Path) -> None:
    key = base64.b64encode(f"{tls_plane.endpoint}:flyte-cli:s3cret:acme".encode()).decode()
    flyte_client.init_session(PlatformConfig(api_key=key, ca_cert_file_path=str(tls.ca_path)))
    try:
        assert flyte_client.current_config().platform.endpoint == tls_plane.endpoint
        assert await list_projects(flyte_client.get_client()) == ["flytesnacks"]
    finally:
        flyte_client.reset_session()
        await asyncio.sleep(0)


async def test_pkce_login_via_authorize_redirect_then_cache_then_refresh_token(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    opened: list[str] = []

    async def follow(url: str) -> None:
        # What the browser does: GET the authorize URL, follow the redirect to the callback.
        opened.append(url)
        resp = await asyncio.to_thread(httpx.get, url, follow_redirects=True, timeout=10)
        assert resp.status_code == 200 and "Login complete" in resp.text

    p = platform(tls_plane, tls)  # auth_mode defaults to Pkce
    store = TokenStore(tls_plane.endpoint, use_keyring=False)
    auth = PkceAuthenticator(p, store=store, open_url=follow, login_timeout=20)
    async with create_client_set(p, authenticator=auth) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
    assert len(opened) == 1 and "code_challenge_method=S256" in opened[0]
    assert "scope=offline+all" in opened[0]
    assert oauth.state.grants == ["authorization_code"]
    # The first call went out without a token (no login until the server asks), then with one.
    assert [bearer(md) for md in tls_plane.calls.metadata] == ["", "tok-1"]

    # The token is cached (0600 file): a new authenticator logs in without a browser.
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert "tok-1" not in repr(store.load())

    async def no_browser(url: str) -> None:
        raise AssertionError("must not log in again")

    auth2 = PkceAuthenticator(p, store=store, open_url=no_browser)
    async with create_client_set(p, authenticator=auth2) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
        oauth.state.revoke_all()  # access token rejected: the refresh token gets a new one
        assert await list_projects(clients) == ["flytesnacks"]
    assert oauth.state.grants == ["authorization_code", "refresh_token"]
    assert store.load() is not None and store.load().access_token == "tok-2"  # type: ignore[union-attr]


async def test_device_flow(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    shown: list[tuple[str, str]] = []

    async def approve(url: str, user_code: str) -> None:
        shown.append((url, user_code))
        await asyncio.to_thread(httpx.get, f"{oauth.url}/device/approve?user_code={user_code}")

    p = platform(tls_plane, tls, auth_mode="DeviceFlow")
    auth = DeviceFlowAuthenticator(
        p, store=TokenStore(tls_plane.endpoint, use_keyring=False), notify=approve
    )
    async with create_client_set(p, authenticator=auth) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
    assert shown and shown[0][0].endswith("/device")
    assert oauth.state.grants[-1] == "urn:ietf:params:oauth:grant-type:device_code"


async def test_external_command(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    oauth.state.valid.add("tok-from-command")
    cmd = [sys.executable, "-c", "print('tok-from-command')"]
    p = platform(tls_plane, tls, command=cmd)
    assert p.auth_mode == "Pkce"
    auth = create_authenticator(p)
    assert type(auth).__name__ == "ExternalCommandAuthenticator"
    async with create_client_set(p) as clients:
        assert await list_projects(clients) == ["flytesnacks"]
    assert bearer(tls_plane.calls.metadata[-1]) == "tok-from-command"


async def test_failing_external_command_is_a_clear_error(
    tls_plane: ControlPlane, tls: Tls, token_dir: pathlib.Path
) -> None:
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('no creds'); sys.exit(3)"]
    p = platform(tls_plane, tls, auth_mode="ExternalCommand", command=cmd)
    async with create_client_set(p) as clients:
        with pytest.raises(AuthenticationError, match="exited with 3: no creds"):
            await list_projects(clients)


async def test_insecure_skip_verify_trusts_the_servers_certificate(
    tls_plane: ControlPlane, tls: Tls, token_dir: pathlib.Path
) -> None:
    p = PlatformConfig(
        endpoint=tls_plane.endpoint,
        insecure_skip_verify=True,
        auth_mode="ClientSecret",
        client_id="flyte-cli",
        client_credentials_secret="s3cret",
    )
    async with create_client_set(p) as clients:
        assert await list_projects(clients) == ["flytesnacks"]


async def test_second_unauthenticated_is_returned_not_looped(
    tls_plane: ControlPlane, oauth: OAuthServer, tls: Tls, token_dir: pathlib.Path
) -> None:
    # A token command whose token the server never accepts: refresh once, then give up.
    cmd = [sys.executable, "-c", "print('bogus')"]
    p = platform(tls_plane, tls, auth_mode="ExternalCommand", command=cmd)
    async with create_client_set(p) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await list_projects(clients)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(tls_plane.calls.methods) == 2


def test_credentials_and_store_never_show_tokens(tmp_path: pathlib.Path) -> None:
    creds = Credentials("secret-access", "secret-refresh", 123.0)
    assert "secret" not in repr(creds) and "secret" not in str(creds)
    store = TokenStore("dns:///example.com:443", use_keyring=False, cache_dir=tmp_path)
    assert store.service == "example.com:443"
    store.save(creds)
    assert store.load() == creds
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.clear()
    assert store.load() is None


def test_insecure_endpoints_skip_auth() -> None:
    assert create_authenticator(PlatformConfig(endpoint="localhost:30080", insecure=True)) is None
    assert create_authenticator(PlatformConfig(endpoint="h:1", auth_mode="Passthrough")) is None


def test_keyring_is_used_when_a_backend_exists(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    monkeypatch.delenv("FLYTE_DISABLE_KEYRING", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        store = TokenStore("dns:///flyte.example.com", cache_dir=tmp_path)
        assert store.use_keyring
        store.save(Credentials("acc", "ref"))
        # The reference SDK's entry: service = endpoint without scheme, key "tokens".
        raw = backend.items[("flyte.example.com", "tokens")]
        assert json.loads(raw)["access_token"] == "acc"
        assert not store.path.exists()
        assert store.load() == Credentials("acc", "ref")
        store.clear()
        assert backend.items == {}

        off = TokenStore("dns:///flyte.example.com", use_keyring=False, cache_dir=tmp_path)
        off.save(Credentials("acc2"))
        assert off.path.exists() and backend.items == {}
    finally:
        keyring.set_keyring(previous)


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    from flyte_client._auth import pkce_s256_challenge, pkce_verifier

    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    fresh = {pkce_verifier() for _ in range(3)}
    assert len(fresh) == 3
    for v in fresh:  # RFC 7636 section 4.1: 43-128 unreserved characters
        assert 43 <= len(v) <= 128 and all(c.isalnum() or c in "-._~" for c in v)
