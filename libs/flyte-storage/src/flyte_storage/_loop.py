"""Where our coroutines run, and how the async and sync APIs reach them.

The library's operations are written once, as coroutines, and run on fsspec's shared IO loop
(a daemon thread owned by fsspec). The cloud filesystems are bound to that loop too, so an
operation awaits them directly, and a single filesystem instance serves every caller:

* the async API submits the operation to the IO loop and awaits the result from the caller's
  loop (`run_async`): the caller's loop is never blocked, and cancelling the caller cancels the
  operation;
* the sync twin blocks the calling thread until the operation finishes (`run_sync`), so it works
  in plain scripts and in threads alike (but not on the IO loop itself).

Blocking local-disk work inside an operation goes to a worker thread (`to_thread`), so it never
stalls transfers that share the IO loop.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def io_loop() -> asyncio.AbstractEventLoop:
    """fsspec's IO loop (started on first use)."""
    loop: asyncio.AbstractEventLoop = importlib.import_module("fsspec.asyn").get_loop()
    return loop


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on the IO loop and await its result from the current loop.

    Args:
        coro: The operation.

    Returns:
        Its result.
    """
    loop = io_loop()
    if _running_loop() is loop:
        return await coro
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    return await asyncio.wrap_future(future)


def run_sync(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` on the IO loop and block until it finishes.

    Args:
        fn: A coroutine function.
        *args: Its positional arguments.
        **kwargs: Its keyword arguments.

    Returns:
        Its result.

    Raises:
        RuntimeError: When called from the IO loop's own thread (it would deadlock).
    """
    loop = io_loop()
    if _running_loop() is loop:
        raise RuntimeError(
            "flyte_storage *_sync functions cannot be called from fsspec's IO loop; "
            "await the async variant instead"
        )
    future = asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), loop)
    try:
        return future.result()
    except BaseException:
        # Interrupted (Ctrl-C) or failed: make sure the operation does not keep running alone.
        future.cancel()
        raise


async def to_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking `fn` in the current loop's default executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
