"""Request-id and retry interceptors against a real grpc.aio server on loopback."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import grpc
import grpc.aio
import pytest
from flyteidl2.project import project_service_pb2
from flyteidl2.workflow import run_service_pb2

from flyte_client import ClientSet, PlatformConfig, create_client_set
from flyte_client._interceptors import RequestIdInterceptor, RetryInterceptor, is_read_only_method
from flyte_client.errors import EndpointUnreachableError

if TYPE_CHECKING:
    from conftest import ControlPlane

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_clients(plane: ControlPlane, retries: int) -> ClientSet:
    chain = [
        *RequestIdInterceptor().interceptors(),
        *RetryInterceptor(retries, initial_backoff=0.01, endpoint=plane.endpoint).interceptors(),
    ]
    return ClientSet.for_endpoint(plane.endpoint, insecure=True, interceptors=chain)


async def test_read_call_is_retried_on_unavailable_then_succeeds(plain_plane: ControlPlane) -> None:
    plain_plane.fail_next = [UNAVAILABLE, UNAVAILABLE, grpc.StatusCode.INTERNAL]
    async with fast_clients(plain_plane, retries=3) as clients:
        resp = await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    assert [p.id for p in resp.projects.projects] == ["flytesnacks"]
    assert plain_plane.calls.methods == ["ListProjects"] * 4
    ids = {md["x-request-id"] for md in plain_plane.calls.metadata}
    assert len(ids) == 1, "retries keep one x-request-id"


async def test_retries_are_bounded(plain_plane: ControlPlane) -> None:
    plain_plane.fail_next = [UNAVAILABLE] * 5
    async with fast_clients(plain_plane, retries=2) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    assert info.value.code() == UNAVAILABLE
    assert len(plain_plane.calls.methods) == 3  # first attempt + 2 retries


async def test_call_with_side_effects_is_not_retried_after_reaching_the_server(
    plain_plane: ControlPlane,
) -> None:
    plain_plane.fail_next = [UNAVAILABLE]
    async with fast_clients(plain_plane, retries=3) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await clients.project_service.CreateProject(project_service_pb2.CreateProjectRequest())
    assert info.value.code() == UNAVAILABLE
    assert plain_plane.calls.methods == ["CreateProject"]  # not duplicated


async def test_non_retryable_code_is_returned_at_once(plain_plane: ControlPlane) -> None:
    plain_plane.fail_next = [grpc.StatusCode.NOT_FOUND]
    async with fast_clients(plain_plane, retries=3) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(plain_plane.calls.methods) == 1


async def test_server_stream_is_retried_before_its_first_message(plain_plane: ControlPlane) -> None:
    plain_plane.fail_next = [UNAVAILABLE, UNAVAILABLE]
    async with fast_clients(plain_plane, retries=3) as clients:
        call = clients.run_service.WatchRunDetails(run_service_pb2.WatchRunDetailsRequest())
        got = [msg async for msg in call]
    assert len(got) == 3
    assert plain_plane.calls.methods == ["WatchRunDetails"] * 3


async def test_request_id_is_added_and_a_callers_id_kept(plain_plane: ControlPlane) -> None:
    async with fast_clients(plain_plane, retries=0) as clients:
        await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
        await clients.project_service.ListProjects(
            project_service_pb2.ListProjectsRequest(), metadata=(("x-request-id", "mine"),)
        )
    first, second = plain_plane.calls.metadata
    assert len(first["x-request-id"]) == 36  # a uuid4
    assert second["x-request-id"] == "mine"


async def test_create_client_set_wires_retries(plain_plane: ControlPlane) -> None:
    plain_plane.fail_next = [UNAVAILABLE]
    clients = create_client_set(
        PlatformConfig(endpoint=f"dns:///{plain_plane.endpoint}", insecure=True, rpc_retries=1)
    )
    async with clients:
        await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    assert len(plain_plane.calls.methods) == 2
    assert "x-request-id" in plain_plane.calls.metadata[0]
    assert "authorization" not in plain_plane.calls.metadata[0]  # insecure: no auth (reference)


async def test_unreachable_endpoint_gives_clear_error_in_bounded_time() -> None:
    port = free_port()  # nothing listens here
    clients = create_client_set(
        PlatformConfig(endpoint=f"localhost:{port}", insecure=True, rpc_retries=2)
    )
    start = time.monotonic()
    async with clients:
        with pytest.raises(EndpointUnreachableError) as info:
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    elapsed = time.monotonic() - start
    assert elapsed < 15, elapsed
    msg = str(info.value)
    assert f"localhost:{port}" in msg and "unreachable" in msg and "flyte start devbox" in msg
    assert "2 retries" in msg


async def test_unreachable_endpoint_also_for_calls_with_side_effects() -> None:
    # A connect failure means the request never left: safe to retry, and still a clear error.
    clients = create_client_set(
        PlatformConfig(endpoint=f"127.0.0.1:{free_port()}", insecure=True, rpc_retries=1)
    )
    async with clients:
        with pytest.raises(EndpointUnreachableError):
            await clients.project_service.CreateProject(project_service_pb2.CreateProjectRequest())


def test_read_only_classification() -> None:
    assert is_read_only_method("/flyteidl2.workflow.RunService/GetRunDetails")
    assert is_read_only_method(b"/flyteidl2.workflow.RunService/WatchActionDetails")
    assert is_read_only_method("/flyteidl2.cluster.ClusterService/SelectCluster")
    assert not is_read_only_method("/flyteidl2.workflow.RunService/CreateRun")
    assert not is_read_only_method("/flyteidl2.workflow.QueueService/EnqueueAction")
    assert not is_read_only_method("/flyteidl2.workflow.StateService/Put")


def test_backoff_is_exponential_capped_and_jittered() -> None:
    r = RetryInterceptor(10, initial_backoff=0.5, max_backoff=10.0)
    for attempt, base in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 10.0)]:
        values = {r.backoff(attempt) for _ in range(20)}
        assert all(base * 0.5 <= v <= base for v in values)
        assert len(values) > 1  # jitter
