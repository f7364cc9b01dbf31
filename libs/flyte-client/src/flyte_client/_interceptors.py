"""grpc.aio client interceptors: request id, retry with backoff, bearer-token auth, proxy auth.

grpc.aio files one interceptor object under exactly one call kind, so each interceptor here is
a *core* object whose `interceptors()` returns one adapter per call kind it handles (unary-unary,
unary-stream, and for metadata-only ones stream-unary/stream-stream). Order in the channel,
outermost first: request id -> retry -> auth -> proxy auth. Retries therefore keep the same
`x-request-id`, and each attempt carries the newest token.

Retry policy (`RetryInterceptor`):

* Retried codes: UNAVAILABLE, INTERNAL and RESOURCE_EXHAUSTED, at most `max_retries` times,
  sleeping `min(10 s, 0.5 s * 2**attempt)` scaled by a random factor in [0.5, 1] (jitter).
* A call that reads (method name starting with Get, List, Watch, Tail or Select, or UserInfo) is
  always safe to repeat and is retried on any of those codes.
* A call with side effects (CreateRun, EnqueueAction, DeployTask, Put, Abort, ...) is retried only
  when the failure is a *connect* failure (UNAVAILABLE and grpc reports that no connection could
  be made), because then the request never reached the server and cannot have taken effect.
* A server stream is retried only if it fails before its first message (nothing was consumed).
* When the last failure is a connect failure, the interceptor raises
  `flyte_client.errors.EndpointUnreachableError` (endpoint, cause and fix in the message).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from flyte_client.errors import error_for_status, is_connect_failure

if TYPE_CHECKING:
    from flyte_client._auth import Authenticator

__all__ = [
    "AuthInterceptor",
    "RequestIdInterceptor",
    "RetryInterceptor",
    "is_read_only_method",
    "with_metadata",
]

_READ_PREFIXES = ("Get", "List", "Watch", "Tail", "Select")
_READ_METHODS = frozenset({"UserInfo", "GetOAuth2Metadata", "GetPublicClientConfig"})


def _method_name(method: Any) -> str:
    text = method.decode() if isinstance(method, bytes) else str(method)
    return text.rsplit("/", 1)[-1]


def is_read_only_method(method: str | bytes) -> bool:
    """Whether the RPC `/pkg.Service/Method` only reads, so repeating it has no side effects."""
    name = _method_name(method)
    return name in _READ_METHODS or name.startswith(_READ_PREFIXES)


def with_metadata(
    details: grpc.aio.ClientCallDetails, pairs: Sequence[tuple[str, str]], *, replace: bool = True
) -> grpc.aio.ClientCallDetails:
    """A copy of `details` with the header `pairs` added (replacing same-named ones)."""
    names = {k.lower() for k, _ in pairs}
    metadata = grpc.aio.Metadata()
    for key, value in details.metadata or ():
        if not (replace and key.lower() in names):
            metadata.add(key, value)
    for key, value in pairs:
        metadata.add(key, value)
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _Core:
    """Base of the interceptor cores; subclasses override the call kinds they handle."""

    kinds: tuple[str, ...] = ("unary_unary", "unary_stream")

    async def unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(details, request)

    async def unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(details, request)

    async def stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(details, request_iterator)

    async def stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(details, request_iterator)

    def interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        """One grpc.aio interceptor per call kind this core handles."""
        adapters = {
            "unary_unary": _UnaryUnary,
            "unary_stream": _UnaryStream,
            "stream_unary": _StreamUnary,
            "stream_stream": _StreamStream,
        }
        return [adapters[kind](self) for kind in self.kinds]


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, core: _Core) -> None:
        self.core = core

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.core.unary_unary(continuation, details, request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, core: _Core) -> None:
        self.core = core

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self.core.unary_stream(continuation, details, request)


class _StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, core: _Core) -> None:
        self.core = core

    async def intercept_stream_unary(self, continuation: Any, details: Any, it: Any) -> Any:
        return await self.core.stream_unary(continuation, details, it)


class _StreamStream(grpc.aio.StreamStreamClientInterceptor):
    def __init__(self, core: _Core) -> None:
        self.core = core

    async def intercept_stream_stream(self, continuation: Any, details: Any, it: Any) -> Any:
        return await self.core.stream_stream(continuation, details, it)


class _MetadataCore(_Core):
    """A core that only adds headers; it applies to every call kind."""

    kinds = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")

    def headers(self, details: Any) -> list[tuple[str, str]]:
        raise NotImplementedError

    async def unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(with_metadata(details, self.headers(details)), request)

    async def unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(with_metadata(details, self.headers(details)), request)

    async def stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(with_metadata(details, self.headers(details)), request_iterator)

    async def stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(with_metadata(details, self.headers(details)), request_iterator)


class RequestIdInterceptor(_MetadataCore):
    """Adds `x-request-id` (a fresh uuid4, or `prefix-<8 hex>` when a prefix is given).

    A caller-supplied `x-request-id` is kept.
    """

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix

    def headers(self, details: Any) -> list[tuple[str, str]]:
        for key, _ in details.metadata or ():
            if key.lower() == "x-request-id":
                return []
        rid = f"{self.prefix}-{uuid.uuid4().hex[:8]}" if self.prefix else str(uuid.uuid4())
        return [("x-request-id", rid)]


_RETRY_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.RESOURCE_EXHAUSTED}
)


class RetryInterceptor(_Core):
    """Retries transient failures with exponential backoff and jitter (policy in module doc).

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_backoff: Seconds before the first retry.
        max_backoff: Cap of one sleep.
        endpoint: Named in the unreachable-endpoint error.
        sleep: The sleep function (tests may pass a faster one).
    """

    def __init__(
        self,
        max_retries: int = 3,
        *,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        endpoint: str | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.max_retries = max(0, int(max_retries))
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.endpoint = endpoint
        self._sleep = sleep

    def backoff(self, attempt: int) -> float:
        """The sleep before retry number `attempt` (0-based), jittered."""
        base = min(self.max_backoff, self.initial_backoff * (2**attempt))
        return base * random.uniform(0.5, 1.0)

    def _retryable(self, method: Any, code: grpc.StatusCode, details: str) -> bool:
        if code not in _RETRY_CODES:
            return False
        if is_read_only_method(method):
            return True
        return code == grpc.StatusCode.UNAVAILABLE and is_connect_failure(details)

    def _final(self, method: Any, code: grpc.StatusCode, details: str) -> None:
        if code == grpc.StatusCode.UNAVAILABLE and is_connect_failure(details):
            raise error_for_status(
                "UNAVAILABLE",
                details,
                what=f"{_method_name(method)} (after {self.max_retries} retries)",
                endpoint=self.endpoint,
            )

    async def unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        attempt = 0
        while True:
            call = await continuation(details, request)
            code = await call.code()
            if code == grpc.StatusCode.OK:
                return call
            text = await call.details() or ""
            if attempt < self.max_retries and self._retryable(details.method, code, text):
                await self._sleep(self.backoff(attempt))
                attempt += 1
                continue
            self._final(details.method, code, text)
            return call

    async def unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        attempt = 0
        while True:
            call = await continuation(details, request)
            try:
                await call.wait_for_connection()
                return call
            except grpc.aio.AioRpcError as e:
                code, text = e.code(), e.details() or ""
            if attempt < self.max_retries and self._retryable(details.method, code, text):
                await self._sleep(self.backoff(attempt))
                attempt += 1
                continue
            self._final(details.method, code, text)
            return call


def _auth_failed(code: grpc.StatusCode, details: str, had_token: bool) -> bool:
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return True
    if code == grpc.StatusCode.PERMISSION_DENIED and not had_token:
        return True
    return code == grpc.StatusCode.UNKNOWN and "unauthorized" in details.lower()


class AuthInterceptor(_Core):
    """Adds `authorization: Bearer <token>`; on UNAUTHENTICATED refreshes once and retries
    (unary and server-streaming calls; client-streaming calls only get the header).

    The token comes from the `Authenticator` (memory, then keyring/file cache, then its flow).
    A second UNAUTHENTICATED is returned to the caller (`UnauthenticatedError` once translated).
    """

    kinds = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    def _details(self, details: Any, token: str | None) -> Any:
        if not token:
            return details
        return with_metadata(details, [(self.authenticator.header_key, f"Bearer {token}")])

    async def unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        token = await self.authenticator.get_token()
        call = await continuation(self._details(details, token), request)
        code = await call.code()
        if code == grpc.StatusCode.OK:
            return call
        if _auth_failed(code, await call.details() or "", bool(token)):
            token = await self.authenticator.refresh(stale=token)
            call = await continuation(self._details(details, token), request)
        return call

    async def unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        token = await self.authenticator.get_token()
        call = await continuation(self._details(details, token), request)
        try:
            await call.wait_for_connection()
            return call
        except grpc.aio.AioRpcError as e:
            if not _auth_failed(e.code(), e.details() or "", bool(token)):
                return call
        token = await self.authenticator.refresh(stale=token)
        return await continuation(self._details(details, token), request)

    # Client-streaming calls cannot be replayed (the request iterator is consumed): the token
    # is attached, and a rejection goes back to the caller.
    async def stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        token = await self.authenticator.get_token()
        return await continuation(self._details(details, token), request_iterator)

    async def stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        token = await self.authenticator.get_token()
        return await continuation(self._details(details, token), request_iterator)


class StaticMetadataInterceptor(_MetadataCore):
    """Adds fixed headers to every call (e.g. passthrough auth)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def headers(self, details: Any) -> list[tuple[str, str]]:
        return self.pairs
