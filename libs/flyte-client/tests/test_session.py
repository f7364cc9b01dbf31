"""The session: one config, one ClientSet per running event loop, closed by reset_session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc.aio
import pytest
from flyteidl2.project import project_service_pb2

import flyte_client
from flyte_client import Config, ConfigError, PlatformConfig, TaskConfig
from flyte_models.errors import InitializationError

if TYPE_CHECKING:
    from conftest import ControlPlane


@pytest.fixture(autouse=True)
def no_session() -> Iterator[None]:
    flyte_client.reset_session()
    yield
    flyte_client.reset_session()


def test_not_initialized_errors_say_what_to_do() -> None:
    assert not flyte_client.is_initialized()
    with pytest.raises(InitializationError, match="flyte.init"):
        flyte_client.current_config()
    with pytest.raises(InitializationError, match="flyte.init"):
        flyte_client.get_client()


def test_init_without_endpoint_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no endpoint configured"):
        flyte_client.init_session(PlatformConfig())


def test_get_client_outside_a_loop_is_explained() -> None:
    flyte_client.init_session(PlatformConfig(endpoint="localhost:1", insecure=True))
    with pytest.raises(InitializationError, match="running event loop"):
        flyte_client.get_client()


async def test_one_client_set_per_loop(plain_plane: ControlPlane) -> None:
    cfg = Config(
        platform=PlatformConfig(endpoint=plain_plane.endpoint, insecure=True),
        task=TaskConfig(project="p", domain="d"),
    )
    flyte_client.init_session(cfg)
    assert flyte_client.is_initialized() and flyte_client.current_config() is cfg
    here = flyte_client.get_client()
    assert flyte_client.get_client() is here
    assert here.platform is cfg.platform

    other: list[object] = []

    def in_other_loop() -> None:
        async def use() -> None:
            clients = flyte_client.get_client()
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
            other.append(clients)

        asyncio.run(use())

    await asyncio.wait_for(asyncio.to_thread(in_other_loop), 30)  # the server runs on this loop
    assert other and other[0] is not here
    # and this loop's client set works too
    await here.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    assert len(plain_plane.calls.methods) == 2


async def test_reset_closes_the_channel(plain_plane: ControlPlane) -> None:
    flyte_client.init_session(PlatformConfig(endpoint=plain_plane.endpoint, insecure=True))
    clients = flyte_client.get_client()
    await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
    flyte_client.reset_session()
    assert not flyte_client.is_initialized()
    for _ in range(50):
        await asyncio.sleep(0.01)
        try:
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest())
        except grpc.aio.UsageError:
            break  # "Channel is closed"
    else:
        pytest.fail("the channel was not closed")


async def test_reinit_replaces_config(plain_plane: ControlPlane) -> None:
    flyte_client.init_session(PlatformConfig(endpoint=plain_plane.endpoint, insecure=True))
    first = flyte_client.get_client()
    flyte_client.init_session(
        Config(platform=PlatformConfig(endpoint=plain_plane.endpoint, insecure=True, rpc_retries=0))
    )
    second = flyte_client.get_client()
    assert second is not first and second.platform.rpc_retries == 0
