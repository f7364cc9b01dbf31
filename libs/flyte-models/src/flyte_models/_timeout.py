"""Wall-clock bounds of a task.

Three independent bounds, each unlimited when unset (`None`) or zero:

* `max_runtime`: time in the RUNNING phase, per attempt;
* `max_queued_time`: time queued or waiting for resources before starting, per attempt;
* `deadline`: total time from first being queued to a terminal phase, across all attempts.

A bare `int` (seconds) or `timedelta` passed as `timeout=` means `max_runtime`. Timeouts are
enforced by the platform, not in local runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Union

__all__ = ["Timeout", "TimeoutType", "timeout_from_request"]


def _check_bound(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | timedelta):
        raise TypeError(
            f"Timeout.{name} must be an int (seconds), a timedelta or None, got {value!r}"
        )
    if (isinstance(value, int) and value < 0) or (
        isinstance(value, timedelta) and value < timedelta(0)
    ):
        raise ValueError(f"Timeout.{name} must be >= 0, got {value!r}")


def _as_timedelta(value: int | timedelta | None) -> timedelta | None:
    if value is None:
        return None
    delta = value if isinstance(value, timedelta) else timedelta(seconds=value)
    return delta if delta > timedelta(0) else None


@dataclass(frozen=True)
class Timeout:
    """Time bounds of a task (see the module docstring for their meaning).

    Args:
        max_runtime: Per-attempt running-time bound (int seconds or timedelta).
        max_queued_time: Per-attempt queueing-time bound.
        deadline: Bound on the total time across all attempts.
    """

    max_runtime: timedelta | int | None = None
    max_queued_time: timedelta | int | None = None
    deadline: timedelta | int | None = None

    def __post_init__(self) -> None:
        _check_bound("max_runtime", self.max_runtime)
        _check_bound("max_queued_time", self.max_queued_time)
        _check_bound("deadline", self.deadline)

    def get_max_runtime(self) -> timedelta | None:
        """Return `max_runtime` as a `timedelta`, or `None` when unlimited."""
        return _as_timedelta(self.max_runtime)

    def get_max_queued_time(self) -> timedelta | None:
        """Return `max_queued_time` as a `timedelta`, or `None` when unlimited."""
        return _as_timedelta(self.max_queued_time)

    def get_deadline(self) -> timedelta | None:
        """Return `deadline` as a `timedelta`, or `None` when unlimited."""
        return _as_timedelta(self.deadline)


TimeoutType = Union[Timeout, int, timedelta]
"""What `timeout=` accepts: a `Timeout`, int seconds or a `timedelta` (the last two: max runtime)."""


def timeout_from_request(timeout: TimeoutType | None) -> Timeout:
    """Normalise a `timeout=` argument into a `Timeout`.

    Args:
        timeout: A `Timeout`, int seconds, a `timedelta` (both meaning `max_runtime`), or `None`.

    Returns:
        The timeout (all bounds unset for `None`).

    Raises:
        ValueError: For any other value.
    """
    if timeout is None:
        return Timeout()
    if isinstance(timeout, Timeout):
        return timeout
    if isinstance(timeout, int | timedelta) and not isinstance(timeout, bool):
        return Timeout(max_runtime=timeout)
    raise ValueError(f"timeout must be a Timeout, an int (seconds) or a timedelta, got {timeout!r}")
