"""Run tasks of a module written into a temporary directory through a real devbox and our a0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_definition_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from support.devbox_runs import (
    bundle_bytes,
    our_devbox_config,
    read_outputs,
    run_and_wait,
    tgz_context,
    upload_bundle,
)

from flyte_client._spec import translate_task_to_spec
from flyte_devbox import Devbox
from flyte_runtime._resolver import install_default_resolver


def plugin_devbox(state_dir: Path, **env: str) -> Devbox:
    """A devbox (not started: use it as a context manager) on 127.0.0.1 whose actions run our
    a0, one at a time, with this process's `sys.path` and `env`."""
    return Devbox(our_devbox_config(state_dir, env=env, max_concurrent_actions=1))


async def upload_module(devbox: Devbox, root: Path, module: str) -> str:
    """Upload `<root>/<module>.py` as a tgz code bundle through a signed URL; return its URL."""
    return await upload_bundle(devbox, bundle_bytes(root, module))


def spec_of(task: Any, bundle_url: str, root: Path) -> Any:
    """The task's TaskSpec (flyte_client's translation), running from the uploaded bundle."""
    install_default_resolver()
    sctx = tgz_context(bundle_url, root)
    return translate_task_to_spec(task, sctx, image_uri="python:3.11")


async def run_spec(
    runs: RunServiceClient, spec: Any, task: Any, **inputs: Any
) -> tuple[run_definition_pb2.ActionDetails, Any]:
    """Create a run of `spec`, wait for it to finish; return its details and (on success) output."""
    details = await run_and_wait(runs, spec, task, **inputs)
    if details.status.phase != phase_pb2.ACTION_PHASE_SUCCEEDED:
        return details, None
    return details, await read_outputs(runs, details, task)
