"""`flyte.durable.sleep/time/now`: blocking forms in sync code, `.aio` in async code."""

from __future__ import annotations

import asyncio
import datetime
import time

import pytest

import flyte
import flyte.durable

env = flyte.TaskEnvironment(name="test_durable")


def _observe(now: datetime.datetime) -> tuple[bool, float]:
    """Whether `now` is naive, and how far it is from `datetime.now()` (seconds)."""
    return now.tzinfo is None, abs((datetime.datetime.now() - now).total_seconds())


@env.task
def sync_clock() -> tuple[float, float, bool, float]:
    before = time.time()
    flyte.durable.sleep(0.02)
    return before, flyte.durable.time(), *_observe(flyte.durable.now())


@env.task
async def async_clock() -> tuple[float, float, bool, float]:
    before = time.time()
    await flyte.durable.sleep.aio(0.02)
    return before, await flyte.durable.time.aio(), *_observe(await flyte.durable.now.aio())


def _check(before: float, seen: float, naive: bool, skew: float) -> None:
    assert seen >= before + 0.015  # the sleep happened
    assert seen <= time.time()
    # Naive local time, like the `datetime.now()` it replaces: comparable with user values.
    assert naive and skew < 5


def test_durable_time_in_a_sync_task() -> None:
    _check(*flyte.run(sync_clock).outputs())


def test_durable_time_in_an_async_task() -> None:
    _check(*flyte.run(async_clock).outputs())


def test_durable_time_outside_a_task() -> None:
    before = time.time()
    flyte.durable.sleep(0.01)
    _check(before - 0.01, flyte.durable.time(), *_observe(flyte.durable.now()))

    async def main() -> float:
        await flyte.durable.sleep.aio(0)
        return float(await flyte.durable.time.aio())

    assert asyncio.run(main()) >= before


def test_negative_sleep_is_rejected() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        flyte.durable.sleep(-1)
