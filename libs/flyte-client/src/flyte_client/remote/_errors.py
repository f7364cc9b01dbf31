"""One boundary for RPC failures: `flyte_client.errors.translate_rpc_error`, plus the typed
not-found errors the remote objects promise (`ActionNotFoundError` for runs and actions)."""

from __future__ import annotations

from typing import Any

from flyte_client.errors import NotFoundError, translate_rpc_error
from flyte_models import errors as ferr

__all__ = ["RunNotFoundError", "is_transient", "rpc_code", "translate"]

_TRANSIENT = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED"}


class RunNotFoundError(NotFoundError, ferr.ActionNotFoundError):
    """The run or action does not exist (both a `flyte_client.errors.NotFoundError` and a
    `flyte.errors.ActionNotFoundError`)."""


def rpc_code(exc: BaseException) -> str | None:
    """The gRPC status code name (`"NOT_FOUND"`, ...) of `exc` (a grpc error or a translated
    `flyte_client.errors.RpcError`), or None for other errors."""
    status = getattr(exc, "status", None)
    if isinstance(status, str) and hasattr(exc, "what"):
        return status
    code = getattr(exc, "code", None)
    if not callable(code):
        return None
    try:
        value: Any = code()
    except Exception:
        return None
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else None


def is_transient(exc: BaseException) -> bool:
    """Whether a failed stream or call is worth retrying (connection dropped, server restarting)."""
    code = rpc_code(exc)
    if code is not None:
        return code in _TRANSIENT
    return isinstance(exc, ConnectionError | TimeoutError)


def translate(exc: BaseException, what: str) -> Exception:
    """Turn an error raised while doing `what` (e.g. "get run 'r1'") into a typed exception.

    NOT_FOUND for runs and actions becomes `RunNotFoundError`; everything else is
    `flyte_client.errors.translate_rpc_error`'s. Non-gRPC exceptions are returned unchanged.
    """
    code = rpc_code(exc)
    if code is None:
        return exc if isinstance(exc, Exception) else RuntimeError(str(exc))
    out = translate_rpc_error(exc, what=what)
    if code == "NOT_FOUND" and ("run " in what or "action " in what):
        details = getattr(out, "details", "")
        return RunNotFoundError(
            f"{what} failed: it does not exist{': ' + details if details else ''}",
            status="NOT_FOUND",
            details=details,
            what=what,
        )
    return out
