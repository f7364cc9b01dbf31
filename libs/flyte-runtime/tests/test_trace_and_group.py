"""`@flyte.trace` on every kind of function, and `flyte.group`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_trace")


@flyte.trace
async def async_step(x: int) -> int:
    """Add one."""
    await asyncio.sleep(0)
    return x + 1


@flyte.trace
def sync_step(x: int) -> int:
    return x * 10


@flyte.trace
def counting(n: int) -> Iterator[int]:
    yield from range(n)


@flyte.trace
async def async_counting(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(0)
        yield i


@flyte.trace
async def failing_step(x: int) -> int:
    raise KeyError(f"no {x}")


@env.task
async def leaf(x: int) -> int:
    return x


@flyte.trace
async def calls_a_task(x: int) -> int:
    return await leaf(x)


@env.task
async def traced() -> list[int]:
    return [
        await async_step(1),
        sync_step(2),
        *counting(3),
        *[i async for i in async_counting(2)],
    ]


@env.task
async def trace_calls_task() -> int:
    return await calls_a_task(1)


@flyte.trace
def sync_calls_a_task(x: int) -> int:
    return int(sync_leaf(x))


@env.task
def sync_leaf(x: int) -> int:
    return x


@env.task
def sync_trace_calls_task() -> int:
    return sync_calls_a_task(1)


@env.task
async def recovers_after_a_failed_trace() -> str:
    try:
        await failing_step(7)
    except KeyError as e:
        caught = f"KeyError:{e}"
    # Leaving the trace (even by an exception) allows task calls again.
    return f"{caught} then {await leaf(3)}"


@env.task
async def whoami(x: int) -> str:
    return flyte.ctx().action.name


def _current_group() -> str | None:
    group = flyte.ctx().group_data
    return group.name if group else None


@env.task
async def group_names() -> list[str | None]:
    seen = [_current_group()]
    with flyte.group("outer"):
        seen.append(_current_group())
        with flyte.group("inner"):
            seen.append(_current_group())
        seen.append(_current_group())
    seen.append(_current_group())
    return seen


@env.task
async def child_names_by_group() -> dict[str, list[str]]:
    plain = [await whoami(1), await whoami(2)]
    with flyte.group("a"):
        in_a = [await whoami(1), await whoami(2)]
    with flyte.group("b"):
        in_b = [await whoami(1), await whoami(2)]
    return {"plain": plain, "a": in_a, "b": in_b}


@env.task
async def mapped_names() -> list[str]:
    return [r async for r in flyte.map.aio(whoami, [1, 2])]


@env.task
async def grouped_like_map() -> list[str]:
    with flyte.group("whoami_map"):
        return list(await asyncio.gather(whoami(1), whoami(2)))


def test_traces_of_every_function_kind_run_inside_a_task() -> None:
    assert flyte.run(traced).outputs()[0] == [2, 20, 0, 1, 2, 0, 1]


def test_a_trace_may_not_call_a_task() -> None:
    with pytest.raises(flyte.errors.TraceDoesNotAllowNestedTasksError, match="calls_a_task"):
        flyte.run(trace_calls_task)
    with pytest.raises(flyte.errors.TraceDoesNotAllowNestedTasksError):
        flyte.run(sync_trace_calls_task)  # also from a sync trace in a sync task
    # It is a user error, so `except RuntimeUserError` in a parent catches it too.
    assert issubclass(flyte.errors.TraceDoesNotAllowNestedTasksError, flyte.errors.RuntimeUserError)


def test_a_failed_trace_propagates_its_exception_and_resets() -> None:
    assert flyte.run(recovers_after_a_failed_trace).outputs()[0] == "KeyError:'no 7' then 3"


def test_traces_outside_a_task_are_plain_calls() -> None:
    assert asyncio.run(async_step(1)) == 2
    assert sync_step(3) == 30
    assert list(counting(2)) == [0, 1]

    async def collect() -> list[int]:
        return [i async for i in async_counting(3)]

    assert asyncio.run(collect()) == [0, 1, 2]
    assert async_step.__name__ == "async_step" and async_step.__doc__ == "Add one."


def test_group_sets_the_group_of_the_running_task() -> None:
    assert flyte.run(group_names).outputs()[0] == [None, "outer", "inner", "outer", None]


def test_groups_name_the_child_actions_and_map_uses_its_own_group() -> None:
    got = flyte.run(child_names_by_group).outputs()[0]
    assert len({*got["plain"], *got["a"], *got["b"]}) == 6  # a group changes the names
    # flyte.map groups its calls as "<task short name>_map": the same calls made in a group of
    # that name (from a root action, like the map) get the same names.
    mapped = flyte.run(mapped_names).outputs()[0]
    assert mapped == flyte.run(grouped_like_map).outputs()[0]
    assert len(set(mapped)) == 2


def test_group_outside_a_task_is_a_no_op_and_checks_its_name() -> None:
    with flyte.group("anything"):
        assert not flyte.ctx()
    with pytest.raises(ValueError, match="group name"), flyte.group(""):
        pass
