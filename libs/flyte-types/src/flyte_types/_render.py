"""`Renderable` (HTML for reports) and `literal_string_repr` (short human-readable literals)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import msgpack
from flyteidl2.core import literals_pb2
from flyteidl2.task import common_pb2
from google.protobuf.json_format import MessageToDict

__all__ = [
    "Renderable",
    "literal_string_repr",
]


@runtime_checkable
class Renderable(Protocol):
    """Anything that renders a Python value as HTML (used with `Annotated[T, renderer]`)."""

    def to_html(self, python_value: Any) -> str:
        """Return an HTML fragment for the value."""
        ...


def _primitive(p: literals_pb2.Primitive) -> Any:
    kind = p.WhichOneof("value")
    if kind == "integer":
        return p.integer
    if kind == "float_value":
        return p.float_value
    if kind == "boolean":
        return p.boolean
    if kind == "string_value":
        return p.string_value
    if kind == "datetime":
        return p.datetime.ToDatetime().isoformat()
    if kind == "duration":
        return p.duration.ToSeconds()
    raise ValueError(f"Unknown primitive type {p}")


def _scalar(s: literals_pb2.Scalar) -> Any:
    kind = s.WhichOneof("value")
    if kind == "primitive":
        return _primitive(s.primitive)
    if kind == "none_type":
        return None
    if kind == "error":
        return s.error.message
    if kind == "structured_dataset":
        return s.structured_dataset.uri
    if kind == "schema":
        return s.schema.uri
    if kind == "blob":
        return s.blob.uri
    if kind == "binary":
        if s.binary.tag == "msgpack":
            return json.dumps(msgpack.unpackb(s.binary.value, strict_map_key=False), default=str)
        return base64.b64encode(s.binary.value)
    if kind == "generic":
        return MessageToDict(s.generic)
    if kind == "union":
        return _literal(s.union.value)
    raise ValueError(f"Unknown scalar type {s}")


def _literal(lit: literals_pb2.Literal) -> Any:
    kind = lit.WhichOneof("value")
    if kind == "scalar":
        return _scalar(lit.scalar)
    if kind == "collection":
        return [_literal(x) for x in lit.collection.literals]
    if kind == "map":
        return {k: _literal(v) for k, v in lit.map.literals.items()}
    if kind == "offloaded_metadata":
        return f"Offloaded literal metadata: {lit.offloaded_metadata}"
    raise ValueError(f"Unknown literal type {lit}")


def literal_string_repr(lm: Any) -> Any:
    """Return a short, JSON-friendly rendering of literals (files and dataframes as their URI).

    Accepts a `Literal` (returns its rendering), or a `LiteralMap`, `NamedLiteral`, `Inputs`,
    `Outputs` or a name -> `Literal` dict (returns a name -> rendering dict).
    """
    if lm is None:
        return {}
    if isinstance(lm, literals_pb2.Literal):
        return _literal(lm)
    if isinstance(lm, literals_pb2.LiteralMap):
        return {k: _literal(v) for k, v in lm.literals.items()}
    if isinstance(lm, common_pb2.NamedLiteral):
        return {lm.name: _literal(lm.value)}
    if isinstance(lm, common_pb2.Inputs | common_pb2.Outputs):
        return {n.name: _literal(n.value) for n in lm.literals}
    if isinstance(lm, Mapping):
        return {k: _literal(v) for k, v in lm.items()}
    raise ValueError(f"Unknown literal type {lm}, type {type(lm)}")
