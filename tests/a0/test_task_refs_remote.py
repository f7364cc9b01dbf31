"""Deployed tasks called from tasks, and traces recorded, in remote runs of our `a0`.

A devbox (real sockets, our a0 in subprocesses) receives `flyte.deploy(...)` of a leaf
environment; a parent task in another environment, run with `flyte.run(...)`, calls the deployed
task through `flyte.remote.Task.get(...)`, which the remote controller in the parent's a0 enqueues
as a child action with the deployed task's id and spec. Traced helpers called by a parent are
recorded as trace actions of its run, visible through `flyte.remote.Action.listall`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import flyte
import flyte.errors
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_devbox import Devbox, DevboxConfig

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"

LEAF = """
import flyte

env = flyte.TaskEnvironment(name="ref_leaf")


@env.task
async def add(x: int, y: int = 10) -> int:
    return x + y


@env.task
async def refuse(x: int) -> int:
    raise ValueError(f"x={x} is refused")
"""

PARENT = """
import flyte
import flyte.errors
import flyte.remote

env = flyte.TaskEnvironment(name="ref_parent")


@env.task
async def call_ref(x: int) -> int:
    add = flyte.remote.Task.get("ref_leaf.add", auto_version="latest")
    first = await add(x=x)  # y takes the deployed default, 10
    return await add(x=first, y=100)


@env.task
async def call_ref_by_version(x: int, version: str) -> int:
    return await flyte.remote.Task.get("ref_leaf.add", version=version)(x=x, y=1)


@env.task
async def catch_ref_error(x: int) -> str:
    refuse = flyte.remote.Task.get("ref_leaf.refuse", auto_version="latest")
    try:
        await refuse(x=x)
    except flyte.errors.RuntimeUserError as e:
        return f"caught: {e}"
    return "not caught"


@flyte.trace
async def double(x: int) -> int:
    return 2 * x


@flyte.trace
def triple(x: int) -> int:
    return 3 * x


@env.task
async def traced_async(x: int) -> int:
    return await double(x) + await double(x + 1)


@env.task
def traced_sync(x: int) -> int:
    return triple(x) + 1
"""


def _config(state_dir: Path, *, use_actions_service: bool) -> DevboxConfig:
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    return DevboxConfig(
        port=0,
        state_dir=state_dir,
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        env={"PYTHONPATH": child_path},
        max_concurrent_actions=4,
        use_actions_service=use_actions_service,
    )


@pytest.fixture(scope="module")
def src_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("src")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in ("ref_leaf_tasks", "ref_parent_tasks"):
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def load(src_root: Path) -> Callable[[str, str], ModuleType]:
    def _load(name: str, source: str) -> ModuleType:
        (src_root / f"{name}.py").write_text(source)
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    return _load


@pytest.fixture(scope="module", params=["queue-state", "actions"])
def remote(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    src_root: Path,
    load: Callable[[str, str], ModuleType],
) -> Iterator[tuple[ModuleType, str]]:
    """A devbox (child actions through Queue/State or ActionsService) with the leaf environment
    deployed; yields the parent module and the leaf's version."""
    config = _config(
        tmp_path_factory.mktemp(request.param), use_actions_service=request.param == "actions"
    )
    box = Devbox(config).start()
    try:
        flyte.init(
            endpoint=box.endpoint,
            insecure=True,
            project=PROJECT,
            domain=DOMAIN,
            root_dir=src_root,
        )
        leaf = load("ref_leaf_tasks", LEAF)
        (dep,) = flyte.deploy(leaf.env)
        version = dep.tasks[0].version
        yield load("ref_parent_tasks", PARENT), version
    finally:
        flyte.init()
        box.stop()


def _outputs(run: Any) -> Any:
    run.wait()
    return run.outputs()[0]


def _children(run: Any) -> list[Any]:
    return [a for a in flyte.remote.Action.listall(for_run_name=run.name) if a.name != "a0"]


def _succeeded(action: Any) -> bool:
    return str(action.phase.value if hasattr(action.phase, "value") else action.phase).lower() in (
        "succeeded",
        "action_phase_succeeded",
    )


def test_a_task_calls_a_deployed_task(remote: tuple[ModuleType, str]) -> None:
    parent, _ = remote
    run = flyte.run(parent.call_ref, x=5)
    assert _outputs(run) == (5 + 10) + 100
    kids = _children(run)
    assert len(kids) == 2
    assert {k.task_name for k in kids} == {"ref_leaf.add"}
    assert all(_succeeded(k) and k.parent_name == "a0" for k in kids)


def test_a_deployed_task_by_exact_version(remote: tuple[ModuleType, str]) -> None:
    parent, version = remote
    assert _outputs(flyte.run(parent.call_ref_by_version, x=2, version=version)) == 3


def test_a_deployed_task_error_reaches_the_caller(remote: tuple[ModuleType, str]) -> None:
    parent, _ = remote
    out = _outputs(flyte.run(parent.catch_ref_error, x=4))
    assert out.startswith("caught: ") and "x=4 is refused" in out


def test_async_traces_are_recorded_as_actions(remote: tuple[ModuleType, str]) -> None:
    parent, _ = remote
    run = flyte.run(parent.traced_async, x=3)
    assert _outputs(run) == 6 + 8
    kids = _children(run)
    assert len(kids) == 2, [(k.name, k.task_name) for k in kids]
    assert sorted(k.outputs()[0] for k in kids) == [6, 8]
    assert all(_succeeded(k) and k.parent_name == "a0" for k in kids)
    assert {k.pb2.metadata.trace.name for k in kids} == {"double"}


def test_sync_traces_in_sync_tasks_are_recorded(remote: tuple[ModuleType, str]) -> None:
    parent, _ = remote
    run = flyte.run(parent.traced_sync, x=5)
    assert _outputs(run) == 16
    (kid,) = _children(run)
    assert kid.outputs()[0] == 15
    assert _succeeded(kid) and kid.pb2.metadata.trace.name == "triple"
