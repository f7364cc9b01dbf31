"""Python values <-> msgpack-ready plain data, in the dialect the reference SDK puts on the wire.

The reference SDK encodes dataclasses, `dict[int, T]` and untyped dicts with mashumaro's msgpack
codec. That dialect is part of the wire format, so this module reproduces it exactly, without
mashumaro:

* `int`, `float`, `str`, `bool`, `None`, `bytes`, `Any`, `Literal[...]` travel as themselves;
* `datetime` / `date` / `time` as `isoformat()` strings, `timedelta` as float seconds;
* an `Enum` as its value, `UUID` / `Decimal` / paths as strings;
* lists, sets, tuples and `NamedTuple`s as arrays, dicts (any key type) as maps;
* dataclasses as maps of every field in declaration order, nested ones recursively;
* `flyte_types.io` objects (`File`, `Dir`, `DataFrame`) as their field maps.

Decoding coerces like mashumaro (`int(x)` for an `int` field, `str(x)` for a `str` field, ...), fills
omitted fields from their defaults and rejects missing required fields.

Encoders and decoders are built once per type and cached. Dataclass codecs are generated as
straight-line functions (one dict display per class), which is what makes them fast.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import ipaddress
import keyword
import pathlib
import threading
import typing
import uuid
from collections.abc import Callable
from typing import Any

from flyte_types._typing import (
    NoneType,
    is_class,
    is_literal,
    is_named_tuple,
    is_pydantic_model,
    is_typed_dict,
    is_union,
    strip_annotated,
    type_name,
)
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "decoder_for",
    "encoder_for",
    "resolved_fields",
]

Codec = Callable[[Any], Any]

_lock = threading.RLock()
_encoders: dict[Any, Codec | None] = {}
_decoders: dict[Any, Codec | None] = {}


def _identity(v: Any) -> Any:
    return v


def resolved_fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """Return the dataclass fields of `cls` with their annotations resolved to real types.

    `from __future__ import annotations` leaves `Field.type` as a string; `get_type_hints` fixes it.
    """
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:
        hints = {}
    return [(f, hints.get(f.name, f.type)) for f in dataclasses.fields(cls)]


def _specialize(tp: Any) -> tuple[type, dict[Any, Any]]:
    """For `Box[int]` return `(Box, {T: int})`; for a plain class `(cls, {})`."""
    origin = typing.get_origin(tp)
    if origin is None:
        return tp, {}
    params = getattr(origin, "__parameters__", ())
    return origin, dict(zip(params, typing.get_args(tp), strict=False))


def _subst(tp: Any, mapping: dict[Any, Any]) -> Any:
    if not mapping:
        return tp
    if isinstance(tp, typing.TypeVar):
        return mapping.get(tp, Any)
    args = typing.get_args(tp)
    if not args:
        return tp
    try:
        return tp[tuple(mapping.get(a, a) for a in getattr(tp, "__parameters__", ()))]
    except TypeError:
        return tp


# ---------------------------------------------------------------------------------------------- #
# Encoders


def encoder_for(tp: Any) -> Codec:
    """Return a function converting a value of `tp` to msgpack-ready plain data."""
    try:
        return _encoders[tp] or _identity
    except KeyError:
        pass
    except TypeError:  # unhashable annotation
        return _build_encoder(tp) or _identity
    with _lock:
        if tp not in _encoders:
            _encoders[tp] = None  # placeholder: breaks recursion for self-referential types
            try:
                _encoders[tp] = _build_encoder(tp)
            except BaseException:
                del _encoders[tp]
                raise
        return _encoders[tp] or _identity


def _lazy_encoder(tp: Any) -> Codec:
    """Look the encoder up at call time (for recursive types whose codec is being built)."""

    def enc(v: Any) -> Any:
        return encoder_for(tp)(v)

    return enc


def _enc_or_lazy(tp: Any) -> Codec | None:
    try:
        if tp in _encoders and _encoders[tp] is None and _is_structured(tp):
            return _lazy_encoder(tp)
    except TypeError:
        pass
    enc = encoder_for(tp)
    return None if enc is _identity else enc


def _sub_enc(tp: Any) -> Codec:
    return _enc_or_lazy(tp) or _identity


def _sub_dec(tp: Any) -> Codec:
    return _dec_or_lazy(tp) or _identity


def _is_structured(tp: Any) -> bool:
    bare, _ = strip_annotated(tp)
    origin = typing.get_origin(bare) or bare
    return is_class(origin) and dataclasses.is_dataclass(origin)


def _build_encoder(tp: Any) -> Codec | None:  # - one dispatch table
    tp, _ = strip_annotated(tp)
    if tp in (int, float, str, bool, bytes, NoneType, None, Any, object) or is_literal(tp):
        return None
    if isinstance(tp, typing.TypeVar):
        return None
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _enc_or_lazy(supertype)
    if tp is bytearray:
        return bytes
    if tp in (datetime.datetime, datetime.date, datetime.time):
        return _isoformat
    if tp is datetime.timedelta:
        return _total_seconds
    if is_class(tp) and issubclass(tp, enum.Enum):
        return _enum_value
    if is_class(tp) and issubclass(
        tp,
        uuid.UUID
        | decimal.Decimal
        | fractions.Fraction
        | pathlib.PurePath
        | ipaddress._IPAddressBase,
    ):
        return str
    if is_union(tp):
        return _union_encoder(typing.get_args(tp))
    if is_named_tuple(tp):
        return _named_tuple_encoder(tp)
    if is_typed_dict(tp):
        return _typed_dict_encoder(tp)
    origin = typing.get_origin(tp)
    cls, mapping = _specialize(tp)
    if is_class(cls) and dataclasses.is_dataclass(cls):
        return _dataclass_encoder(cls, mapping)
    if is_class(tp) and hasattr(tp, "_serialize") and is_pydantic_model(tp):
        return _serialize_method
    if is_pydantic_model(tp):
        return _pydantic_dump
    args = typing.get_args(tp)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        item_encs = [_sub_enc(a) for a in args]
        return functools.partial(_enc_fixed_tuple, tuple(item_encs))
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) or tp in (
        dict,
        dict,
    ):
        key_enc = _enc_or_lazy(args[0]) if args else None
        val_enc = _enc_or_lazy(args[1]) if len(args) > 1 else None
        if key_enc is None and val_enc is None:
            return _plain_mapping
        return functools.partial(_enc_mapping, key_enc or _identity, val_enc or _identity)
    if origin in _SEQUENCE_ORIGINS or tp in _SEQUENCE_ORIGINS:
        item = _enc_or_lazy(args[0]) if args else None
        if item is None:
            return _plain_sequence
        return functools.partial(_enc_sequence, item)
    return None


_SEQUENCE_ORIGINS: tuple[Any, ...] = (
    list,
    tuple,
    set,
    frozenset,
    collections.deque,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Set,
    collections.abc.MutableSet,
    collections.abc.Collection,
    collections.abc.Iterable,
)


def _isoformat(v: Any) -> Any:
    return v.isoformat()


def _total_seconds(v: Any) -> Any:
    return v.total_seconds()


def _enum_value(v: Any) -> Any:
    return v.value


def _serialize_method(v: Any) -> Any:
    return v._serialize()


def _pydantic_dump(v: Any) -> Any:
    return v.model_dump(mode="json")


def _plain_mapping(v: Any) -> Any:
    return v if type(v) is dict else dict(v)  # noqa: E721 - exact type check on the hot path


def _plain_sequence(v: Any) -> Any:
    return v if type(v) is list else list(v)  # noqa: E721 - exact type check on the hot path


def _enc_mapping(key_enc: Codec, val_enc: Codec, v: Any) -> Any:
    return {key_enc(k): val_enc(x) for k, x in v.items()}


def _enc_sequence(item_enc: Codec, v: Any) -> Any:
    return [item_enc(x) for x in v]


def _enc_fixed_tuple(encs: tuple[Codec, ...], v: Any) -> Any:
    return [e(x) for e, x in zip(encs, v, strict=False)]


def _union_encoder(args: tuple[Any, ...]) -> Codec | None:
    members = [a for a in args if a is not NoneType]
    encs = [(a, _sub_enc(a)) for a in members]
    if all(e is _identity for _, e in encs):
        return None
    if len(encs) == 1:
        _, only = encs[0]

        def optional(v: Any) -> Any:
            return None if v is None else only(v)

        return optional
    checks = [(_runtime_class(a), e) for a, e in encs]

    def union(v: Any) -> Any:
        if v is None:
            return None
        for klass, e in checks:
            if klass is not None and isinstance(v, klass):
                return e(v)
        for _, e in checks:  # like mashumaro: the first variant that can pack the value
            try:
                return e(v)
            except Exception:
                continue
        return v

    return union


def _runtime_class(tp: Any) -> Any:
    bare, _ = strip_annotated(tp)
    if is_typed_dict(bare):
        return dict
    origin = typing.get_origin(bare)
    if is_class(bare):
        return bare
    if is_class(origin):
        return origin
    return None


def _named_tuple_encoder(tp: type) -> Codec:
    hints = typing.get_type_hints(tp)
    encs = tuple(_sub_enc(hints.get(name, Any)) for name in tp._fields)  # type: ignore[attr-defined]
    return functools.partial(_enc_fixed_tuple, encs)


def _typed_dict_encoder(tp: type) -> Codec:
    hints = typing.get_type_hints(tp)
    encs = {name: _sub_enc(t) for name, t in hints.items()}

    def enc(v: Any) -> Any:
        return {k: encs.get(k, _identity)(x) for k, x in v.items()}

    return enc


def _attr(name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"v.{name}"
    return f"getattr(v, {name!r})"


def _dataclass_encoder(cls: type, mapping: dict[Any, Any]) -> Codec:
    namespace: dict[str, Any] = {"_cls": cls}
    items = []
    for i, (f, ftype) in enumerate(resolved_fields(cls)):
        ftype = _subst(ftype, mapping)
        enc = _enc_or_lazy(ftype)
        if enc is None:
            items.append(f"{f.name!r}: {_attr(f.name)}")
        else:
            namespace[f"_e{i}"] = enc
            items.append(f"{f.name!r}: _e{i}({_attr(f.name)})")
    src = "def encode(v):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(src, f"<flyte_types encoder for {cls.__qualname__}>", "exec"), namespace)
    encode: Codec = namespace["encode"]
    return encode


# ---------------------------------------------------------------------------------------------- #
# Decoders


def decoder_for(tp: Any) -> Codec:
    """Return a function converting msgpack plain data back to a value of `tp`.

    The returned function raises `LiteralDecodeError` when the data does not fit the type.
    """
    try:
        dec = _decoders[tp]
    except KeyError:
        with _lock:
            if tp not in _decoders:
                _decoders[tp] = None
                try:
                    _decoders[tp] = _build_decoder(tp)
                except BaseException:
                    del _decoders[tp]
                    raise
            dec = _decoders[tp]
    except TypeError:
        dec = _build_decoder(tp)
    return dec or _identity


def _lazy_decoder(tp: Any) -> Codec:
    def dec(v: Any) -> Any:
        return decoder_for(tp)(v)

    return dec


def _dec_or_lazy(tp: Any) -> Codec | None:
    try:
        if tp in _decoders and _decoders[tp] is None and _is_structured(tp):
            return _lazy_decoder(tp)
    except TypeError:
        pass
    dec = decoder_for(tp)
    return None if dec is _identity else dec


def _bad(tp: Any, value: Any, detail: str = "") -> LiteralDecodeError:
    msg = f"Cannot decode {type_name(type(value))} value {value!r:.80} as {type_name(tp)}"
    return LiteralDecodeError(f"{msg}: {detail}" if detail else msg)


def _coerce(kind: Any) -> Codec:
    def dec(v: Any) -> Any:
        if type(v) is kind:
            return v
        try:
            return kind(v)
        except (TypeError, ValueError) as e:
            raise _bad(kind, v, str(e)) from e

    return dec


def _build_decoder(tp: Any) -> Codec | None:  # - one dispatch table
    tp, _ = strip_annotated(tp)
    if tp in (Any, object, None) or isinstance(tp, typing.TypeVar) or is_literal(tp):
        return None
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return _dec_or_lazy(supertype)
    if tp is NoneType:
        return _dec_none
    if tp in (int, float, str, bool):
        return _coerce(tp)
    if tp is bytes:
        return _dec_bytes
    if tp is bytearray:
        return bytearray
    if tp is datetime.datetime:
        return _from_iso(datetime.datetime)
    if tp is datetime.date:
        return _from_iso(datetime.date)
    if tp is datetime.time:
        return _from_iso(datetime.time)
    if tp is datetime.timedelta:
        return _dec_timedelta
    if is_class(tp) and issubclass(tp, enum.Enum):
        return _coerce(tp)
    if is_class(tp) and issubclass(
        tp,
        uuid.UUID
        | decimal.Decimal
        | fractions.Fraction
        | pathlib.PurePath
        | ipaddress._IPAddressBase,
    ):
        return _coerce(tp)
    if is_union(tp):
        return _union_decoder(tp)
    if is_named_tuple(tp):
        return _named_tuple_decoder(tp)
    if is_typed_dict(tp):
        return _typed_dict_decoder(tp)
    cls, mapping = _specialize(tp)
    if is_class(cls) and dataclasses.is_dataclass(cls):
        return _dataclass_decoder(cls, mapping)
    if is_class(tp) and hasattr(tp, "_deserialize") and is_pydantic_model(tp):
        return _deserialize_method(tp)
    if is_pydantic_model(tp):
        return _pydantic_validate(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        decs = tuple(_sub_dec(a) for a in args)

        def fixed_tuple(v: Any) -> Any:
            if not isinstance(v, list | tuple) or len(v) != len(decs):
                raise _bad(tp, v)
            return tuple(d(x) for d, x in zip(decs, v, strict=False))

        return fixed_tuple
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) or tp in (
        dict,
        dict,
    ):
        key_dec = _dec_or_lazy(args[0]) if args else None
        val_dec = _dec_or_lazy(args[1]) if len(args) > 1 else None

        def mapping_dec(v: Any) -> Any:
            if not isinstance(v, dict):
                raise _bad(tp, v)
            if key_dec is None and val_dec is None:
                return v
            kd, vd = key_dec or _identity, val_dec or _identity
            return {kd(k): vd(x) for k, x in v.items()}

        return mapping_dec
    container = origin or tp
    if container in _SEQUENCE_ORIGINS:
        item_dec = _dec_or_lazy(args[0]) if args else None
        build: Callable[[Any], Any] = _BUILDERS.get(container, list)

        def sequence_dec(v: Any) -> Any:
            if not isinstance(v, list | tuple):
                raise _bad(tp, v)
            if item_dec is None:
                exact_list = build is list and type(v) is list  # noqa: E721 - exact type
                return v if exact_list else build(v)
            return build([item_dec(x) for x in v])

        return sequence_dec
    return None


_BUILDERS: dict[Any, Callable[[Any], Any]] = {
    list: list,
    tuple: tuple,
    set: set,
    frozenset: frozenset,
    collections.deque: collections.deque,
    collections.abc.Set: set,
    collections.abc.MutableSet: set,
}


def _dec_none(v: Any) -> Any:
    if v is not None:
        raise _bad(NoneType, v)
    return None


def _dec_bytes(v: Any) -> Any:
    if isinstance(v, bytes):
        return v
    if isinstance(v, bytearray | memoryview):
        return bytes(v)
    if isinstance(v, str):
        import base64

        return base64.b64decode(v)
    raise _bad(bytes, v)


def _from_iso(kind: Any) -> Codec:
    parse = kind.fromisoformat

    def dec(v: Any) -> Any:
        if isinstance(v, kind) and (
            kind is not datetime.date or not isinstance(v, datetime.datetime)
        ):
            return v
        if isinstance(v, str) and v.endswith("Z"):  # Python 3.10's fromisoformat lacks "Z"
            v = v[:-1] + "+00:00"
        try:
            return parse(v)
        except (TypeError, ValueError) as e:
            raise _bad(kind, v, str(e)) from e

    return dec


def _dec_timedelta(v: Any) -> Any:
    if isinstance(v, datetime.timedelta):
        return v
    try:
        return datetime.timedelta(seconds=v)
    except TypeError as e:
        raise _bad(datetime.timedelta, v, str(e)) from e


def _deserialize_method(tp: Any) -> Codec:
    def dec(v: Any) -> Any:
        try:
            return tp._deserialize(v)
        except Exception as e:
            raise _bad(tp, v, str(e)) from e

    return dec


def _pydantic_validate(tp: Any) -> Codec:
    def dec(v: Any) -> Any:
        try:
            return tp.model_validate(v, strict=False)
        except Exception as e:
            raise _bad(tp, v, str(e)) from e

    return dec


_PRIMITIVES = (int, float, str, bool, bytes)


def _union_decoder(tp: Any) -> Codec:
    args = typing.get_args(tp)
    members = [a for a in args if a is not NoneType]
    has_none = len(members) != len(args)
    if len(members) == 1:
        only = _sub_dec(members[0])

        def optional(v: Any) -> Any:
            return None if v is None else only(v)

        return optional
    exact = {a for a in members if a in _PRIMITIVES}
    decs = [_sub_dec(a) for a in members]

    def union(v: Any) -> Any:
        if v is None and has_none:
            return None
        if type(v) in exact:
            return v
        for dec in decs:
            try:
                return dec(v)
            except Exception:
                continue
        raise _bad(tp, v)

    return union


def _named_tuple_decoder(tp: Any) -> Codec:
    hints = typing.get_type_hints(tp)
    decs = tuple(_sub_dec(hints.get(name, Any)) for name in tp._fields)

    def dec(v: Any) -> Any:
        if isinstance(v, dict):
            v = [v.get(name) for name in tp._fields]
        if not isinstance(v, list | tuple):
            raise _bad(tp, v)
        return tp(*(d(x) for d, x in zip(decs, v, strict=False)))

    return dec


def _typed_dict_decoder(tp: Any) -> Codec:
    hints = typing.get_type_hints(tp)
    decs = {name: _sub_dec(t) for name, t in hints.items()}

    def dec(v: Any) -> Any:
        if not isinstance(v, dict):
            raise _bad(tp, v)
        return {k: decs.get(k, _identity)(x) for k, x in v.items()}

    return dec


class _MissingField(LiteralDecodeError):
    pass


def _dataclass_decoder(cls: type, mapping: dict[Any, Any]) -> Codec:
    namespace: dict[str, Any] = {"_cls": cls, "_missing": _missing_field, "_bad": _bad}
    lines = ["def decode(d):", "    if type(d) is not dict:", "        raise _bad(_cls, d)"]
    lines.append("    kw = {}")
    for i, (f, ftype) in enumerate(resolved_fields(cls)):
        if not f.init:
            continue
        ftype = _subst(ftype, mapping)
        dec = _dec_or_lazy(ftype)
        value = f"d[{f.name!r}]"
        if dec is not None:
            namespace[f"_d{i}"] = dec
            value = f"_d{i}({value})"
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        lines.append(f"    if {f.name!r} in d:")
        lines.append(f"        kw[{f.name!r}] = {value}")
        if required:
            lines.append("    else:")
            lines.append(f"        raise _missing(_cls, {f.name!r})")
    lines.append("    return _cls(**kw)")
    src = "\n".join(lines) + "\n"
    exec(compile(src, f"<flyte_types decoder for {cls.__qualname__}>", "exec"), namespace)
    raw: Codec = namespace["decode"]

    def decode(d: Any) -> Any:
        try:
            return raw(d)
        except LiteralDecodeError:
            raise
        except (TypeError, ValueError, KeyError) as e:
            raise LiteralDecodeError(f"Cannot decode {cls.__qualname__}: {e}") from e

    return decode


def _missing_field(cls: type, name: str) -> LiteralDecodeError:
    return _MissingField(f'Field "{name}" is missing in the {cls.__qualname__} value')


def check_encodable(tp: Any) -> None:
    """Raise `TypeTransformerFailedError` if a field type of a dataclass cannot be encoded."""
    cls, _ = _specialize(strip_annotated(tp)[0])
    if not (is_class(cls) and dataclasses.is_dataclass(cls)):
        return
    for f, ftype in resolved_fields(cls):
        if isinstance(ftype, str):
            raise TypeTransformerFailedError(
                f"Cannot resolve the annotation {ftype!r} of field {cls.__qualname__}.{f.name}"
            )
