"""Fixtures for the reference-client suite: the reference SDK's virtualenv and a devbox.

The reference SDK (PyPI `flyte==2.12.1`) lives in its own virtualenv, named by
`$FLYTE_TEST_REF_VENV` (CI creates it with `scripts/ref-venv.sh`). Without the variable the
suite is skipped; with it set but unusable, it fails. The SDK is only ever run as a subprocess
(its Python API through a driver script, and its `flyte` CLI); the devbox runs in this process
on a free 127.0.0.1 port and executes every action with the reference venv's own `a0`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The `tests/` source root, so `devbox.*` imports resolve as they do under Pants.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devbox.devbox_ref_client import REF_VERSION, RefClient, devbox_config, make_workdir

from flyte_devbox import Devbox


@pytest.fixture(scope="session")
def ref_venv() -> Path:
    value = os.environ.get("FLYTE_TEST_REF_VENV")
    if not value:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set (a virtualenv with PyPI flyte==2.12.1; "
            "scripts/ref-venv.sh creates one)"
        )
    venv = Path(value)
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"FLYTE_TEST_REF_VENV={venv} has no bin/python")
    probe = subprocess.run(
        [str(python), "-c", "import flyte; print(flyte.__version__)"],
        # Our libraries on an inherited PYTHONPATH would shadow the reference's `flyte`.
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.fail(f"the reference SDK does not import in {venv}:\n{probe.stderr[-2000:]}")
    if probe.stdout.strip() != REF_VERSION:
        pytest.fail(f"{venv} has flyte {probe.stdout.strip()}, expected {REF_VERSION}")
    for tool in ("a0", "flyte"):
        if not (venv / "bin" / tool).exists():
            pytest.fail(f"{venv}/bin/{tool} is missing")
    return venv


@pytest.fixture(scope="session")
def shared_devbox(ref_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    dbx = Devbox(devbox_config(ref_venv, tmp_path_factory.mktemp("devbox-state"))).start()
    try:
        yield dbx
    finally:
        dbx.stop()


@pytest.fixture(scope="session")
def ref(
    ref_venv: Path, shared_devbox: Devbox, tmp_path_factory: pytest.TempPathFactory
) -> RefClient:
    client = RefClient(ref_venv, shared_devbox, make_workdir(tmp_path_factory.mktemp("ref")))
    client.write_config()
    return client
