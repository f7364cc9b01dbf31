"""Protobuf messages travel as `Struct` scalars."""

from __future__ import annotations

import pytest
from flyteidl2.core import literals_pb2
from flyteidl2.core.types_pb2 import SimpleType
from google.protobuf.json_format import MessageToDict
from google.protobuf.struct_pb2 import ListValue, Struct

from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip


def test_message_roundtrip_and_types() -> None:
    msg = literals_pb2.KeyValuePair(key="k", value="v")
    lit = assert_roundtrip(msg, literals_pb2.KeyValuePair)
    assert MessageToDict(lit.scalar.generic) == {"key": "k", "value": "v"}
    lt = TypeEngine.to_literal_type(literals_pb2.KeyValuePair)
    assert lt.simple == SimpleType.STRUCT
    assert MessageToDict(lt.metadata) == {"pb_type": "flyteidl2.core.literals_pb2.KeyValuePair"}


def test_struct_itself() -> None:
    s = Struct()
    s.update({"a": 1.0, "b": ["x"]})
    assert_roundtrip(s, Struct)


def test_list_value_becomes_a_collection() -> None:
    lv = ListValue()
    lv.extend([1.0, "a"])
    lit = TypeEngine.to_literal_sync(lv, ListValue)
    assert len(lit.collection.literals) == 2


def test_errors() -> None:
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_literal_sync("x", literals_pb2.KeyValuePair)
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(
            TypeEngine.to_literal_sync(1, int), literals_pb2.KeyValuePair
        )
