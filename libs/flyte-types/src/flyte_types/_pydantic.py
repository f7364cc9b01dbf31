"""Pydantic models, and the types the reference SDK carries *as* pydantic models.

This module imports pydantic at the top; the engine imports it only once a pydantic model (or a
typed tuple, `NamedTuple` or `TypedDict`) is converted, so `import flyte_types` stays light.

Wire format (identical to the reference SDK):

* `LiteralType`: `simple: STRUCT`, `metadata` = the model's JSON schema (enum members listed by
  *name*), `annotation` = `{"cache-key-metadata": {"serialization-format": "msgpack"}}`,
  `structure.tag` = `"Pydantic Transformer"`.
* `Literal`: `scalar.binary{tag: "msgpack", value: msgpack(model_dump in JSON mode)}` where enum
  fields are written by member name.
* `tuple[A, B]`, `NamedTuple` and `TypedDict` values are wrapped in generated models named
  `TupleWrapper_tuple` (fields `item_0`, `item_1`, ...), `NamedTupleWrapper_<Name>` and
  `TypedDictWrapper_<Name>`, and then travel exactly like a model.
"""

from __future__ import annotations

import enum
import functools
import json
import operator
import re
import threading
import typing
from collections.abc import Callable
from typing import Any

import msgpack
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType, TypeAnnotation, TypeStructure
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct
from pydantic import BaseModel, ConfigDict, create_model
from pydantic.json_schema import GenerateJsonSchema

from flyte_types._transformer import MESSAGEPACK, Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import is_class, is_named_tuple, is_typed_dict, strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "NamedTupleTransformer",
    "PydanticTransformer",
    "TupleTransformer",
    "TypedDictTransformer",
    "annotated_schema_extras",
    "model_schema",
]

PYDANTIC_TAG = "Pydantic Transformer"
CACHE_KEY_METADATA = "cache-key-metadata"
SERIALIZATION_FORMAT = "serialization-format"

# float64 infinities and NaNs in a msgpack stream: 0xcb, then 0x7ff/0xfff in the next 12 bits.
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


class _EnumNamesSchema(GenerateJsonSchema):
    """Schema generator listing enum members by name (that is how their values travel)."""

    def enum_schema(self, schema: Any) -> Any:
        result = super().enum_schema(schema)
        enum_cls = schema.get("cls")
        if enum_cls is not None and issubclass(enum_cls, enum.Enum) and "enum" in result:
            result["enum"] = [e.name for e in enum_cls]
        return result


