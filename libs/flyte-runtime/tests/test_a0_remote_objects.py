"""`a0` started by a backend that names its control plane (`_U_EP_OVERRIDE`): starting the task
imports no client module for `flyte.remote`, which finds that control plane on first use."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

# What the a0 subprocess runs and its task module imports (also the test's Pants dependencies).
import flyte._internal.resolvers.default
import flyte.remote  # noqa: F401
import flyte_client.remote._client  # noqa: F401
import flyte_runtime._entrypoint  # noqa: F401
import flyte_types
from flyte_models import NativeInterface

TASKS = """
import json
import os
import sys

import flyte

env = flyte.TaskEnvironment(name="probe")


@env.task
async def loaded_at_start(x: int) -> int:
    # First statement of user code: what a0 imported to get here.
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump(sorted(sys.modules), f)
    return x


@env.task
async def remote_config(x: int) -> str:
    import flyte.remote  # noqa: F401 - what a task using flyte.remote imports
    from flyte_client.remote import _client

    cfg = _client.current_config()
    return f"{cfg.endpoint}|{cfg.insecure}|{cfg.org}|{cfg.project}|{cfg.domain}"
"""


def _x(x: int) -> None:
    ...


def _int(x: int) -> int:
    ...


def _str(x: int) -> str:
    ...


@pytest.fixture
def run_a0(tmp_path: Path, subprocess_env: dict[str, str]) -> Callable[..., Path]:
    """Runs a task of the probe bundle in `a0` as a backend would; returns its outputs prefix."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "probe_tasks.py").write_text(TASKS)
    bundle = tmp_path / "bundle.tgz"
    with tarfile.open(bundle, "w:gz") as tf:
        tf.add(src / "probe_tasks.py", arcname="probe_tasks.py")
    inputs = tmp_path / "inputs.pb"
    msg = flyte_types.build_inputs_sync(NativeInterface.from_callable(_x), {"x": 5})
    inputs.write_bytes(msg.SerializeToString())

    def run(task: str, **env: str) -> Path:
        out = tmp_path / "base" / task / "1"
        work = tmp_path / f"work-{task}"
        work.mkdir()
        argv = [
            sys.executable,
            "-m",
            "flyte_runtime._entrypoint",
            "--inputs",
            str(inputs),
            "--outputs-path",
            str(out),
            "--version",
            "v1",
            "--raw-data-path",
            str(tmp_path / "raw"),
            "--run-name",
            "r1",
            "--name",
            task,
            "--run-start-time",
            "2024-05-01T10:00:00Z",
            "--tgz",
            str(bundle),
            "--dest",
            ".",
            "--resolver",
            "flyte._internal.resolvers.default.DefaultTaskResolver",
            "mod",
            "probe_tasks",
            "instance",
            task,
        ]
        backend = {
            "_U_RUN_BASE": str(tmp_path / "base"),
            "FLYTE_INTERNAL_EXECUTION_PROJECT": "proj",
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": "dev",
            "_U_ORG_NAME": "acme",
            # The backend's control plane; nothing listens there, nothing may connect at start.
            "_U_EP_OVERRIDE": "dns:///127.0.0.1:9",
            "_U_INSECURE": "true",
        }
        proc = subprocess.run(
            argv,
            cwd=work,
            env={**subprocess_env, **backend, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert not (out / "error.pb").exists(), proc.stderr
        return out

    return run


def test_a0_start_imports_no_client_for_flyte_remote(
    run_a0: Callable[..., Path], tmp_path: Path
) -> None:
    probe = tmp_path / "modules.json"
    out = run_a0("loaded_at_start", PROBE_OUT=str(probe))
    modules = set(json.loads(probe.read_text()))
    assert "flyte_runtime._remote_controller" in modules  # a0 (run as __main__) loaded it
    loaded = sorted(
        m for m in modules if m.startswith(("flyte_client", "grpc")) or m == "flyte.remote"
    )
    assert loaded == [], f"a0 start-up imported {loaded}"
    outputs = flyte_types.read_outputs_sync(
        str(out / "outputs.pb"), NativeInterface.from_callable(_int)
    )
    assert outputs == 5


def test_flyte_remote_in_a0_finds_the_backends_control_plane(run_a0: Callable[..., Path]) -> None:
    out = run_a0("remote_config")
    got = flyte_types.read_outputs_sync(
        str(out / "outputs.pb"), NativeInterface.from_callable(_str)
    )
    assert got == "dns:///127.0.0.1:9|True|acme|proj|dev"
