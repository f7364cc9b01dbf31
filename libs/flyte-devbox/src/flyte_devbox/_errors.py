"""Errors the engine raises; the RPC layer turns each into the matching Connect/gRPC code."""

from __future__ import annotations


class DevboxError(Exception):
    """Base of the engine's errors. `code` is a `connectrpc.code.Code` member name."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DevboxError):
    code = "NOT_FOUND"


class AlreadyExists(DevboxError):
    code = "ALREADY_EXISTS"


class InvalidArgument(DevboxError):
    code = "INVALID_ARGUMENT"


class FailedPrecondition(DevboxError):
    code = "FAILED_PRECONDITION"


class Aborted(DevboxError):
    code = "ABORTED"


class Unimplemented(DevboxError):
    code = "UNIMPLEMENTED"