@functools.lru_cache(maxsize=1024)
def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return the JSON schema of a model with enum members by name (cached)."""
    return model.model_json_schema(schema_generator=_EnumNamesSchema)


def _struct(d: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(d)
    return s


def _cache_annotation() -> TypeAnnotation:
    return TypeAnnotation(
        annotations=_struct({CACHE_KEY_METADATA: {SERIALIZATION_FORMAT: MESSAGEPACK}})
    )


def struct_literal_type(schema: dict[str, Any], tag: str) -> LiteralType:
    """Build the `STRUCT` literal type the reference uses for msgpack-encoded objects."""
    return LiteralType(
        simple=SimpleType.STRUCT,
        metadata=_struct(schema),
        annotation=_cache_annotation(),
        structure=TypeStructure(tag=tag),
    )


# ---------------------------------------------------------------------------------------------- #
# Enum fields travel by member name. The reference walks every value with get_type_hints; here a
# per-model plan is compiled once and is `None` (nothing to do) for models without enum fields.

Walk = Callable[[Any], Any]


def _unwrap_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType":
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return non_none[0]
    return tp


def _field_walk(tp: Any, to_names: bool, seen: frozenset[type]) -> Walk | None:
    resolved = _unwrap_optional(tp)
    if is_class(resolved) and issubclass(resolved, enum.Enum):
        return functools.partial(_enum_to_name if to_names else _enum_from_name, resolved)
    if is_class(resolved) and issubclass(resolved, BaseModel):
        if resolved in seen:
            return functools.partial(_lazy_model_walk, resolved, to_names)
        plan = _model_walk(resolved, to_names, seen)
        return None if plan is None else functools.partial(_if_dict, plan)
    origin = typing.get_origin(resolved)
    args = typing.get_args(resolved)
    if origin is list and args:
        item = _field_walk(args[0], to_names, seen)
        return None if item is None else functools.partial(_walk_list, item)
    if origin is dict and len(args) == 2:
        kw = _field_walk(args[0], to_names, seen)
        vw = _field_walk(args[1], to_names, seen)
        if kw is None and vw is None:
            return None
        return functools.partial(_walk_dict, kw, vw)
    return None


def _if_dict(plan: Walk, value: Any) -> Any:
    return plan(value) if isinstance(value, dict) else value


def _lazy_model_walk(model: type[BaseModel], to_names: bool, value: Any) -> Any:
    plan = model_walk(model, to_names)
    return plan(value) if plan is not None and isinstance(value, dict) else value


def _walk_list(item: Walk, value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [None if x is None else item(x) for x in value]


def _walk_dict(kw: Walk | None, vw: Walk | None, value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {
        (kw(k) if kw is not None and k is not None else k): (
            vw(x) if vw is not None and x is not None else x
        )
        for k, x in value.items()
    }


def _enum_to_name(cls: type[enum.Enum], value: Any) -> Any:
    if isinstance(value, str | int | float):
        try:
            return cls(value).name
        except (ValueError, KeyError):
            return value
    return value


def _enum_from_name(cls: type[enum.Enum], value: Any) -> Any:
    if isinstance(value, str):
        try:
            return cls[value]
        except KeyError:
            try:
                return cls(value)
            except (ValueError, KeyError):
                return value
    return value


_walks: dict[tuple[type, bool], Walk | None] = {}
_walk_lock = threading.Lock()


def model_walk(model: type[BaseModel], to_names: bool) -> Walk | None:
    """Return the compiled enum-name conversion of a model's dumped dict, or `None` if not needed."""
    key = (model, to_names)
    try:
        return _walks[key]
    except KeyError:
        pass
    plan = _model_walk(model, to_names, frozenset())
    with _walk_lock:
        _walks[key] = plan
    return plan


