"""Tasks calling tasks: child actions, fan-out, sync/async mixes, overrides, calls outside runs."""

from __future__ import annotations

import asyncio
import threading

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_calls")

_running = {"now": 0, "peak": 0}
_lock = threading.Lock()


@env.task
async def double(x: int) -> int:
    return 2 * x


@env.task
def sync_double(x: int) -> int:
    return 2 * x


@env.task
async def slow_identity(x: int, delay: float) -> int:
    # Finish in reverse order of submission, so ordering bugs would show.
    await asyncio.sleep(delay)
    return x


@env.task
async def gather_reversed(n: int) -> list[int]:
    return list(await asyncio.gather(*(slow_identity(i, (n - i) * 0.005) for i in range(n))))


@env.task
async def chain(x: int) -> int:
    a = await double(x)
    b = await sync_double.aio(a)  # a sync task from async code: through .aio
    return await double(b)


@env.task
def sync_parent(x: int) -> int:
    # Sync tasks call sync tasks as plain calls and async tasks' .aio is not needed here.
    return sync_double(sync_double(x))


@env.task
async def blocking_sync_call(x: int) -> int:
    return sync_double(x)  # type: ignore[no-any-return]


@env.task
async def child_name(x: int) -> str:
    return flyte.ctx().action.name


@env.task
async def names_of_children() -> list[str]:
    return list(await asyncio.gather(child_name(1), child_name(1), child_name(2)))


@env.task
async def tracked_leaf(i: int) -> int:
    with _lock:
        _running["now"] += 1
        _running["peak"] = max(_running["peak"], _running["now"])
    await asyncio.sleep(0.01)
    with _lock:
        _running["now"] -= 1
    return i


@env.task
async def mid(base: int) -> int:
    return sum(await asyncio.gather(*(tracked_leaf(base + i) for i in range(3))))


@env.task
async def tree() -> int:
    return sum(await asyncio.gather(*(mid(10 * b) for b in range(3))))


@env.task
async def wide(n: int) -> list[int]:
    return list(await asyncio.gather(*(tracked_leaf(i) for i in range(n))))


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    _running.update(now=0, peak=0)


def test_gather_fan_out_keeps_input_order() -> None:
    assert flyte.run(gather_reversed, 8).outputs()[0] == list(range(8))


def test_chain_of_async_and_sync_children() -> None:
    assert flyte.run(chain, 3).outputs()[0] == 24


def test_sync_task_calls_sync_tasks() -> None:
    assert flyte.run(sync_parent, 5).outputs()[0] == 20


def test_blocking_call_of_a_sync_task_from_async_code_is_refused() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match=r"\.aio") as info:
        flyte.run(blocking_sync_call, 1)
    assert isinstance(info.value, flyte.errors.SyncTaskCallInAsyncContextError)


def test_child_action_names_are_deterministic() -> None:
    first = flyte.run(names_of_children).outputs()[0]
    second = flyte.run(names_of_children).outputs()[0]
    assert first == second  # same calls in the same place: same names, run after run
    assert len(set(first)) == 3  # a repeated identical call still gets its own name
    assert all(len(n) == 25 and n.isalnum() for n in first)


def test_calling_tasks_outside_a_run_calls_the_function() -> None:
    assert asyncio.run(double(4)) == 8  # an async task returns its coroutine
    assert sync_double(4) == 8
    assert asyncio.run(sync_double.aio(5)) == 10
    assert asyncio.run(double.aio(5)) == 10
    assert asyncio.run(double.forward(6)) == 12
    assert not flyte.ctx()


def test_override_returns_a_new_task_and_keeps_the_original() -> None:
    patient = double.override(retries=3, cache="auto")
    assert patient is not double
    assert patient.name == double.name
    for task, retries, cache in ((patient, 3, "auto"), (double, 0, "disable")):
        assert isinstance(task.retries, flyte.RetryStrategy) and task.retries.count == retries
        assert isinstance(task.cache, flyte.Cache) and task.cache.behavior == cache
    assert flyte.run(patient, 21).outputs()[0] == 42
    with pytest.raises(ValueError, match="name"):
        double.override(name="other")


def test_max_action_concurrency_bounds_running_actions() -> None:
    run = flyte.with_runcontext(max_action_concurrency=3).run(wide, 12)
    assert run.outputs()[0] == list(range(12))
    assert _running["peak"] <= 3
    assert _running["peak"] >= 2  # the limit is not a serialisation


def test_max_action_concurrency_never_deadlocks_a_deep_tree() -> None:
    # With 2 slots, a root and a mid-level parent waiting on children could hold both slots.
    # Parents give their slot back while they wait, so the tree still completes.
    async def bounded() -> int:
        runner = flyte.with_runcontext(max_action_concurrency=2)
        run = await asyncio.wait_for(runner.run.aio(tree), timeout=20)
        return int(run.outputs()[0])

    assert asyncio.run(bounded()) == sum(10 * b + i for b in range(3) for i in range(3))
    assert _running["peak"] <= 2
