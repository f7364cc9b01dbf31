"""Lists, dicts and unions: wire format, empty values, tags, ambiguity and I/O elements."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Optional, Union

import msgpack
import pytest
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip


@dataclasses.dataclass
class P:
    x: int


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        ([], list[int]),
        ([1, 2, 3], list[int]),
        ([[1], [], [2, 3]], list[list[int]]),
        ([None, 1], list[Optional[int]]),
        ({}, dict[str, int]),
        ({"a": {"b": [1.5]}}, dict[str, dict[str, list[float]]]),
        ({1: "a", -2: "b"}, dict[int, str]),
        ({1: P(1)}, dict[int, P]),
        ({"a": [1, {"b": None}]}, dict),
        ({"a": 1}, typing.Dict),  # noqa: UP006 - the typing spelling is tested on purpose
        ([P(1), P(2)], list[P]),
        ([1, "a", 2.5], list),
        (None, Optional[int]),
        (3, Optional[int]),
        ("x", int | str),
        (2.5, Union[int, float]),
        ([1], Union[list[int], dict[str, int]]),
        ({"a": 1}, Union[list[int], dict[str, int]]),
    ],
)
def test_roundtrip(value: Any, tp: Any) -> None:
    assert_roundtrip(value, tp)


def test_empty_list_and_dict_set_their_oneof() -> None:
    assert TypeEngine.to_literal_sync([], list[int]).HasField("collection")
    assert TypeEngine.to_literal_sync({}, dict[str, int]).HasField("map")
    assert TypeEngine.to_literal_sync([], list[int]).SerializeToString() == b"\x12\x00"


def test_literal_types() -> None:
    assert TypeEngine.to_literal_type(list[int]) == LiteralType(
        collection_type=LiteralType(simple=SimpleType.INTEGER)
    )
    assert TypeEngine.to_literal_type(dict[str, bool]) == LiteralType(
        map_value_type=LiteralType(simple=SimpleType.BOOLEAN)
    )
    lt = TypeEngine.to_literal_type(dict[int, str])
    assert lt.simple == SimpleType.STRUCT
    assert lt.annotation.annotations["cache-key-metadata"]["serialization-format"] == "msgpack"
    union = TypeEngine.to_literal_type(Optional[int])
    assert [v.structure.tag for v in union.union_type.variants] == ["int", "none"]


def test_dict_with_int_keys_is_msgpack() -> None:
    lit = TypeEngine.to_literal_sync({1: "a"}, dict[int, str])
    assert lit.scalar.binary.tag == "msgpack"
    assert msgpack.unpackb(lit.scalar.binary.value, strict_map_key=False) == {1: "a"}


def test_union_literal_records_the_chosen_variant() -> None:
    lit = TypeEngine.to_literal_sync("s", Union[int, str])
    assert lit.scalar.union.type.structure.tag == "str"
    assert lit.scalar.union.value.scalar.primitive.string_value == "s"


def test_union_of_lists_is_decoded_by_literal_type_even_when_empty() -> None:
    tp = Union[list[int], list[str]]
    with pytest.raises(TypeError, match="Ambiguous"):
        TypeEngine.to_literal_sync([], tp)  # like the reference: both variants accept []
    lit = TypeEngine.to_literal_sync(["a"], tp)
    assert lit.scalar.union.type.collection_type.simple == SimpleType.STRING
    assert TypeEngine.to_python_value_sync(lit, tp) == ["a"]


def test_union_reads_a_plain_literal() -> None:
    plain = TypeEngine.to_literal_sync(5, int)
    assert TypeEngine.to_python_value_sync(plain, Optional[int]) == 5


def test_union_rejects_values_of_no_variant() -> None:
    with pytest.raises(TypeTransformerFailedError, match="int | str|Union"):
        TypeEngine.to_literal_sync(1.5, Union[int, str])


def test_union_with_exact_type_picks_it_without_trying_others() -> None:
    lit = TypeEngine.to_literal_sync(True, Union[int, bool])
    assert lit.scalar.union.type.structure.tag == "bool"


def test_list_rejects_non_lists_and_bad_items() -> None:
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_literal_sync((1, 2), list[int])
    with pytest.raises(TypeTransformerFailedError, match="got str"):
        TypeEngine.to_literal_sync([1, "2"], list[int])


def test_dict_rejects_non_str_keys_for_maps() -> None:
    with pytest.raises(TypeTransformerFailedError, match="not a str"):
        TypeEngine.to_literal_sync({1: 1}, dict[str, int])


def test_untyped_dict_that_msgpack_cannot_encode_fails_clearly() -> None:
    with pytest.raises(TypeTransformerFailedError, match="cannot be encoded"):
        TypeEngine.to_literal_sync({"a": object()}, dict)


def test_wrong_shapes_are_decode_errors() -> None:
    lit = TypeEngine.to_literal_sync(1, int)
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(lit, list[int])
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(lit, dict[str, int])
    corrupt = Literal()
    corrupt.scalar.binary.value = b"\xc1"
    corrupt.scalar.binary.tag = "msgpack"
    with pytest.raises(LiteralDecodeError, match="Corrupt msgpack"):
        TypeEngine.to_python_value_sync(corrupt, dict[int, str])


def test_guess_container_types() -> None:
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(list[int])) == list[int]
    assert (
        TypeEngine.guess_python_type(TypeEngine.to_literal_type(dict[str, float]))
        == dict[str, float]
    )
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(dict)) is dict
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(Optional[str])) == Optional[str]


def test_large_list_converts_in_one_loop() -> None:
    values = list(range(100_000))
    lit = TypeEngine.to_literal_sync(values, list[int])
    assert len(lit.collection.literals) == len(values)
    assert TypeEngine.to_python_value_sync(lit, list[int]) == values
