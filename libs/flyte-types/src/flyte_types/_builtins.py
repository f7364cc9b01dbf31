"""Transformers for scalar built-in types: int, float, str, bool, None, datetime, date, timedelta.

Wire format (identical to the reference SDK):

| Python              | LiteralType        | Literal                                         |
|---------------------|--------------------|-------------------------------------------------|
| `int`               | `simple: INTEGER`  | `scalar.primitive.integer`                      |
| `float`             | `simple: FLOAT`    | `scalar.primitive.float_value`                  |
| `str`               | `simple: STRING`   | `scalar.primitive.string_value`                 |
| `bool`              | `simple: BOOLEAN`  | `scalar.primitive.boolean`                      |
| `None`              | `simple: NONE`     | `scalar.none_type`                              |
| `datetime.datetime` | `simple: DATETIME` | `scalar.primitive.datetime` (UTC instant)       |
| `datetime.date`     | `simple: DATETIME` | `scalar.primitive.datetime` (midnight UTC)      |
| `datetime.timedelta`| `simple: DURATION` | `scalar.primitive.duration`                     |

Readers are lenient where the reference is (an integer literal is a valid `float`, a float literal
is truncated to `int`, a msgpack `binary` scalar produced by attribute access is decoded).
"""

from __future__ import annotations

import datetime
from typing import Any

import msgpack
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType

from flyte_types._transformer import MESSAGEPACK, Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import NoneType, strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "SimpleTransformer",
    "default_simple_transformers",
]

_UTC = datetime.timezone.utc
_MIDNIGHT = datetime.time.min


def _describe_literal(lit: Literal) -> str:
    kind = lit.WhichOneof("value")
    if kind == "scalar":
        inner = lit.scalar.WhichOneof("value")
        if inner == "primitive":
            return f"a {lit.scalar.primitive.WhichOneof('value')} primitive"
        return f"a {inner} scalar"
    return f"a {kind} literal" if kind else "an empty literal"


def _cannot_read(lit: Literal, expected: Any) -> LiteralDecodeError:
    return LiteralDecodeError(f"Cannot convert {_describe_literal(lit)} to {type_name(expected)}")


