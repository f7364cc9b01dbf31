"""Dataclasses: msgpack binaries with the class's JSON schema in the literal type.

Wire format (identical to the reference SDK):

* `LiteralType`: `simple: STRUCT`, `metadata` = JSON schema of the class (see `_jsonschema`),
  `annotation` = `{"cache-key-metadata": {"serialization-format": "msgpack"}}`,
  `structure.tag` = `"Object-Dataclass-Transformer"`.
* `Literal`: `scalar.binary{tag: "msgpack", value: msgpack({field: value, ...})}` in the mashumaro
  dialect of `_msgpack` (nested dataclasses as maps, enums by value, datetimes as ISO strings...).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import msgpack
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType, TypeAnnotation, TypeStructure
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from flyte_types._jsonschema import dataclass_schema
from flyte_types._msgpack import decoder_for, encoder_for
from flyte_types._transformer import MESSAGEPACK, Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import dataclass_class, strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "DataclassTransformer",
    "cache_key_annotation",
]

DATACLASS_TAG = "Object-Dataclass-Transformer"


def cache_key_annotation() -> TypeAnnotation:
    """The `annotation` the reference puts on msgpack-encoded struct types."""
    s = Struct()
    s.update({"cache-key-metadata": {"serialization-format": MESSAGEPACK}})
    return TypeAnnotation(annotations=s)


class DataclassTransformer(TypeTransformer[object]):
    """Any `@dataclass` (including generic ones such as `Box[int]`)."""

    def __init__(self) -> None:
        super().__init__(DATACLASS_TAG, object)
        self._lts: dict[Any, LiteralType] = {}
        self._lock = threading.Lock()

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens in the filler."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return the STRUCT literal type with the JSON schema of the class."""
        bare, _ = strip_annotated(t)
        try:
            cached = self._lts.get(bare)
        except TypeError:
            cached = None
        if cached is not None:
            return cached
        lt = LiteralType(
            simple=SimpleType.STRUCT,
            annotation=cache_key_annotation(),
            structure=TypeStructure(tag=self.name),
        )
        try:
            lt.metadata.update(dataclass_schema(bare))
        except Exception:  # an exotic field type: the schema is informative only
            lt.ClearField("metadata")
        try:
            with self._lock:
                self._lts[bare] = lt
        except TypeError:
            pass
        return lt

    def make_filler(self, python_type: Any) -> Filler:
        """Encode instances (or plain dicts, validated into the class) as msgpack binaries."""
        bare, _ = strip_annotated(python_type)
        cls = dataclass_class(bare)
        if cls is None:
            raise TypeTransformerFailedError(f"{type_name(bare)} is not a dataclass")
        encode = encoder_for(bare)
        decode = decoder_for(bare)
        field_names = {f.name for f in dataclasses.fields(cls)}
        packb = msgpack.packb

        def fill(v: Any, lit: Literal) -> None:
            if type(v) is not cls and not isinstance(v, cls):
                if isinstance(v, dict):
                    try:
                        v = decode(v)
                    except LiteralDecodeError as e:
                        raise TypeTransformerFailedError(
                            f"Failed to coerce dict into {type_name(bare)}: {e}"
                        ) from e
                elif not (
                    dataclasses.is_dataclass(v)
                    and not isinstance(v, type)
                    and {f.name for f in dataclasses.fields(v)} == field_names
                ):
                    raise mismatch(bare, v)
            try:
                data = packb(encode(v))
            except (TypeError, ValueError, OverflowError, AttributeError) as e:
                raise mismatch(bare, v, f"cannot be encoded: {e}") from e
            b = lit.scalar.binary
            b.value = data
            b.tag = MESSAGEPACK

        return fill

    def make_reader(self, python_type: Any) -> Reader:
        """Decode msgpack binaries (or UI JSON structs) into the class."""
        bare, _ = strip_annotated(python_type)
        if dataclass_class(bare) is None:
            raise TypeTransformerFailedError(f"{type_name(bare)} is not a dataclass")
        decode = decoder_for(bare)
        unpackb = msgpack.unpackb

        def read(lit: Literal) -> Any:
            scalar = lit.scalar
            if scalar.HasField("binary"):
                if scalar.binary.tag != MESSAGEPACK:
                    raise LiteralDecodeError(f"Unsupported binary format `{scalar.binary.tag}`")
                try:
                    data = unpackb(scalar.binary.value, strict_map_key=False)
                except Exception as e:
                    raise LiteralDecodeError(
                        f"Corrupt msgpack payload for {type_name(bare)}: {e}"
                    ) from e
            elif scalar.HasField("generic"):
                data = json.loads(json_format.MessageToJson(scalar.generic))
            else:
                raise LiteralDecodeError(
                    f"Cannot convert a {lit.WhichOneof('value') or 'empty'} literal to "
                    f"{type_name(bare)}: expected a msgpack binary scalar"
                )
            return decode(data)

        return read

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Rebuild a dataclass from the JSON schema of a literal type this transformer wrote."""
        if literal_type.simple == SimpleType.STRUCT and literal_type.HasField("metadata"):
            if literal_type.HasField("structure") and literal_type.structure.tag not in (
                "",
                self.name,
            ):
                raise ValueError(f"Dataclass transformer cannot reverse {literal_type}")
            schema = json_format.MessageToDict(literal_type.metadata)
            if "title" in schema:
                from flyte_types._guess import dataclass_from_schema

                return dataclass_from_schema(schema)
        raise ValueError(f"Dataclass transformer cannot reverse {literal_type}")
