"""Real loopback servers for the client tests: a grpc.aio control plane and an OAuth2 server.

* `OAuthServer` (http.server in a thread): `/token` (client_credentials, authorization_code with
  PKCE S256 verification, refresh_token, device_code), `/device/code`, `/device/approve`,
  `/authorize` (redirects to the client's redirect_uri with a code).
* `ControlPlane` (grpc.aio server, plain text or TLS): ProjectService (ListProjects,
  CreateProject), RunService.WatchRunDetails (a server stream), AuthMetadataService pointing at
  the OAuth server. It can demand a bearer token the OAuth server issued, and fail the next N
  calls with a chosen status code.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import pathlib
import secrets
import socket
import threading
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import grpc.aio
import pytest
from flyteidl2.auth import auth_service_pb2, auth_service_pb2_grpc
from flyteidl2.project import project_service_pb2, project_service_pb2_grpc
from flyteidl2.workflow import run_service_pb2, run_service_pb2_grpc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------ OAuth2
@dataclass
class OAuthState:
    client_id: str = "flyte-cli"
    client_secret: str = "s3cret"
    valid: set[str] = field(default_factory=set)
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> client
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)  # grant types, in order
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, *, with_refresh: bool) -> dict[str, Any]:
        with self.lock:
            self.counter += 1
            access = f"tok-{self.counter}"
            self.valid.add(access)
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
            if with_refresh:
                rt = f"refresh-{self.counter}"
                self.refresh[rt] = access
                body["refresh_token"] = rt
            return body

    def revoke_all(self) -> None:
        with self.lock:
            self.valid.clear()


class OAuthServer:
    def __init__(self) -> None:
        self.state = OAuthState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/authorize":
                    if (
                        q.get("client_id") != state.client_id
                        or q.get("code_challenge_method") != "S256"
                    ):
                        self._json(400, {"error": "invalid_request"})
                        return
                    code = secrets.token_hex(8)
                    state.codes[code] = {
                        "challenge": q["code_challenge"],
                        "redirect_uri": q["redirect_uri"],
                    }
                    loc = (
                        q["redirect_uri"]
                        + "?"
                        + urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
                    )
                    self.send_response(302)
                    self.send_header("Location", loc)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if url.path == "/device/approve":
                    for dev in state.devices.values():
                        if dev["user_code"] == q.get("user_code"):
                            dev["approved"] = True
                    self._json(200, {})
                    return
                self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                path = urllib.parse.urlsplit(self.path).path
                if path == "/device/code":
                    device_code = secrets.token_hex(8)
                    user_code = secrets.token_hex(3).upper()
                    state.devices[device_code] = {"user_code": user_code, "approved": False}
                    self._json(
                        200,
                        {
                            "device_code": device_code,
                            "user_code": user_code,
                            "verification_uri": f"http://{self.headers['Host']}/device",
                            "expires_in": 60,
                            "interval": 0,
                        },
                    )
                    return
                if path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                grant = form.get("grant_type", "")
                state.grants.append(grant)
                if grant == "client_credentials":
                    auth = self.headers.get("Authorization", "")
                    expected = base64.b64encode(
                        f"{state.client_id}:{state.client_secret}".encode()
                    ).decode()
                    if auth != f"Basic {expected}":
                        self._json(401, {"error": "invalid_client"})
                        return
                    self._json(200, state.issue(with_refresh=False))
                elif grant == "authorization_code":
                    info = state.codes.pop(form.get("code", ""), None)
                    verifier = form.get("code_verifier", "")
                    challenge = (
                        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        .decode()
                        .rstrip("=")
                    )
                    if (
                        info is None
                        or info["challenge"] != challenge
                        or info["redirect_uri"] != form.get("redirect_uri")
                    ):
                        self._json(400, {"error": "invalid_grant"})
                        return
                    self._json(200, state.issue(with_refresh=True))
                elif grant == "refresh_token":
                    if state.refresh.pop(form.get("refresh_token", ""), None) is None:
                        self._json(400, {"error": "invalid_grant"})
                        return
                    self._json(200, state.issue(with_refresh=True))
                elif grant == "urn:ietf:params:oauth:grant-type:device_code":
                    dev = state.devices.get(form.get("device_code", ""))
                    if dev is None:
                        self._json(400, {"error": "expired_token"})
                    elif not dev["approved"]:
                        self._json(400, {"error": "authorization_pending"})
                    else:
                        del state.devices[form["device_code"]]
                        self._json(200, state.issue(with_refresh=True))
                else:
                    self._json(400, {"error": "unsupported_grant_type"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def oauth() -> Iterator[OAuthServer]:
    server = OAuthServer()
    yield server
    server.close()


# ----------------------------------------------------------------------------------- TLS
@dataclass
class Tls:
    cert_pem: bytes
    key_pem: bytes
    ca_path: pathlib.Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for localhost / 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ca_path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca_path.write_bytes(cert_pem)
    return Tls(cert_pem, key_pem, ca_path)


# ------------------------------------------------------------------------------ control plane
@dataclass
class Calls:
    """What the servicers saw."""

    metadata: list[dict[str, str]] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


class ControlPlane:
    def __init__(self, oauth: OAuthServer | None, *, require_token: bool) -> None:
        self.oauth = oauth
        self.require_token = require_token
        self.calls = Calls()
        self.discovery_calls = 0
        self.fail_next: list[grpc.StatusCode] = []  # statuses to return before succeeding
        self.fail_details = "injected failure"
        self.redirect_uri = f"http://localhost:{free_port()}/callback"
        self.server: grpc.aio.Server | None = None
        self.port = 0

    async def _gate(self, method: str, context: grpc.aio.ServicerContext) -> None:
        md = {k: v for k, v in context.invocation_metadata() or ()}
        self.calls.metadata.append(md)
        self.calls.methods.append(method)
        if self.fail_next:
            code = self.fail_next.pop(0)
            await context.abort(code, self.fail_details)
        if self.require_token:
            header = md.get("authorization", "")
            token = header.removeprefix("Bearer ")
            if (
                not header.startswith("Bearer ")
                or self.oauth is None
                or token not in self.oauth.state.valid
            ):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid or missing token")

    async def start(self, tls: Tls | None = None) -> None:
        plane = self

        class Projects(project_service_pb2_grpc.ProjectServiceServicer):
            async def ListProjects(self, request: Any, context: Any) -> Any:
                await plane._gate("ListProjects", context)
                return project_service_pb2.ListProjectsResponse(
                    projects=project_service_pb2.Projects(
                        projects=[project_service_pb2.Project(id="flytesnacks", name="flytesnacks")]
                    )
                )

            async def CreateProject(self, request: Any, context: Any) -> Any:
                await plane._gate("CreateProject", context)
                return project_service_pb2.CreateProjectResponse()

        class Runs(run_service_pb2_grpc.RunServiceServicer):
            async def WatchRunDetails(self, request: Any, context: Any) -> AsyncIterator[Any]:
                await plane._gate("WatchRunDetails", context)
                for _ in range(3):
                    yield run_service_pb2.WatchRunDetailsResponse()

        class AuthMeta(auth_service_pb2_grpc.AuthMetadataServiceServicer):
            async def GetOAuth2Metadata(self, request: Any, context: Any) -> Any:
                plane.discovery_calls += 1
                base = plane.oauth.url if plane.oauth else ""
                return auth_service_pb2.GetOAuth2MetadataResponse(
                    issuer=base,
                    token_endpoint=f"{base}/token",
                    authorization_endpoint=f"{base}/authorize",
                    device_authorization_endpoint=f"{base}/device/code",
                )

            async def GetPublicClientConfig(self, request: Any, context: Any) -> Any:
                return auth_service_pb2.GetPublicClientConfigResponse(
                    client_id=plane.oauth.state.client_id if plane.oauth else "",
                    redirect_uri=plane.redirect_uri,
                    scopes=["offline", "all"],
                    authorization_metadata_key="authorization",
                )

        server = grpc.aio.server()
        project_service_pb2_grpc.add_ProjectServiceServicer_to_server(Projects(), server)
        run_service_pb2_grpc.add_RunServiceServicer_to_server(Runs(), server)
        auth_service_pb2_grpc.add_AuthMetadataServiceServicer_to_server(AuthMeta(), server)
        if tls is None:
            self.port = server.add_insecure_port("127.0.0.1:0")
        else:
            creds = grpc.ssl_server_credentials([(tls.key_pem, tls.cert_pem)])
            self.port = server.add_secure_port("127.0.0.1:0", creds)
        await server.start()
        self.server = server

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(None)


@pytest.fixture
async def plain_plane() -> AsyncIterator[ControlPlane]:
    """A plain-text control plane that needs no token."""
    plane = ControlPlane(None, require_token=False)
    await plane.start()
    yield plane
    await plane.stop()


@pytest.fixture
async def tls_plane(oauth: OAuthServer, tls: Tls) -> AsyncIterator[ControlPlane]:
    """A TLS control plane that demands a bearer token issued by `oauth`."""
    plane = ControlPlane(oauth, require_token=True)
    await plane.start(tls)
    yield plane
    await plane.stop()


@pytest.fixture
def token_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """Token file cache in a temp dir; the system keyring is not touched."""
    d = tmp_path / "tokens"
    monkeypatch.setenv("FLYTE_TOKEN_CACHE_DIR", str(d))
    monkeypatch.setenv("FLYTE_DISABLE_KEYRING", "1")
    os.environ.pop("FLYTE_API_KEY", None)
    return d
