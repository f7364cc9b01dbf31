"""Replay-safe time primitives: `sleep`, `time`, `now` (each with an `.aio` twin)."""

from flyte_runtime._durable import now, sleep, time

__all__ = ["now", "sleep", "time"]
