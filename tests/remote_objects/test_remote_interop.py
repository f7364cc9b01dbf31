"""Interop with the reference SDK (PyPI flyte==2.12.1, in `$FLYTE_TEST_REF_VENV`), both ways:

* runs the reference client creates (its own a0 runs them) are read by our `flyte.remote`;
* runs we create (our a0 runs them) are read by the reference's `flyte.remote`
  (`Run.get(name).wait(); .outputs()`).

The reference SDK only ever runs as a subprocess; see tests/devbox for the driver.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from devbox.devbox_ref_client import REF_VERSION, RefClient, devbox_config, make_workdir, ref_env
from remote_objects.conftest import Env, point_remote_at

import flyte.errors
import flyte.remote
from flyte.models import ActionPhase
from flyte_client.remote import _client
from flyte_devbox import Devbox


@pytest.fixture(scope="module")
def ref_venv() -> Path:
    value = os.environ.get("FLYTE_TEST_REF_VENV")
    if not value:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set (a virtualenv with PyPI flyte==2.12.1; "
            "scripts/ref-venv.sh creates one)"
        )
    python = Path(value) / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import flyte; print(flyte.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
        env=ref_env(Path(value)),  # without our PYTHONPATH, which would shadow its `flyte`
    )
    if probe.returncode != 0 or probe.stdout.strip() != REF_VERSION:
        pytest.fail(f"{value} has no working flyte=={REF_VERSION}: {probe.stderr[-2000:]}")
    return Path(value)


@pytest.fixture(scope="module")
def ref_devbox(ref_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    """A devbox whose actions run the reference SDK's a0."""
    dbx = Devbox(devbox_config(ref_venv, tmp_path_factory.mktemp("ref-devbox"))).start()
    try:
        yield dbx
    finally:
        dbx.stop()


@pytest.fixture(scope="module")
def ref(ref_venv: Path, ref_devbox: Devbox, tmp_path_factory: pytest.TempPathFactory) -> RefClient:
    client = RefClient(ref_venv, ref_devbox, make_workdir(tmp_path_factory.mktemp("ref-work")))
    client.write_config()
    return client


def test_our_remote_reads_reference_runs(ref: RefClient, ref_devbox: Devbox) -> None:
    ok = ref.python("run", "fanout", json.dumps({"n": 3}))
    assert ok["phase"] == "SUCCEEDED", ok
    bad = ref.python("run", "explode", json.dumps({"x": 9}))
    assert bad["phase"] == "FAILED", bad
    point_remote_at(ref_devbox)
    try:
        run = flyte.remote.Run.get(ok["run"])
        run.wait(quiet=True)
        assert run.phase == ActionPhase.SUCCEEDED
        assert run.outputs()[0] == [0, 1, 4]
        assert dict(run.inputs()) == {"n": 3}
        actions = list(flyte.remote.Action.listall(run.name))
        assert {a.name for a in actions} >= {"a0"} and len(actions) == 4
        children = list(flyte.remote.Action.listall(run.name, parent_name="a0"))
        assert len(children) == 3 and all(c.parent_name == "a0" for c in children)
        squares = sorted(
            flyte.remote.ActionDetails.get(run_name=run.name, name=c.name).outputs()[0]
            for c in children
        )
        assert squares == [0, 1, 4]
        assert all(c.task_name and c.task_name.endswith("square") for c in children)

        failed = flyte.remote.Run.get(bad["run"])
        with pytest.raises(flyte.errors.RuntimeUserError, match="devbox-it: cannot handle 9"):
            failed.raise_for_status()
        assert bad["run"] in {
            r.name for r in flyte.remote.Run.listall(in_phase=("failed",), limit=200)
        }
    finally:
        _client.reset()


def test_reference_remote_reads_our_runs(env: Env, ref_venv: Path, tmp_path: Path) -> None:
    """`env` is a devbox running our a0; the reference client reads what we created there."""
    name = env.start("pair", x=5, label="ours")
    failed = env.start("fails", x=2)
    point_remote_at(env.devbox)
    flyte.remote.Run.get(name).wait(quiet=True)
    flyte.remote.Run.get(failed).wait(quiet=True)
    client = RefClient(ref_venv, env.devbox, make_workdir(tmp_path / "ref"))
    client.write_config()
    result = client.python("wait", name)
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [6, "ours5"]
    result = client.python("wait", failed)
    assert result["phase"] == "FAILED", result
    assert result["error"] == "x=2 is not welcome"
    # Our own reading of the same run agrees.
    assert tuple(asyncio.run(_outputs(name))) == (6, "ours5")


async def _outputs(name: str) -> flyte.remote.ActionOutputs:
    run = await flyte.remote.Run.get.aio(name)
    return await run.outputs.aio()  # type: ignore[no-any-return]
