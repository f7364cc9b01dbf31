"""Creating runs on a devbox with raw RunService calls, for reading them with `flyte.remote`.

The runs are made the way a client does: the code bundle goes up through the devbox's signed
upload URL, the task spec carries our resolver's container args, and `CreateRun` gets inline
inputs. Nothing here uses `flyte.remote`, so the tests read runs they did not create with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import tasks_pb2
from flyteidl2.task import environment_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceClient
from flyteidl2.workflow.run_service_connect import RunServiceClient
from support import devbox_runs
from support.devbox_runs import tgz_context

import flyte_types
from flyte_devbox import Devbox, DevboxConfig
from flyte_models import run_sync

PROJECT, DOMAIN = devbox_runs.PROJECT, devbox_runs.DOMAIN
MODULE = "remote_objects_tasks"
TASKS = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="robj")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def pair(x: int, label: str = "n") -> tuple[int, str]:
    return x + 1, f"{label}{x}"


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")


@env.task
async def sleeper(seconds: float, x: int = 1) -> int:
    await asyncio.sleep(seconds)
    print(f"slept {seconds}s", flush=True)
    return x * 10


@env.task
async def fanout(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))
"""


def our_devbox_config(state_dir: Path, **overrides: Any) -> DevboxConfig:
    """A devbox running our a0, up to 4 actions at a time (see `support.devbox_runs`)."""
    return devbox_runs.our_devbox_config(state_dir, **{"max_concurrent_actions": 4, **overrides})


def write_tasks(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{MODULE}.py").write_text(TASKS)


def bundle_bytes(root: Path) -> bytes:
    return devbox_runs.bundle_bytes(root, MODULE)


async def upload(devbox: Devbox, data: bytes) -> str:
    return await devbox_runs.upload_bundle(devbox, data)


def task_spec(
    task: Any, bundle_url: str, root: Path, version: str = "v1"
) -> task_definition_pb2.TaskSpec:
    from flyte_runtime._resolver import install_default_resolver

    install_default_resolver()
    sctx = tgz_context(bundle_url, root, version)
    template = tasks_pb2.TaskTemplate(
        id=core_identifier_pb2.Identifier(
            resource_type=core_identifier_pb2.TASK,
            project=PROJECT,
            domain=DOMAIN,
            name=task.name,
            version=version,
        ),
        type="python",
        interface=flyte_types.translate_interface(task.interface),
        container=tasks_pb2.Container(image="python:3.11", args=task.container_args(sctx)),
    )
    return task_definition_pb2.TaskSpec(
        task_template=template,
        short_name=task.func.__name__,
        environment=environment_pb2.Environment(name="robj"),
        default_inputs=run_sync(flyte_types.translate_default_inputs(task.interface)),
    )


async def create_run(
    devbox: Devbox, spec: task_definition_pb2.TaskSpec, task: Any, **kwargs: Any
) -> str:
    """Start a run of `spec` with inline inputs; return the run's name."""
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(await devbox_runs.create_run_request(spec, task, **kwargs))
    return str(created.run.action.id.run.name)


async def deploy_task(devbox: Devbox, spec: task_definition_pb2.TaskSpec) -> None:
    tid = spec.task_template.id
    async with TaskServiceClient(devbox.url) as tasks:
        await tasks.deploy_task(
            task_service_pb2.DeployTaskRequest(
                task_id=task_definition_pb2.TaskIdentifier(
                    project=tid.project, domain=tid.domain, name=tid.name, version=tid.version
                ),
                spec=spec,
            )
        )
