"""Authentication: OAuth2 flows, API keys, external commands and the token cache.

An `Authenticator` hands bearer tokens to the auth interceptor. `create_authenticator(platform)`
picks the flow from `PlatformConfig.auth_mode`:

* `ClientSecret` - OAuth2 client credentials (`client_id` + `client_credentials_secret`, HTTP
  Basic), also what an API key (`FLYTE_API_KEY`) decodes to;
* `Pkce` - authorization code with PKCE (S256): a browser opens the authorize URL, a callback
  server on the loopback `redirect_uri` port receives the code;
* `DeviceFlow` - OAuth2 device authorization: prints a URL and code, polls the token endpoint;
* `ExternalCommand` - runs `admin.command`; its stdout is the token;
* `Passthrough` - no token from us (the caller adds its own metadata).

The OAuth2 endpoints and the public client settings are discovered with
`AuthMetadataService.GetOAuth2Metadata` / `GetPublicClientConfig` on the control plane (or given
as `OAuthEndpoints`). Tokens are cached in the system keyring (service = the endpoint, key
`tokens`, the same entry the reference SDK uses) with a 0600 JSON file fallback under
`~/.flyte/tokens/`. Tokens never appear in logs or reprs.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import logging
import os
import pathlib
import secrets
import shlex
import sys
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flyte_client._config import OAuthEndpoints
from flyte_client.errors import AuthenticationError, ConfigError

if TYPE_CHECKING:
    from flyte_client._config import PlatformConfig

__all__ = [
    "Authenticator",
    "ClientCredentialsAuthenticator",
    "Credentials",
    "DeviceFlowAuthenticator",
    "ExternalCommandAuthenticator",
    "OAuthEndpoints",
    "PkceAuthenticator",
    "TokenStore",
    "create_authenticator",
    "decode_api_key",
    "platform_from_api_key",
]

logger = logging.getLogger("flyte_client.auth")


# --------------------------------------------------------------------------------------- API key
def decode_api_key(encoded: str) -> tuple[str, str, str, str]:
    """Decode an API key: base64 of `endpoint:client_id:client_secret:org`.

    Like the reference SDK, the text is split at its first three colons (so a secret or org
    may contain colons) and an empty org decodes as the string `"None"`. An endpoint written
    with a scheme (`dns:///host`, `https://host`) and/or a `:port` keeps them.

    Raises:
        ConfigError: If the key is not base64 or has fewer than four fields.
    """
    try:
        text = base64.b64decode(encoded.strip().encode(), validate=False).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(
            "FLYTE_API_KEY is not a valid API key (not base64). Fix: copy the key again.",
            key="FLYTE_API_KEY",
        ) from e
    scheme = ""
    for prefix in ("dns:///", "https://", "http://", "grpc://", "grpcs://"):
        if text.startswith(prefix):
            scheme, text = prefix, text[len(prefix) :]
            break
    port = ""
    head, sep, rest = text.partition(":")
    # `host:port:...` with five fields: a numeric second field is a port, never a client id.
    if sep and rest.split(":", 1)[0].isdigit() and rest.count(":") >= 3:
        port_text, _, rest = rest.partition(":")
        port = ":" + port_text
        text = head + ":" + rest
    parts = text.split(":", 3)
    if len(parts) != 4:
        raise ConfigError(
            f"API key has {len(parts)} ':'-separated fields, expected 4 "
            "(endpoint:client_id:client_secret:org). Fix: copy the whole key.",
            key="FLYTE_API_KEY",
        )
    endpoint, client_id, client_secret, org = parts
    return scheme + endpoint + port, client_id, client_secret, org or "None"


def platform_from_api_key(api_key: str, base: PlatformConfig | None = None) -> PlatformConfig:
    """The platform settings an API key implies: its endpoint and client-credentials auth."""
    from flyte_client._config import PlatformConfig

    endpoint, client_id, client_secret, _org = decode_api_key(api_key)
    return dataclasses.replace(
        base or PlatformConfig(),
        endpoint=endpoint,
        client_id=client_id,
        client_credentials_secret=client_secret,
        auth_mode="ClientSecret",
        api_key=api_key,
    )


# ----------------------------------------------------------------------------------- credentials
@dataclass(frozen=True)
class Credentials:
    """An access token, its refresh token and expiry. `repr` never shows the tokens."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None

    def expired(self, leeway: float = 30.0) -> bool:
        """Whether the access token has expired (or will within `leeway` seconds)."""
        return self.expires_at is not None and time.time() + leeway >= self.expires_at

    def __repr__(self) -> str:
        return (
            f"Credentials(access_token='***', refresh_token={'***' if self.refresh_token else None}"
            f", expires_at={self.expires_at})"
        )

    def to_json(self) -> str:
        """The cache format (shared with the reference SDK's keyring entry)."""
        data: dict[str, Any] = {"access_token": self.access_token}
        if self.refresh_token:
            data["refresh_token"] = self.refresh_token
        if self.expires_at:
            data["expires_at"] = self.expires_at
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Credentials | None:
        """Parse the cache format; None when it is not usable."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not data.get("access_token"):
            return None
        expires = data.get("expires_at")
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]) if data.get("refresh_token") else None,
            float(expires) if isinstance(expires, int | float) else None,
        )

    @classmethod
    def from_token_response(cls, data: dict[str, Any]) -> Credentials:
        """Build from an OAuth2 token endpoint response."""
        expires_in = data.get("expires_in")
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]) if data.get("refresh_token") else None,
            time.time() + float(expires_in) if expires_in else None,
        )


def _service_name(endpoint: str) -> str:
    for prefix in ("dns:///", "http://", "https://", "grpc://", "grpcs://"):
        if endpoint.startswith(prefix):
            return endpoint[len(prefix) :]
    return endpoint


def _default_cache_dir() -> pathlib.Path:
    override = os.environ.get("FLYTE_TOKEN_CACHE_DIR")
    if override:
        return pathlib.Path(override).expanduser()
    return pathlib.Path.home() / ".flyte" / "tokens"


class TokenStore:
    """Caches credentials per endpoint: system keyring first, then a 0600 JSON file.

    Args:
        endpoint: The control plane (the keyring service name, scheme stripped).
        use_keyring: False skips the keyring (`admin.disableKeyring`).
        cache_dir: Directory of the file fallback (default `~/.flyte/tokens`, or
            `$FLYTE_TOKEN_CACHE_DIR`).
    """

    KEY = "tokens"

    def __init__(
        self,
        endpoint: str,
        *,
        use_keyring: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.service = _service_name(endpoint)
        self.use_keyring = use_keyring and _keyring_usable()
        directory = pathlib.Path(cache_dir) if cache_dir else _default_cache_dir()
        digest = hashlib.sha256(self.service.encode()).hexdigest()[:16]
        self.path = directory / f"{digest}.json"

    def __repr__(self) -> str:
        return f"TokenStore(service={self.service!r}, keyring={self.use_keyring}, path={self.path})"

    def load(self) -> Credentials | None:
        """The cached credentials, or None."""
        if self.use_keyring:
            try:
                import keyring  # pants: no-infer-dep

                text = keyring.get_password(self.service, self.KEY)
                if text:
                    creds = Credentials.from_json(text)
                    if creds is not None:
                        return creds
            except Exception as e:  # keyring backends raise many types
                logger.debug("keyring read failed (%s); using the file cache", type(e).__name__)
        try:
            return Credentials.from_json(self.path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def save(self, creds: Credentials) -> None:
        """Cache `creds` (keyring when usable, else the file)."""
        text = creds.to_json()
        if self.use_keyring:
            try:
                import keyring  # pants: no-infer-dep

                keyring.set_password(self.service, self.KEY, text)
                return
            except Exception as e:
                logger.debug("keyring write failed (%s); using the file cache", type(e).__name__)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        """Forget the cached credentials (both places)."""
        if self.use_keyring:
            try:
                import keyring  # pants: no-infer-dep

                keyring.delete_password(self.service, self.KEY)
            except Exception:
                pass
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def pkce_verifier() -> str:
    """A fresh PKCE code verifier (RFC 7636 section 4.1): 64 URL-safe characters, 384 random bits."""
    return secrets.token_urlsafe(48)


def pkce_s256_challenge(verifier: str) -> str:
    """The S256 code challenge of `verifier`: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _keyring_usable() -> bool:
    if os.environ.get("FLYTE_DISABLE_KEYRING", "").lower() in {"1", "true", "yes"}:
        return False
    try:
        import keyring  # pants: no-infer-dep
        from keyring.backends import fail  # pants: no-infer-dep

        backend = keyring.get_keyring()
    except Exception:
        return False
    if isinstance(backend, fail.Keyring):
        return False
    chained = getattr(backend, "backends", None)
    return chained is None or bool(chained)


