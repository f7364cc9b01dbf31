"""JSON schemas of dataclasses, as the reference SDK writes them into `LiteralType.metadata`.

The reference generates the schema of a dataclass with mashumaro (draft 2020-12, nested dataclasses
inlined, pydantic models described by pydantic). The schema is part of a task's interface, and
its `title`, `properties` and `required` are what `guess_python_type` rebuilds a class from, so it
is reproduced here key for key (the protobuf `Struct` holding it is unordered, so key order does not
matter).
"""

from __future__ import annotations

import base64
import collections.abc
import dataclasses
import datetime
import decimal
import enum
import ipaddress
import pathlib
import typing
import uuid
from typing import Any

from flyte_types._msgpack import encoder_for, resolved_fields
from flyte_types._typing import (
    NoneType,
    is_class,
    is_literal,
    is_named_tuple,
    is_pydantic_model,
    is_typed_dict,
    is_union,
    strip_annotated,
)

__all__ = [
    "dataclass_schema",
    "pydantic_schema_for_dataclass_field",
]

_SEQUENCES: tuple[Any, ...] = (
    list,
    collections.deque,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
)
_SETS: tuple[Any, ...] = (set, frozenset, collections.abc.Set, collections.abc.MutableSet)
_MAPPINGS: tuple[Any, ...] = (dict, collections.abc.Mapping, collections.abc.MutableMapping)

