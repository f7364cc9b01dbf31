"""Transfers through pre-signed URLs (S3 presigned, GCS signed, Azure SAS) over httpx.

A control plane hands out signed URLs (e.g. the DataProxy's `CreateUploadLocation`) together
with headers the upload must carry. These functions do the HTTP part, which needs no cloud SDK
and no credentials:

* `upload_signed`: one `PUT` of a file (streamed from disk, `Content-Length` set, never chunked
  encoding, which S3 rejects) with `Content-MD5` and the server-given headers;
* `download_signed`: `GET` to a local file, written under a temporary name and renamed on
  success, resumed with a `Range` request after a dropped connection;
* `download_signed_stream`: `GET` as an async iterator of chunks.

Connection errors, timeouts and HTTP 408/429/5xx (and S3's `400 RequestTimeout`) are retried with
exponential backoff, honouring `Retry-After`. Other statuses fail at once with the matching
`flyte_storage.errors` class: 403 (wrong signature, tampered URL) is `AccessDenied`, an expired
URL is an `AccessDenied` whose message says so. Error messages never contain the URL's query
string, which holds the signature.

`progress(done, total)` is called after every chunk; `total` is `None` when unknown. For the
async functions it runs on the library's IO thread, so keep it quick and thread-safe.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import importlib
import os
import random
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from flyte_storage._config import get_config
from flyte_storage._errors import boundary, error_for_status
from flyte_storage._loop import io_loop, run_async, run_sync, to_thread
from flyte_storage._paths import get_random_local_path, strip_local
from flyte_storage.errors import AccessDenied, IntegrityError, StorageError, TransferError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ProgressCallback",
    "download_signed",
    "download_signed_stream",
    "download_signed_stream_sync",
    "download_signed_sync",
    "redact_url",
    "upload_signed",
    "upload_signed_sync",
]

#: `progress(bytes_done, total_bytes_or_None)`.
ProgressCallback = Callable[[int, int | None], None]

_CHUNK = 1024 * 1024
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_AFTER_CAP = 60.0
_EXPIRED_MARKERS = (
    "request has expired",  # S3, GCS XML API
    "expiredtoken",
    "signature not valid in the specified time frame",  # Azure
    "signature expired",
)


def redact_url(url: str) -> str:
    """A signed URL without its query string (which carries the signature), for messages.

    Args:
        url: The URL.

    Returns:
        `scheme://host/path?<redacted>` (or the URL unchanged if it has no query).
    """
    base, sep, _ = url.partition("?")
    return f"{base}?<redacted>" if sep else base


def _httpx() -> Any:
    return importlib.import_module("httpx")


def _normalize_md5(value: str | bytes) -> str:
    """Base64 `Content-MD5` from a raw 16-byte digest, a hex digest, or base64 already."""
    if isinstance(value, bytes):
        if len(value) != 16:
            raise ValueError("content_md5 bytes must be the 16-byte MD5 digest")
        return base64.b64encode(value).decode()
    if len(value) == 32:
        try:
            return base64.b64encode(binascii.unhexlify(value)).decode()
        except binascii.Error:
            pass
    try:
        if len(base64.b64decode(value, validate=True)) == 16:
            return value
    except binascii.Error:
        pass
    raise ValueError(f"content_md5 is neither a base64 nor a hex MD5 digest: {value!r}")


def _md5_file(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return base64.b64encode(h.digest()).decode()


def _open_binary(path: str, mode: str) -> BinaryIO:
    return cast(BinaryIO, open(path, mode))  # noqa: SIM115 - closed by the caller


def _is_azure_sas(url: str) -> bool:
    query = url.partition("?")[2]
    keys = {part.split("=", 1)[0] for part in query.split("&") if part}
    return "sig" in keys and ("sv" in keys or "sr" in keys)


def _backoff(attempt: int, base: float, cap: float, retry_after: float | None) -> float:
    if retry_after is not None:
        return retry_after
    delay: float = min(cap, base * (2 ** (attempt - 1)))
    return delay * (0.5 + random.random() / 2)


def _retry_after(response: httpx.Response) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # HTTP-date form: fall back to exponential backoff
    return min(max(seconds, 0.0), _RETRY_AFTER_CAP)


def _is_retryable(response: httpx.Response, body: str) -> bool:
    if response.status_code in _RETRY_STATUSES:
        return True
    return response.status_code == 400 and "<code>requesttimeout</code>" in body.lower()


def _status_error(response: httpx.Response, body: str, verb: str, url: str) -> StorageError:
    shown = redact_url(url)
    status = response.status_code
    snippet = " ".join(body.split())[:300]
    lowered = body.lower()
    if status in (400, 403) and any(m in lowered for m in _EXPIRED_MARKERS):
        return AccessDenied(
            f"{verb} {shown} failed: the signed URL has expired (HTTP {status}); ask for a new one",
            path=shown,
        )
    if status == 400 and ("md5" in lowered or "digest" in lowered):
        # S3 says BadDigest; Azure says InvalidOperation "Provided contentMD5 doesn't match".
        return IntegrityError(
            f"{verb} {shown} failed: the store rejected the content's MD5 (HTTP 400): {snippet}",
            path=shown,
            status=400,
        )
    code = None
    for start, end in (("<Code>", "</Code>"), ('"code":"', '"')):
        if start in body:
            code = body.split(start, 1)[1].split(end, 1)[0]
            break
    cls = error_for_status(status, code)
    message = f"{verb} {shown} failed: HTTP {status}" + (f": {snippet}" if snippet else "")
    if issubclass(cls, TransferError):
        return cls(message, path=shown, status=status)
    return cls(message, path=shown)


def _timeout(timeout: float | None) -> httpx.Timeout:
    seconds = get_config().upload_timeout if timeout is None else timeout
    return _httpx().Timeout(seconds, connect=min(30.0, seconds))


async def _retrying(
    attempt_fn: Callable[[int], Any],
    *,
    retries: int,
    backoff: float,
    max_backoff: float,
) -> Any:
    """Run `attempt_fn(attempt)` until it returns, retrying transport errors and retryable statuses.

    `attempt_fn` returns a result, or raises `_Retry(delay_hint)` for a retryable status.
    """
    httpx = _httpx()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await attempt_fn(attempt)
        except _Retry as r:
            if attempt > retries:
                raise r.final from None
            await asyncio.sleep(_backoff(attempt, backoff, max_backoff, r.retry_after))
        except httpx.TransportError:
            if attempt > retries:
                raise
            await asyncio.sleep(_backoff(attempt, backoff, max_backoff, None))


class _Retry(Exception):
    def __init__(self, final: StorageError, retry_after: float | None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


# --------------------------------------------------------------------------------------------
# upload


async def _op_upload(
    source: str | bytes,
    url: str,
    headers: Mapping[str, str] | None,
    content_md5: str | bytes | bool | None,
    progress: ProgressCallback | None,
    retries: int,
    backoff: float,
    timeout: float | None,
    verify: bool,
) -> int:
    httpx = _httpx()
    is_bytes = isinstance(source, bytes | bytearray | memoryview)
    local = "" if is_bytes else strip_local(source)  # type: ignore[arg-type]
    total = len(source) if is_bytes else await to_thread(os.path.getsize, local)

    send: dict[str, str] = {}
    if _is_azure_sas(url):
        send["x-ms-blob-type"] = "BlockBlob"
    for k, v in (headers or {}).items():
        send[k] = v
    given_md5 = next((v for k, v in send.items() if k.lower() == "content-md5"), None)
    if content_md5 is not False:
        if content_md5 is None or content_md5 is True:
            if is_bytes:
                digest = hashlib.md5(bytes(source)).digest()  # type: ignore[arg-type]
                md5 = base64.b64encode(digest).decode()
            else:
                md5 = await to_thread(_md5_file, local)
        else:
            md5 = _normalize_md5(content_md5)
        if given_md5 is not None and given_md5 != md5:
            raise IntegrityError(
                f"the content to upload does not match the Content-MD5 the URL was issued for "
                f"(expected {given_md5}, content has {md5})",
                path=redact_url(url),
            )
        send = {k: v for k, v in send.items() if k.lower() != "content-md5"}
        send["Content-MD5"] = md5
    send = {
        k: v for k, v in send.items() if k.lower() not in ("content-length", "transfer-encoding")
    }
    send["Content-Length"] = str(total)

    async def body() -> AsyncIterator[bytes]:
        done = 0
        if is_bytes:
            view = memoryview(source)  # type: ignore[arg-type]
            for start in range(0, total, _CHUNK):
                piece = bytes(view[start : start + _CHUNK])
                done += len(piece)
                yield piece
                if progress:
                    progress(done, total)
            return
        f = await to_thread(_open_binary, local, "rb")
        try:
            while piece := await to_thread(f.read, _CHUNK):
                done += len(piece)
                yield piece
                if progress:
                    progress(done, total)
        finally:
            await to_thread(f.close)

    async with httpx.AsyncClient(timeout=_timeout(timeout), verify=verify) as client:

        async def attempt(n: int) -> int:
            if progress and n > 1:
                progress(0, total)
            content = body() if total else b""
            response = await client.put(url, content=content, headers=send)
            if response.status_code in (200, 201, 204):
                return int(total)
            text = response.text
            error = _status_error(response, text, "upload to", url)
            if _is_retryable(response, text):
                raise _Retry(error, _retry_after(response))
            raise error

        result: int = await _retrying(attempt, retries=retries, backoff=backoff, max_backoff=30.0)
        return result


async def upload_signed(
    source: str | os.PathLike[str] | bytes,
    signed_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content_md5: str | bytes | bool | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> int:
    """Upload a local file (or bytes) with one `PUT` to a pre-signed URL.

    The body is streamed from disk with an explicit `Content-Length`. Headers are, in order of
    precedence: `Content-Length` and `Content-MD5` computed here, then `headers` (those the
    signing service returned with the URL), then `x-ms-blob-type: BlockBlob` for Azure SAS URLs.

    Args:
        source: A local path (or `file://` URI), or the bytes to upload.
        signed_url: The pre-signed URL.
        headers: Headers the signing service requires (sent as given).
        content_md5: `None`/`True` computes the MD5 of the content and sends it as `Content-MD5`
            (the store then rejects corrupted uploads); a digest (raw 16 bytes, hex or base64)
            sends that value; `False` sends none. If `headers` already carry a `Content-MD5`
            that differs from the content's, `IntegrityError` is raised before sending.
        progress: Called as `progress(bytes_sent, total)` after each chunk.
        retries: Retries after the first attempt, for connection errors, timeouts and
            408/429/5xx answers.
        backoff: First retry delay in seconds; doubles each time (jittered, capped at 30 s);
            `Retry-After` wins when the server sends it.
        timeout: Seconds per request; default `StorageConfig.upload_timeout`
            (`FLYTE_UPLOAD_TIMEOUT`).
        verify: Verify TLS certificates.

    Returns:
        The number of bytes uploaded.

    Raises:
        AccessDenied: The signature is wrong (tampered URL), expired, or not for this request.
        IntegrityError: The store rejected the content's MD5, or it differs from the signed one.
        ServiceUnavailable: Connection errors or 5xx answers outlasted the retries.
        ObjectNotFound: If the local file does not exist.
        TransferError: Any other rejected request.

    Example:
        ```python
        await flyte_storage.upload_signed("bundle.tgz", resp.signed_url,
                                          headers=dict(resp.headers))
        ```
    """
    src: str | bytes = source if isinstance(source, bytes) else os.fspath(source)
    with boundary("upload to", redact_url(signed_url)):
        return await run_async(
            _op_upload(
                src, signed_url, headers, content_md5, progress, retries, backoff, timeout, verify
            )
        )


def upload_signed_sync(
    source: str | os.PathLike[str] | bytes,
    signed_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content_md5: str | bytes | bool | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> int:
    """Blocking twin of `upload_signed`; same arguments, result and errors."""
    src: str | bytes = source if isinstance(source, bytes) else os.fspath(source)
    with boundary("upload to", redact_url(signed_url)):
        return run_sync(
            _op_upload,
            src,
            signed_url,
            headers,
            content_md5,
            progress,
            retries,
            backoff,
            timeout,
            verify,
        )


# --------------------------------------------------------------------------------------------
# download


def _check_md5(response_md5: str | None, actual: str | None, url: str) -> None:
    if response_md5 and actual and response_md5 != actual:
        raise IntegrityError(
            f"download of {redact_url(url)} is corrupt: Content-MD5 {response_md5}, got {actual}",
            path=redact_url(url),
        )


async def _stream_chunks(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str] | None,
    offset_holder: list[int],
    retries: int,
    backoff: float,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> AsyncIterator[tuple[bytes, bool, int | None, str | None]]:
    """GET `url` from `offset_holder[0]`, resuming after dropped connections.

    Yields `(chunk, restarted, total, content_md5)`; `restarted` is true on the first chunk
    after the server ignored a `Range` request and started from byte 0 again.
    """
    httpx = _httpx()
    attempt = 0
    while True:
        attempt += 1
        offset = offset_holder[0]
        send = dict(headers or {})
        if offset:
            send["Range"] = f"bytes={offset}-"
        try:
            async with client.stream("GET", url, headers=send) as response:
                if response.status_code not in (200, 206):
                    body = (await response.aread()).decode("utf-8", "replace")
                    error = _status_error(response, body, "download of", url)
                    if not _is_retryable(response, body) or attempt > retries:
                        raise error
                    await asyncio.sleep(_backoff(attempt, backoff, 30.0, _retry_after(response)))
                    continue
                restarted = False
                total: int | None = None
                if response.status_code == 206:
                    content_range = response.headers.get("Content-Range", "")
                    start = content_range.split(" ", 1)[-1].split("-", 1)[0]
                    if not start.isdigit() or int(start) != offset:
                        raise TransferError(
                            f"download of {redact_url(url)}: server resumed at {content_range!r}, "
                            f"expected byte {offset}",
                            path=redact_url(url),
                            status=206,
                        )
                    full = content_range.rpartition("/")[2]
                    total = int(full) if full.isdigit() else None
                else:
                    if offset:
                        restarted = True
                        offset_holder[0] = 0
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                # Only a full (200) response's Content-MD5 describes the whole object.
                md5 = response.headers.get("Content-MD5") if response.status_code == 200 else None
                # No chunk size here: httpx would hold bytes back until a chunk fills, and
                # bytes held back are lost for resumption when the connection drops.
                async for chunk in response.aiter_bytes():
                    offset_holder[0] += len(chunk)
                    yield chunk, restarted, total, md5
                    restarted = False
                    if progress:
                        progress(offset_holder[0], total)
                if total is not None and offset_holder[0] != total:
                    raise httpx.RemoteProtocolError("body ended early")
                return
        except httpx.TransportError:
            if attempt > retries:
                raise
            await asyncio.sleep(_backoff(attempt, backoff, 30.0, None))


async def _op_download(
    url: str,
    to_path: str | os.PathLike[str] | None,
    headers: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    retries: int,
    backoff: float,
    timeout: float | None,
    verify: bool,
) -> str:
    httpx = _httpx()
    if to_path is None:
        name = url.partition("?")[0].rstrip("/").rpartition("/")[2] or None
        dest = get_random_local_path(name)
    else:
        dest = strip_local(to_path)
    directory, leaf = os.path.split(os.path.abspath(dest))
    await to_thread(os.makedirs, directory, exist_ok=True)
    temp = os.path.join(directory, f".{leaf}.{uuid.uuid4().hex}.part")
    f = await to_thread(_open_binary, temp, "wb")
    ok = False
    try:
        # Hash while writing: a resumed response appends exactly where the last one stopped, so
        # the running hash stays valid; a restarted one (server ignored Range) resets it.
        h: Any = hashlib.md5()
        response_md5: str | None = None
        offset = [0]
        async with httpx.AsyncClient(timeout=_timeout(timeout), verify=verify) as client:
            async for chunk, restarted, _total, md5 in _stream_chunks(
                client, url, headers, offset, retries, backoff, _CHUNK, progress
            ):
                if restarted:
                    await to_thread(f.seek, 0)
                    await to_thread(f.truncate)
                    h = hashlib.md5()
                response_md5 = md5 or response_md5
                await to_thread(f.write, chunk)
                h.update(chunk)
        await to_thread(f.close)
        _check_md5(response_md5, base64.b64encode(h.digest()).decode(), url)
        await to_thread(os.replace, temp, dest)
        ok = True
        return dest
    finally:
        if not ok:
            await asyncio.shield(to_thread(_discard, f, temp))


def _discard(f: Any, temp: str) -> None:
    try:
        f.close()
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


async def download_signed(
    signed_url: str,
    to_path: str | os.PathLike[str] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> str:
    """Download a pre-signed URL to a local file.

    The body is streamed to a temporary file next to the destination, renamed into place only
    when complete; after a dropped connection the transfer resumes with a `Range` request. If
    the response carries `Content-MD5`, the content is checked against it.

    Args:
        signed_url: The pre-signed URL.
        to_path: The local destination; `None` picks a fresh random path keeping the URL's file
            name.
        headers: Extra request headers.
        progress: Called as `progress(bytes_received, total_or_None)` after each chunk.
        retries: Retries after the first attempt (connection errors, timeouts, 408/429/5xx).
        backoff: First retry delay in seconds (doubling, jittered, capped at 30 s).
        timeout: Seconds per request; default `StorageConfig.upload_timeout`.
        verify: Verify TLS certificates.

    Returns:
        The local path written.

    Raises:
        AccessDenied: The signature is wrong or expired.
        ObjectNotFound: Nothing exists at the URL.
        IntegrityError: The content does not match the response's `Content-MD5`.
        ServiceUnavailable: Connection errors or 5xx answers outlasted the retries.
    """
    with boundary("download of", redact_url(signed_url)):
        return await run_async(
            _op_download(signed_url, to_path, headers, progress, retries, backoff, timeout, verify)
        )


def download_signed_sync(
    signed_url: str,
    to_path: str | os.PathLike[str] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> str:
    """Blocking twin of `download_signed`; same arguments, result and errors."""
    with boundary("download of", redact_url(signed_url)):
        return run_sync(
            _op_download,
            signed_url,
            to_path,
            headers,
            progress,
            retries,
            backoff,
            timeout,
            verify,
        )


async def _stream_body(
    url: str,
    chunk_size: int,
    headers: Mapping[str, str] | None,
    progress: ProgressCallback | None,
    retries: int,
    backoff: float,
    timeout: float | None,
    verify: bool,
) -> AsyncGenerator[bytes, None]:
    httpx = _httpx()
    offset = [0]
    buffer = bytearray()
    delivered = 0
    async with httpx.AsyncClient(timeout=_timeout(timeout), verify=verify) as client:
        async for chunk, restarted, _total, _md5 in _stream_chunks(
            client, url, headers, offset, retries, backoff, chunk_size, progress
        ):
            if restarted:
                if delivered:
                    raise TransferError(
                        f"download of {redact_url(url)}: the server cannot resume (no Range "
                        "support) and part of the stream was already delivered",
                        path=redact_url(url),
                    )
                buffer.clear()
            buffer += chunk
            while len(buffer) >= chunk_size:
                piece = bytes(buffer[:chunk_size])
                del buffer[:chunk_size]
                delivered += len(piece)
                yield piece
    if buffer:
        yield bytes(buffer)


async def download_signed_stream(
    signed_url: str,
    *,
    chunk_size: int = _CHUNK,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> AsyncIterator[bytes]:
    """Stream a pre-signed URL's body as chunks, resuming with `Range` after dropped connections.

    Args:
        signed_url: The pre-signed URL.
        chunk_size: Preferred chunk size in bytes (chunks can be shorter).
        headers: Extra request headers.
        progress: Called as `progress(bytes_received, total_or_None)` after each chunk.
        retries: Retries after the first attempt (connection errors, timeouts, 408/429/5xx).
        backoff: First retry delay in seconds.
        timeout: Seconds per request; default `StorageConfig.upload_timeout`.
        verify: Verify TLS certificates.

    Yields:
        The body, in order.

    Raises:
        AccessDenied: The signature is wrong or expired.
        ObjectNotFound: Nothing exists at the URL.
        ServiceUnavailable: Connection errors or 5xx answers outlasted the retries.
    """
    shown = redact_url(signed_url)
    stream = _stream_body(
        signed_url, chunk_size, headers, progress, retries, backoff, timeout, verify
    )
    try:
        while True:
            with boundary("download of", shown):
                try:
                    chunk = await stream.__anext__()
                except StopAsyncIteration:
                    return
            yield chunk
    finally:
        await stream.aclose()


async def _next(stream: AsyncGenerator[bytes, None]) -> bytes:
    return await stream.__anext__()


def download_signed_stream_sync(
    signed_url: str,
    *,
    chunk_size: int = _CHUNK,
    headers: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: float | None = None,
    verify: bool = True,
) -> Iterator[bytes]:
    """Blocking twin of `download_signed_stream`; yields the same chunks."""
    shown = redact_url(signed_url)
    loop = io_loop()
    stream = _stream_body(
        signed_url, chunk_size, headers, progress, retries, backoff, timeout, verify
    )
    try:
        while True:
            with boundary("download of", shown):
                try:
                    chunk = asyncio.run_coroutine_threadsafe(_next(stream), loop).result()
                except StopAsyncIteration:
                    return
            yield chunk
    finally:
        asyncio.run_coroutine_threadsafe(stream.aclose(), loop).result()
