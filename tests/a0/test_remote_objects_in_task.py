"""`flyte.remote` used by a task's own code, in remote runs of our `a0` under a devbox.

The devbox starts each action's a0 with `_U_EP_OVERRIDE` / `_U_INSECURE` and the run's org,
project and domain. Nothing in the task configures a client: `flyte.remote` finds that control
plane on its first call (`flyte_client._incluster`), on the task's event loop (async tasks) and
on the sync wrappers' loop (sync tasks), and after the task resets the SDK with a bare
`flyte.init()`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from support.devbox_runs import our_devbox_config

import flyte
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_devbox import Devbox

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"

TASKS = """
import flyte
import flyte.remote

env = flyte.TaskEnvironment(name="robj_in_task")


@env.task
async def own_run(x: int) -> str:
    name = flyte.ctx().action.run_name
    run = await flyte.remote.Run.get.aio(name)
    actions = [a.name async for a in flyte.remote.Action.listall.aio(for_run_name=name)]
    return f"{run.name}|{actions}|{x}"


@env.task
def own_run_sync(x: int) -> str:
    name = flyte.ctx().action.run_name
    run = flyte.remote.Run.get(name)
    return f"{run.name}|{x}"


@env.task
async def after_bare_init(x: int) -> str:
    flyte.init()  # local-only configuration: flyte.remote still reaches the task's control plane
    run = await flyte.remote.Run.get.aio(flyte.ctx().action.run_name)
    return f"{run.name}|{x}"
"""


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """A devbox running our a0, and the task module (its environment not deployed)."""
    root = tmp_path_factory.mktemp("src")
    (root / "robj_in_task_tasks.py").write_text(TASKS)
    sys.path.insert(0, str(root))
    box = Devbox(
        our_devbox_config(tmp_path_factory.mktemp("box"), max_concurrent_actions=2)
    ).start()
    try:
        flyte.init(
            endpoint=box.endpoint, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=root
        )
        importlib.invalidate_caches()
        yield importlib.import_module("robj_in_task_tasks")
    finally:
        flyte.init()
        box.stop()
        sys.path.remove(str(root))
        sys.modules.pop("robj_in_task_tasks", None)


def _output(run: flyte.remote.Run) -> str:
    run.wait(quiet=True)
    return str(run.outputs()[0])


def test_an_async_task_gets_its_own_run_and_actions(tasks: ModuleType) -> None:
    run = flyte.run(tasks.own_run, x=3)
    assert _output(run) == f"{run.name}|['a0']|3"


def test_a_sync_task_uses_flyte_remote_through_the_sync_wrappers(tasks: ModuleType) -> None:
    run = flyte.run(tasks.own_run_sync, x=4)
    assert _output(run) == f"{run.name}|4"


def test_a_bare_flyte_init_in_the_task_keeps_the_control_plane(tasks: ModuleType) -> None:
    run = flyte.run(tasks.after_bare_init, x=5)
    assert _output(run) == f"{run.name}|5"
