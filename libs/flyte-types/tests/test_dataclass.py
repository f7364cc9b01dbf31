"""Dataclasses: msgpack in the mashumaro dialect, JSON schema in the type, schema-based guessing."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
import uuid
from typing import Any, Generic, Optional, TypeVar

import msgpack
import pytest
from flyteidl2.core.literals_pb2 import Literal
from google.protobuf.json_format import MessageToDict

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip

T = TypeVar("T")


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Inner:
    a: int
    b: str = "x"


@dataclasses.dataclass
class Outer:
    i: int
    f: float
    inner: Inner
    inners: list[Inner]
    by_name: dict[str, Inner]
    by_id: dict[int, list[str]]
    maybe: Optional[Inner] = None
    color: Color = Color.RED
    when: datetime.datetime = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    day: datetime.date = datetime.date(2024, 1, 2)
    wait: datetime.timedelta = datetime.timedelta(seconds=1.5)
    raw: bytes = b"\x00"
    pair: tuple[int, str] = (1, "a")
    tags: set[str] = dataclasses.field(default_factory=set)
    uid: Optional[uuid.UUID] = None
    anything: Any = None


@dataclasses.dataclass
class Box(Generic[T]):
    item: T


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WithInitFalse:
    x: int
    y: int = dataclasses.field(default=0, init=False)


def _outer() -> Outer:
    return Outer(
        i=1,
        f=2.0,
        inner=Inner(1),
        inners=[Inner(2, "y")],
        by_name={"k": Inner(3)},
        by_id={1: ["a"]},
        maybe=Inner(4),
        tags={"t"},
        uid=uuid.UUID(int=7),
        anything={"k": [1]},
    )


def test_roundtrip_nested_defaults_and_lists() -> None:
    assert_roundtrip(_outer(), Outer)
    assert_roundtrip([_outer(), _outer()], list[Outer])
    assert_roundtrip({"a": Inner(1)}, dict[str, Inner])
    assert_roundtrip(None, Optional[Outer])


def test_wire_format_is_msgpack_of_fields_in_order() -> None:
    lit = TypeEngine.to_literal_sync(Inner(1), Inner)
    assert lit.scalar.binary.tag == "msgpack"
    assert lit.scalar.binary.value == msgpack.packb({"a": 1, "b": "x"})
    data = msgpack.unpackb(
        TypeEngine.to_literal_sync(_outer(), Outer).scalar.binary.value, strict_map_key=False
    )
    assert list(data) == [f.name for f in dataclasses.fields(Outer)]
    assert (
        data["color"] == "red"
        and data["wait"] == 1.5
        and data["when"] == "2024-01-01T00:00:00+00:00"
    )
    assert data["pair"] == [1, "a"] and data["raw"] == b"\x00" and data["by_id"] == {1: ["a"]}


def test_literal_type_carries_schema_and_tag() -> None:
    lt = TypeEngine.to_literal_type(Inner)
    assert lt.structure.tag == "Object-Dataclass-Transformer"
    schema = MessageToDict(lt.metadata)
    assert schema == {
        "type": "object",
        "title": "Inner",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string", "default": "x"}},
        "additionalProperties": False,
        "required": ["a"],
    }


def test_generic_and_recursive_dataclasses() -> None:
    assert_roundtrip(Box(item=3), Box[int])
    assert_roundtrip(Box(item=Inner(1)), Box[Inner])
    assert_roundtrip(Node(1, [Node(2), Node(3, [Node(4)])]), Node)
    assert "title" in MessageToDict(TypeEngine.to_literal_type(Node).metadata)


def test_init_false_fields_are_written_but_not_read() -> None:
    lit = TypeEngine.to_literal_sync(WithInitFalse(1), WithInitFalse)
    assert msgpack.unpackb(lit.scalar.binary.value) == {"x": 1, "y": 0}
    assert TypeEngine.to_python_value_sync(lit, WithInitFalse) == WithInitFalse(1)


def test_dict_is_coerced_and_defaults_filled() -> None:
    lit = TypeEngine.to_literal_sync({"a": 5}, Inner)
    assert TypeEngine.to_python_value_sync(lit, Inner) == Inner(5, "x")
    with pytest.raises(TypeTransformerFailedError, match="missing"):
        TypeEngine.to_literal_sync({"b": "only"}, Inner)


def test_wrong_object_is_rejected() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Inner"):
        TypeEngine.to_literal_sync(Node(1), Inner)


def test_decoding_coerces_like_mashumaro() -> None:
    lit = Literal()
    lit.scalar.binary.value = msgpack.packb({"a": 1.0, "b": 2})
    lit.scalar.binary.tag = "msgpack"
    assert TypeEngine.to_python_value_sync(lit, Inner) == Inner(1, "2")


def test_missing_field_and_corrupt_payload_are_decode_errors() -> None:
    lit = Literal()
    lit.scalar.binary.value = msgpack.packb({"b": "x"})
    lit.scalar.binary.tag = "msgpack"
    with pytest.raises(LiteralDecodeError, match='"a" is missing'):
        TypeEngine.to_python_value_sync(lit, Inner)
    lit.scalar.binary.value = b"\x92\x01"  # truncated array
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(lit, Inner)


def test_ui_json_struct_is_accepted() -> None:
    lit = Literal()
    lit.scalar.generic.update({"a": 3, "b": "q"})
    assert TypeEngine.to_python_value_sync(lit, Inner) == Inner(3, "q")


def test_guess_python_type_rebuilds_an_equivalent_dataclass() -> None:
    guessed = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Outer))
    assert dataclasses.is_dataclass(guessed)
    assert guessed is TypeEngine.guess_python_type(TypeEngine.to_literal_type(Outer)), "cached"
    value = TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(_outer(), Outer), guessed)
    assert value.i == 1 and value.inner.a == 1 and value.when == _outer().when
    relit = TypeEngine.to_literal_sync(value, guessed)
    assert TypeEngine.to_python_value_sync(relit, Outer) == _outer()


def test_future_annotations_are_resolved() -> None:
    hints = typing.get_type_hints(Inner)
    assert hints["a"] is int  # this module uses `from __future__ import annotations`
    assert_roundtrip(Inner(1), Inner)
