"""Retries (with the default and custom backoff) and timeouts, which local runs enforce."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_retries")

attempts: Counter[str] = Counter()
seen_names: list[str] = []
_release = threading.Event()
_NO_WAIT = flyte.Backoff(base=timedelta(0))


@pytest.fixture(autouse=True)
def _reset() -> None:
    attempts.clear()
    seen_names.clear()
    _release.clear()


@env.task(retries=2)
async def fails_twice() -> int:
    attempts["fails_twice"] += 1
    if attempts["fails_twice"] < 3:
        raise ConnectionError(f"flaky {attempts['fails_twice']}")
    return attempts["fails_twice"]


@env.task
async def always_fails() -> int:
    attempts["always_fails"] += 1
    raise ConnectionError("down")


@env.task(retries=5)
async def gives_up() -> int:
    attempts["gives_up"] += 1
    raise flyte.errors.NonRecoverableError("bad input, retrying cannot help")


@env.task(
    retries=flyte.RetryStrategy(
        count=2,
        backoff=flyte.Backoff(
            base=timedelta(milliseconds=10), factor=2.0, cap=timedelta(seconds=1)
        ),
    )
)
async def custom_backoff() -> int:
    attempts["custom_backoff"] += 1
    if attempts["custom_backoff"] < 3:
        raise ValueError("not yet")
    return attempts["custom_backoff"]


@env.task
async def whoami(x: int) -> str:
    return flyte.ctx().action.name


@env.task(retries=flyte.RetryStrategy(count=1, backoff=flyte.Backoff(base=timedelta(0))))
async def parent_fails_after_child() -> int:
    attempts["parent"] += 1
    seen_names.append(await whoami(1))
    if attempts["parent"] == 1:
        raise RuntimeError("first attempt fails after calling the child")
    return attempts["parent"]


@env.task(timeout=timedelta(milliseconds=200))
async def sleeps_too_long() -> int:
    await asyncio.sleep(30)
    return 1


@env.task(timeout=flyte.Timeout(max_runtime=timedelta(milliseconds=200)))
def sync_blocks_too_long() -> int:
    _release.wait(30)
    return 1


@env.task(timeout=timedelta(seconds=30))
async def quick_enough() -> int:
    return 7


def test_task_failing_twice_succeeds_on_the_third_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = time.monotonic()
    assert flyte.run(fails_twice).outputs()[0] == 3
    assert attempts["fails_twice"] == 3
    # The default backoff doubles from 0.5 s: 0.5 s then 1 s.
    assert "retrying in 0.50s" in caplog.text and "retrying in 1.00s" in caplog.text
    assert time.monotonic() - started >= 1.4


def test_retries_exhausted_raise_the_last_user_error() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="down") as info:
        flyte.run(always_fails.override(retries=flyte.RetryStrategy(count=2, backoff=_NO_WAIT)))
    assert info.value.code == "ConnectionError"
    assert attempts["always_fails"] == 3


def test_no_retries_by_default() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError):
        flyte.run(always_fails)
    assert attempts["always_fails"] == 1


def test_non_recoverable_error_is_not_retried() -> None:
    with pytest.raises(flyte.errors.NonRecoverableError, match="retrying cannot help") as info:
        flyte.run(gives_up)
    assert attempts["gives_up"] == 1
    assert isinstance(info.value, flyte.errors.RuntimeUserError)
    assert info.value.code == "NonRecoverableError"


def test_custom_backoff_starts_at_its_base(caplog: pytest.LogCaptureFixture) -> None:
    assert flyte.run(custom_backoff).outputs()[0] == 3
    # Retry 0 waits `base`, retry 1 waits `base * factor`.
    assert "retrying in 0.01s" in caplog.text and "retrying in 0.02s" in caplog.text


def test_a_parent_sees_its_retried_child_succeed() -> None:
    fast = fails_twice.override(retries=flyte.RetryStrategy(count=2, backoff=_NO_WAIT))
    assert isinstance(fast.retries, flyte.RetryStrategy) and fast.retries.count == 2

    @env.task
    async def parent() -> int:
        return await fast() + 100

    assert flyte.run(parent).outputs()[0] == 103


def test_a_retry_gives_the_same_calls_the_same_child_names() -> None:
    assert flyte.run(parent_fails_after_child).outputs()[0] == 2
    assert len(seen_names) == 2 and seen_names[0] == seen_names[1]


def test_async_task_exceeding_its_timeout_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(flyte.errors.MaxRuntimeExceededError, match="sleeps_too_long"):
        flyte.run(sleeps_too_long)
    assert time.monotonic() - started < 10
    assert issubclass(flyte.errors.MaxRuntimeExceededError, flyte.errors.TaskTimeoutError)


def test_sync_task_exceeding_its_timeout_is_stopped() -> None:
    started = time.monotonic()
    try:
        with pytest.raises(flyte.errors.TaskTimeoutError):
            flyte.run(sync_blocks_too_long)
        assert time.monotonic() - started < 10
    finally:
        _release.set()  # let the abandoned worker thread finish


def test_task_within_its_timeout_succeeds() -> None:
    assert flyte.run(quick_enough).outputs()[0] == 7