# Keys a mashumaro `JSONSchema` keeps when it adopts a schema written by pydantic.
_KEPT_KEYS = frozenset(
    {
        "$schema", "type", "enum", "const", "format", "title", "description", "anyOf", "$ref",
        "$defs", "default", "deprecated", "examples", "properties", "patternProperties",
        "additionalProperties", "propertyNames", "prefixItems", "items", "contains", "multipleOf",
        "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired", "contentEncoding",
        "contentMediaType", "contentSchema",
    }
)  # fmt: skip
_SCHEMA_VALUED = frozenset(
    {"additionalProperties", "propertyNames", "items", "contains", "contentSchema"}
)
_SCHEMA_LISTS = frozenset({"anyOf", "prefixItems"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs"})


def dataclass_schema(cls: Any) -> dict[str, Any]:
    """Return the JSON schema of a dataclass (or parameterised generic dataclass)."""
    return _schema(cls, set())


def _schema(tp: Any, seen: set[int]) -> dict[str, Any]:  # - one dispatch table
    tp, _ = strip_annotated(tp)
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return _schema(supertype, seen)
    if tp in (Any, object) or isinstance(tp, typing.TypeVar):
        return {}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is NoneType or tp is None:
        return {"type": "null"}
    if tp in (bytes, bytearray):
        return {"type": "string", "format": "base64"}
    if tp is datetime.datetime:
        return {"type": "string", "format": "date-time"}
    if tp is datetime.date:
        return {"type": "string", "format": "date"}
    if tp is datetime.time:
        return {"type": "string", "format": "time"}
    if tp is datetime.timedelta:
        return {"type": "number", "format": "time-delta"}
    if is_class(tp) and issubclass(tp, uuid.UUID):
        return {"type": "string", "format": "uuid"}
    if is_class(tp) and issubclass(tp, decimal.Decimal):
        return {"type": "string", "format": "decimal"}
    if is_class(tp) and issubclass(tp, pathlib.PurePath):
        return {"type": "string", "format": "path"}
    if is_class(tp) and issubclass(tp, ipaddress.IPv4Address):
        return {"type": "string", "format": "ipv4"}
    if is_class(tp) and issubclass(tp, ipaddress.IPv6Address):
        return {"type": "string", "format": "ipv6"}
    if is_class(tp) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if is_literal(tp):
        return {"enum": list(typing.get_args(tp))}
    if is_union(tp):
        return {"anyOf": [_schema(a, seen) for a in typing.get_args(tp)]}
    if is_named_tuple(tp):
        return _named_tuple_schema(tp, seen)
    if is_typed_dict(tp):
        return _typed_dict_schema(tp, seen)
    if is_pydantic_model(tp):
        return pydantic_schema_for_dataclass_field(tp)
    origin = typing.get_origin(tp)
    klass = origin if origin is not None else tp
    if is_class(klass) and dataclasses.is_dataclass(klass):
        return _dataclass_object(tp, seen)
    args = typing.get_args(tp)
    if klass is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema(args[0], seen)}
        return {
            "type": "array",
            "prefixItems": [_schema(a, seen) for a in args],
            "maxItems": len(args),
            "minItems": len(args),
        }
    if klass in _SETS:
        out: dict[str, Any] = {"type": "array"}
        if args:
            out["items"] = _schema(args[0], seen)
        out["uniqueItems"] = True
        return out
    if klass in _SEQUENCES:
        out = {"type": "array"}
        if args:
            out["items"] = _schema(args[0], seen)
        return out
    if klass in _MAPPINGS or tp is dict:
        out = {"type": "object"}
        if len(args) == 2:
            if args[1] not in (Any, object):
                out["additionalProperties"] = _schema(args[1], seen)
            out["propertyNames"] = _schema(args[0], seen)
        return out
    return {}


def _default_value(ftype: Any, default: Any) -> Any:
    """Encode a field default the way the schema shows it (bytes as MIME base64, like mashumaro)."""
    if isinstance(default, bytes | bytearray):
        return base64.encodebytes(bytes(default)).decode()
    try:
        return encoder_for(ftype)(default)
    except Exception:
        return default


def _dataclass_object(tp: Any, seen: set[int]) -> dict[str, Any]:
    origin = typing.get_origin(tp) or tp
    out: dict[str, Any] = {"type": "object", "title": origin.__name__}
    if id(origin) in seen:  # recursive dataclass: no inline expansion of the cycle
        return out
    seen = seen | {id(origin)}
    mapping = dict(zip(getattr(origin, "__parameters__", ()), typing.get_args(tp), strict=False))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f, ftype in resolved_fields(origin):
        if not f.init:
            continue
        if isinstance(ftype, typing.TypeVar):
            ftype = mapping.get(ftype, Any)
        prop = dict(_schema(ftype, seen))
        description = f.metadata.get("description") if f.metadata else None
        if description:
            prop["description"] = description
        if f.default is not dataclasses.MISSING:
            prop["default"] = _default_value(ftype, f.default)
        elif f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        properties[f.name] = prop
    if properties:
        out["properties"] = properties
    out["additionalProperties"] = False
    if required:
        out["required"] = required
    return out


def _named_tuple_schema(tp: Any, seen: set[int]) -> dict[str, Any]:
    hints = typing.get_type_hints(tp)
    defaults = getattr(tp, "_field_defaults", {})
    items = []
    for name in tp._fields:
        item = dict(_schema(hints.get(name, Any), seen))
        if name in defaults:
            item["default"] = _default_value(hints.get(name, Any), defaults[name])
        items.append(item)
    return {
        "type": "array",
        "prefixItems": items,
        "maxItems": len(items),
        "minItems": len(items),
    }


def _typed_dict_schema(tp: Any, seen: set[int]) -> dict[str, Any]:
    hints = typing.get_type_hints(tp)
    required_keys = getattr(tp, "__required_keys__", frozenset(hints))
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: _schema(t, seen) for name, t in hints.items()},
        "additionalProperties": False,
    }
    required = [name for name in hints if name in required_keys]
    if required:
        out["required"] = required
    return out


def pydantic_schema_for_dataclass_field(model: Any) -> dict[str, Any]:
    """Return a pydantic model's schema (enum members by name) filtered like mashumaro's plugin."""
    from flyte_types._pydantic import model_schema

    return _filter(model_schema(model))


def _filter(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEPT_KEYS:
            continue
        if key in _SCHEMA_VALUED:
            out[key] = _filter(value)
        elif key in _SCHEMA_LISTS:
            out[key] = [_filter(v) for v in value]
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _filter(v) for k, v in value.items()}
        else:
            out[key] = value
    return out
