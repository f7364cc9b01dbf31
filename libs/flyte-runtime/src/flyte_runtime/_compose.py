"""Composition inside tasks: `flyte.map`, `flyte.group`, `@flyte.trace`, custom context, `ctx()`.

All of these are plain Python outside a run (a map calls the function per item, a group and a
trace do nothing special), so a workflow can be unit-tested by calling it directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from flyte_models import (
    NULL_TASK_CONTEXT,
    GroupData,
    TaskContext,
    TaskTemplate,
    current_task_context,
    use_task_context,
)
from flyte_models import errors as ferr
from flyte_runtime._state import _IN_TRACE, current_run

__all__ = ["custom_context", "ctx", "get_custom_context", "group", "map", "trace"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def ctx() -> TaskContext:
    """The running task's context; outside a task, `NULL_TASK_CONTEXT`, which is falsy."""
    return current_task_context() or NULL_TASK_CONTEXT


@contextlib.contextmanager
def group(name: str) -> Iterator[None]:
    """Group the child actions started inside the block under `name` (no-op outside a task)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"group name must be a non-empty string, got {name!r}")
    tctx = current_task_context()
    if tctx is None:
        yield
        return
    with use_task_context(tctx.replace(group_data=GroupData(name=name))):
        yield


# ---------------------------------------------------------------------------------------------
# custom context
# ---------------------------------------------------------------------------------------------

_PENDING_CUSTOM: dict[str, str] = {}


@contextlib.contextmanager
def custom_context(**context: str) -> Iterator[None]:
    """Add string key/values to the custom context of every action started inside the block.

    Inside a task they reach the children it calls (`flyte.ctx().custom_context`); outside a task
    they become part of the next run's context.

    Raises:
        TypeError: If a value is not a string.
    """
    bad = {k: v for k, v in context.items() if not isinstance(v, str)}
    if bad:
        raise TypeError(f"custom_context values must be strings, got {bad!r}")
    tctx = current_task_context()
    if tctx is None:
        saved = dict(_PENDING_CUSTOM)
        _PENDING_CUSTOM.update(context)
        try:
            yield
        finally:
            _PENDING_CUSTOM.clear()
            _PENDING_CUSTOM.update(saved)
        return
    merged = {**tctx.custom_context, **context}
    with use_task_context(tctx.replace(custom_context=merged)):
        yield


def get_custom_context() -> dict[str, str]:
    """The custom context in effect here (a copy)."""
    tctx = current_task_context()
    if tctx is None:
        return dict(_PENDING_CUSTOM)
    return dict(tctx.custom_context)


def pending_custom_context() -> dict[str, str]:
    """The custom context set outside any task, for the next run."""
    return dict(_PENDING_CUSTOM)


# ---------------------------------------------------------------------------------------------
# trace
# ---------------------------------------------------------------------------------------------


def _trace_recorder() -> Any:
    """The run's controller when it records traces (`a0`'s remote controller), else None."""
    if current_task_context() is None:
        return None
    run = current_run()
    if run is None or not callable(getattr(run.controller, "run_trace", None)):
        return None
    return run.controller


def trace(func: F) -> F:
    """Mark a helper as a trace: its calls are recorded as steps of the task that makes them.

    Works on sync and async functions and on (async) generators. A trace may not call tasks
    (`TraceDoesNotAllowNestedTasksError`). Outside a task the function just runs.

    In a task running on a control plane (`a0`), each call of an async function, and of a sync
    function called from a sync task, is recorded as a trace action of the task, with its inputs
    and outputs (or error); a retried task gets the recorded result back instead of running it
    again. Generators, and sync traces called from async code, run without being recorded. In
    local runs traces just run.
    """
    name = getattr(func, "__qualname__", repr(func))
    if inspect.isasyncgenfunction(func):

        @functools.wraps(func)
        async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _IN_TRACE.set(name)
            try:
                async for item in func(*args, **kwargs):
                    yield item
            finally:
                _IN_TRACE.reset(token)

        return agen_wrapper  # type: ignore[return-value]
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            async def call() -> Any:
                token = _IN_TRACE.set(name)
                try:
                    return await func(*args, **kwargs)
                finally:
                    _IN_TRACE.reset(token)

            recorder = _trace_recorder()
            if recorder is None:
                return await call()
            return await recorder.run_trace(func, args, kwargs, call)

        return async_wrapper  # type: ignore[return-value]
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _IN_TRACE.set(name)
            try:
                yield from func(*args, **kwargs)
            finally:
                _IN_TRACE.reset(token)

        return gen_wrapper  # type: ignore[return-value]

    def run_plain(*args: Any, **kwargs: Any) -> Any:
        token = _IN_TRACE.set(name)
        try:
            return func(*args, **kwargs)
        finally:
            _IN_TRACE.reset(token)

    @functools.wraps(func)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        recorder = _trace_recorder()
        if recorder is None:
            return run_plain(*args, **kwargs)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # called from async code: waiting for the recording here would block the loop
            return run_plain(*args, **kwargs)
        run = current_run()
        assert run is not None

        async def call() -> Any:
            # The function runs in a worker thread with this call's context (task, run, group).
            return await asyncio.to_thread(run_plain, *args, **kwargs)

        return on_loop(run.loop, lambda: recorder.run_trace(func, args, kwargs, call)).result()

    return sync_wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# map
# ---------------------------------------------------------------------------------------------


def _unwrap(func: Any) -> tuple[TaskTemplate[Any, Any, Any], tuple[Any, ...], dict[str, Any]]:
    if isinstance(func, functools.partial):
        task = func.func
        if not isinstance(task, TaskTemplate):
            raise TypeError(
                f"flyte.map expects a task or a functools.partial of a task, got {func!r}"
            )
        inputs = list(task.native_interface.inputs)
        keywords = dict(func.keywords or {})
        unbound = len(inputs) - len(func.args) - len(keywords)
        if unbound != 1:
            raise TypeError(
                f"A partial passed to flyte.map must leave exactly one parameter of {task.name!r} "
                f"unbound; {unbound} are unbound (inputs: {inputs}, bound positionally: "
                f"{len(func.args)}, by keyword: {sorted(keywords)})."
            )
        for name in inputs[: len(func.args)]:
            if name in keywords:
                raise TypeError(
                    f"Parameter {name!r} of {task.name!r} is bound both positionally and by "
                    "keyword in the partial passed to flyte.map."
                )
        return task, tuple(func.args), keywords
    if not isinstance(func, TaskTemplate):
        raise TypeError(f"flyte.map expects a task or a functools.partial of a task, got {func!r}")
    return func, (), {}


def _group_name(task: TaskTemplate[Any, Any, Any], group_name: str | None) -> str:
    return f"{task.short_name or task.name}_{group_name or 'map'}"


async def _map_in_run(
    task: TaskTemplate[Any, Any, Any],
    fixed_args: tuple[Any, ...],
    fixed_kwargs: dict[str, Any],
    rows: list[tuple[Any, ...]],
    group_name: str,
    concurrency: int,
    return_exceptions: bool,
) -> AsyncIterator[Any]:
    run = current_run()
    assert run is not None
    sem = asyncio.Semaphore(concurrency) if concurrency and concurrency > 0 else None

    async def one(row: tuple[Any, ...]) -> Any:
        if sem is None:
            return await run.controller.submit(task, (*fixed_args, *row), fixed_kwargs)
        async with sem:
            return await run.controller.submit(task, (*fixed_args, *row), fixed_kwargs)

    with group(group_name):
        pending = [asyncio.ensure_future(one(row)) for row in rows]
    try:
        for fut in pending:
            try:
                yield await fut
            except Exception as exc:
                if not return_exceptions:
                    raise
                yield exc
    finally:
        for fut in pending:
            if not fut.done():
                fut.cancel()


class _Map:
    """`flyte.map(task, *iterables, group_name=None, concurrency=0, return_exceptions=True)`.

    Calls the task once per element (zipping several iterables), runs the calls concurrently
    (at most `concurrency` at once when it is positive) as child actions grouped under one name,
    and yields the results in input order. With `return_exceptions` failures are yielded as
    exception objects instead of stopping the map. `flyte.map.aio(...)` is the async-generator
    form for async tasks.
    """

    def __call__(
        self,
        func: Any,
        *iterables: Iterable[Any],
        group_name: str | None = None,
        concurrency: int = 0,
        return_exceptions: bool = True,
    ) -> Iterator[Any]:
        task, fixed_args, fixed_kwargs = _unwrap(func)
        rows = list(zip(*iterables, strict=False)) if iterables else []
        run = current_run()
        if run is None or current_task_context() is None:
            return self._outside_run(func, rows, return_exceptions)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise ferr.RuntimeUserError(
                "SyncMapInAsyncContext",
                f"flyte.map({task.name!r}, ...) was called in a blocking way from async code, "
                "which would block the event loop the tasks run on. Use "
                "`async for r in flyte.map.aio(...)` instead.",
            )

        async def collect() -> list[Any]:
            return [
                r
                async for r in _map_in_run(
                    task,
                    fixed_args,
                    fixed_kwargs,
                    rows,
                    _group_name(task, group_name),
                    concurrency,
                    return_exceptions,
                )
            ]

        return iter(on_loop(run.loop, collect).result())

    @staticmethod
    def _outside_run(
        func: Any, rows: list[tuple[Any, ...]], return_exceptions: bool
    ) -> Iterator[Any]:
        for row in rows:
            try:
                value = func(*row)
                if inspect.isawaitable(value):
                    from flyte_models import run_sync

                    value = run_sync(value)
                yield value
            except Exception as exc:
                if not return_exceptions:
                    raise
                yield exc

    async def aio(
        self,
        func: Any,
        *iterables: Iterable[Any],
        group_name: str | None = None,
        concurrency: int = 0,
        return_exceptions: bool = True,
    ) -> AsyncIterator[Any]:
        """The async form: `async for result in flyte.map.aio(task, items): ...`."""
        task, fixed_args, fixed_kwargs = _unwrap(func)
        rows = list(zip(*iterables, strict=False)) if iterables else []
        if current_run() is None or current_task_context() is None:
            for row in rows:
                try:
                    value = func(*row)
                    if inspect.isawaitable(value):
                        value = await value
                    yield value
                except Exception as exc:
                    if not return_exceptions:
                        raise
                    yield exc
            return
        async for item in _map_in_run(
            task,
            fixed_args,
            fixed_kwargs,
            rows,
            _group_name(task, group_name),
            concurrency,
            return_exceptions,
        ):
            yield item


async def _in_context(ctx_copy: Any, factory: Callable[[], Any]) -> Any:
    """Run `factory()`'s coroutine as a task created inside `ctx_copy` (the caller's context)."""
    loop = asyncio.get_running_loop()
    task = ctx_copy.run(loop.create_task, factory())
    return await task


def on_loop(
    loop: asyncio.AbstractEventLoop, factory: Callable[[], Any]
) -> concurrent.futures.Future[Any]:
    """Run `factory()`'s coroutine on `loop` (which runs in another thread) in the caller's
    context; the returned future gives its result."""
    import contextvars

    return asyncio.run_coroutine_threadsafe(_in_context(contextvars.copy_context(), factory), loop)


async def await_on_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[Any]]) -> Any:
    """Await `call()` on `loop`, where a controller keeps its streams: directly when this is that
    loop (or it is not running), else on it from this loop (a sync task's `asyncio.run`, or
    `syncify`'s loop), in the caller's context."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop or loop.is_closed() or not loop.is_running():
        return await call()
    return await asyncio.wrap_future(on_loop(loop, call))


def dispatch_task_call(
    task: TaskTemplate[Any, Any, Any],
    submit: Callable[[], Coroutine[Any, Any, Any]],
    loop: asyncio.AbstractEventLoop,
) -> Any:
    """A task call routed to a controller whose event loop is `loop`.

    An async task gets the coroutine `submit()` (the caller awaits it). A sync task blocks its
    thread until the child ends on `loop`; called from a running event loop it raises
    `SyncTaskCallInAsyncContextError` instead of blocking that loop.
    """
    if not getattr(task, "_call_as_synchronous", False):
        return submit()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ferr.SyncTaskCallInAsyncContextError(
            f"Sync task {task.name!r} was called in a blocking way from async code, which "
            f"would block the event loop. Use `await {task.short_name or task.name}.aio(...)`."
        )
    return on_loop(loop, submit).result()


# The public name mirrors the builtin, as in the reference SDK.
map = _Map()
