"""Retry policy of a task: how many user retries, and how to pace them.

A retry is a fresh attempt of a failed action. `RetryStrategy.count` counts *user* retries
(failures of the user's code); system failures are retried by the platform on its own budget.
`NonRecoverableError` raised by user code skips the remaining retries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Backoff", "RetryStrategy", "retry_strategy_from_request"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between user retries: retry `n` (from 0) waits `min(base * factor**n, cap)`.

    Args:
        base: Delay before the first retry (at least 0).
        factor: Multiplier per retry (at least 1.0; 1.0 gives a constant delay).
        cap: Upper bound on the delay; required when `factor > 1`.
    """

    base: timedelta
    factor: float = 1.0
    cap: timedelta | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.base, timedelta):
            raise TypeError(f"Backoff.base must be a timedelta, got {self.base!r}")
        if self.base < timedelta(0):
            raise ValueError(f"Backoff.base must be >= 0, got {self.base!r}")
        if (
            isinstance(self.factor, bool)
            or not isinstance(self.factor, int | float)
            or math.isnan(self.factor)
            or math.isinf(self.factor)
        ):
            raise ValueError(f"Backoff.factor must be a finite number, got {self.factor!r}")
        if self.factor < 1.0:
            raise ValueError(f"Backoff.factor must be >= 1.0, got {self.factor!r}")
        if self.cap is not None:
            if not isinstance(self.cap, timedelta):
                raise TypeError(f"Backoff.cap must be a timedelta or None, got {self.cap!r}")
            if self.cap < timedelta(0):
                raise ValueError(f"Backoff.cap must be >= 0, got {self.cap!r}")
        if self.factor > 1.0 and self.cap is None:
            raise ValueError(
                f"Backoff.cap is required when factor > 1.0 (factor={self.factor!r}), to bound the delay"
            )

    def compute_delay(self, n: int) -> timedelta:
        """Return the delay before retry `n` (0-based).

        Args:
            n: The retry index.

        Returns:
            `min(base * factor**n, cap)`.

        Raises:
            ValueError: If `n` is negative.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        try:
            delay = self.base * (self.factor**n)
        except OverflowError:
            if self.cap is None:  # pragma: no cover - factor == 1.0 cannot overflow
                raise
            return self.cap
        if self.cap is not None and delay > self.cap:
            return self.cap
        return delay


@dataclass(frozen=True)
class RetryStrategy:
    """How often a task's user code is retried after failing.

    Args:
        count: Number of user retries (0 disables retries).
        backoff: Optional pacing between retries; retries follow each other at once without it.

    Example:
        ```python
        RetryStrategy(count=5, backoff=Backoff(timedelta(seconds=10), 2.0, timedelta(minutes=5)))
        ```
    """

    count: int
    backoff: Backoff | None = None

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(
                f"RetryStrategy.count must be an int (a retry count), got {self.count!r}"
            )
        if self.count < 0:
            raise ValueError(f"RetryStrategy.count must be >= 0, got {self.count!r}")
        if self.backoff is not None and not isinstance(self.backoff, Backoff):
            raise TypeError(
                f"RetryStrategy.backoff must be a Backoff or None, got {self.backoff!r}"
            )


def retry_strategy_from_request(retries: int | RetryStrategy | None) -> RetryStrategy:
    """Normalise a `retries=` argument: an int becomes `RetryStrategy(count=n)`, `None` zero.

    Args:
        retries: An int, a `RetryStrategy` or `None`.

    Returns:
        The retry strategy.

    Raises:
        ValueError: For any other value.
    """
    if retries is None:
        return RetryStrategy(count=0)
    if isinstance(retries, RetryStrategy):
        return retries
    if isinstance(retries, int) and not isinstance(retries, bool):
        return RetryStrategy(count=retries)
    raise ValueError(f"retries must be an int (a retry count) or a RetryStrategy, got {retries!r}")
