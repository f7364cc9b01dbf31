"""Creating runs on a devbox with raw RunService calls, for reading them with `flyte.remote`.

The runs are made the way a client does: the code bundle goes up through the devbox's signed
upload URL, the task spec carries our resolver's container args, and `CreateRun` gets inline
inputs. Nothing here uses `flyte.remote`, so the tests read runs they did not create with it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import httpx
from flyteidl2.common import identifier_pb2
from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import tasks_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.task import environment_pb2, run_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceClient
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

import flyte_types
from flyte_devbox import Devbox, DevboxConfig
from flyte_models import CodeBundle, SerializationContext, run_sync

PROJECT, DOMAIN = "flytesnacks", "development"
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
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    kwargs: dict[str, Any] = {
        "port": 0,
        "state_dir": state_dir,
        "a0_command": (sys.executable, "-m", "flyte_runtime._entrypoint"),
        "env": {"PYTHONPATH": child_path},
        "max_concurrent_actions": 4,
    }
    kwargs.update(overrides)
    return DevboxConfig(**kwargs)


def write_tasks(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{MODULE}.py").write_text(TASKS)


def bundle_bytes(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(root / f"{MODULE}.py", arcname=f"{MODULE}.py")
    return buf.getvalue()


async def upload(devbox: Devbox, data: bytes) -> str:
    async with DataProxyServiceClient(devbox.url) as dp:
        loc = await dp.create_upload_location(
            dp_pb2.CreateUploadLocationRequest(
                project=PROJECT,
                domain=DOMAIN,
                filename="fast.tar.gz",
                content_md5=hashlib.md5(data).digest(),
                add_content_md5_metadata=True,
            )
        )
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    async with httpx.AsyncClient() as http:
        put = await http.put(loc.signed_url, content=data, headers={"Content-MD5": md5})
    assert put.status_code == 200, put.text
    return str(loc.native_url)


def task_spec(
    task: Any, bundle_url: str, root: Path, version: str = "v1"
) -> task_definition_pb2.TaskSpec:
    from flyte_runtime._resolver import install_default_resolver

    install_default_resolver()
    sctx = SerializationContext(
        version=version,
        project=PROJECT,
        domain=DOMAIN,
        code_bundle=CodeBundle(tgz=bundle_url, computed_version=version),
        root_dir=root,
    )
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
    inputs = await flyte_types.build_inputs(task.interface, kwargs)
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(
            run_service_pb2.CreateRunRequest(
                project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
                task_spec=spec,
                inputs=inputs,
                run_spec=run_pb2.RunSpec(),
            )
        )
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
