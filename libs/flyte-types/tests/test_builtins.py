"""Scalars: wire format, round trips, lenient reads and strict writes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from flyteidl2.core.literals_pb2 import Binary, Literal, Primitive, Scalar
from flyteidl2.core.types_pb2 import LiteralType, SimpleType

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip

UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    ("value", "tp", "simple"),
    [
        (0, int, SimpleType.INTEGER),
        (-(2**63), int, SimpleType.INTEGER),
        (2**63 - 1, int, SimpleType.INTEGER),
        (1.5, float, SimpleType.FLOAT),
        (float("inf"), float, SimpleType.FLOAT),
        ("", str, SimpleType.STRING),
        ("ünïcode ✓", str, SimpleType.STRING),
        (True, bool, SimpleType.BOOLEAN),
        (False, bool, SimpleType.BOOLEAN),
        (None, type(None), SimpleType.NONE),
        (
            datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
            datetime.datetime,
            SimpleType.DATETIME,
        ),
        (datetime.date(1999, 12, 31), datetime.date, SimpleType.DATETIME),
        (datetime.timedelta(days=-1, seconds=5), datetime.timedelta, SimpleType.DURATION),
    ],
)
def test_roundtrip_and_literal_type(value: Any, tp: Any, simple: int) -> None:
    assert TypeEngine.to_literal_type(tp) == LiteralType(simple=simple)  # type: ignore[arg-type]
    assert_roundtrip(value, tp)


def test_wire_format_of_int() -> None:
    assert TypeEngine.to_literal_sync(7, int) == Literal(
        scalar=Scalar(primitive=Primitive(integer=7))
    )


def test_none_type_spellings() -> None:
    assert TypeEngine.to_literal_type(None) == TypeEngine.to_literal_type(type(None))
    lit = TypeEngine.to_literal_sync(None, None)
    assert lit.scalar.HasField("none_type")
    assert TypeEngine.to_python_value_sync(lit, None) is None


def test_datetime_keeps_the_instant_in_utc() -> None:
    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    value = datetime.datetime(2024, 1, 1, 12, 0, tzinfo=plus2)
    back = TypeEngine.to_python_value_sync(
        TypeEngine.to_literal_sync(value, datetime.datetime), datetime.datetime
    )
    assert back == value
    assert back.tzinfo == UTC
    assert back.hour == 10


def test_naive_datetime_is_taken_as_utc() -> None:
    value = datetime.datetime(2024, 1, 1, 12, 0)
    back = TypeEngine.to_python_value_sync(
        TypeEngine.to_literal_sync(value, datetime.datetime), datetime.datetime
    )
    assert back == value.replace(tzinfo=UTC)


def test_float_accepts_int_but_not_bool() -> None:
    assert TypeEngine.to_literal_sync(3, float).scalar.primitive.float_value == 3.0
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_literal_sync(True, float)


def test_int_accepts_bool_like_the_reference() -> None:
    assert TypeEngine.to_literal_sync(True, int).scalar.primitive.integer == 1


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        ("7", int),
        (7.5, int),
        (None, int),
        (b"x", str),
        (1, str),
        ("yes", bool),
        (1, bool),
        ("x", float),
        (0, type(None)),
    ],
)
def test_mismatch_names_expected_and_received_types(value: Any, tp: Any) -> None:
    with pytest.raises(TypeTransformerFailedError) as info:
        TypeEngine.to_literal_sync(value, tp)
    message = str(info.value)
    expected_name = "None" if tp is type(None) else tp.__name__
    received_name = "None" if value is None else type(value).__name__
    assert f"of type {expected_name}" in message
    assert f"got {received_name}" in message


def test_mismatch_is_still_a_type_error() -> None:
    with pytest.raises(TypeError):
        TypeEngine.to_literal_sync("seven", int)


def test_int_overflow() -> None:
    with pytest.raises(TypeTransformerFailedError, match="int64"):
        TypeEngine.to_literal_sync(2**64, int)


def test_readers_are_lenient_like_the_reference() -> None:
    as_float = Literal(scalar=Scalar(primitive=Primitive(float_value=3.0)))
    assert TypeEngine.to_python_value_sync(as_float, int) == 3
    as_int = Literal(scalar=Scalar(primitive=Primitive(integer=2)))
    assert TypeEngine.to_python_value_sync(as_int, float) == 2.0


def test_reads_msgpack_binaries_from_attribute_access() -> None:
    import msgpack

    lit = Literal(scalar=Scalar(binary=Binary(value=msgpack.packb(5), tag="msgpack")))
    assert TypeEngine.to_python_value_sync(lit, int) == 5
    lit = Literal(
        scalar=Scalar(
            binary=Binary(value=msgpack.packb("2024-01-01T00:00:00+00:00"), tag="msgpack")
        )
    )
    assert TypeEngine.to_python_value_sync(lit, datetime.datetime) == datetime.datetime(
        2024, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "tp", [int, float, str, bool, datetime.datetime, datetime.date, datetime.timedelta, type(None)]
)
def test_wrong_literal_shape_is_a_decode_error(tp: Any) -> None:
    wrong = Literal(scalar=Scalar(binary=Binary(value=b"\x00", tag="other")))
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(wrong, tp)


def test_decode_error_is_a_type_transformer_failed_error() -> None:
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_python_value_sync(Literal(), int)


def test_reading_as_the_wrong_scalar_type_fails() -> None:
    lit = TypeEngine.to_literal_sync("s", str)
    with pytest.raises(LiteralDecodeError, match="string_value"):
        TypeEngine.to_python_value_sync(lit, int)


def test_guess_python_types_of_scalars() -> None:
    for tp in (int, float, str, bool, datetime.datetime, datetime.timedelta, type(None)):
        assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(tp)) is tp
