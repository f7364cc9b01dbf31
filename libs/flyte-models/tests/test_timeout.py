"""Timeout and TimeoutType."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flyte_models import Timeout, TimeoutType, timeout_from_request


def test_timeout_accessors_treat_zero_and_none_as_unlimited() -> None:
    t = Timeout(max_runtime=60, max_queued_time=timedelta(minutes=5), deadline=0)
    assert t.get_max_runtime() == timedelta(seconds=60)
    assert t.get_max_queued_time() == timedelta(minutes=5)
    assert t.get_deadline() is None
    assert Timeout().get_max_runtime() is None


def test_timeout_from_request_accepts_every_timeout_type() -> None:
    values: list[TimeoutType] = [30, timedelta(seconds=30), Timeout(max_runtime=30)]
    for value in values:
        assert timeout_from_request(value).get_max_runtime() == timedelta(seconds=30)
    assert timeout_from_request(None) == Timeout()
    with pytest.raises(
        ValueError, match="timeout must be a Timeout, an int \\(seconds\\) or a timedelta, got '1h'"
    ):
        timeout_from_request("1h")  # type: ignore[arg-type]


def test_timeout_validation_names_field_and_value() -> None:
    with pytest.raises(ValueError, match="Timeout.max_runtime must be >= 0, got -1"):
        Timeout(max_runtime=-1)
    with pytest.raises(
        TypeError,
        match="Timeout.deadline must be an int \\(seconds\\), a timedelta or None, got 1.5",
    ):
        Timeout(deadline=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Timeout.max_queued_time must be >= 0"):
        Timeout(max_queued_time=timedelta(seconds=-1))
