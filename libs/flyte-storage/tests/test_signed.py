"""Signed-URL transfers against a scripted HTTP server on the loopback interface."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import flyte_storage
from flyte_storage.errors import (
    AccessDenied,
    IntegrityError,
    ObjectNotFound,
    ServiceUnavailable,
    TransferError,
)

SIG = "SECRETSIGNATURE123"


@dataclass
class Scripted:
    """What the server does: `actions` are consumed one per request; the last one repeats."""

    actions: list[str] = field(default_factory=lambda: ["ok"])
    objects: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    content_md5: dict[str, str] = field(default_factory=dict)
    honour_range: bool = True

    def next_action(self) -> str:
        return self.actions.pop(0) if len(self.actions) > 1 else self.actions[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str = "") -> None:
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        self._reply(status, body, {"Content-Type": "application/xml"})

    def do_PUT(self) -> None:  # - http.server's naming
        s: Scripted = self.server.scripted
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "transfer-encoding" in headers:
            # S3 refuses chunked uploads to presigned URLs.
            self._error(501, "NotImplemented", "Transfer-Encoding")
            self.close_connection = True
            return
        length = int(headers.get("content-length", "0"))
        action = s.next_action()
        if action == "drop":
            self.rfile.read(min(length, 1000))
            self.close_connection = True
            self.connection.shutdown(2)
            s.requests.append({"method": "PUT", "headers": headers, "dropped": True})
            return
        body = self.rfile.read(length)
        s.requests.append({"method": "PUT", "headers": headers, "body": body})
        if action.startswith("status:"):
            _, status, code, *rest = action.split(":")
            extra = {"Retry-After": rest[0]} if rest else None
            body_xml = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode()
            self._reply(int(status), body_xml, extra)
            return
        if action == "expired":
            self._error(403, "AccessDenied", "Request has expired")
            return
        md5 = headers.get("content-md5")
        if md5 and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            self._error(400, "BadDigest", "The Content-MD5 you specified did not match")
            return
        s.objects[self.path.split("?")[0]] = body
        self._reply(200, b"", {"ETag": '"x"'})

    def do_GET(self) -> None:
        s: Scripted = self.server.scripted
        headers = {k.lower(): v for k, v in self.headers.items()}
        s.requests.append({"method": "GET", "headers": headers})
        action = s.next_action()
        key = self.path.split("?")[0]
        if action.startswith("status:"):
            _, scripted_status, code, *_ = action.split(":")
            self._error(int(scripted_status), code)
            return
        if key not in s.objects:
            self._error(404, "NoSuchKey")
            return
        data = s.objects[key]
        start = 0
        status = 200
        extra: dict[str, str] = {}
        if "range" in headers and s.honour_range:
            start = int(headers["range"].split("=")[1].split("-")[0])
            status = 206
            extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if key in s.content_md5 and status == 200:
            extra["Content-MD5"] = s.content_md5[key]
        payload = data[start:]
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if action.startswith("drop_after:"):
            n = int(action.split(":")[1])
            self.wfile.write(payload[:n])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[tuple[str, Scripted]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    scripted = Scripted()
    httpd.scripted = scripted  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", scripted
    httpd.shutdown()
    httpd.server_close()


def _url(base: str, key: str = "/bucket/key", extra: str = "") -> str:
    return f"{base}{key}?X-Amz-Expires=60&X-Amz-Signature={SIG}{extra}"


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture
def payload(tmp_path: Any) -> tuple[str, bytes]:
    data = os.urandom(3 * 1024 * 1024 + 11)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    return str(path), data


async def test_upload_sends_md5_length_and_server_headers(
    server: tuple[str, Scripted], payload: tuple[str, bytes]
) -> None:
    base, s = server
    path, data = payload
    seen: list[tuple[int, int | None]] = []
    n = await flyte_storage.upload_signed(
        path,
        _url(base),
        headers={"x-amz-meta-owner": "flyte", "Content-Type": "application/octet-stream"},
        progress=lambda done, total: seen.append((done, total)),
    )
    assert n == len(data)
    assert s.objects["/bucket/key"] == data
    h = s.requests[-1]["headers"]
    assert h["content-md5"] == _md5(data)
    assert h["content-length"] == str(len(data))
    assert h["x-amz-meta-owner"] == "flyte"
    assert "transfer-encoding" not in h
    assert seen[-1] == (len(data), len(data)) and len(seen) > 1
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:], strict=False))


def test_upload_sync_and_bytes(server: tuple[str, Scripted]) -> None:
    base, s = server
    assert flyte_storage.upload_signed_sync(b"hello", _url(base)) == 5
    assert s.objects["/bucket/key"] == b"hello"
    assert flyte_storage.upload_signed_sync(b"", _url(base, "/bucket/empty")) == 0
    assert s.objects["/bucket/empty"] == b""


async def test_upload_md5_variants(
    server: tuple[str, Scripted], payload: tuple[str, bytes]
) -> None:
    base, s = server
    path, data = payload
    digest = hashlib.md5(data)
    for given in (digest.digest(), digest.hexdigest(), _md5(data)):
        await flyte_storage.upload_signed(path, _url(base), content_md5=given)
        assert s.requests[-1]["headers"]["content-md5"] == _md5(data)
    await flyte_storage.upload_signed(path, _url(base), content_md5=False)
    assert "content-md5" not in s.requests[-1]["headers"]


async def test_upload_retries_5xx_then_succeeds(
    server: tuple[str, Scripted], payload: tuple[str, bytes]
) -> None:
    base, s = server
    path, data = payload
    s.actions = ["status:503:SlowDown:0", "status:500:InternalError", "ok"]
    await flyte_storage.upload_signed(path, _url(base), backoff=0.01)
    assert len(s.requests) == 3 and s.objects["/bucket/key"] == data


async def test_upload_retries_s3_request_timeout(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.actions = ["status:400:RequestTimeout", "ok"]
    await flyte_storage.upload_signed(b"x", _url(base), backoff=0.01)
    assert len(s.requests) == 2


async def test_upload_retries_dropped_connections(
    server: tuple[str, Scripted], payload: tuple[str, bytes]
) -> None:
    base, s = server
    path, data = payload
    s.actions = ["drop", "ok"]
    await flyte_storage.upload_signed(path, _url(base), backoff=0.01)
    assert s.objects["/bucket/key"] == data


async def test_upload_gives_up_with_a_clear_error(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.actions = ["status:503:SlowDown"]
    with pytest.raises(ServiceUnavailable) as info:
        await flyte_storage.upload_signed(b"x", _url(base), retries=2, backoff=0.01)
    assert len(s.requests) == 3
    assert "503" in str(info.value) and SIG not in str(info.value)
    assert info.value.path and SIG not in info.value.path


async def test_upload_refused_is_not_retried(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.actions = ["status:403:SignatureDoesNotMatch"]
    with pytest.raises(AccessDenied) as info:
        await flyte_storage.upload_signed(b"x", _url(base), backoff=0.01)
    assert len(s.requests) == 1
    assert SIG not in str(info.value)


async def test_upload_expired_url(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.actions = ["expired"]
    with pytest.raises(AccessDenied, match="expired"):
        await flyte_storage.upload_signed(b"x", _url(base))
    assert len(s.requests) == 1


async def test_upload_other_4xx(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.actions = ["status:400:InvalidArgument"]
    with pytest.raises(TransferError) as info:
        await flyte_storage.upload_signed(b"x", _url(base))
    assert info.value.status == 400


async def test_upload_bad_digest_from_store(server: tuple[str, Scripted]) -> None:
    base, s = server
    with pytest.raises(IntegrityError):
        await flyte_storage.upload_signed(b"hello", _url(base), content_md5=_md5(b"other"))


async def test_upload_detects_content_differing_from_the_signed_md5(
    server: tuple[str, Scripted],
) -> None:
    base, s = server
    with pytest.raises(IntegrityError):
        await flyte_storage.upload_signed(b"hello", _url(base), headers={"Content-MD5": _md5(b"x")})
    assert s.requests == []


async def test_upload_adds_azure_blob_type(server: tuple[str, Scripted]) -> None:
    base, s = server
    sas = f"{base}/container/blob?sv=2023-01-03&sr=b&sp=cw&sig={SIG}"
    await flyte_storage.upload_signed(b"x", sas)
    assert s.requests[-1]["headers"]["x-ms-blob-type"] == "BlockBlob"
    await flyte_storage.upload_signed(b"x", _url(base))
    assert "x-ms-blob-type" not in s.requests[-1]["headers"]


async def test_upload_missing_file(server: tuple[str, Scripted], tmp_path: Any) -> None:
    base, _ = server
    with pytest.raises(ObjectNotFound):
        await flyte_storage.upload_signed(str(tmp_path / "absent"), _url(base))


async def test_download_to_file(server: tuple[str, Scripted], tmp_path: Any) -> None:
    base, s = server
    data = os.urandom(2 * 1024 * 1024 + 3)
    s.objects["/bucket/key"] = data
    s.content_md5["/bucket/key"] = _md5(data)
    seen: list[int] = []
    dest = str(tmp_path / "out" / "file.bin")
    got = await flyte_storage.download_signed(
        _url(base), dest, progress=lambda done, total: seen.append(done)
    )
    assert got == dest
    with open(dest, "rb") as f:
        assert f.read() == data
    assert seen[-1] == len(data)
    assert os.listdir(tmp_path / "out") == ["file.bin"]
    default = flyte_storage.download_signed_sync(_url(base))
    assert os.path.basename(default) == "key"


async def test_download_resumes_after_a_dropped_connection(
    server: tuple[str, Scripted], tmp_path: Any
) -> None:
    base, s = server
    data = os.urandom(1024 * 1024)
    s.objects["/bucket/key"] = data
    s.actions = ["drop_after:300000", "drop_after:200000", "ok"]
    dest = str(tmp_path / "f.bin")
    await flyte_storage.download_signed(_url(base), dest, backoff=0.01)
    with open(dest, "rb") as f:
        assert f.read() == data
    ranges = [r["headers"].get("range") for r in s.requests]
    assert ranges[0] is None and ranges[1] == "bytes=300000-" and ranges[2] == "bytes=500000-"


async def test_download_restarts_when_range_is_ignored(
    server: tuple[str, Scripted], tmp_path: Any
) -> None:
    base, s = server
    data = os.urandom(500_000)
    s.objects["/bucket/key"] = data
    s.content_md5["/bucket/key"] = _md5(data)
    s.honour_range = False
    s.actions = ["drop_after:100000", "ok"]
    dest = str(tmp_path / "f.bin")
    await flyte_storage.download_signed(_url(base), dest, backoff=0.01)
    with open(dest, "rb") as f:
        assert f.read() == data


async def test_download_failure_leaves_nothing(server: tuple[str, Scripted], tmp_path: Any) -> None:
    base, s = server
    s.objects["/bucket/key"] = os.urandom(500_000)
    s.actions = ["drop_after:1000"]
    dest = tmp_path / "f.bin"
    with pytest.raises(ServiceUnavailable) as info:
        await flyte_storage.download_signed(_url(base), str(dest), retries=1, backoff=0.01)
    assert SIG not in str(info.value)
    assert os.listdir(tmp_path) == []


async def test_download_checks_content_md5(server: tuple[str, Scripted], tmp_path: Any) -> None:
    base, s = server
    s.objects["/bucket/key"] = b"real content"
    s.content_md5["/bucket/key"] = _md5(b"something else")
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"old")
    with pytest.raises(IntegrityError):
        await flyte_storage.download_signed(_url(base), str(dest))
    assert dest.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


async def test_download_errors(server: tuple[str, Scripted], tmp_path: Any) -> None:
    base, s = server
    with pytest.raises(ObjectNotFound):
        await flyte_storage.download_signed(_url(base, "/bucket/missing"), str(tmp_path / "m"))
    s.actions = ["status:403:SignatureDoesNotMatch"]
    s.objects["/bucket/key"] = b"x"
    with pytest.raises(AccessDenied):
        await flyte_storage.download_signed(_url(base), str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []


async def test_download_stream(server: tuple[str, Scripted]) -> None:
    base, s = server
    data = os.urandom(700_000)
    s.objects["/bucket/key"] = data
    s.actions = ["drop_after:250000", "ok"]
    chunks = [
        c
        async for c in flyte_storage.download_signed_stream(
            _url(base), chunk_size=65536, backoff=0.01
        )
    ]
    assert b"".join(chunks) == data
    assert b"".join(flyte_storage.download_signed_stream_sync(_url(base))) == data


async def test_download_stream_cannot_rewind(server: tuple[str, Scripted]) -> None:
    base, s = server
    s.objects["/bucket/key"] = os.urandom(300_000)
    s.honour_range = False
    s.actions = ["drop_after:100000", "ok"]
    with pytest.raises(TransferError, match="cannot resume"):
        [
            c
            async for c in flyte_storage.download_signed_stream(
                _url(base), chunk_size=10_000, backoff=0.01
            )
        ]


async def test_connection_refused_is_service_unavailable(tmp_path: Any) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(ServiceUnavailable):
        await flyte_storage.upload_signed(
            b"x", f"http://127.0.0.1:{port}/b/k?sig={SIG}", retries=1, backoff=0.01
        )
    with pytest.raises(ServiceUnavailable):
        await flyte_storage.download_signed(
            f"http://127.0.0.1:{port}/b/k", str(tmp_path / "x"), retries=0
        )
    assert os.listdir(tmp_path) == []


def test_redact_url() -> None:
    assert flyte_storage.redact_url(f"https://h/b/k?X-Amz-Signature={SIG}") == (
        "https://h/b/k?<redacted>"
    )
    assert flyte_storage.redact_url("https://h/b/k") == "https://h/b/k"
