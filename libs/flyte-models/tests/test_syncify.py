"""The async/sync bridge: blocking twins, `.aio` twins, generators, methods, deadlock refusal."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from flyte_models._syncify import Syncify, SyncifyDeadlockError, run_sync, syncify
from flyte_models.errors import RuntimeUserError


@syncify
async def double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


@syncify
async def count(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(0)
        yield i


@syncify
async def thread_name() -> str:
    return threading.current_thread().name


class Counter:
    def __init__(self, start: int) -> None:
        self.start = start

    @syncify
    async def add(self, n: int) -> int:
        return self.start + n

    @syncify
    @classmethod
    async def make(cls, start: int) -> Counter:
        return cls(start)

    @syncify
    @staticmethod
    async def twice(n: int) -> int:
        return 2 * n


def test_blocking_call_runs_on_the_background_thread() -> None:
    assert double(21) == 42
    assert thread_name() == "flyte_syncify"
    assert threading.current_thread().name != "flyte_syncify"


def test_aio_twin_is_awaitable_from_another_loop() -> None:
    async def main() -> tuple[int, str]:
        return await double.aio(5), await thread_name.aio()

    assert asyncio.run(main()) == (10, "flyte_syncify")


def test_async_generators_become_iterators_both_ways() -> None:
    assert list(count(4)) == [0, 1, 2, 3]

    async def main() -> list[int]:
        return [i async for i in count.aio(3)]

    assert asyncio.run(main()) == [0, 1, 2]


def test_methods_classmethods_and_staticmethods_bind() -> None:
    c = Counter(10)
    assert c.add(5) == 15
    made = Counter.make(3)
    assert isinstance(made, Counter) and made.start == 3
    assert Counter.twice(4) == 8

    async def main() -> tuple[int, int, int]:
        return (await c.add.aio(1), (await Counter.make.aio(7)).start, await Counter.twice.aio(5))

    assert asyncio.run(main()) == (11, 7, 10)


def test_blocking_call_inside_the_loop_is_refused_not_hung() -> None:
    @syncify
    async def nested() -> int:
        return double(1)  # a blocking call from inside the background loop

    with pytest.raises(SyncifyDeadlockError) as info:
        nested()
    err = info.value
    assert isinstance(err, RuntimeUserError) and isinstance(err, AssertionError)
    assert err.code == "DeadlockDetected"
    assert "use `await" in str(err) and ".aio(" in str(err)


def test_exceptions_propagate_with_their_type() -> None:
    @syncify
    async def boom() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        boom()


def test_run_sync_and_separate_instances_have_separate_threads() -> None:
    assert run_sync(double.aio(4)) == 8
    other = Syncify("other_loop")

    @other
    async def where() -> str:
        return threading.current_thread().name

    assert where() == "other_loop"
    assert other.run(asyncio.sleep(0, result="x")) == "x"


def test_non_async_functions_are_rejected() -> None:
    def plain() -> None:
        return None

    with pytest.raises(TypeError, match="async function"):
        syncify(plain)


def test_context_variables_of_the_caller_are_visible() -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("probe", default="unset")

    @syncify
    async def read() -> str:
        return var.get()

    token = var.set("from-caller")
    try:
        assert read() == "from-caller"

        async def main() -> str:
            return await read.aio()

        assert asyncio.run(main()) == "from-caller"
    finally:
        var.reset(token)
    assert read() == "unset"
