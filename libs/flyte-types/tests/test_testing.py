"""The public test helpers, and `literal_string_repr`."""

from __future__ import annotations

import datetime

import pytest
from flyteidl2.task import common_pb2

from flyte_types import TypeEngine, literal_string_repr
from flyte_types.testing import assert_roundtrip, roundtrip


def test_assert_roundtrip_returns_the_literal() -> None:
    lit = assert_roundtrip([1, 2], list[int])
    assert len(lit.collection.literals) == 2


def test_assert_roundtrip_with_expected_and_eq() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=3))
    value = datetime.datetime(2024, 1, 1, 3, tzinfo=tz)
    assert_roundtrip(value, datetime.datetime, expected=value.astimezone(datetime.timezone.utc))
    assert_roundtrip(1.0000001, float, eq=lambda a, b: abs(a - b) < 1e-3)


def test_assert_roundtrip_fails_on_difference() -> None:
    with pytest.raises(AssertionError):
        assert_roundtrip(1, int, expected=2)


def test_roundtrip() -> None:
    back, lit = roundtrip("x", str)
    assert back == "x" and lit.scalar.primitive.string_value == "x"


def test_literal_string_repr() -> None:
    lit = TypeEngine.to_literal_sync({"a": [1, 2]}, dict[str, list[int]])
    assert literal_string_repr(lit) == {"a": [1, 2]}
    inputs = common_pb2.Inputs()
    inputs.literals.add(name="x").value.CopyFrom(TypeEngine.to_literal_sync(None, int | None))
    assert literal_string_repr(inputs) == {"x": None}
    assert literal_string_repr({"d": TypeEngine.to_literal_sync({1: "a"}, dict[int, str])}) == {
        "d": '{"1": "a"}'
    }
    assert literal_string_repr(None) == {}
