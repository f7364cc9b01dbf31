"""`flyte.map`: ordered results, concurrency, exceptions, partials, sync/async forms."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_map")

_running = {"now": 0, "peak": 0}
_lock = threading.Lock()


@env.task
async def scale(x: int, factor: int = 1) -> int:
    # Later items finish first, so an unordered map would show.
    await asyncio.sleep((10 - x % 10) * 0.002)
    return x * factor


@env.task
def sync_scale(x: int, factor: int) -> int:
    return x * factor


@env.task
async def tracked(x: int) -> int:
    with _lock:
        _running["now"] += 1
        _running["peak"] = max(_running["peak"], _running["now"])
    await asyncio.sleep(0.01)
    with _lock:
        _running["now"] -= 1
    return x


@env.task
async def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x


@env.task
async def map_aio(xs: list[int]) -> list[int]:
    return [r async for r in flyte.map.aio(scale, xs)]


@env.task
async def map_two_iterables(xs: list[int], fs: list[int]) -> list[int]:
    return [r async for r in flyte.map.aio(scale, xs, fs)]


@env.task
async def map_partial(xs: list[int]) -> list[int]:
    return [r async for r in flyte.map.aio(functools.partial(scale, factor=3), xs)]


@env.task
async def map_concurrency(n: int, limit: int) -> list[int]:
    return [r async for r in flyte.map.aio(tracked, range(n), concurrency=limit)]


@env.task
async def map_collect_errors(xs: list[int]) -> list[str]:
    out = []
    async for r in flyte.map.aio(fail_on_odd, xs):
        if isinstance(r, flyte.errors.BaseRuntimeError):
            out.append(f"{type(r).__name__}:{r.code}")
        else:
            out.append(str(r))
    return out


@env.task
async def map_raise_errors(xs: list[int]) -> list[int]:
    return [r async for r in flyte.map.aio(fail_on_odd, xs, return_exceptions=False)]


@env.task
async def map_catch_errors(xs: list[int]) -> str:
    try:
        _ = [r async for r in flyte.map.aio(fail_on_odd, xs, return_exceptions=False)]
    except flyte.errors.RuntimeUserError as e:
        return f"{e.code}: {e}"
    return "no error"


@env.task
def sync_map_in_sync_task(xs: list[int]) -> list[int]:
    return list(flyte.map(functools.partial(sync_scale, factor=5), xs, concurrency=2))


@env.task
def sync_map_of_async_task(xs: list[int]) -> list[int]:
    return list(flyte.map(scale, xs, group_name="scaled"))


@env.task
async def sync_map_in_async_task(xs: list[int]) -> list[int]:
    return list(flyte.map(scale, xs))


@env.task
async def map_names(xs: list[int]) -> list[str]:
    return [r async for r in flyte.map.aio(whoami, xs)]


@env.task
async def whoami(x: int) -> str:
    return flyte.ctx().action.name


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    _running.update(now=0, peak=0)


def test_map_aio_yields_results_in_input_order() -> None:
    xs = list(range(12))
    assert flyte.run(map_aio, xs).outputs()[0] == xs


def test_map_zips_several_iterables() -> None:
    assert flyte.run(map_two_iterables, [1, 2, 3], [10, 20, 30]).outputs()[0] == [10, 40, 90]


def test_map_with_a_partial_binds_the_other_parameters() -> None:
    assert flyte.run(map_partial, [1, 2]).outputs()[0] == [3, 6]


def test_map_children_are_separate_actions() -> None:
    names = flyte.run(map_names, [1, 2, 3]).outputs()[0]
    assert len(set(names)) == 3


@pytest.mark.parametrize("limit", [1, 3])
def test_map_concurrency_limits_running_children(limit: int) -> None:
    assert flyte.run(map_concurrency, 9, limit).outputs()[0] == list(range(9))
    assert _running["peak"] == limit


def test_map_without_a_limit_runs_children_concurrently() -> None:
    flyte.run(map_concurrency, 6, 0)
    assert _running["peak"] > 1


def test_map_returns_exceptions_in_place_by_default() -> None:
    got = flyte.run(map_collect_errors, [0, 1, 2, 3]).outputs()[0]
    assert got == ["0", "RuntimeUserError:ValueError", "2", "RuntimeUserError:ValueError"]


def test_map_raises_the_first_failure_when_asked() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="odd input 1") as info:
        flyte.run(map_raise_errors, [0, 1, 2])
    assert info.value.code == "ValueError"
    assert flyte.run(map_catch_errors, [2, 3]).outputs()[0] == "ValueError: odd input 3"


def test_sync_map_inside_a_sync_task() -> None:
    assert flyte.run(sync_map_in_sync_task, [1, 2, 3]).outputs()[0] == [5, 10, 15]
    assert flyte.run(sync_map_of_async_task, [4, 5]).outputs()[0] == [4, 5]


def test_sync_map_inside_an_async_task_is_a_clear_error() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match=r"flyte\.map\.aio"):
        flyte.run(sync_map_in_async_task, [1])


def test_partial_must_leave_exactly_one_parameter_unbound() -> None:
    with pytest.raises(TypeError, match="exactly one"):
        flyte.map(functools.partial(scale), [1])  # two unbound
    with pytest.raises(TypeError, match="exactly one"):
        flyte.map(functools.partial(scale, 1, 2), [1])  # none unbound
    with pytest.raises(TypeError, match="task"):
        flyte.map(functools.partial(lambda x: x), [1])


def test_map_outside_a_run_calls_the_function() -> None:
    assert list(flyte.map(scale, [1, 2])) == [1, 2]
    assert list(flyte.map(functools.partial(sync_scale, factor=2), [1, 2])) == [2, 4]
    got = list(flyte.map(fail_on_odd, [1, 2]))
    assert isinstance(got[0], ValueError) and str(got[0]) == "odd input 1" and got[1] == 2
    with pytest.raises(ValueError, match="odd input 1"):
        list(flyte.map(fail_on_odd, [1], return_exceptions=False))

    async def collect() -> list[int]:
        return [r async for r in flyte.map.aio(scale, [3, 4])]

    assert asyncio.run(collect()) == [3, 4]
