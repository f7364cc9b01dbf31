"""Local runs keep working next to the remote classes: `flyte.run` without a control plane returns
a `LocalRun` that is also a `flyte.remote.Run`, with `flyte.remote.ActionOutputs` outputs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import flyte
import flyte.remote

env = flyte.TaskEnvironment(name="robj_local")


@env.task
async def two(x: int) -> tuple[int, str]:
    return x * 2, f"x={x}"


def test_local_run_is_a_remote_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_LOCAL_CACHE_DIR", str(tmp_path / "cache"))
    run = flyte.run(two, x=4)
    assert isinstance(run, flyte.remote.Run)
    out = run.outputs()
    assert isinstance(out, flyte.remote.ActionOutputs)
    assert tuple(out) == (8, "x=4") and out.o1 == "x=4"
    assert out.named_outputs == {"o0": 8, "o1": "x=4"}
    assert repr(out) == 'ActionOutputs(o0=8, o1="x=4")'
    assert pickle.loads(pickle.dumps(out)) == (8, "x=4")
    run.wait()
    assert run.done()


def test_remote_objects_need_a_control_plane() -> None:
    from flyte_client.remote import _client

    _client.reset()
    with pytest.raises(flyte.errors.InitializationError, match="flyte.init"):
        flyte.remote.Run.get("r1")
