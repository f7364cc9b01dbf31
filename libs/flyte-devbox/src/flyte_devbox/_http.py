"""The one ASGI application behind the devbox's port.

* `/<package>.<Service>/<Method>`: the connectrpc application of that service, which speaks
  Connect (HTTP/1.1, what the reference client uses), gRPC (HTTP/2) and gRPC-Web; a service the
  devbox does not implement answers UNIMPLEMENTED in the caller's protocol.
* `/_blob/<key>?...`: signed-URL uploads (PUT, Content-MD5 checked) and downloads (GET).
* `/healthz`: liveness; `/`: a short JSON description; `/_stats`: RPC call counts and
  active actions (JSON).

With a token configured, every RPC must carry it as a bearer token in `authorization` or
`proxy-authorization`; signed URLs authenticate with their signature instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import struct
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from flyte_devbox._blobs import BlobStore, SignatureError, UrlSigner, md5_b64, new_staging_file

logger = logging.getLogger("flyte_devbox")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Connect error code -> HTTP status for unary responses (connectrpc.com protocol spec).
_HTTP_STATUS = {"unimplemented": 501, "unauthenticated": 401, "invalid_argument": 400}
_GRPC_STATUS = {"unimplemented": 12, "unauthenticated": 16, "invalid_argument": 3}


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return str(v.decode("latin-1"))
    return ""


async def _drain(receive: Receive, limit: int = 64 * 1024 * 1024) -> None:
    """Read the request body to its end, so an HTTP/1.1 connection stays reusable."""
    seen = 0
    while seen <= limit:
        msg = await receive()
        if msg["type"] != "http.request":
            return
        seen += len(msg.get("body", b""))
        if not msg.get("more_body", False):
            return


async def rpc_error(scope: Scope, receive: Receive, send: Send, code: str, message: str) -> None:
    """Answer an RPC with an error, in whichever protocol the request used."""
    await _drain(receive)
    content_type = _header(scope, b"content-type")
    if content_type.startswith("application/grpc"):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "trailers": True,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        await send(
            {
                "type": "http.response.trailers",
                "more_trailers": False,
                "headers": [
                    (b"grpc-status", str(_GRPC_STATUS[code]).encode()),
                    (b"grpc-message", quote(message, safe=" ").encode()),
                ],
            }
        )
        return
    error = {"code": code, "message": message}
    if content_type.startswith("application/connect+"):
        payload = json.dumps({"error": error}).encode()
        body = struct.pack(">BI", 0x02, len(payload)) + payload
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await _plain(send, _HTTP_STATUS[code], json.dumps(error), b"application/json")


async def _plain(send: Send, status: int, text: str, content_type: bytes = b"text/plain") -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class DevboxApp:
    def __init__(
        self,
        *,
        services: Mapping[str, ASGIApp],
        blobs: BlobStore,
        signer: UrlSigner,
        token: str | None,
        max_upload_bytes: int,
        info: Mapping[str, Any],
        stats: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._services = dict(services)
        self._blobs = blobs
        self._signer = signer
        self._token = token
        self._max_upload = max_upload_bytes
        self._info = json.dumps(dict(info), indent=2).encode()
        self._stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind != "http":
            return
        path: str = scope["path"]
        if path.startswith(UrlSigner.PATH_PREFIX):
            await self._blob(scope, receive, send)
        elif path == "/healthz":
            await _plain(send, 200, "ok\n")
        elif path == "/_stats" and self._stats is not None:
            if not self._authorized(scope):
                await _plain(send, 401, "unauthenticated\n")
                return
            await _plain(send, 200, json.dumps(dict(self._stats()), indent=2), b"application/json")
        elif path == "/":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": self._info, "more_body": False})
        else:
            await self._rpc(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        if self._token is None:
            return True
        for name in (b"authorization", b"proxy-authorization"):
            value = _header(scope, name)
            if value.lower().startswith("bearer "):
                value = value[7:]
            if value and hmac.compare_digest(value.strip(), self._token):
                return True
        return False

    async def _rpc(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/")
        service = parts[1] if len(parts) == 3 else ""
        if not self._authorized(scope):
            await rpc_error(
                scope,
                receive,
                send,
                "unauthenticated",
                "this devbox requires a bearer token (authorization header)",
            )
            return
        app = self._services.get(service)
        if app is None:
            what = f"service {service}" if service else f"path {scope['path']}"
            await rpc_error(
                scope, receive, send, "unimplemented", f"flyte-devbox does not implement {what}"
            )
            return
        await app(scope, receive, send)

    # ---------------------------------------------------------------------------- blobs

    async def _blob(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            key, md5 = self._signer.verify(
                method,
                scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or scope["path"],
                scope.get("query_string", b"").decode("latin-1"),
            )
        except SignatureError as e:
            await _drain(receive)
            await _plain(send, 403, f"{e}\n")
            return
        uri = self._blobs.uri_of(key)
        if method == "PUT":
            await self._put(scope, receive, send, uri, md5)
        else:
            await self._get(send, uri, head=method == "HEAD")

    async def _put(self, scope: Scope, receive: Receive, send: Send, uri: str, md5: str) -> None:
        header_md5 = _header(scope, b"content-md5")
        if md5 and header_md5 and header_md5 != md5:
            await _drain(receive)
            await _plain(send, 400, "Content-MD5 does not match the signed upload location\n")
            return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self._max_upload:
            await _plain(send, 413, f"upload is larger than {self._max_upload} bytes\n")
            return
        fd, tmp = await asyncio.to_thread(new_staging_file, self._blobs.staging_dir(uri))
        digest = hashlib.md5()  # - Content-MD5 is MD5 by definition
        size = 0
        moved = False
        try:
            with os.fdopen(fd, "wb") as f:
                while True:
                    msg = await receive()
                    if msg["type"] == "http.disconnect":
                        return
                    chunk = msg.get("body", b"")
                    if chunk:
                        size += len(chunk)
                        if size > self._max_upload:
                            await _plain(
                                send, 413, f"upload is larger than {self._max_upload} bytes\n"
                            )
                            return
                        digest.update(chunk)
                        f.write(chunk)
                    if not msg.get("more_body", False):
                        break
            actual = md5_b64(digest.digest())
            expected = md5 or header_md5
            if expected and actual != expected:
                await _plain(
                    send,
                    400,
                    "BadDigest: the uploaded content does not match its "
                    f"Content-MD5 (expected {expected}, got {actual})\n",
                )
                return
            await self._blobs.write_file(uri, tmp)
            moved = True
        finally:
            if not moved:
                await asyncio.to_thread(_unlink, tmp)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"etag", f'"{digest.hexdigest()}"'.encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _get(self, send: Send, uri: str, head: bool) -> None:
        stream = self._blobs.stream(uri)
        try:
            first = await stream.__anext__()
        except (FileNotFoundError, StopAsyncIteration) as e:
            if isinstance(e, StopAsyncIteration):
                first = b""
            else:
                await _plain(send, 404, "not found\n")
                return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", _content_type(uri))],
            }
        )
        if head:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({"type": "http.response.body", "body": first, "more_body": True})
        async for chunk in stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _content_type(uri: str) -> bytes:
    if uri.endswith(".html"):
        return b"text/html; charset=utf-8"
    if uri.endswith(".json"):
        return b"application/json"
    return b"application/octet-stream"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