class SimpleTransformer(TypeTransformer[Any]):
    """A transformer for one scalar type, defined by a literal type and two functions.

    Args:
        name: The transformer (and union tag) name.
        t: The Python type.
        lt: Its literal type.
        filler: Writes a value into an empty literal, validating it.
        reader: Reads a value from a literal, or raises `LiteralDecodeError`.
    """

    def __init__(self, name: str, t: Any, lt: LiteralType, filler: Filler, reader: Reader) -> None:
        super().__init__(name, t)
        self._lt = lt
        self._filler = filler
        self._reader = reader

    @property
    def base_type(self) -> Any:
        """The Python type handled (reference-compatible alias of `python_type`)."""
        return self._t

    def get_literal_type(self, t: Any = None) -> LiteralType:
        """Return the (shared) literal type; do not mutate it."""
        return self._lt

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation is done by the filler itself."""

    def make_filler(self, python_type: Any) -> Filler:
        """Return the filler (the same for every spelling of the type)."""
        return self._filler

    def make_reader(self, python_type: Any) -> Reader:
        """Return the reader, checking that `python_type` is this transformer's type."""
        bare, _ = strip_annotated(python_type)
        if bare is None:
            bare = NoneType
        if bare is not self._t:
            raise TypeTransformerFailedError(
                f"Cannot convert to type {type_name(bare)}, only {type_name(self._t)} is supported"
            )
        return self._reader

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Reverse `simple` literal types (DATETIME reverses to `datetime`, never `date`)."""
        if (
            literal_type.HasField("simple")
            and literal_type.simple == self._lt.simple
            and not literal_type.HasField("metadata")
            and self._t is not datetime.date
        ):
            return self._t
        raise ValueError(f"Transformer {self.name} cannot reverse {literal_type}")


# ---------------------------------------------------------------------------------------------- #
# Slow paths shared by the readers: msgpack binaries (attribute access) and mismatched shapes.


def _from_binary(lit: Literal, expected: Any) -> Any:
    b = lit.scalar.binary
    if b.tag != MESSAGEPACK:
        raise _cannot_read(lit, expected)
    try:
        value = msgpack.unpackb(b.value, strict_map_key=False)
    except Exception as e:
        raise LiteralDecodeError(f"Corrupt msgpack payload for {type_name(expected)}: {e}") from e
    return value


# ---------------------------------------------------------------------------------------------- #
# int


def _fill_int(v: Any, lit: Literal) -> None:
    if type(v) is not int:  # noqa: E721 - exact type check on the hot path
        if isinstance(v, int):  # bool and int subclasses, like the reference
            v = int(v)
        elif hasattr(v, "__index__") and not isinstance(v, float):  # numpy integers
            v = v.__index__()
        else:
            raise mismatch(int, v)
    try:
        lit.scalar.primitive.integer = v
    except ValueError as e:
        raise mismatch(int, v, "out of the int64 range") from e


def _read_int(lit: Literal) -> int:
    p = lit.scalar.primitive
    if p.HasField("integer"):
        return p.integer
    if p.HasField("float_value"):  # the UI sends JavaScript numbers
        return int(p.float_value)
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, int)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return int(value)
    raise _cannot_read(lit, int)


# float


def _fill_float(v: Any, lit: Literal) -> None:
    if type(v) is not float:  # noqa: E721 - exact type check on the hot path
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise mismatch(float, v)
        v = float(v)
    lit.scalar.primitive.float_value = v


def _read_float(lit: Literal) -> float:
    p = lit.scalar.primitive
    if p.HasField("float_value"):
        return p.float_value
    if p.HasField("integer"):
        return float(p.integer)
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, float)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    raise _cannot_read(lit, float)


# str


def _fill_str(v: Any, lit: Literal) -> None:
    if type(v) is not str:  # noqa: E721 - exact type check on the hot path
        if not isinstance(v, str):
            raise mismatch(str, v)
        v = str.__str__(v)
    lit.scalar.primitive.string_value = v


def _read_str(lit: Literal) -> str:
    p = lit.scalar.primitive
    if p.HasField("string_value"):
        return p.string_value
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, str)
        if isinstance(value, str):
            return value
    raise _cannot_read(lit, str)


# bool


def _fill_bool(v: Any, lit: Literal) -> None:
    if not isinstance(v, bool):
        raise mismatch(bool, v)
    lit.scalar.primitive.boolean = v


def _read_bool(lit: Literal) -> bool:
    p = lit.scalar.primitive
    if p.HasField("boolean"):
        return p.boolean
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, bool)
        if isinstance(value, bool):
            return value
    raise _cannot_read(lit, bool)


# None


def _fill_none(v: Any, lit: Literal) -> None:
    if v is not None:
        raise mismatch(NoneType, v)
    lit.scalar.none_type.SetInParent()


def _read_none(lit: Literal) -> None:
    if lit.scalar.HasField("none_type"):
        return None
    if lit.scalar.HasField("binary") and _from_binary(lit, NoneType) is None:
        return None
    raise _cannot_read(lit, NoneType)


# datetime / date / timedelta


def _fill_datetime(v: Any, lit: Literal) -> None:
    if not isinstance(v, datetime.datetime):
        raise mismatch(datetime.datetime, v)
    lit.scalar.primitive.datetime.FromDatetime(v)


def _read_datetime(lit: Literal) -> datetime.datetime:
    p = lit.scalar.primitive
    if p.HasField("datetime"):
        return p.datetime.ToDatetime(tzinfo=_UTC)
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, datetime.datetime)
        if isinstance(value, str):
            if value.endswith("Z"):  # Python 3.10's fromisoformat lacks "Z"
                value = value[:-1] + "+00:00"
            try:
                return datetime.datetime.fromisoformat(value)
            except ValueError:
                pass
    raise _cannot_read(lit, datetime.datetime)


def _fill_date(v: Any, lit: Literal) -> None:
    if not isinstance(v, datetime.date):
        raise mismatch(datetime.date, v)
    lit.scalar.primitive.datetime.FromDatetime(datetime.datetime.combine(v, _MIDNIGHT))


def _read_date(lit: Literal) -> datetime.date:
    p = lit.scalar.primitive
    if p.HasField("datetime"):
        return p.datetime.ToDatetime(tzinfo=_UTC).date()
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, datetime.date)
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
    raise _cannot_read(lit, datetime.date)


def _fill_timedelta(v: Any, lit: Literal) -> None:
    if not isinstance(v, datetime.timedelta):
        raise mismatch(datetime.timedelta, v)
    lit.scalar.primitive.duration.FromTimedelta(v)


def _read_timedelta(lit: Literal) -> datetime.timedelta:
    p = lit.scalar.primitive
    if p.HasField("duration"):
        return p.duration.ToTimedelta()
    if lit.scalar.HasField("binary"):
        value = _from_binary(lit, datetime.timedelta)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.timedelta(seconds=value)
    raise _cannot_read(lit, datetime.timedelta)


def _simple(kind: int) -> LiteralType:
    return LiteralType(simple=kind)  # type: ignore[arg-type]


def default_simple_transformers() -> list[SimpleTransformer]:
    """Return fresh instances of the scalar transformers, in registration order."""
    return [
        SimpleTransformer("int", int, _simple(SimpleType.INTEGER), _fill_int, _read_int),
        SimpleTransformer("float", float, _simple(SimpleType.FLOAT), _fill_float, _read_float),
        SimpleTransformer("str", str, _simple(SimpleType.STRING), _fill_str, _read_str),
        SimpleTransformer(
            "datetime",
            datetime.datetime,
            _simple(SimpleType.DATETIME),
            _fill_datetime,
            _read_datetime,
        ),
        SimpleTransformer(
            "date", datetime.date, _simple(SimpleType.DATETIME), _fill_date, _read_date
        ),
        SimpleTransformer(
            "timedelta",
            datetime.timedelta,
            _simple(SimpleType.DURATION),
            _fill_timedelta,
            _read_timedelta,
        ),
        SimpleTransformer("bool", bool, _simple(SimpleType.BOOLEAN), _fill_bool, _read_bool),
        SimpleTransformer("none", NoneType, _simple(SimpleType.NONE), _fill_none, _read_none),
    ]
