"""Protobuf messages, carried as `google.protobuf.Struct` scalars.

Wire format (identical to the reference SDK): `LiteralType(simple: STRUCT, metadata{"pb_type":
"<module>.<Name>"})`, and `Literal(scalar.generic = Struct(MessageToDict(message)))`. A
`google.protobuf.ListValue` becomes a collection of literals, like the reference.
"""

from __future__ import annotations

from typing import Any

from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import ListValue

from flyte_types._transformer import Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError

__all__ = [
    "ProtobufTransformer",
]


class ProtobufTransformer(TypeTransformer[Message]):
    """Any `google.protobuf.message.Message` subclass."""

    PB_FIELD_KEY = "pb_type"

    def __init__(self) -> None:
        super().__init__("Protobuf-Transformer", Message)

    @staticmethod
    def tag(expected_python_type: Any) -> str:
        """Return `module.Name` of a message class."""
        return f"{expected_python_type.__module__}.{expected_python_type.__name__}"

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens in the filler."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return a STRUCT type naming the message class."""
        bare, _ = strip_annotated(t)
        lt = LiteralType(simple=SimpleType.STRUCT)
        lt.metadata.update({self.PB_FIELD_KEY: self.tag(bare)})
        return lt

    def make_filler(self, python_type: Any) -> Filler | None:
        """Convert the message to a `Struct` (a `ListValue` is converted item by item: no filler)."""
        bare, _ = strip_annotated(python_type)
        if bare is ListValue:
            return None

        def fill(v: Any, lit: Literal) -> None:
            if not isinstance(v, bare):
                raise mismatch(bare, v)
            try:
                lit.scalar.generic.update(json_format.MessageToDict(v))
            except Exception as e:
                raise mismatch(bare, v, f"cannot be converted to a Struct: {e}") from e

        return fill

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Convert a message (or a `ListValue`, as a collection) to a literal."""
        bare, _ = strip_annotated(python_type)
        if bare is ListValue or type(python_val) is ListValue:
            from flyte_types._engine import TypeEngine

            lit = Literal()
            lit.collection.SetInParent()
            for item in python_val:
                lit.collection.literals.append(
                    await TypeEngine.to_literal(
                        item, type(item), TypeEngine.to_literal_type(type(item))
                    )
                )
            return lit
        fill = self.make_filler(python_type)
        assert fill is not None
        lit = Literal()
        fill(python_val, lit)
        return lit

    def make_reader(self, python_type: Any) -> Reader:
        """Parse the `Struct` back into the message class."""
        bare, _ = strip_annotated(python_type)

        def read(lit: Literal) -> Any:
            if not lit.scalar.HasField("generic"):
                raise LiteralDecodeError(
                    f"Can only convert a generic literal to a protobuf {type_name(bare)}"
                )
            try:
                return json_format.ParseDict(json_format.MessageToDict(lit.scalar.generic), bare())
            except Exception as e:
                raise LiteralDecodeError(f"Cannot parse a {type_name(bare)}: {e}") from e

        return read