def _model_walk(model: type[BaseModel], to_names: bool, seen: frozenset[type]) -> Walk | None:
    try:
        hints = typing.get_type_hints(model)
    except Exception:
        return None
    seen = seen | {model}
    fields: dict[str, Walk] = {}
    for name in model.model_fields:
        tp = hints.get(name)
        if tp is None:
            continue
        walk = _field_walk(tp, to_names, seen)
        if walk is not None:
            fields[name] = walk
    if not fields:
        return None

    def walk_model(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, w in fields.items():
            if name in out and out[name] is not None:
                out[name] = w(out[name])
        return out

    return walk_model


# ---------------------------------------------------------------------------------------------- #
# Encoding and decoding of one model class.


def encode_model(model: type[BaseModel], value: BaseModel) -> bytes:
    """Encode a model instance to the msgpack bytes the reference produces."""
    walk = model_walk(type(value), True)
    data = value.model_dump(mode="json")
    if walk is not None:
        data = walk(data)
    packed = msgpack.packb(data)
    if _NON_FINITE.search(packed) is not None:
        # JSON has no inf/nan: the reference (which goes through JSON text) writes them as nil.
        data = json.loads(value.model_dump_json())
        if walk is not None:
            data = walk(data)
        packed = msgpack.packb(data)
    return packed


def decode_model(model: type[BaseModel], data: Any) -> BaseModel:
    """Validate decoded msgpack/JSON data into a model instance."""
    walk = model_walk(model, False)
    if walk is not None:
        data = walk(data)
    try:
        return model.model_validate(data, strict=False, context={"deserialize": True})
    except Exception as e:
        raise LiteralDecodeError(f"Cannot decode a {model.__qualname__}: {e}") from e


def _read_data(lit: Literal, expected: Any) -> Any:
    scalar = lit.scalar
    if scalar.HasField("binary"):
        if scalar.binary.tag != MESSAGEPACK:
            raise LiteralDecodeError(f"Unsupported binary format `{scalar.binary.tag}`")
        try:
            return msgpack.unpackb(scalar.binary.value, strict_map_key=False)
        except Exception as e:
            raise LiteralDecodeError(
                f"Corrupt msgpack payload for {type_name(expected)}: {e}"
            ) from e
    if scalar.HasField("generic"):  # JSON from the UI
        return json.loads(json_format.MessageToJson(scalar.generic))
    raise LiteralDecodeError(
        f"Cannot convert a {lit.WhichOneof('value') or 'empty'} literal to {type_name(expected)}:"
        " expected a msgpack binary scalar"
    )


class PydanticTransformer(TypeTransformer[BaseModel]):
    """`pydantic.BaseModel` subclasses (msgpack of the JSON-mode dump; schema in the type)."""

    def __init__(self) -> None:
        super().__init__(PYDANTIC_TAG, BaseModel, enable_type_assertions=False)
        self._lts: dict[Any, LiteralType] = {}

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return the STRUCT literal type with the model's JSON schema."""
        bare, _ = strip_annotated(t)
        lt = self._lts.get(bare)
        if lt is None:
            lt = struct_literal_type(model_schema(bare), self.name)
            self._lts[bare] = lt
        return lt

    def make_filler(self, python_type: Any) -> Filler:
        """Encode instances (or dicts, validated into the model) to msgpack binaries."""
        model, _ = strip_annotated(python_type)

        def fill(v: Any, lit: Literal) -> None:
            if not isinstance(v, model):
                if isinstance(v, dict):
                    try:
                        v = model.model_validate(v, strict=False, context={"deserialize": True})
                    except Exception as e:
                        raise TypeTransformerFailedError(
                            f"Failed to coerce dict into {type_name(model)}: {e}"
                        ) from e
                else:
                    raise mismatch(model, v)
            b = lit.scalar.binary
            b.value = encode_model(model, v)
            b.tag = MESSAGEPACK

        return fill

    def make_reader(self, python_type: Any) -> Reader:
        """Decode msgpack binaries (or UI JSON structs) into the model."""
        model, _ = strip_annotated(python_type)

        def read(lit: Literal) -> Any:
            return decode_model(model, _read_data(lit, model))

        return read

    def schema_match(self, schema: dict[str, Any]) -> bool:
        """Pydantic models are matched by the engine, not by schema."""
        return False

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Rebuild a model class from the schema of a literal type this transformer wrote."""
        if (
            literal_type.simple == SimpleType.STRUCT
            and literal_type.HasField("metadata")
            and literal_type.HasField("structure")
            and literal_type.structure.tag == self.name
        ):
            schema = json_format.MessageToDict(literal_type.metadata)
            if "title" in schema:
                return model_from_schema(schema)
        raise ValueError(f"{self.name} cannot reverse {literal_type}")


# ---------------------------------------------------------------------------------------------- #
# Rebuilding models from schemas (guess_python_type).

_BASIC = {"string": str, "integer": int, "number": float, "boolean": bool}


def _schema_type(prop: Any, root: dict[str, Any]) -> Any:  # - one dispatch table
    if not isinstance(prop, dict) or not prop:
        return Any
    ref = prop.get("$ref")
    if isinstance(ref, str):
        name = ref.split("/")[-1]
        defs = root.get("$defs", root.get("definitions", {}))
        target = defs.get(name)
        if not isinstance(target, dict):
            return Any
        if "enum" in target:
            return str
        sub = dict(target)
        sub.setdefault("$defs", defs)
        return model_from_schema(sub)
    for key in ("anyOf", "oneOf"):
        variants = prop.get(key)
        if isinstance(variants, list):
            non_null = [
                v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")
            ]
            members = tuple(_schema_type(v, root) for v in non_null) or (type(None),)
            tp: Any = members[0] if len(members) == 1 else typing.Union[members]
            return typing.Optional[tp] if len(non_null) < len(variants) else tp
    if "enum" in prop:
        return str
    kind = prop.get("type")
    if kind in _BASIC:
        return _BASIC[kind]
    if kind == "array":
        if "prefixItems" in prop:
            return tuple[tuple(_schema_type(p, root) for p in prop["prefixItems"])]  # type: ignore[misc]
        return list[_schema_type(prop.get("items", {}), root)]  # type: ignore[misc]
    if kind == "object":
        if "properties" in prop and prop.get("title"):
            sub = dict(prop)
            sub.setdefault("$defs", root.get("$defs", {}))
            return model_from_schema(sub)
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict):
            return dict[str, _schema_type(extra, root)]  # type: ignore[misc]
        return dict[str, Any]
    return Any


def model_from_schema(schema: dict[str, Any]) -> type[BaseModel]:
    """Create a model class from a JSON schema (all fields, defaults kept, extra keys allowed)."""
    title = schema.get("title", "DynamicModel")
    properties = schema.get("properties", {}) or {}
    required = [n for n in (schema.get("required") or ()) if n in properties]
    order = required + [n for n in properties if n not in set(required)]
    fields: dict[str, Any] = {}
    for name in order:
        prop = properties[name]
        tp = _schema_type(prop, schema)
        if isinstance(prop, dict) and "default" in prop:
            fields[name] = (tp, prop["default"])
        elif name in required:
            fields[name] = (tp, ...)
        else:
            fields[name] = (typing.Optional[tp], None)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        str(title), __config__=ConfigDict(extra="allow"), **fields
    )
    return model


# ---------------------------------------------------------------------------------------------- #
# tuple / NamedTuple / TypedDict, carried as generated wrapper models.


class _WrappingTransformer(TypeTransformer[Any]):
    prefix = ""

    def __init__(self, name: str, t: Any) -> None:
        super().__init__(name, t, enable_type_assertions=False)
        self._models: dict[Any, type[BaseModel]] = {}
        self._lts: dict[Any, LiteralType] = {}
        self._lock = threading.RLock()

    def wrapper(self, t: Any) -> type[BaseModel]:
        bare, _ = strip_annotated(t)
        try:
            return self._models[bare]
        except KeyError:
            pass
        with self._lock:
            if bare not in self._models:
                self._models[bare] = self._create(bare)
            return self._models[bare]

    def _create(self, t: Any) -> type[BaseModel]:
        raise NotImplementedError

    def _to_model(self, value: Any, model: type[BaseModel], t: Any) -> BaseModel:
        raise NotImplementedError

    def _from_model(self, instance: BaseModel, t: Any) -> Any:
        raise NotImplementedError

    def get_literal_type(self, t: Any) -> LiteralType:
        bare, _ = strip_annotated(t)
        lt = self._lts.get(bare)
        if lt is None:
            lt = struct_literal_type(model_schema(self.wrapper(bare)), PYDANTIC_TAG)
            self._lts[bare] = lt
        return lt

    def make_filler(self, python_type: Any) -> Filler:
        bare, _ = strip_annotated(python_type)
        model = self.wrapper(bare)

        def fill(v: Any, lit: Literal) -> None:
            try:
                instance = self._to_model(v, model, bare)
            except TypeTransformerFailedError:
                raise
            except Exception as e:
                raise mismatch(bare, v, str(e)) from e
            b = lit.scalar.binary
            b.value = encode_model(model, instance)
            b.tag = MESSAGEPACK

        return fill

    def make_reader(self, python_type: Any) -> Reader:
        bare, _ = strip_annotated(python_type)
        model = self.wrapper(bare)

        def read(lit: Literal) -> Any:
            return self._from_model(decode_model(model, _read_data(lit, bare)), bare)

        return read

    def _schema(self, literal_type: LiteralType) -> dict[str, Any] | None:
        if literal_type.simple == SimpleType.STRUCT and literal_type.HasField("metadata"):
            schema = json_format.MessageToDict(literal_type.metadata)
            if str(schema.get("title", "")).startswith(self.prefix):
                return schema
        return None


def _plain(value: Any) -> Any:
    """NamedTuples, models and dataclasses inside wrapped values become dicts pydantic accepts."""
    import dataclasses

    if isinstance(value, BaseModel):
        return value.model_dump()
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _restore(value: Any, tp: Any) -> Any:
    """Turn wrapper-model data back into NamedTuples / TypedDicts / tuples where declared."""
    if tp is None:
        return value
    if is_named_tuple(tp):
        if isinstance(value, BaseModel):
            value = {k: getattr(value, k) for k in type(value).model_fields}
        if isinstance(value, dict):
            hints = typing.get_type_hints(tp)
            return tp(*(_restore(value.get(n), hints.get(n)) for n in tp._fields))
        return value
    if is_typed_dict(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        if isinstance(value, BaseModel):
            data = {k: getattr(value, k) for k in type(value).model_fields}
        elif isinstance(value, dict):
            data = value
        else:
            return value
        out = {}
        for name, ftype in hints.items():
            if name not in data:
                continue
            inner, required = _unwrap_required(ftype)
            if not required and data[name] is None:
                continue
            out[name] = _restore(data[name], inner)
        return out
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if isinstance(value, list) and origin is list and args:
        return [_restore(v, args[0]) for v in value]
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return {k: _restore(v, args[1]) for k, v in value.items()}
    if isinstance(value, list | tuple) and origin is tuple and args:
        return tuple(_restore(v, t) for v, t in zip(value, args, strict=False))
    return value


def _unwrap_required(tp: Any) -> tuple[Any, bool]:
    name = getattr(typing.get_origin(tp), "_name", None) or str(typing.get_origin(tp))
    if "NotRequired" in name:
        return typing.get_args(tp)[0], False
    if "Required" in name:
        return typing.get_args(tp)[0], True
    return tp, True


class TupleTransformer(_WrappingTransformer):
    """Fixed-length `tuple[A, B, ...]` values (wrapper model `TupleWrapper_tuple`)."""

    prefix = "TupleWrapper_"

    def __init__(self) -> None:
        super().__init__("Typed Tuple", tuple)

    def _create(self, t: Any) -> type[BaseModel]:
        args = typing.get_args(t)
        if not args:
            raise TypeTransformerFailedError("Tuple type must have type arguments")
        fields = {f"item_{i}": (a, ...) for i, a in enumerate(args)}
        name = f"{self.prefix}{getattr(t, '__name__', 'tuple')}"
        return create_model(name, **fields)  # type: ignore[call-overload,no-any-return]

    def _to_model(self, value: Any, model: type[BaseModel], t: Any) -> BaseModel:
        if not isinstance(value, tuple | list):
            raise mismatch(t, value)
        names = list(model.model_fields)
        if len(value) != len(names):
            raise mismatch(t, value, f"expected {len(names)} items, got {len(value)}")
        return model(**{n: _plain(v) if isinstance(v, tuple) and hasattr(v, "_asdict") else v
                        for n, v in zip(names, value, strict=False)})  # fmt: skip

    def _from_model(self, instance: BaseModel, t: Any) -> Any:
        args = typing.get_args(t)
        return tuple(
            _restore(getattr(instance, n), a)
            for n, a in zip(type(instance).model_fields, args, strict=False)
        )

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Rebuild `tuple[...]` from a `TupleWrapper_` schema."""
        schema = self._schema(literal_type)
        if schema is None:
            raise ValueError(f"Tuple transformer cannot reverse {literal_type}")
        props = schema.get("properties", {})
        items = sorted((k for k in props if k.startswith("item_")), key=lambda k: int(k[5:]))
        if not items:
            raise ValueError("No tuple elements found in schema")
        return tuple[tuple(_schema_type(props[k], schema) for k in items)]  # type: ignore[misc]


class NamedTupleTransformer(_WrappingTransformer):
    """`NamedTuple` values (wrapper model `NamedTupleWrapper_<Name>`)."""

    prefix = "NamedTupleWrapper_"

    def __init__(self) -> None:
        super().__init__("NamedTuple", tuple)

    def _create(self, t: Any) -> type[BaseModel]:
        if not is_named_tuple(t):
            raise TypeTransformerFailedError(f"{t} is not a NamedTuple")
        fields = {name: (ft, ...) for name, ft in typing.get_type_hints(t).items()}
        return create_model(f"{self.prefix}{t.__name__}", **fields)  # type: ignore[call-overload,no-any-return]

    def _to_model(self, value: Any, model: type[BaseModel], t: Any) -> BaseModel:
        if not isinstance(value, tuple):
            raise mismatch(t, value)
        data = (
            value._asdict()
            if hasattr(value, "_asdict")
            else dict(zip(t._fields, value, strict=False))
        )
        return model(**{k: _plain(v) for k, v in data.items()})

    def _from_model(self, instance: BaseModel, t: Any) -> Any:
        return _restore(instance, t)

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Rebuild a `NamedTuple` class from a `NamedTupleWrapper_` schema."""
        schema = self._schema(literal_type)
        if schema is None:
            raise ValueError(f"NamedTuple transformer cannot reverse {literal_type}")
        props = schema.get("properties", {})
        order = schema.get("required", list(props))
        fields = [(n, _schema_type(props.get(n, {}), schema)) for n in order]
        return typing.NamedTuple(str(schema["title"])[len(self.prefix) :], fields)  # type: ignore[misc]


class TypedDictTransformer(_WrappingTransformer):
    """`TypedDict` values (wrapper model `TypedDictWrapper_<Name>`)."""

    prefix = "TypedDictWrapper_"

    def __init__(self) -> None:
        super().__init__("TypedDict", dict)

    def _create(self, t: Any) -> type[BaseModel]:
        return self._create_cached(t, {})

    def _create_cached(self, t: Any, cache: dict[Any, Any]) -> type[BaseModel]:
        if t in cache:
            return cache[t]  # type: ignore[no-any-return]
        name = f"{self.prefix}{t.__name__}"
        cache[t] = name  # forward reference for self-referential TypedDicts
        fields: dict[str, Any] = {}
        for fname, ftype in typing.get_type_hints(t, include_extras=True).items():
            inner, required = _unwrap_required(ftype)
            inner = self._convert(inner, cache)
            fields[fname] = (inner, ...) if required else (typing.Optional[inner], None)
        model: type[BaseModel] = create_model(name, **fields)  # type: ignore[call-overload]
        cache[t] = model
        namespace = {f"{self.prefix}{k.__name__}": v for k, v in cache.items() if is_class(v)}
        model.model_rebuild(_types_namespace=namespace)
        return model

    def _convert(self, tp: Any, cache: dict[Any, Any]) -> Any:
        if is_typed_dict(tp):
            return self._create_cached(tp, cache)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is None or not args:
            return tp
        converted = tuple(self._convert(a, cache) for a in args)
        generic: Any = origin
        if origin is typing.Union:
            return typing.Union[converted]
        try:
            return generic[converted[0] if len(converted) == 1 else converted]
        except TypeError:
            return tp

    def _to_model(self, value: Any, model: type[BaseModel], t: Any) -> BaseModel:
        if not isinstance(value, dict):
            raise mismatch(t, value)
        hints = typing.get_type_hints(t, include_extras=True)
        for key, ftype in hints.items():
            if _unwrap_required(ftype)[1] and key not in value:
                raise TypeTransformerFailedError(
                    f"Missing required key '{key}' for TypedDict {type_name(t)}"
                )
        return model(**{k: _plain(v) for k, v in value.items()})

    def _from_model(self, instance: BaseModel, t: Any) -> Any:
        return _restore(instance, t)

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Rebuild a `TypedDict` class from a `TypedDictWrapper_` schema."""
        schema = self._schema(literal_type)
        if schema is None:
            raise ValueError(f"TypedDict transformer cannot reverse {literal_type}")
        props = schema.get("properties", {})
        fields = {n: _schema_type(p, schema) for n, p in props.items()}
        name = str(schema["title"])[len(self.prefix) :]
        return typing.TypedDict(name, fields)  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------- #
# Annotated[X, Field(...)] metadata recorded in LiteralType.metadata.

_STRUCTURAL = frozenset(
    {
        "type", "anyOf", "oneOf", "allOf", "$defs", "$ref", "items", "prefixItems", "properties",
        "additionalProperties", "required", "discriminator", "default",
    }
)  # fmt: skip


def _is_field_metadata(obj: Any) -> bool:
    """Whether `Annotated` metadata is something pydantic turns into JSON-schema constraints.

    `pydantic.Field(...)`, `WithJsonSchema`, and the `annotated_types` constraints (`Gt`, `MinLen`,
    ...; pydantic's own dependency, recognised by module so that it is not imported here).
    """
    from pydantic.fields import FieldInfo
    from pydantic.json_schema import WithJsonSchema

    if isinstance(obj, FieldInfo | WithJsonSchema):
        return True
    return any(k.__module__ == "annotated_types" for k in type(obj).__mro__)


def annotated_schema_extras(python_type: Any) -> dict[str, Any]:
    """Return the JSON-schema keys pydantic metadata on `Annotated[X, ...]` adds over bare `X`."""
    from pydantic import TypeAdapter

    bare, meta = strip_annotated(python_type)
    fields = [m for m in meta if _is_field_metadata(m)]
    if not fields:
        return {}
    try:
        plain = TypeAdapter(bare).json_schema()
        # Annotated[bare, *fields], spelled so that Python 3.10 parses it.
        annotated_type: Any = operator.getitem(typing.Annotated, (bare, *fields))
        annotated = TypeAdapter(annotated_type).json_schema()
    except Exception:
        return {}
    missing = object()
    return {
        k: v for k, v in annotated.items() if k not in _STRUCTURAL and plain.get(k, missing) != v
    }
