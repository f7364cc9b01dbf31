"""One bridge between async and sync code: every async API gets a blocking twin, and the reverse.

The SDK is async inside. Users call `flyte.run(...)`, `Run.get(...)` or `File.from_local_sync(...)`
from plain scripts, notebooks and sync tasks, so each async function is also offered as a blocking
call. The blocking form runs the coroutine on one long-lived event loop in a daemon thread named
`flyte_syncify`; its `.aio` twin is awaitable from any event loop and runs the coroutine on that
same background loop, so that loop-bound resources (gRPC channels, HTTP pools, locks) are only ever
touched from one loop.

Blocking on the background loop from inside that loop cannot finish (the loop would wait on
itself), so it is refused at once with `SyncifyDeadlockError` instead of hanging.

Example:
    ```python
    from flyte_models import syncify

    @syncify
    async def fetch(n: int) -> int:
        return n * 2

    fetch(2)             # 4, from sync code
    await fetch.aio(2)   # 4, from async code
    ```
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio
# asyncio (tens of ms, with ssl) is imported where it is used: `import flyte` and a CLI that only
# builds a task's options must not pay for it.

from flyte_models.errors import RuntimeUserError

__all__ = ["Syncify", "SyncifyDeadlockError", "run_sync", "syncify"]

T = TypeVar("T")

_DONE = object()


class SyncifyDeadlockError(RuntimeUserError, AssertionError):
    """A blocking call was made on the thread that would have to serve it.

    This happens when code running inside a task (or any coroutine on the SDK's background loop)
    calls the blocking form of an async API. Await its `.aio` twin instead.
    """

    def __init__(self, what: str, thread_name: str) -> None:
        super().__init__(
            "DeadlockDetected",
            f"Deadlock detected: blocking call to {what} used in syncify thread {thread_name}; "
            f"this code runs inside an event loop, so use `await {what}.aio(...)` instead.",
        )


class _BackgroundLoop:
    """An event loop running forever in a daemon thread, started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            return loop
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                import asyncio

                ready = threading.Event()
                new_loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(new_loop)
                    new_loop.call_soon(ready.set)
                    new_loop.run_forever()

                thread = threading.Thread(target=serve, name=self.name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = new_loop, thread
            return self._loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop in a copy of the caller's context (context variables such
        as the running task's context stay visible), returning a thread-safe future."""
        loop = self.loop
        ctx = contextvars.copy_context()
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            if not result.set_running_or_notify_cancel():
                coro.close()
                return
            task = loop.create_task(coro)  # runs in `ctx`: call_soon_threadsafe entered it

            def finish(t: asyncio.Task[T]) -> None:
                if t.cancelled():
                    result.set_exception(concurrent.futures.CancelledError())
                elif (exc := t.exception()) is not None:
                    result.set_exception(exc)
                else:
                    result.set_result(t.result())

            task.add_done_callback(finish)

        loop.call_soon_threadsafe(start, context=ctx)
        return result

    def call_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.submit(coro).result()

    async def call_async(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.in_loop_thread():
            return await coro
        import asyncio

        return await asyncio.wrap_future(self.submit(coro))

    def iterate_sync(self, agen: AsyncIterator[T]) -> Iterator[T]:
        try:
            while True:
                item = self.call_sync(_next_or_done(agen))
                if item is _DONE:
                    return
                yield item  # type: ignore[misc]
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None and self._loop is not None and not self._loop.is_closed():
                self.call_sync(aclose())

    async def iterate_async(self, agen: AsyncIterator[T]) -> AsyncIterator[T]:
        if self.in_loop_thread():
            async for item in agen:
                yield item
            return
        import asyncio

        try:
            while True:
                item = await asyncio.wrap_future(self.submit(_next_or_done(agen)))
                if item is _DONE:
                    return
                yield item  # type: ignore[misc]
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                await asyncio.wrap_future(self.submit(aclose()))


async def _next_or_done(agen: AsyncIterator[T]) -> Any:
    try:
        return await agen.__anext__()
    except StopAsyncIteration:
        return _DONE


class _Wrapper(Generic[T]):
    """The blocking form of one async callable, with the awaitable form as `.aio`."""

    def __init__(self, fn: Callable[..., Any], bg: _BackgroundLoop, descriptor: Any = None) -> None:
        self._fn = fn
        self._bg = bg
        self._descriptor = descriptor  # the classmethod/staticmethod object, when one was wrapped
        functools.update_wrapper(self, fn)

    def __get__(self, instance: Any, owner: Any) -> _Wrapper[T]:
        if self._descriptor is not None:
            bound = self._descriptor.__get__(instance, owner)
        elif instance is not None:
            bound = self._fn.__get__(instance, owner)
        else:
            return self
        return _Wrapper(bound, self._bg)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._bg.in_loop_thread():
            raise SyncifyDeadlockError(
                getattr(self._fn, "__qualname__", repr(self._fn)), self._bg.name
            )
        result = self._fn(*args, **kwargs)
        if inspect.isasyncgen(result) or (
            hasattr(result, "__aiter__") and not inspect.isawaitable(result)
        ):
            return self._bg.iterate_sync(result)
        return self._bg.call_sync(result)

    def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Call the async form: an awaitable (or an async iterator for async generators)."""
        result = self._fn(*args, **kwargs)
        if inspect.isasyncgen(result) or (
            hasattr(result, "__aiter__") and not inspect.isawaitable(result)
        ):
            return self._bg.iterate_async(result)
        return self._bg.call_async(result)

    def __repr__(self) -> str:
        return f"<syncified {getattr(self._fn, '__qualname__', self._fn)!r}>"


class Syncify:
    """A decorator factory bound to one background loop.

    Args:
        name: The name of the background thread (and of the loop it serves).
    """

    def __init__(self, name: str = "flyte_syncify") -> None:
        self._bg = _BackgroundLoop(name)

    def __call__(self, fn: Any) -> Any:
        """Wrap an async function, method, classmethod, staticmethod or async generator function."""
        if isinstance(fn, classmethod | staticmethod):
            inner = fn.__func__
            _check_async(inner)
            return _Wrapper(inner, self._bg, descriptor=fn)
        _check_async(fn)
        return _Wrapper(fn, self._bg)

    def run(self, awaitable: Awaitable[T]) -> T:
        """Block until `awaitable` completes on the background loop and return its result."""
        if self._bg.in_loop_thread():
            raise SyncifyDeadlockError(repr(awaitable), self._bg.name)
        return self._bg.call_sync(_as_coroutine(awaitable))

    async def aio(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the background loop from any event loop."""
        return await self._bg.call_async(_as_coroutine(awaitable))

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The background event loop (started on first access)."""
        return self._bg.loop

    def in_loop(self) -> bool:
        """Whether the calling thread is this instance's background loop thread."""
        return self._bg.in_loop_thread()


def _check_async(fn: Any) -> None:
    if not (inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)):
        raise TypeError(
            f"syncify expects an async function or async generator function, got {fn!r}"
        )


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


syncify = Syncify()
"""The SDK-wide decorator: all syncified APIs share one background loop."""


def run_sync(awaitable: Awaitable[T]) -> T:
    """Run `awaitable` to completion from sync code on the SDK's background loop."""
    return syncify.run(awaitable)
