"""Our devbox runs leaf tasks written with our `flyte` package through our `a0`, end to end.

The test uploads a real code bundle through the devbox's signed upload URL, builds the task spec's
container args with `TaskTemplate.container_args` and our default task resolver, creates runs
over Connect, and reads the results the way a client does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.common import phase_pb2
from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import tasks_pb2
from flyteidl2.task import environment_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from support.devbox_runs import (
    DOMAIN,
    PROJECT,
    bundle_bytes,
    our_devbox_config,
    read_outputs,
    run_and_wait,
    task_module,
    tgz_context,
    upload_bundle,
)

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
import flyte_types
from flyte_devbox import Devbox
from flyte_runtime._resolver import install_default_resolver

MODULE = "a0_leaf_tasks"
TASKS = """
import flyte

env = flyte.TaskEnvironment(name="leaf")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
def label(x: int, prefix: str = "n") -> str:
    return f"{prefix}{x} in {flyte.ctx().action.run_name}"


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")
"""


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    with task_module(tmp_path / "src", MODULE, TASKS) as mod:
        yield tmp_path / "src", mod


@pytest.fixture
def devbox(tmp_path: Path) -> Iterator[Devbox]:
    with Devbox(our_devbox_config(tmp_path / "state", max_concurrent_actions=2)) as dbx:
        yield dbx


@pytest.fixture
async def runs(devbox: Devbox) -> AsyncIterator[RunServiceClient]:
    async with RunServiceClient(devbox.url) as client:
        yield client


def task_spec(task: Any, bundle_url: str, root: Path) -> task_definition_pb2.TaskSpec:
    install_default_resolver()
    sctx = tgz_context(bundle_url, root)
    args = task.container_args(sctx)
    assert args[0] == "a0" and args[-4:] == ["mod", MODULE, "instance", task.func.__name__]
    template = tasks_pb2.TaskTemplate(
        id=core_identifier_pb2.Identifier(
            resource_type=core_identifier_pb2.TASK,
            project=PROJECT,
            domain=DOMAIN,
            name=task.name,
            version="v1",
        ),
        type="python",
        interface=flyte_types.translate_interface(task.interface),
        container=tasks_pb2.Container(image="python:3.11", args=args),
    )
    return task_definition_pb2.TaskSpec(
        task_template=template,
        short_name=task.func.__name__,
        environment=environment_pb2.Environment(name="leaf"),
    )


async def test_leaf_tasks_succeed_with_outputs(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    url = await upload_bundle(devbox, bundle_bytes(root, MODULE))

    details = await run_and_wait(runs, task_spec(mod.square, url, root), mod.square, x=7)
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert await read_outputs(runs, details, mod.square) == 49

    details = await run_and_wait(runs, task_spec(mod.label, url, root), mod.label, x=3)
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert await read_outputs(runs, details, mod.label) == f"n3 in {details.id.run.name}"


async def test_failing_task_fails_with_its_message(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    url = await upload_bundle(devbox, bundle_bytes(root, MODULE))
    details = await run_and_wait(runs, task_spec(mod.fails, url, root), mod.fails, x=5)
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.code == "ValueError"
    assert details.error_info.message == "x=5 is not welcome"
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