# ------------------------------------------------------------------------------ OAuth endpoints
async def discover_endpoints(
    target: str,
    *,
    insecure: bool,
    root_certificates: bytes | None,
    options: Sequence[tuple[str, Any]] = (),
    timeout: float = 15.0,
) -> OAuthEndpoints:
    """Ask the control plane's AuthMetadataService for its OAuth2 settings (no auth needed)."""
    from flyteidl2.auth import auth_service_pb2

    from flyte_client._clientset import ClientSet
    from flyte_client.errors import translate_rpc_error

    clients = ClientSet.for_endpoint(
        target, insecure=insecure, root_certificates=root_certificates, options=options
    )
    try:
        stub = clients.auth_metadata_service
        try:
            meta = await stub.GetOAuth2Metadata(
                auth_service_pb2.GetOAuth2MetadataRequest(), timeout=timeout
            )
            public = await stub.GetPublicClientConfig(
                auth_service_pb2.GetPublicClientConfigRequest(), timeout=timeout
            )
        except Exception as e:
            raise translate_rpc_error(
                e, what="discover the OAuth2 settings", endpoint=target
            ) from e
    finally:
        await clients.close()
    return OAuthEndpoints(
        token_endpoint=meta.token_endpoint,
        authorization_endpoint=meta.authorization_endpoint,
        device_authorization_endpoint=meta.device_authorization_endpoint,
        client_id=public.client_id,
        redirect_uri=public.redirect_uri or OAuthEndpoints.redirect_uri,
        scopes=tuple(public.scopes),
        audience=public.audience,
        header_key=public.authorization_metadata_key or "authorization",
    )


