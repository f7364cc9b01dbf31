"""Shared by the devbox end-to-end tests: a devbox running our a0, code bundles uploaded the way
a client does, and runs created and watched over Connect with raw RunService calls.

Imported as `support.devbox_runs` (the `tests/` source root; each test directory's conftest puts
it on `sys.path` for plain pytest, as Pants does).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import io
import os
import sys
import tarfile
from collections.abc import Iterator
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
from flyte_devbox import Devbox, DevboxConfig
from flyte_models import CodeBundle, SerializationContext

PROJECT, DOMAIN = "flytesnacks", "development"
TERMINAL = {
    phase_pb2.ACTION_PHASE_SUCCEEDED,
    phase_pb2.ACTION_PHASE_FAILED,
    phase_pb2.ACTION_PHASE_ABORTED,
    phase_pb2.ACTION_PHASE_TIMED_OUT,
}


@contextlib.contextmanager
def task_module(root: Path, module: str, text: str) -> Iterator[Any]:
    """Write `text` as `<root>/<module>.py` and import it (with `root` on `sys.path`) for the
    duration of the block; both are undone afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(text)
    sys.path.insert(0, str(root))
    sys.modules.pop(module, None)
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(root))
        sys.modules.pop(module, None)


def our_devbox_config(
    state_dir: Path, *, env: dict[str, str] | None = None, **overrides: Any
) -> DevboxConfig:
    """A devbox on 127.0.0.1 (free port) whose actions run our a0 with this process's `sys.path`.

    `env` adds variables for the actions; `overrides` are other `DevboxConfig` fields.
    """
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    kwargs: dict[str, Any] = {
        "port": 0,
        "state_dir": state_dir,
        "a0_command": (sys.executable, "-m", "flyte_runtime._entrypoint"),
        "env": {"PYTHONPATH": child_path, **(env or {})},
    }
    kwargs.update(overrides)
    return DevboxConfig(**kwargs)


def tgz_context(bundle_url: str, root: Path, version: str = "v1") -> SerializationContext:
    """The serialization context of tasks under `root` running from the tgz bundle
    `bundle_url`, in PROJECT/DOMAIN."""
    return SerializationContext(
        version=version,
        project=PROJECT,
        domain=DOMAIN,
        code_bundle=CodeBundle(tgz=bundle_url, computed_version=version),
        root_dir=root,
    )


def bundle_bytes(root: Path, module: str) -> bytes:
    """A tgz code bundle holding `<root>/<module>.py`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(root / f"{module}.py", arcname=f"{module}.py")
    return buf.getvalue()


async def upload_bundle(
    devbox: Devbox,
    data: bytes,
    headers: dict[str, str] | None = None,
    *,
    filename: str = "fast.tar.gz",
) -> str:
    """Upload a code bundle through a signed URL, as `flyte run` does; return its native URL."""
    async with DataProxyServiceClient(devbox.url) as dp:
        loc = await dp.create_upload_location(
            dp_pb2.CreateUploadLocationRequest(
                project=PROJECT,
                domain=DOMAIN,
                filename=filename,
                content_md5=hashlib.md5(data).digest(),
                add_content_md5_metadata=True,
            ),
            headers=headers,
        )
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    async with httpx.AsyncClient() as http:
        put = await http.put(loc.signed_url, content=data, headers={"Content-MD5": md5})
    assert put.status_code == 200, put.text
    return str(loc.native_url)


async def create_run_request(
    spec: Any, task: Any, **kwargs: Any
) -> run_service_pb2.CreateRunRequest:
    """A `CreateRunRequest` of `spec` in PROJECT/DOMAIN with inline inputs `kwargs`."""
    return run_service_pb2.CreateRunRequest(
        project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
        task_spec=spec,
        inputs=await flyte_types.build_inputs(task.interface, kwargs),
        run_spec=run_pb2.RunSpec(),
    )


async def wait_terminal(
    runs: RunServiceClient, action_id: Any, headers: dict[str, str] | None = None
) -> run_definition_pb2.ActionDetails:
    """Watch the action until it is terminal; return its details."""
    req = run_service_pb2.WatchActionDetailsRequest(action_id=action_id)
    async for resp in runs.watch_action_details(req, headers=headers):
        if resp.details.status.phase in TERMINAL:
            return resp.details
    raise AssertionError("the watch ended before the run finished")


async def run_and_wait(
    runs: RunServiceClient, spec: Any, task: Any, **kwargs: Any
) -> run_definition_pb2.ActionDetails:
    """Create a run of `spec` with inline inputs `kwargs`; wait for it to end; its details."""
    created = await runs.create_run(await create_run_request(spec, task, **kwargs))
    return await wait_terminal(runs, created.run.action.id)


async def read_outputs(
    runs: RunServiceClient, details: Any, task: Any, headers: dict[str, str] | None = None
) -> Any:
    """The outputs of a finished action, decoded with `task`'s interface."""
    data = await runs.get_action_data(
        run_service_pb2.GetActionDataRequest(action_id=details.id), headers=headers
    )
    return await flyte_types.read_outputs(data.outputs, task.interface)
