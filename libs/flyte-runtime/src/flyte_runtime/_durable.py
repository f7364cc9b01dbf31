"""Replay-safe time: `flyte.durable.sleep`, `time` and `now`.

A workflow that reads the clock or sleeps is not deterministic when it is replayed after a crash.
These replacements are recorded as steps of the task (traces), so a recovered run sees the same
times and does not sleep again. Locally, where runs are not replayed, they read the clock and sleep
like the functions they replace.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import time as _time

from flyte_models import syncify
from flyte_runtime._compose import trace

__all__ = ["now", "sleep", "time"]


@syncify
async def sleep(seconds: float) -> None:
    """Sleep for `seconds` (a replacement for `time.sleep` / `asyncio.sleep`).

    Raises:
        ValueError: If `seconds` is negative.
    """
    if seconds < 0:
        raise ValueError(f"sleep duration must be >= 0 seconds, got {seconds!r}")
    await asyncio.sleep(seconds)


@syncify
@trace
async def time() -> float:
    """Seconds since the epoch (a replacement for `time.time`)."""
    return _time.time()


@syncify
@trace
async def now() -> _dt.datetime:
    """The current local time, naive like `datetime.now()` (which it replaces), so it compares
    with the values user code already has."""
    return _dt.datetime.now()
