"""Run tasks of a module written into a temporary directory through a real devbox and our a0."""

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
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.task import run_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
import flyte_types
from flyte_client._spec import translate_task_to_spec
from flyte_devbox import Devbox, DevboxConfig
from flyte_models import CodeBundle, SerializationContext
from flyte_runtime._resolver import install_default_resolver

PROJECT, DOMAIN = "flytesnacks", "development"
TERMINAL = {
    phase_pb2.ACTION_PHASE_SUCCEEDED,
    phase_pb2.ACTION_PHASE_FAILED,
    phase_pb2.ACTION_PHASE_ABORTED,
    phase_pb2.ACTION_PHASE_TIMED_OUT,
}


def start_devbox(state_dir: Path, **env: str) -> Devbox:
    """A devbox on 127.0.0.1 whose actions run our a0 with this process's `sys.path`."""
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    config = DevboxConfig(
        port=0,
        state_dir=state_dir,
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        env={"PYTHONPATH": child_path, **env},
        max_concurrent_actions=1,
    )
    return Devbox(config).start()


async def upload_module(devbox: Devbox, root: Path, module: str) -> str:
    """Upload `<root>/<module>.py` as a tgz code bundle through a signed URL; return its URL."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(root / f"{module}.py", arcname=f"{module}.py")
    data = buf.getvalue()
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


def spec_of(task: Any, bundle_url: str, root: Path) -> Any:
    """The task's TaskSpec (flyte_client's translation), running from the uploaded bundle."""
    install_default_resolver()
    sctx = SerializationContext(
        version="v1",
        project=PROJECT,
        domain=DOMAIN,
        code_bundle=CodeBundle(tgz=bundle_url, computed_version="v1"),
        root_dir=root,
    )
    return translate_task_to_spec(task, sctx, image_uri="python:3.11")


async def run_spec(
    runs: RunServiceClient, spec: Any, task: Any, **inputs: Any
) -> tuple[run_definition_pb2.ActionDetails, Any]:
    """Create a run of `spec`, wait for it to finish; return its details and (on success) output."""
    created = await runs.create_run(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_spec=spec,
            inputs=await flyte_types.build_inputs(task.interface, inputs),
            run_spec=run_pb2.RunSpec(),
        )
    )
    req = run_service_pb2.WatchActionDetailsRequest(action_id=created.run.action.id)
    async for resp in runs.watch_action_details(req):
        if resp.details.status.phase in TERMINAL:
            details = resp.details
            break
    else:
        raise AssertionError("the watch ended before the run finished")
    if details.status.phase != phase_pb2.ACTION_PHASE_SUCCEEDED:
        return details, None
    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=details.id))
    return details, await flyte_types.read_outputs(data.outputs, task.interface)