# --------------------------------------------------------------------------------- authenticators
class Authenticator:
    """Supplies bearer tokens: memory, then the token cache, then the flow (`_fetch`).

    Subclasses implement `_fetch` (and may override `_refresh`). Safe to share between event
    loops and threads: refreshes are serialised per loop and the token state is shared.

    Args:
        platform: The platform settings (endpoint, client id, scopes, ...).
        endpoints: OAuth2 endpoints; discovered from the control plane when None.
        store: Token cache; None disables caching.
    """

    header_key: str = "authorization"
    interactive: bool = False

    def __init__(
        self,
        platform: PlatformConfig,
        *,
        endpoints: OAuthEndpoints | None = None,
        store: TokenStore | None = None,
    ) -> None:
        self.platform = platform
        if endpoints is None and platform.auth_endpoints is not None:
            endpoints = platform.auth_endpoints
        self._endpoints = endpoints
        if endpoints is not None and endpoints.header_key:
            self.header_key = endpoints.header_key
        if platform.authorization_metadata_key:
            self.header_key = platform.authorization_metadata_key
        self.store = store
        self._creds: Credentials | None = None
        self._loaded = False
        self._state_lock = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Lock
        ] = weakref.WeakKeyDictionary()
        self._metadata_source: tuple[str, bool, bytes | None, list[tuple[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.platform.endpoint!r})"

    def bind_metadata_source(
        self,
        target: str,
        insecure: bool,
        root_certificates: bytes | None,
        options: Sequence[tuple[str, Any]],
    ) -> None:
        """Where to discover OAuth2 endpoints (set by `create_client_set`)."""
        if self._metadata_source is None:
            self._metadata_source = (target, insecure, root_certificates, list(options))

    async def endpoints(self) -> OAuthEndpoints:
        """The OAuth2 endpoints, discovered once."""
        if self._endpoints is None:
            if self._metadata_source is not None:
                target, insecure, roots, opts = self._metadata_source
            else:
                from flyte_client._clientset import normalize_endpoint

                target = normalize_endpoint(self.platform.endpoint or "")
                insecure, roots, opts = self.platform.insecure, None, []
            discovered = await discover_endpoints(
                target, insecure=insecure, root_certificates=roots, options=opts
            )
            self._endpoints = discovered
            if not self.platform.authorization_metadata_key:
                self.header_key = discovered.header_key
        return self._endpoints

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._state_lock:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    def _current(self) -> Credentials | None:
        with self._state_lock:
            if not self._loaded:
                self._loaded = True
                if self.store is not None and self._creds is None:
                    self._creds = self.store.load()
            return self._creds

    def _set(self, creds: Credentials) -> None:
        with self._state_lock:
            self._creds = creds
            self._loaded = True
        if self.store is not None:
            try:
                self.store.save(creds)
            except OSError as e:
                logger.warning("could not cache the token: %s", e)

    async def get_token(self) -> str | None:
        """A token for the next call: cached if valid; else a new one, unless the flow needs a
        person (PKCE, device flow), in which case the call goes out without one and the flow
        starts only if the server answers UNAUTHENTICATED."""
        creds = self._current()
        if creds is not None and not creds.expired():
            return creds.access_token
        if creds is None and self.interactive:
            return None
        return await self.refresh(stale=creds.access_token if creds else None)

    async def refresh(self, stale: str | None = None) -> str | None:
        """Get a new token (the refresh-token grant first, else the full flow).

        `stale` is the token that failed; when another call has already replaced it, the newer
        one is returned without another round-trip.
        """
        async with self._lock():
            creds = self._current()
            if creds is not None and creds.access_token != stale and not creds.expired():
                return creds.access_token
            new: Credentials | None = None
            if creds is not None and creds.refresh_token:
                try:
                    new = await self._refresh(creds.refresh_token)
                except AuthenticationError as e:
                    logger.info("refresh-token grant failed (%s); starting a new login", e)
            if new is None:
                new = await self._fetch()
            self._set(new)
            return new.access_token

    def clear(self) -> None:
        """Forget the tokens (memory and cache)."""
        with self._state_lock:
            self._creds = None
        if self.store is not None:
            self.store.clear()

    async def _fetch(self) -> Credentials:
        raise NotImplementedError

    async def _refresh(self, refresh_token: str) -> Credentials | None:
        ep = await self.endpoints()
        if not ep.token_endpoint:
            return None
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        client_id = self.platform.client_id or ep.client_id
        if client_id:
            data["client_id"] = client_id
        return await self._token_request(ep.token_endpoint, data)

    def _http(self) -> Any:
        import httpx

        verify: Any = True
        if self.platform.insecure_skip_verify:
            verify = False
        elif self.platform.ca_cert_file_path:
            import ssl

            verify = ssl.create_default_context(
                cafile=os.path.expanduser(self.platform.ca_cert_file_path)
            )
        return httpx.AsyncClient(
            timeout=30.0,
            verify=verify,
            proxy=self.platform.http_proxy_url or None,
            follow_redirects=False,
        )

    async def _token_request(
        self, url: str, data: dict[str, str], *, auth: tuple[str, str] | None = None
    ) -> Credentials:
        body = await self._post_form(url, data, auth=auth)
        if "access_token" not in body:
            raise AuthenticationError(
                f"token endpoint {url} answered without an access_token. Fix: check the "
                "identity provider's client configuration."
            )
        return Credentials.from_token_response(body)

    async def _post_form(
        self, url: str, data: dict[str, str], *, auth: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        import httpx

        try:
            async with self._http() as http:
                resp = await http.post(
                    url, data=data, auth=auth, headers={"Accept": "application/json"}
                )
        except httpx.HTTPError as e:
            raise AuthenticationError(
                f"cannot reach the token endpoint {url}: {e}. Fix: check the network / "
                "admin.httpProxyURL."
            ) from e
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 400:
            error = body.get("error", "") if isinstance(body, dict) else ""
            desc = body.get("error_description", "") if isinstance(body, dict) else ""
            raise _OAuthError(
                error or f"http_{resp.status_code}",
                f"token request to {url} failed: HTTP {resp.status_code} {error} {desc}".strip(),
            )
        if not isinstance(body, dict):
            raise AuthenticationError(f"token endpoint {url} did not answer with a JSON object")
        return body

    def _scopes(self, ep: OAuthEndpoints) -> str:
        return " ".join(self.platform.scopes or ep.scopes)


class _OAuthError(AuthenticationError):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


class ClientCredentialsAuthenticator(Authenticator):
    """OAuth2 client credentials: `client_id` and `client_credentials_secret` via HTTP Basic."""

    async def _fetch(self) -> Credentials:
        ep = await self.endpoints()
        if not ep.token_endpoint:
            raise AuthenticationError(
                "the control plane advertises no OAuth2 token endpoint, so client credentials "
                "cannot be exchanged. Fix: check the endpoint, or use another auth type."
            )
        client_id = self.platform.client_id or ep.client_id
        secret = self.platform.client_credentials_secret
        if not client_id or not secret:
            raise ConfigError(
                "ClientSecret auth needs admin.clientId and a secret (admin.clientSecretLocation"
                " or admin.clientSecretEnvVar, or FLYTE_API_KEY).",
                key="admin.clientId",
            )
        data = {"grant_type": "client_credentials"}
        scopes = self._scopes(ep)
        if scopes:
            data["scope"] = scopes
        audience = self.platform.audience or ep.audience
        if audience:
            data["audience"] = audience
        return await self._token_request(ep.token_endpoint, data, auth=(client_id, secret))

    async def _refresh(self, refresh_token: str) -> Credentials | None:
        return None  # a fresh client-credentials grant is as cheap as a refresh


class PkceAuthenticator(Authenticator):
    """Authorization code with PKCE (S256) and a loopback callback server.

    Args:
        open_url: Opens the authorize URL (default: the web browser, and the URL is printed).
        login_timeout: Seconds to wait for the browser login.
    """

    interactive = True

    def __init__(
        self,
        platform: PlatformConfig,
        *,
        endpoints: OAuthEndpoints | None = None,
        store: TokenStore | None = None,
        open_url: Callable[[str], Any] | None = None,
        login_timeout: float = 300.0,
    ) -> None:
        super().__init__(platform, endpoints=endpoints, store=store)
        self.open_url = open_url or _open_browser
        self.login_timeout = login_timeout

    async def _fetch(self) -> Credentials:
        ep = await self.endpoints()
        if not ep.authorization_endpoint or not ep.token_endpoint:
            raise AuthenticationError(
                "the control plane advertises no OAuth2 authorization/token endpoint. Fix: "
                "check the endpoint, or set admin.authType to ClientSecret/ExternalCommand."
            )
        client_id = self.platform.client_id or ep.client_id
        verifier = pkce_verifier()
        state = secrets.token_urlsafe(18)
        redirect = urllib.parse.urlsplit(ep.redirect_uri)
        host = redirect.hostname or "localhost"
        port = redirect.port or 80
        path = redirect.path or "/"
        loop = asyncio.get_running_loop()
        result: asyncio.Future[dict[str, str]] = loop.create_future()
        server = await _start_callback_server(host, port, path, loop, result)
        try:
            query = {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": ep.redirect_uri,
                "state": state,
                "code_challenge": pkce_s256_challenge(verifier),
                "code_challenge_method": "S256",
            }
            scopes = self._scopes(ep)
            if scopes:
                query["scope"] = scopes
            audience = self.platform.audience or ep.audience
            if audience:
                query["audience"] = audience
            sep = "&" if "?" in ep.authorization_endpoint else "?"
            url = ep.authorization_endpoint + sep + urllib.parse.urlencode(query)
            opened = self.open_url(url)
            if asyncio.iscoroutine(opened):
                await opened
            try:
                params = await asyncio.wait_for(result, self.login_timeout)
            except asyncio.TimeoutError:
                raise AuthenticationError(
                    f"no browser login within {self.login_timeout:.0f}s. Fix: open the printed URL"
                    " and log in, or use admin.authType: DeviceFlow on a machine without a browser."
                ) from None
        finally:
            server.close()
            await server.wait_closed()
        if params.get("error"):
            raise AuthenticationError(
                f"login failed: {params['error']} {params.get('error_description', '')}".strip()
            )
        if params.get("state") != state:
            raise AuthenticationError("login failed: the callback's state does not match")
        return await self._token_request(
            ep.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": params.get("code", ""),
                "redirect_uri": ep.redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )


def _open_browser(url: str) -> None:
    print(f"Log in to Flyte in your browser: {url}", file=sys.stderr)
    import webbrowser

    try:
        webbrowser.open(url)
    except Exception:  # no browser: the printed URL is enough
        pass


_CALLBACK_PAGE = (
    b"<!doctype html><html><head><title>Flyte login</title></head><body>"
    b"<p>Login complete. You can close this window.</p></body></html>"
)


async def _start_callback_server(
    host: str,
    port: int,
    path: str,
    loop: asyncio.AbstractEventLoop,
    result: asyncio.Future[dict[str, str]],
) -> asyncio.Server:
    """A minimal HTTP/1.1 server that takes the OAuth2 redirect on `path` and resolves `result`."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            target = parts[1] if len(parts) > 1 else "/"
            url = urllib.parse.urlsplit(target)
            if url.path != path:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                params = dict(urllib.parse.parse_qsl(url.query))
                if not result.done():
                    result.set_result(params)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                    + f"Content-Length: {len(_CALLBACK_PAGE)}\r\n\r\n".encode()
                    + _CALLBACK_PAGE
                )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    bind = host or "127.0.0.1"  # "localhost" binds every loopback address it resolves to
    try:
        return await asyncio.start_server(handle, bind, port)
    except OSError as e:
        raise AuthenticationError(
            f"cannot listen on {bind}:{port} for the login callback ({e}). Fix: free the port, "
            "or use admin.authType: DeviceFlow."
        ) from e


class DeviceFlowAuthenticator(Authenticator):
    """OAuth2 device authorization grant (RFC 8628): show a code, poll for the token.

    Args:
        notify: Called with (verification URL, user code); default prints them to stderr.
    """

    interactive = True

    def __init__(
        self,
        platform: PlatformConfig,
        *,
        endpoints: OAuthEndpoints | None = None,
        store: TokenStore | None = None,
        notify: Callable[[str, str], Any] | None = None,
    ) -> None:
        super().__init__(platform, endpoints=endpoints, store=store)
        self.notify = notify or _print_device_code

    async def _fetch(self) -> Credentials:
        ep = await self.endpoints()
        if not ep.device_authorization_endpoint or not ep.token_endpoint:
            raise AuthenticationError(
                "the control plane advertises no device authorization endpoint. Fix: use "
                "admin.authType: Pkce or ClientSecret."
            )
        client_id = self.platform.client_id or ep.client_id
        data = {"client_id": client_id}
        scopes = self._scopes(ep)
        if scopes:
            data["scope"] = scopes
        audience = self.platform.audience or ep.audience
        if audience:
            data["audience"] = audience
        grant = await self._post_form(ep.device_authorization_endpoint, data)
        device_code = str(grant.get("device_code", ""))
        if not device_code:
            raise AuthenticationError("device authorization answered without a device_code")
        url = str(grant.get("verification_uri_complete") or grant.get("verification_uri", ""))
        notified = self.notify(url, str(grant.get("user_code", "")))
        if asyncio.iscoroutine(notified):
            await notified
        interval = max(0.05, float(grant["interval"])) if "interval" in grant else 5.0
        deadline = time.monotonic() + float(grant.get("expires_in") or 600)
        while time.monotonic() < deadline:
            await asyncio.sleep(interval)
            try:
                return await self._token_request(
                    ep.token_endpoint,
                    {
                        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                        "device_code": device_code,
                        "client_id": client_id,
                    },
                )
            except _OAuthError as e:
                if e.error == "authorization_pending":
                    continue
                if e.error == "slow_down":
                    interval += 5
                    continue
                raise
        raise AuthenticationError("the device code expired before the login completed; retry")


def _print_device_code(url: str, user_code: str) -> None:
    print(f"To log in to Flyte, open {url} and enter the code {user_code}", file=sys.stderr)


class ExternalCommandAuthenticator(Authenticator):
    """Runs `command`; its standard output (stripped) is the access token. Not cached on disk."""

    def __init__(self, platform: PlatformConfig, command: Sequence[str]) -> None:
        super().__init__(platform, endpoints=OAuthEndpoints(), store=None)
        if not command:
            raise ConfigError(
                'ExternalCommand auth needs admin.command (a list: ["cmd", "arg"]).',
                key="admin.command",
            )
        self.command = list(command)

    async def _fetch(self) -> Credentials:
        return Credentials(await run_token_command(self.command))

    async def _refresh(self, refresh_token: str) -> Credentials | None:
        return None


async def run_token_command(command: Sequence[str]) -> str:
    """Run a token command and return its stripped stdout.

    Raises:
        AuthenticationError: If it cannot start, fails, or prints nothing.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except OSError as e:
        raise AuthenticationError(
            f"cannot run the token command {shlex.join(command)!r}: {e}. Fix: check admin.command."
        ) from e
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AuthenticationError(
            f"the token command {shlex.join(command)!r} exited with {proc.returncode}: "
            f"{err.decode(errors='replace').strip()[:500]}"
        )
    token = out.decode(errors="replace").strip()
    if not token:
        raise AuthenticationError(f"the token command {shlex.join(command)!r} printed no token")
    return token


def create_authenticator(
    platform: PlatformConfig,
    *,
    endpoints: OAuthEndpoints | None = None,
    store: TokenStore | None = None,
) -> Authenticator | None:
    """The authenticator `platform.auth_mode` asks for; None when there is nothing to do
    (`insecure` endpoints skip auth, as the reference SDK does; `Passthrough`)."""
    if platform.insecure:
        return None
    mode = platform.auth_mode
    if platform.api_key and not platform.client_credentials_secret:
        platform = platform_from_api_key(platform.api_key, platform)
        mode = "ClientSecret"
    if mode == "Passthrough":
        return None
    if mode == "ExternalCommand" or (platform.command and mode not in {"ClientSecret"}):
        return ExternalCommandAuthenticator(platform, platform.command or [])
    if store is None and platform.endpoint:
        store = TokenStore(platform.endpoint, use_keyring=not platform.disable_keyring)
    if mode == "ClientSecret":
        return ClientCredentialsAuthenticator(platform, endpoints=endpoints, store=store)
    if mode == "DeviceFlow":
        return DeviceFlowAuthenticator(platform, endpoints=endpoints, store=store)
    return PkceAuthenticator(platform, endpoints=endpoints, store=store)


class ProxyAuthInterceptor:
    """Adds `proxy-authorization: Bearer <stdout of proxy_command>` (run once, then cached)."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self._token: str | None = None

    def interceptors(self) -> list[Any]:
        """grpc.aio interceptors for every call kind."""
        from flyte_client._interceptors import _Core, with_metadata

        outer = self

        class _Proxy(_Core):
            kinds = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")

            async def _details(self, details: Any) -> Any:
                if outer._token is None:
                    outer._token = await run_token_command(outer.command)
                return with_metadata(details, [("proxy-authorization", f"Bearer {outer._token}")])

            async def unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
                return await continuation(await self._details(details), request)

            async def unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
                return await continuation(await self._details(details), request)

            async def stream_unary(self, continuation: Any, details: Any, it: Any) -> Any:
                return await continuation(await self._details(details), it)

            async def stream_stream(self, continuation: Any, details: Any, it: Any) -> Any:
                return await continuation(await self._details(details), it)

        return _Proxy().interceptors()
