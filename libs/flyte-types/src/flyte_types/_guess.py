"""Rebuilding dataclasses from the JSON schemas stored in literal types.

Used by `TypeEngine.guess_python_type` when only a task's interface is known (for example a remote
task fetched by name): the rebuilt class has the same field names, types and defaults, so values
can be decoded and re-encoded without the original class.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import functools
import json
import typing
from typing import Any

__all__ = [
    "dataclass_from_schema",
]

_FORMATS: dict[str, Any] = {
    "date-time": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "time-delta": datetime.timedelta,
    "base64": bytes,
}
_BASIC: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}


def _io_type(schema: dict[str, Any]) -> Any:
    """Return `File`, `Dir` or `DataFrame` when a schema describes one of them."""
    title = schema.get("title")
    props = schema.get("properties") or {}
    if title in ("File", "Dir") and "path" in props:
        import flyte_types.io as fio

        return fio.File if title == "File" else fio.Dir
    if title == "DataFrame" and "uri" in props and "format" in props:
        import flyte_types.io as fio

        return fio.DataFrame
    return None


def _element_type(prop: Any, root: dict[str, Any]) -> Any:  # - one dispatch table
    if not isinstance(prop, dict) or not prop:
        return Any
    if "$ref" in prop:
        name = str(prop["$ref"]).split("/")[-1]
        target = root.get("$defs", {}).get(name)
        return _element_type(target, root) if isinstance(target, dict) else Any
    if "anyOf" in prop:
        variants = prop["anyOf"]
        non_null = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
        members = tuple(_element_type(v, root) for v in non_null)
        if not members:
            return type(None)
        tp: Any = members[0] if len(members) == 1 else typing.Union[members]
        return typing.Optional[tp] if len(non_null) < len(variants) else tp
    if "enum" in prop:
        values = prop["enum"]
        kinds = {type(v) for v in values}
        if kinds == {str}:
            return str
        if kinds <= {int, float} and all(float(v).is_integer() for v in values):
            return int
        return Any
    kind = prop.get("type")
    fmt = prop.get("format")
    if kind in ("string", "number") and fmt in _FORMATS:
        return _FORMATS[fmt]
    if kind in _BASIC:
        return _BASIC[kind]
    if kind == "null":
        return type(None)
    if kind == "array":
        if "prefixItems" in prop:
            return tuple[tuple(_element_type(p, root) for p in prop["prefixItems"])]  # type: ignore[misc]
        item = _element_type(prop.get("items", {}), root)
        if prop.get("uniqueItems"):
            return set[item]  # type: ignore[valid-type]
        return list[item]  # type: ignore[valid-type]
    if kind == "object":
        io_type = _io_type(prop)
        if io_type is not None:
            return io_type
        if "title" in prop and ("properties" in prop or prop.get("additionalProperties") is False):
            sub = dict(prop)
            sub.setdefault("$defs", root.get("$defs", {}))
            return dataclass_from_schema(sub)
        names = prop.get("propertyNames", {})
        key = _element_type(names, root) if names else str
        extra = prop.get("additionalProperties")
        value = _element_type(extra, root) if isinstance(extra, dict) else Any
        if key is str and value is Any and not names:
            return dict
        return dict[key, value]  # type: ignore[valid-type]
    return Any


def _factory(default: Any) -> Any:
    snapshot = copy.deepcopy(default)
    return functools.partial(copy.deepcopy, snapshot)


@functools.lru_cache(maxsize=256)
def _cached(schema_json: str) -> type:
    schema = json.loads(schema_json)
    title = str(schema.get("title", "DynamicDataclass"))
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    no_default: list[tuple[str, Any]] = []
    with_default: list[tuple[str, Any, Any]] = []
    for name, prop in props.items():
        tp = _element_type(prop, schema)
        if isinstance(prop, dict) and "default" in prop:
            default = prop["default"]
            if tp is int and isinstance(default, float) and default.is_integer():
                default = int(default)  # protobuf Structs store every number as a double
            if isinstance(default, list | dict):
                field = dataclasses.field(default_factory=_factory(default))
            else:
                field = dataclasses.field(default=default)
            with_default.append((name, tp, field))
        elif name in required:
            no_default.append((name, tp))
        else:
            with_default.append((name, typing.Optional[tp], dataclasses.field(default=None)))
    fields: list[Any] = [*no_default, *with_default]
    return dataclasses.make_dataclass(title, fields)


def dataclass_from_schema(schema: dict[str, Any]) -> type:
    """Create (or reuse) a dataclass matching a dataclass JSON schema.

    The same schema always gives the same class, so values decoded twice compare equal.
    """
    return _cached(json.dumps(schema, sort_keys=True))
