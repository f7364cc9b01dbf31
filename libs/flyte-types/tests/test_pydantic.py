"""Pydantic models and the types carried as wrapper models (tuple, NamedTuple, TypedDict)."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, NamedTuple, Optional, TypedDict

import msgpack
import pytest
from flyteidl2.core.literals_pb2 import Literal
from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, Field
from typing_extensions import NotRequired

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    color: Color = Color.RED


class Person(BaseModel):
    name: str
    age: int
    score: float = 1.0
    color: Color = Color.BLUE
    colors: list[Color] = []
    by_color: dict[str, Color] = {}
    address: Optional[Address] = None
    born: Optional[datetime.datetime] = None


class Point(NamedTuple):
    x: int
    y: str


class Movie(TypedDict):
    title: str
    year: int
    note: NotRequired[str]


class Tree(TypedDict):
    name: str
    children: list[Tree]


def _person() -> Person:
    return Person(
        name="A",
        age=3,
        colors=[Color.RED],
        by_color={"k": Color.BLUE},
        address=Address(street="s", color=Color.BLUE),
        born=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
    )


def test_model_roundtrip_and_containers() -> None:
    assert_roundtrip(_person(), Person)
    assert_roundtrip([_person(), Person(name="B", age=1)], list[Person])
    assert_roundtrip(None, Optional[Person])
    assert_roundtrip({"p": _person()}, dict[str, Person])


def test_enum_fields_travel_by_name_at_every_depth() -> None:
    data = msgpack.unpackb(TypeEngine.to_literal_sync(_person(), Person).scalar.binary.value)
    assert data["color"] == "BLUE"
    assert data["colors"] == ["RED"]
    assert data["by_color"] == {"k": "BLUE"}
    assert data["address"]["color"] == "BLUE"
    assert data["born"] == "2000-01-01T00:00:00Z"


def test_literal_type_schema_lists_enum_names() -> None:
    lt = TypeEngine.to_literal_type(Person)
    assert lt.structure.tag == "Pydantic Transformer"
    schema = MessageToDict(lt.metadata)
    assert schema["title"] == "Person"
    assert schema["$defs"]["Color"]["enum"] == ["RED", "BLUE"]


def test_non_finite_floats_are_written_as_nil_like_json() -> None:
    p = Person(name="x", age=1, score=float("nan"))
    data = msgpack.unpackb(TypeEngine.to_literal_sync(p, Person).scalar.binary.value)
    assert data["score"] is None


def test_dict_input_is_validated_into_the_model() -> None:
    lit = TypeEngine.to_literal_sync({"name": "d", "age": 2}, Person)
    assert TypeEngine.to_python_value_sync(lit, Person) == Person(name="d", age=2)
    with pytest.raises(TypeTransformerFailedError, match="Failed to coerce dict"):
        TypeEngine.to_literal_sync({"name": "d"}, Person)
    with pytest.raises(TypeTransformerFailedError, match="Person"):
        TypeEngine.to_literal_sync(Address(street="s"), Person)


def test_bad_payload_is_a_decode_error() -> None:
    lit = Literal()
    lit.scalar.binary.value = msgpack.packb({"name": "x"})
    lit.scalar.binary.tag = "msgpack"
    with pytest.raises(LiteralDecodeError, match="Person"):
        TypeEngine.to_python_value_sync(lit, Person)


def test_guess_rebuilds_a_model() -> None:
    guessed = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Person))
    assert issubclass(guessed, BaseModel)
    value = TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(_person(), Person), guessed)
    assert value.name == "A" and value.age == 3


def test_tuple_named_tuple_and_typed_dict() -> None:
    lit = assert_roundtrip((1, "a", 2.5), tuple[int, str, float])
    assert msgpack.unpackb(lit.scalar.binary.value) == {"item_0": 1, "item_1": "a", "item_2": 2.5}
    assert (
        MessageToDict(TypeEngine.to_literal_type(tuple[int, str]).metadata)["title"]
        == "TupleWrapper_tuple"
    )
    back = assert_roundtrip(Point(1, "p"), Point)
    assert msgpack.unpackb(back.scalar.binary.value) == {"x": 1, "y": "p"}
    assert isinstance(TypeEngine.to_python_value_sync(back, Point), Point)
    assert_roundtrip(Movie(title="t", year=1), Movie)
    assert_roundtrip(Movie(title="t", year=1, note="n"), Movie)
    assert_roundtrip(Tree(name="r", children=[Tree(name="c", children=[])]), Tree)


def test_typed_dict_missing_required_key() -> None:
    with pytest.raises(TypeTransformerFailedError, match="title"):
        TypeEngine.to_literal_sync({"year": 1}, Movie)


def test_tuple_length_mismatch() -> None:
    with pytest.raises(TypeTransformerFailedError, match="expected 2 items"):
        TypeEngine.to_literal_sync((1,), tuple[int, str])


def test_guess_wrappers() -> None:
    assert (
        TypeEngine.guess_python_type(TypeEngine.to_literal_type(tuple[int, str])) == tuple[int, str]
    )
    nt = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Point))
    assert nt._fields == ("x", "y")
    td = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Movie))
    assert set(td.__annotations__) == {"title", "year", "note"}


def test_annotated_field_metadata_is_recorded() -> None:
    lt = TypeEngine.to_literal_type(Annotated[str, Field(pattern="^s3://", description="bucket")])
    assert MessageToDict(lt.metadata) == {"pattern": "^s3://", "description": "bucket"}
    assert_roundtrip("s3://x", Annotated[str, Field(pattern="^s3://")])
