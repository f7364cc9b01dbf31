"""The task cache of remote runs: our SDK (`flyte.run`, our a0 in subprocesses) on our devbox.

A parent task calls a `cache="auto"` child; the child appends its input to a file each time it
really runs, so a cache hit shows as a line that is not written. Each test passes its own file,
which is an input of the child: its cache entries are its own.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flyteidl2.core import catalog_pb2
from support.devbox_runs import our_devbox_config

import flyte
import flyte.remote
import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_devbox import Devbox, DevboxConfig

pytestmark = pytest.mark.integration

PROJECT, DOMAIN = "flytesnacks", "development"
MODULE = "cache_e2e_tasks"
HIT, POPULATED = catalog_pb2.CACHE_HIT, catalog_pb2.CACHE_POPULATED

TASKS = """
import flyte

env = flyte.TaskEnvironment(name="cache_e2e")


def _note(log: str, text: str) -> None:
    with open(log, "a") as f:
        f.write(text + "\\n")


@env.task(cache="auto")
async def child(x: int, log: str) -> int:
    _note(log, f"child {x}")
    return x * 10


@env.task(cache=flyte.Cache(behavior="override", version_override="VERSION"))
async def pinned(x: int, log: str) -> int:
    _note(log, f"pinned {x}")
    return x + 1


@env.task
async def parent(log: str) -> list[int]:
    a = await child(1, log)
    b = await child(1, log)
    c = await child(2, log)
    return [a, b, c]


@env.task
async def parent_pinned(log: str) -> int:
    return await pinned(5, log)
"""


def _config(state_dir: Path) -> DevboxConfig:
    return our_devbox_config(state_dir, max_concurrent_actions=4)


@pytest.fixture(scope="module")
def src_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("src")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def load(src_root: Path) -> Callable[[str], ModuleType]:
    """Write the task module with `pinned`'s cache version `version`, and (re)import it."""

    def _load(version: str) -> ModuleType:
        (src_root / f"{MODULE}.py").write_text(TASKS.replace("VERSION", version))
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()
        return importlib.import_module(MODULE)

    return _load


def _connect(box: Devbox, src_root: Path) -> None:
    flyte.init(
        endpoint=box.endpoint, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=src_root
    )


@pytest.fixture(scope="module")
def shared_devbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    box = Devbox(_config(tmp_path_factory.mktemp("state"))).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def devbox(shared_devbox: Devbox, src_root: Path) -> Iterator[Devbox]:
    """The module's devbox, which `flyte.run` targets for the test."""
    _connect(shared_devbox, src_root)
    try:
        yield shared_devbox
    finally:
        flyte.init()


def _ran(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _finish(run: Any) -> Any:
    run.wait()
    return run.outputs()[0]


def _children(run: Any) -> list[Any]:
    """The run's child actions, in the order they were called, as `flyte.remote` details."""
    kids = [a for a in flyte.remote.Action.listall(for_run_name=run.name) if a.name != "a0"]
    kids.sort(key=lambda a: a.start_time)
    return [flyte.remote.ActionDetails.get(run_name=run.name, name=k.name) for k in kids]


def _statuses(run: Any) -> list[int]:
    return [d.status.cache_status for d in _children(run)]


def test_second_run_is_served_from_the_cache(
    devbox: Devbox, load: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    tasks = load("v1")
    log = tmp_path / "ran.txt"

    first = flyte.run(tasks.parent, log=str(log))
    assert _finish(first) == [10, 10, 20]
    # Within one run: the repeated call (same inputs) is a hit, other inputs miss.
    assert _statuses(first) == [POPULATED, HIT, POPULATED]
    assert _ran(log) == ["child 1", "child 2"]

    second = flyte.run(tasks.parent, log=str(log))
    assert _finish(second) == [10, 10, 20]
    assert _statuses(second) == [HIT, HIT, HIT]
    assert _ran(log) == ["child 1", "child 2"]  # nothing ran again

    hit = _children(second)[0]
    assert hit.done() and hit.attempts == 1
    assert not hit.logs_available()
    source = hit.pb2.attempts[0].cache_metadata.source_action_attempt.action_id
    assert source.run.name == first.name
    assert hit.pb2.attempts[0].outputs.output_uri.endswith("/outputs.pb")

    # The root action is not looked up (CreateRun carries no cache key).
    root = flyte.remote.ActionDetails.get(run_name=second.name, name="a0")
    assert root.status.cache_status == catalog_pb2.CACHE_DISABLED


def test_overwrite_cache_runs_again(
    devbox: Devbox, load: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    tasks = load("v1")
    log = tmp_path / "ran.txt"
    assert _finish(flyte.run(tasks.parent, log=str(log))) == [10, 10, 20]
    assert len(_ran(log)) == 2

    redo = flyte.with_runcontext(overwrite_cache=True).run(tasks.parent, log=str(log))
    assert _finish(redo) == [10, 10, 20]
    # Every cacheable call of the run computes again (no lookup), and refills the cache.
    assert _ran(log)[2:] == ["child 1", "child 1", "child 2"]
    assert _statuses(redo) == [POPULATED, POPULATED, POPULATED]
    assert all(
        d.pb2.attempts[-1].cache_status == POPULATED and d.logs_available() for d in _children(redo)
    )

    after = flyte.run(tasks.parent, log=str(log))
    assert _finish(after) == [10, 10, 20]
    assert _statuses(after) == [HIT, HIT, HIT]
    assert len(_ran(log)) == 5
    source = _children(after)[0].pb2.attempts[0].cache_metadata.source_action_attempt
    assert source.action_id.run.name == redo.name


def test_a_new_version_override_misses(
    devbox: Devbox, load: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    log = tmp_path / "ran.txt"
    tasks = load("v1")
    assert _finish(flyte.run(tasks.parent_pinned, log=str(log))) == 6
    again = flyte.run(tasks.parent_pinned, log=str(log))
    assert _finish(again) == 6
    assert _statuses(again) == [HIT]
    assert _ran(log) == ["pinned 5"]

    tasks = load("v2")
    bumped = flyte.run(tasks.parent_pinned, log=str(log))
    assert _finish(bumped) == 6
    assert _statuses(bumped) == [POPULATED]
    assert _ran(log) == ["pinned 5", "pinned 5"]


def test_the_cache_survives_a_devbox_restart(
    load: Callable[[str], ModuleType], src_root: Path, tmp_path: Path
) -> None:
    tasks = load("v1")
    log = tmp_path / "ran.txt"
    state = tmp_path / "state"
    try:
        box = Devbox(_config(state)).start()
        try:
            _connect(box, src_root)
            first = flyte.run(tasks.parent, log=str(log))
            assert _finish(first) == [10, 10, 20]
        finally:
            box.stop()
        assert _ran(log) == ["child 1", "child 2"]

        box = Devbox(_config(state)).start()
        try:
            _connect(box, src_root)
            second = flyte.run(tasks.parent, log=str(log))
            assert _finish(second) == [10, 10, 20]
            assert _statuses(second) == [HIT, HIT, HIT]
        finally:
            box.stop()
        assert _ran(log) == ["child 1", "child 2"]
    finally:
        flyte.init()
