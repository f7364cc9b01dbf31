"""Our devbox runs leaf tasks written with our `flyte` package through our `a0`, end to end.

The test uploads a real code bundle through the devbox's signed upload URL, builds the task spec's
container args with `TaskTemplate.container_args` and our default task resolver, creates runs
over Connect, and reads the results the way a client does.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import os
import sys
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import tasks_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.task import environment_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
import flyte_types
from flyte_devbox import Devbox, DevboxConfig
from flyte_models import CodeBundle, SerializationContext
from flyte_runtime._resolver import install_default_resolver

PROJECT, DOMAIN = "flytesnacks", "development"
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
TERMINAL = {
    phase_pb2.ACTION_PHASE_SUCCEEDED,
    phase_pb2.ACTION_PHASE_FAILED,
    phase_pb2.ACTION_PHASE_ABORTED,
    phase_pb2.ACTION_PHASE_TIMED_OUT,
}


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Any]]:
    root = tmp_path / "src"
    root.mkdir()
    (root / f"{MODULE}.py").write_text(TASKS)
    monkeypatch.syspath_prepend(str(root))
    sys.modules.pop(MODULE, None)
    yield root, importlib.import_module(MODULE)
    sys.modules.pop(MODULE, None)


@pytest.fixture
def devbox(tmp_path: Path) -> Iterator[Devbox]:
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    config = DevboxConfig(
        port=0,
        state_dir=tmp_path / "state",
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        env={"PYTHONPATH": child_path},
        max_concurrent_actions=2,
    )
    dbx = Devbox(config).start()
    try:
        yield dbx
    finally:
        dbx.stop()


@pytest.fixture
async def runs(devbox: Devbox) -> AsyncIterator[RunServiceClient]:
    async with RunServiceClient(devbox.url) as client:
        yield client


def bundle_bytes(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(root / f"{MODULE}.py", arcname=f"{MODULE}.py")
    return buf.getvalue()


async def upload(devbox: Devbox, data: bytes) -> str:
    """Upload through a signed URL, as `flyte run` does; return the bundle's native URL."""
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


def task_spec(task: Any, bundle_url: str, root: Path) -> task_definition_pb2.TaskSpec:
    install_default_resolver()
    sctx = SerializationContext(
        version="v1",
        project=PROJECT,
        domain=DOMAIN,
        code_bundle=CodeBundle(tgz=bundle_url, computed_version="v1"),
        root_dir=root,
    )
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


async def run_task(
    runs: RunServiceClient, spec: task_definition_pb2.TaskSpec, task: Any, **kwargs: Any
) -> run_definition_pb2.ActionDetails:
    inputs = await flyte_types.build_inputs(task.interface, kwargs)
    created = await runs.create_run(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_spec=spec,
            inputs=inputs,
            run_spec=run_pb2.RunSpec(),
        )
    )
    req = run_service_pb2.WatchActionDetailsRequest(action_id=created.run.action.id)
    async for resp in runs.watch_action_details(req):
        if resp.details.status.phase in TERMINAL:
            return resp.details
    raise AssertionError("the watch ended before the run finished")


async def outputs(runs: RunServiceClient, details: Any, task: Any) -> Any:
    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=details.id))
    return await flyte_types.read_outputs(data.outputs, task.interface)


async def test_leaf_tasks_succeed_with_outputs(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    url = await upload(devbox, bundle_bytes(root))

    details = await run_task(runs, task_spec(mod.square, url, root), mod.square, x=7)
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert await outputs(runs, details, mod.square) == 49

    details = await run_task(runs, task_spec(mod.label, url, root), mod.label, x=3)
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert await outputs(runs, details, mod.label) == f"n3 in {details.id.run.name}"


async def test_failing_task_fails_with_its_message(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    url = await upload(devbox, bundle_bytes(root))
    details = await run_task(runs, task_spec(mod.fails, url, root), mod.fails, x=5)
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.code == "ValueError"
    assert details.error_info.message == "x=5 is not welcome"
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
