"""RetryStrategy and Backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flyte_models import Backoff, RetryStrategy, retry_strategy_from_request


def test_backoff_compute_delay_is_capped_exponential() -> None:
    b = Backoff(base=timedelta(seconds=10), factor=2.0, cap=timedelta(minutes=1))
    assert [b.compute_delay(n).total_seconds() for n in range(5)] == [10, 20, 40, 60, 60]
    assert b.compute_delay(5000) == timedelta(minutes=1)  # overflow falls back to the cap
    assert Backoff(base=timedelta(seconds=3)).compute_delay(7) == timedelta(seconds=3)
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        b.compute_delay(-1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"base": timedelta(seconds=-1)}, ValueError, "Backoff.base must be >= 0"),
        ({"base": 5}, TypeError, "Backoff.base must be a timedelta, got 5"),
        (
            {"base": timedelta(0), "factor": 0.5},
            ValueError,
            "Backoff.factor must be >= 1.0, got 0.5",
        ),
        (
            {"base": timedelta(0), "factor": float("nan")},
            ValueError,
            "Backoff.factor must be a finite number, got nan",
        ),
        (
            {"base": timedelta(0), "factor": 2.0},
            ValueError,
            "Backoff.cap is required when factor > 1.0 \\(factor=2.0\\)",
        ),
        (
            {"base": timedelta(0), "cap": timedelta(seconds=-1)},
            ValueError,
            "Backoff.cap must be >= 0",
        ),
        (
            {"base": timedelta(0), "cap": 3},
            TypeError,
            "Backoff.cap must be a timedelta or None, got 3",
        ),
    ],
)
def test_backoff_validation(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Backoff(**kwargs)


def test_retry_strategy() -> None:
    r = RetryStrategy(count=3, backoff=Backoff(base=timedelta(seconds=1)))
    assert r.count == 3 and r.backoff is not None
    assert RetryStrategy(2) == RetryStrategy(count=2, backoff=None)
    with pytest.raises(
        ValueError, match="RetryStrategy.count must be an int \\(a retry count\\), got 1.5"
    ):
        RetryStrategy(count=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RetryStrategy.count must be >= 0, got -2"):
        RetryStrategy(count=-2)
    with pytest.raises(TypeError, match="RetryStrategy.backoff must be a Backoff or None, got 5"):
        RetryStrategy(count=1, backoff=5)  # type: ignore[arg-type]


def test_retry_strategy_from_request() -> None:
    assert retry_strategy_from_request(3) == RetryStrategy(count=3)
    assert retry_strategy_from_request(None) == RetryStrategy(count=0)
    same = RetryStrategy(count=1)
    assert retry_strategy_from_request(same) is same
    with pytest.raises(ValueError, match="retries must be an int .* got '3'"):
        retry_strategy_from_request("3")  # type: ignore[arg-type]
