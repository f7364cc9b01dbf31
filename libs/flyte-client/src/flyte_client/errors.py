"""The exceptions of `flyte_client`: configuration, authentication and control-plane calls.

Every gRPC failure is translated at one boundary, `translate_rpc_error`, into one class per
status code, so callers catch meaning (`NotFoundError`) instead of comparing status codes.

```
FlyteError                                 (flyte_models.errors)
  BaseRuntimeError
    InitializationError
      ConfigError                          bad or missing configuration (names file, key, fix)
      AuthenticationError                  a login / token flow failed
    RuntimeUserError
      RpcError + RuntimeUserError          the request was wrong (kind "user")
        InvalidArgumentError, NotFoundError, AlreadyExistsError, PermissionDeniedError,
        UnauthenticatedError, FailedPreconditionError, OutOfRangeError, UnimplementedError,
        CancelledError
    RuntimeSystemError
      UnionRpcError
        RpcError + UnionRpcError           the platform failed (kind "system")
          UnavailableError                 is_retryable = True
            EndpointUnreachableError       nothing answers at the endpoint
          DeadlineExceededRpcError, ResourceExhaustedError, AbortedError   is_retryable = True
          InternalError, UnknownRpcError, DataLossError
```

`RpcError` is the common base of every translated gRPC failure: `except RpcError` catches them
all; each carries `status` (the `grpc.StatusCode` name, e.g. `"NOT_FOUND"`), `details` (the
server's message) and `what` (the operation that failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte_models.errors import (
    FlyteError,
    InitializationError,
    RuntimeUserError,
    UnionRpcError,
)

if TYPE_CHECKING:
    import grpc

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "AuthenticationError",
    "CancelledError",
    "ConfigError",
    "DataLossError",
    "DeadlineExceededRpcError",
    "EndpointUnreachableError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RpcError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownRpcError",
    "translate_rpc_error",
]


class ConfigError(InitializationError, ValueError):
    """The configuration is malformed, has a value of the wrong type, or is missing.

    Args:
        message: What is wrong and how to fix it.
        path: The config file involved, if any.
        key: The dotted config key involved (e.g. `admin.insecure`), if any.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        super().__init__("ConfigError", "user", message)
        self.path = path
        self.key = key


class AuthenticationError(InitializationError):
    """Obtaining or refreshing credentials failed (login flow, token endpoint, external command)."""

    def __init__(self, message: str) -> None:
        super().__init__("AuthenticationError", "user", message)


class RpcError(FlyteError):
    """A failed call to the control plane, translated from a `grpc.aio.AioRpcError`.

    Attributes:
        status: The gRPC status code name, e.g. `"NOT_FOUND"`.
        details: The message the server sent.
        what: The operation that failed, as the caller described it.
    """

    kind_default: str = "system"
    status: str = "UNKNOWN"

    def __init__(self, message: str, *, status: str, details: str = "", what: str = "") -> None:
        from flyte_models.errors import BaseRuntimeError

        BaseRuntimeError.__init__(self, type(self).__name__, self.kind_default, message)  # type: ignore[arg-type]
        self.status = status
        self.details = details
        self.what = what


class _UserRpcError(RpcError, RuntimeUserError):
    kind_default = "user"
    is_retryable = False


class _SystemRpcError(RpcError, UnionRpcError):
    kind_default = "system"
    is_retryable = False


class InvalidArgumentError(_UserRpcError):
    """The server rejected the request as malformed (INVALID_ARGUMENT)."""


class NotFoundError(_UserRpcError):
    """The requested object does not exist (NOT_FOUND)."""


class AlreadyExistsError(_UserRpcError):
    """An object with that name already exists (ALREADY_EXISTS), e.g. a run name reused."""


class PermissionDeniedError(_UserRpcError):
    """The caller is authenticated but not allowed to do this (PERMISSION_DENIED)."""


class UnauthenticatedError(_UserRpcError):
    """The call carried no valid credentials (UNAUTHENTICATED)."""


class FailedPreconditionError(_UserRpcError):
    """The system is not in a state that allows the call (FAILED_PRECONDITION)."""


class OutOfRangeError(_UserRpcError):
    """A value was outside the valid range (OUT_OF_RANGE)."""


class UnimplementedError(_UserRpcError):
    """The server does not implement this call (UNIMPLEMENTED): an older or different server."""


class CancelledError(_UserRpcError):
    """The call was cancelled, usually by the client (CANCELLED)."""


class UnavailableError(_SystemRpcError):
    """The control plane is temporarily unavailable (UNAVAILABLE)."""

    is_retryable = True


class EndpointUnreachableError(UnavailableError):
    """Nothing answers at the configured endpoint (connection refused, DNS failure, TLS mismatch)."""


class DeadlineExceededRpcError(_SystemRpcError):
    """The call did not complete before its deadline (DEADLINE_EXCEEDED)."""

    is_retryable = True


class ResourceExhaustedError(_SystemRpcError):
    """A quota or rate limit was hit (RESOURCE_EXHAUSTED)."""

    is_retryable = True


class AbortedError(_SystemRpcError):
    """The call was aborted, typically by a concurrency conflict (ABORTED)."""

    is_retryable = True


