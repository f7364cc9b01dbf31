"""Trigger, Cron (croniter-validated), FixedRate, OnArtifact and the input sentinels."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from typing import Any

import pytest

from flyte_models import (
    Cron,
    FixedRate,
    OnArtifact,
    Trigger,
    TriggeredArtifact,
    TriggeredPartition,
    TriggerTime,
)


def test_cron_valid_expressions_and_zone() -> None:
    c = Cron("*/5 * * * *", timezone="US/Eastern")
    assert c.timezone_expression == "CRON_TZ=US/Eastern */5 * * * *"
    assert str(c) == "Cron Trigger: CRON_TZ=US/Eastern */5 * * * *"
    assert Cron("0 0 * * 1").timezone == "UTC"
    assert Cron("@daily").expression == "@daily"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "Cron.expression is not a valid cron expression, got '61 \\* \\* \\* \\*'"),
        ("* * *", "Cron.expression must have five fields .* got '\\* \\* \\*'"),
        ("0 0 * * * *", "must have five fields"),
        ("", "Cron.expression must be a non-empty str, got ''"),
        ("@sometimes", "must have five fields"),
    ],
)
def test_cron_rejects_bad_expressions(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Cron(expression)


def test_cron_rejects_unknown_time_zone() -> None:
    with pytest.raises(
        ValueError, match="Cron.timezone must be an IANA time zone name, got 'Mars/Base'"
    ):
        Cron("0 * * * *", timezone="Mars/Base")
    with pytest.raises(ValueError, match="Cron.timezone must be a non-empty str, got ''"):
        Cron("0 * * * *", timezone="")


def test_fixed_rate() -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    f = FixedRate(60, start_time=start)
    assert (f.interval_minutes, f.start_time) == (60, start)
    assert str(f) == "FixedRate Trigger: every 60 minutes"
    with pytest.raises(ValueError, match="FixedRate.interval_minutes must be at least 1, got 0"):
        FixedRate(0)
    with pytest.raises(TypeError, match="FixedRate.interval_minutes must be an int, got 1.5"):
        FixedRate(1.5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match="FixedRate.start_time must be a datetime or None, got 'now'"
    ):
        FixedRate(5, start_time="now")  # type: ignore[arg-type]


def test_on_artifact() -> None:
    a = OnArtifact("events", region="us", partitions={"tier": "gold"})
    assert a.partitions == {"tier": "gold", "region": "us"}
    assert str(a) == "Artifact Trigger: on new version of events [tier=gold, region=us]"
    assert str(OnArtifact("m", version="v1")) == "Artifact Trigger: on new version of m@v1"
    assert OnArtifact("m").partitions is None
    assert hash(a) == hash(OnArtifact("events", partitions={"region": "us", "tier": "gold"}))
    with pytest.raises(ValueError, match="OnArtifact.name must be a non-empty str, got ''"):
        OnArtifact("")
    with pytest.raises(TypeError, match="OnArtifact partition 'n' must be a str value, got 3"):
        OnArtifact("x", n=3)  # type: ignore[arg-type]


def test_trigger_with_sentinels() -> None:
    t = Trigger(name="hourly_x", automation=FixedRate(60), inputs={"start": TriggerTime, "x": 1})
    assert t.inputs == {"start": TriggerTime, "x": 1}
    art = Trigger(
        name="retrain",
        automation=OnArtifact("model"),
        inputs={"model": TriggeredArtifact, "day": TriggeredPartition("date")},
    )
    assert art.inputs is not None and art.inputs["day"] == TriggeredPartition(key="date")
    assert repr(TriggerTime) == "TriggerTime" and repr(TriggeredArtifact) == "TriggeredArtifact"
    assert pickle.loads(pickle.dumps(TriggerTime)) is TriggerTime
    assert pickle.loads(pickle.dumps(TriggeredArtifact)) is TriggeredArtifact
    assert hash(t) == hash(Trigger(name="hourly_x", automation=FixedRate(60)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "Trigger.name must be a non-empty str, got ''"),
        (
            {"name": "t", "automation": "0 * * * *"},
            "Trigger.automation must be a Cron, FixedRate, OnArtifact or None",
        ),
        (
            {"name": "t", "inputs": {"a": TriggerTime}},
            "binds TriggerTime to 'a', which needs a Cron or FixedRate",
        ),
        ({"name": "t", "inputs": {"a": TriggeredArtifact}}, "binds 'a' to the triggering artifact"),
        (
            {
                "name": "t",
                "automation": OnArtifact("m"),
                "inputs": {"a": TriggeredArtifact, "b": TriggeredArtifact},
            },
            "binds TriggeredArtifact to several inputs \\['a', 'b'\\]",
        ),
        (
            {"name": "t", "inputs": {"d": TriggeredPartition("date")}},
            "binds 'd' to the triggering artifact",
        ),
        (
            {"name": "t", "max_action_concurrency": 1},
            "Trigger.max_action_concurrency must be 0 .* got 1",
        ),
        ({"name": "t", "max_action_concurrency": -1}, "got -1"),
        ({"name": "t", "description": 3}, "Trigger.description must be a str, got 3"),
    ],
)
def test_trigger_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        Trigger(**kwargs)


def test_triggered_partition_validation() -> None:
    with pytest.raises(ValueError, match="TriggeredPartition.key must be a non-empty str, got ''"):
        TriggeredPartition("")


def test_long_description_is_truncated() -> None:
    t = Trigger(name="t", description="x" * 300)
    assert len(t.description) == 255 and t.description.endswith("...(tr.)")


@pytest.mark.parametrize(
    ("factory", "name", "expression"),
    [
        (Trigger.minutely, "minutely", "* * * * *"),
        (Trigger.hourly, "hourly", "0 * * * *"),
        (Trigger.daily, "daily", "0 0 * * *"),
        (Trigger.weekly, "weekly", "0 0 * * 0"),
        (Trigger.monthly, "monthly", "0 0 1 * *"),
    ],
)
def test_convenience_constructors(factory: Any, name: str, expression: str) -> None:
    t = factory()
    assert t.name == name and t.automation == Cron(expression) and t.inputs == {}
    keyed = factory("when", inputs={"x": 1}, queue="q", name="custom")
    assert keyed.inputs == {"when": TriggerTime, "x": 1}
    assert (keyed.queue, keyed.name) == ("q", "custom")


def test_without_croniter_only_the_shape_of_a_cron_expression_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker image leaves croniter out (flyte-models[cron]); the module was validated fully
    # where it was deployed. The field count is still checked.
    import sys

    monkeypatch.setitem(sys.modules, "croniter", None)  # `import croniter` raises ImportError
    assert Cron("99 * * * *").expression == "99 * * * *"
    with pytest.raises(ValueError, match="five fields"):
        Cron("* * * *")
