"""ReusePolicy."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from flyte_models import ReusePolicy


def test_defaults_are_normalised() -> None:
    p = ReusePolicy()
    assert p.replicas == (2, 2) and (p.min_replicas, p.max_replicas) == (2, 2)
    assert p.idle_ttl == timedelta(seconds=30) and p.get_idle_ttl() == timedelta(seconds=30)
    assert p.get_scaledown_ttl() == timedelta(seconds=30)
    assert (p.concurrency, p.scope) == (1, "global")


def test_range_and_timedeltas() -> None:
    p = ReusePolicy(
        replicas=(1, 4), idle_ttl=timedelta(minutes=5), concurrency=8, scaledown_ttl=60, scope="run"
    )
    assert (p.min_replicas, p.max_replicas, p.concurrency, p.scope) == (1, 4, 8, "run")
    assert p.get_scaledown_ttl() == timedelta(minutes=1)


def test_single_replica_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flyte_models"):
        ReusePolicy(replicas=1)
    assert "starve" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "cluster"}, "ReusePolicy.scope must be 'global' or 'run', got 'cluster'"),
        (
            {"replicas": None},
            "ReusePolicy.replicas must be an int or a \\(min, max\\) tuple of ints, got None",
        ),
        ({"replicas": (1, 2, 3)}, "got \\(1, 2, 3\\)"),
        ({"replicas": ("1", 2)}, "ReusePolicy.replicas min must be an int, got '1'"),
        ({"replicas": (1, -2)}, "ReusePolicy.replicas max must be >= 0, got -2"),
        ({"replicas": (3, 2)}, "ReusePolicy.replicas min must be <= max, got \\(3, 2\\)"),
        ({"concurrency": 0}, "ReusePolicy.concurrency must be at least 1, got 0"),
        ({"concurrency": 1.5}, "ReusePolicy.concurrency must be an int, got 1.5"),
        ({"idle_ttl": 10}, "ReusePolicy.idle_ttl must be at least 30 seconds, got 10"),
        (
            {"scaledown_ttl": "30"},
            "ReusePolicy.scaledown_ttl must be an int \\(seconds\\) or a timedelta, got '30'",
        ),
    ],
)
def test_validation_names_field_and_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReusePolicy(**kwargs)