class InternalError(_SystemRpcError):
    """The server failed internally (INTERNAL)."""


class UnknownRpcError(_SystemRpcError):
    """The server failed with no specific status (UNKNOWN), or the status is not recognised."""


class DataLossError(_SystemRpcError):
    """Unrecoverable data loss or corruption (DATA_LOSS)."""


# grpc.StatusCode name -> class. Total over every code except OK (see tests/test_errors.py).
_BY_STATUS: dict[str, type[RpcError]] = {
    "CANCELLED": CancelledError,
    "UNKNOWN": UnknownRpcError,
    "INVALID_ARGUMENT": InvalidArgumentError,
    "DEADLINE_EXCEEDED": DeadlineExceededRpcError,
    "NOT_FOUND": NotFoundError,
    "ALREADY_EXISTS": AlreadyExistsError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "RESOURCE_EXHAUSTED": ResourceExhaustedError,
    "FAILED_PRECONDITION": FailedPreconditionError,
    "ABORTED": AbortedError,
    "OUT_OF_RANGE": OutOfRangeError,
    "UNIMPLEMENTED": UnimplementedError,
    "INTERNAL": InternalError,
    "UNAVAILABLE": UnavailableError,
    "DATA_LOSS": DataLossError,
    "UNAUTHENTICATED": UnauthenticatedError,
}

_HINTS: dict[str, str] = {
    "UNAUTHENTICATED": "log in again or check the auth settings (admin.authType, FLYTE_API_KEY)",
    "PERMISSION_DENIED": "ask an administrator for access to this project/domain",
    "UNIMPLEMENTED": "the server does not support this call; check the server version",
    "UNAVAILABLE": "the control plane is unavailable; retry later or check the endpoint",
    "DEADLINE_EXCEEDED": "the call timed out; retry or raise the timeout",
}

# Substrings grpc core puts in UNAVAILABLE details when no connection could be made at all.
_CONNECT_FAILURE_MARKERS = (
    "failed to connect",
    "connection refused",
    "connect failed",
    "dns resolution failed",
    "name resolution",
    "no route to host",
    "ssl handshake",
    "handshake failed",
    "socket closed",
    "empty address list",
    "tcp handshaker shutdown",
    "timeout occurred",
)


def status_name(code: Any) -> str:
    """The name of a `grpc.StatusCode` (or of anything with a `.name`), e.g. `"NOT_FOUND"`."""
    name = getattr(code, "name", None)
    return str(name) if name else str(code)


def is_connect_failure(details: str) -> bool:
    """Whether an UNAVAILABLE message means no connection was made (the request was never sent)."""
    text = (details or "").lower()
    return any(marker in text for marker in _CONNECT_FAILURE_MARKERS)


def translate_rpc_error(
    err: BaseException, *, what: str = "", endpoint: str | None = None
) -> FlyteError:
    """Turn a gRPC error into the matching `flyte_client.errors` exception (the one boundary).

    Use it as `raise translate_rpc_error(e, what="get run 'r1'") from e`. An error that is
    already a `FlyteError` (e.g. raised by an interceptor) is returned unchanged; a non-gRPC
    exception becomes `UnknownRpcError`.

    Args:
        err: A `grpc.RpcError` / `grpc.aio.AioRpcError` (anything with `code()` and `details()`).
        what: The operation, for the message, e.g. `"create run in flytesnacks/development"`.
        endpoint: The endpoint called, named in unreachable-endpoint messages.

    Returns:
        An `RpcError` subclass instance (or `err` itself when already a `FlyteError`).
    """
    if isinstance(err, FlyteError):
        return err
    code_fn = getattr(err, "code", None)
    details_fn = getattr(err, "details", None)
    if not callable(code_fn):
        return UnknownRpcError(
            f"{what or 'call'} failed: {err}", status="UNKNOWN", details=str(err), what=what
        )
    status = status_name(code_fn())
    details = str(details_fn() or "") if callable(details_fn) else ""
    return error_for_status(status, details, what=what, endpoint=endpoint)


def error_for_status(
    status: str | grpc.StatusCode, details: str, *, what: str = "", endpoint: str | None = None
) -> RpcError:
    """Build the `RpcError` subclass for a status code name (or `grpc.StatusCode`)."""
    name = status_name(status)
    cls = _BY_STATUS.get(name, UnknownRpcError)
    prefix = f"{what} failed" if what else "call failed"
    if cls is UnavailableError and is_connect_failure(details):
        where = f" at {endpoint}" if endpoint else ""
        return EndpointUnreachableError(
            f"{prefix}: the Flyte control plane{where} is unreachable ({details.strip()}). "
            "Fix: start it (for a local devbox: `flyte start devbox`), or check the endpoint "
            "(admin.endpoint / FLYTE_ADMIN_ENDPOINT / flyte.init(endpoint=...)) and the "
            "insecure/TLS setting.",
            status=name,
            details=details,
            what=what,
        )
    hint = _HINTS.get(name)
    message = f"{prefix}: {name}: {details}".rstrip(": ")
    if hint:
        message += f" ({hint})"
    return cls(message, status=name, details=details, what=what)
