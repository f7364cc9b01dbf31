"""gRPC status -> flyte_client.errors: one boundary, total over every grpc.StatusCode."""

from __future__ import annotations

import pickle

import grpc
import grpc.aio
import pytest

from flyte_client import errors
from flyte_models.errors import (
    FlyteError,
    InitializationError,
    RuntimeSystemError,
    RuntimeUserError,
    UnionRpcError,
)


def aio_error(code: grpc.StatusCode, details: str = "boom") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


EXPECTED = {
    grpc.StatusCode.CANCELLED: errors.CancelledError,
    grpc.StatusCode.UNKNOWN: errors.UnknownRpcError,
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgumentError,
    grpc.StatusCode.DEADLINE_EXCEEDED: errors.DeadlineExceededRpcError,
    grpc.StatusCode.NOT_FOUND: errors.NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.ResourceExhaustedError,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPreconditionError,
    grpc.StatusCode.ABORTED: errors.AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: errors.OutOfRangeError,
    grpc.StatusCode.UNIMPLEMENTED: errors.UnimplementedError,
    grpc.StatusCode.INTERNAL: errors.InternalError,
    grpc.StatusCode.UNAVAILABLE: errors.UnavailableError,
    grpc.StatusCode.DATA_LOSS: errors.DataLossError,
    grpc.StatusCode.UNAUTHENTICATED: errors.UnauthenticatedError,
}


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c != grpc.StatusCode.OK])
def test_every_status_code_maps_to_its_own_class(code: grpc.StatusCode) -> None:
    err = errors.translate_rpc_error(aio_error(code, "the details"), what="get run 'r1'")
    assert type(err) is EXPECTED[code]
    assert isinstance(err, errors.RpcError) and isinstance(err, FlyteError)
    assert err.status == code.name and err.details == "the details" and err.what == "get run 'r1'"
    assert "get run 'r1'" in str(err) and "the details" in str(err)
    # user-caused failures are RuntimeUserError, platform ones are UnionRpcError (system)
    assert isinstance(err, RuntimeUserError) != isinstance(err, UnionRpcError)
    assert err.kind == ("user" if isinstance(err, RuntimeUserError) else "system")


def test_mapping_is_total_and_injective() -> None:
    codes = {c for c in grpc.StatusCode if c != grpc.StatusCode.OK}
    assert set(EXPECTED) == codes
    assert len(set(EXPECTED.values())) == len(codes)


def test_retryability_is_a_class_attribute() -> None:
    assert errors.UnavailableError.is_retryable
    assert errors.DeadlineExceededRpcError.is_retryable
    assert not errors.NotFoundError.is_retryable
    assert not errors.InvalidArgumentError.is_retryable


def test_connect_failure_becomes_endpoint_unreachable_with_fix() -> None:
    e = aio_error(
        grpc.StatusCode.UNAVAILABLE,
        "failed to connect to all addresses; last error: Connection refused",
    )
    err = errors.translate_rpc_error(e, what="list projects", endpoint="localhost:30080")
    assert isinstance(err, errors.EndpointUnreachableError)
    assert isinstance(err, errors.UnavailableError) and isinstance(err, RuntimeSystemError)
    msg = str(err)
    assert "localhost:30080" in msg and "unreachable" in msg and "flyte start devbox" in msg


def test_flyte_errors_pass_through_and_foreign_errors_are_unknown() -> None:
    mine = errors.NotFoundError("x", status="NOT_FOUND")
    assert errors.translate_rpc_error(mine) is mine
    other = errors.translate_rpc_error(ValueError("odd"), what="w")
    assert isinstance(other, errors.UnknownRpcError) and "odd" in str(other)


def test_errors_pickle_round_trip() -> None:
    err = errors.translate_rpc_error(aio_error(grpc.StatusCode.ALREADY_EXISTS, "dup"), what="run")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.AlreadyExistsError
    assert (back.status, back.details, back.what, str(back)) == (
        err.status,
        err.details,
        err.what,
        str(err),
    )


def test_config_and_auth_errors_are_initialization_errors() -> None:
    c = errors.ConfigError("bad", path="/x.yaml", key="admin.insecure")
    assert isinstance(c, InitializationError) and isinstance(c, ValueError)
    assert (c.path, c.key, c.kind) == ("/x.yaml", "admin.insecure", "user")
    assert isinstance(errors.AuthenticationError("no"), InitializationError)
