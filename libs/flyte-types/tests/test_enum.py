"""Enums travel by member name; `Literal[...]` of strings by value."""

from __future__ import annotations

import enum
from typing import Any, Literal, Optional

import pytest
from flyteidl2.core.types_pb2 import EnumType, LiteralType

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class StrColor(str, enum.Enum):
    RED = "r"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 1
    W = 2


class Weird(enum.Enum):
    A = 1.5


def test_enum_by_name() -> None:
    assert TypeEngine.to_literal_type(Color) == LiteralType(
        enum_type=EnumType(values=["RED", "GREEN"])
    )
    lit = assert_roundtrip(Color.GREEN, Color)
    assert lit.scalar.primitive.string_value == "GREEN"


def test_str_enum_uses_the_enum_transformer_not_str() -> None:
    lit = assert_roundtrip(StrColor.RED, StrColor)
    assert lit.scalar.primitive.string_value == "RED"


def test_int_enum() -> None:
    assert_roundtrip(Level.HIGH, Level)
    assert_roundtrip([Level.LOW], list[Level])
    assert_roundtrip(None, Optional[Level])


def test_name_or_value_strings_are_accepted() -> None:
    assert TypeEngine.to_literal_sync("GREEN", Color).scalar.primitive.string_value == "GREEN"
    assert TypeEngine.to_literal_sync("green", Color).scalar.primitive.string_value == "GREEN"
    with pytest.raises(TypeTransformerFailedError, match="valid values"):
        TypeEngine.to_literal_sync("purple", Color)


@pytest.mark.parametrize("tp", [Perm, Weird])
def test_untransportable_enums_are_rejected(tp: type) -> None:
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_literal_type(tp)


def test_unknown_member_name_is_a_decode_error() -> None:
    lit = TypeEngine.to_literal_sync("s", str)
    lit.scalar.primitive.string_value = "BLUE"
    with pytest.raises(LiteralDecodeError, match="BLUE"):
        TypeEngine.to_python_value_sync(lit, Color)


def test_literal_strings() -> None:
    tp = Literal["low", "high"]
    assert TypeEngine.to_literal_type(tp) == LiteralType(enum_type=EnumType(values=["low", "high"]))
    lit = assert_roundtrip("high", tp)
    assert lit.scalar.primitive.string_value == "high"
    with pytest.raises(TypeTransformerFailedError, match="valid values"):
        TypeEngine.to_literal_sync("mid", tp)
    assert_roundtrip("low", Optional[tp])


def test_reference_literal_enum_class_behaves_like_literal() -> None:
    make_enum: Any = enum.Enum
    literal_enum = make_enum("LiteralEnum", {"LOW": "low", "HIGH": "high"})  # the reference's
    assert TypeEngine.to_literal_type(literal_enum) == TypeEngine.to_literal_type(
        Literal["low", "high"]
    )
    lit = TypeEngine.to_literal_sync("high", literal_enum)
    assert TypeEngine.to_python_value_sync(lit, literal_enum) == "high"


def test_non_string_literal_falls_back_to_pickle() -> None:
    lt = TypeEngine.to_literal_type(Literal[1, 2])
    assert lt.HasField("union_type")  # the pickle union
    assert_roundtrip(2, Literal[1, 2])


def test_guess_enum() -> None:
    guessed = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Color))
    assert [m.name for m in guessed] == ["RED", "GREEN"]
