"""Checkpoints of remote runs: our SDK (`flyte.run`, our a0 in subprocesses) on our devbox.

The devbox gives attempt `n` of an action the checkpoint location `<action>/<n>/_flytecheckpoints`
and, on a retry, the previous attempt's as `--prev-checkpoint`. A task with `retries=1` saves a
checkpoint and fails on its first attempt; the second attempt restores it and succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.devbox_runs import our_devbox_config, task_module

import flyte
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_devbox import Devbox

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"
MODULE = "checkpoint_e2e_tasks"

TASKS = """
import pathlib

import flyte

env = flyte.TaskEnvironment(name="checkpoint_e2e")


@env.task(retries=1)
def resume_bytes(x: int) -> dict[str, str]:
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()
    if restored is None:
        cp.save_sync(str(x * 7).encode())
        raise RuntimeError("attempt 1 fails after saving its checkpoint")
    return {
        "restored": restored.read_text(),
        "name": restored.name,
        "src": cp.remote_source or "",
        "dest": cp.remote_destination,
    }


@env.task(retries=1)
async def resume_tree(x: int) -> list[str]:
    cp = flyte.ctx().checkpoint
    restored = await cp.load()
    if restored is None:
        work = pathlib.Path(cp.path) / "work"
        (work / "epoch-1").mkdir(parents=True)
        (work / "epoch-1" / "last.ckpt").write_text(f"model {x}")
        (work / "notes.txt").write_text("hello")
        await cp.save(work)
        raise RuntimeError("attempt 1 fails after saving a directory")
    best = flyte.latest_checkpoint(restored)
    files = sorted(str(p.relative_to(restored)) for p in restored.rglob("*") if p.is_file())
    return [*files, best.read_text() if best else "none"]


@env.task
async def parent(x: int) -> list[str]:
    return await resume_tree(x)


@env.task(retries=1)
def no_save_then_fail(x: int) -> str:
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()
    if not cp.prev_exists():
        raise RuntimeError("attempt 1 fails without saving")
    return "restored" if restored is not None else "nothing to restore"
"""


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with task_module(tmp_path_factory.mktemp("src"), MODULE, TASKS) as module:
        yield module


@pytest.fixture(scope="module")
def devbox(tmp_path_factory: pytest.TempPathFactory, tasks: Any) -> Iterator[Devbox]:
    box = Devbox(our_devbox_config(tmp_path_factory.mktemp("state"))).start()
    root = Path(tasks.__file__).parent
    try:
        flyte.init(
            endpoint=box.endpoint, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=root
        )
        yield box
    finally:
        flyte.init()
        box.stop()


def _finish(run: Any) -> Any:
    run.wait()
    return run.outputs()[0]


def _attempts(run: Any, name: str) -> int:
    return int(flyte.remote.ActionDetails.get(run_name=run.name, name=name).attempts)


def test_a_retried_root_resumes_from_its_bytes_checkpoint(devbox: Devbox, tasks: Any) -> None:
    run = flyte.run(tasks.resume_bytes, x=6)
    out = _finish(run)
    assert out["restored"] == "42"
    assert out["name"] == "payload"
    # Attempt 2 writes under its own attempt and reads attempt 1's checkpoint.
    assert out["dest"].endswith("/a0/2/_flytecheckpoints"), out
    assert out["src"].endswith("/a0/1/_flytecheckpoints"), out
    assert _attempts(run, "a0") == 2


def test_a_retried_child_restores_a_directory_checkpoint(devbox: Devbox, tasks: Any) -> None:
    run = flyte.run(tasks.parent, x=3)
    assert _finish(run) == ["epoch-1/last.ckpt", "notes.txt", "model 3"]
    kids = [a for a in flyte.remote.Action.listall(for_run_name=run.name) if a.name != "a0"]
    assert len(kids) == 1
    assert _attempts(run, kids[0].name) == 2


def test_a_previous_attempt_that_saved_nothing_restores_nothing(devbox: Devbox, tasks: Any) -> None:
    run = flyte.run(tasks.no_save_then_fail, x=1)
    assert _finish(run) == "nothing to restore"
    assert _attempts(run, "a0") == 2
