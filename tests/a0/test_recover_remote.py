"""`flyte.rerun(run, recover=True)` on our devbox: the recovering run reuses what the failed run
finished and runs the rest (our SDK, our a0 in subprocesses).

A parent calls `step` three times; `step` appends to a log file each time it really runs, and
fails while a marker file exists. The first run fails on the second call; the marker is removed;
the recovering run gets the first call's outputs without running it again (RECOVERED), runs the
other two, and succeeds.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from support.devbox_runs import our_devbox_config

import flyte
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_devbox import Devbox

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"
MODULE = "recover_e2e_tasks"

TASKS = """
import os

import flyte

env = flyte.TaskEnvironment(name="recover_e2e")


@env.task
async def step(i: int, log: str, marker: str) -> int:
    with open(log, "a") as f:
        f.write(f"{i}\\n")
    if i == 2 and os.path.exists(marker):
        raise ValueError("step 2 is not ready yet")
    return i * 10


@env.task
async def pipeline(log: str, marker: str) -> int:
    total = 0
    for i in (1, 2, 3):
        total += await step(i, log, marker)
    return total
"""


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("src")
    (root / f"{MODULE}.py").write_text(TASKS)
    sys.path.insert(0, str(root))
    box = Devbox(our_devbox_config(tmp_path_factory.mktemp("state"))).start()
    try:
        flyte.init(
            endpoint=box.endpoint, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=root
        )
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()
        yield importlib.import_module(MODULE)
    finally:
        flyte.init()
        box.stop()
        sys.path.remove(str(root))
        sys.modules.pop(MODULE, None)


def _children(run_name: str) -> dict[int, tuple[str, str]]:
    """Call index (1-3, from the child's input) -> (action name, phase name)."""
    out = {}
    for a in flyte.remote.Action.listall(for_run_name=run_name):
        if a.name == "a0":
            continue
        i = a.inputs()["i"]
        out[i] = (a.name, str(a.phase).rsplit(".", 1)[-1].upper())
    return out


def test_recover_reuses_finished_actions(tasks: ModuleType, tmp_path: Path) -> None:
    log, marker = tmp_path / "log", tmp_path / "marker"
    marker.write_text("x")
    first = flyte.run(tasks.pipeline, log=str(log), marker=str(marker))
    first.wait()
    assert str(first.phase).rsplit(".", 1)[-1].upper() == "FAILED"
    assert log.read_text().split() == ["1", "2"]
    marker.unlink()

    second = flyte.rerun(first.name, recover=True)
    second.wait()
    assert second.outputs()[0] == 60
    assert log.read_text().split() == ["1", "2", "2", "3"]  # step 1 was not run again
    children = _children(second.name)
    assert children[1][1] == "RECOVERED" and children[2][1] == "SUCCEEDED", children
    assert children[1][0] == _children(first.name)[1][0]  # the same deterministic name

    # A forced action runs again even though the earlier run finished it.
    third = flyte.rerun(second.name, recover=True, force_rerun_actions=[children[3][0]])
    third.wait()
    assert third.outputs()[0] == 60
    assert log.read_text().split() == ["1", "2", "2", "3", "3"]
    phases = {i: phase for i, (_, phase) in _children(third.name).items()}
    assert phases == {1: "RECOVERED", 2: "RECOVERED", 3: "SUCCEEDED"}, phases
