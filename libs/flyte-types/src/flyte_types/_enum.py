"""`enum.Enum` and `typing.Literal[...]`.

Wire format (identical to the reference SDK):

* An enum class is `LiteralType(enum_type{values: [member names]})`, a value is
  `scalar.primitive.string_value = member.name`; decoding looks the member up by name. Only
  string-valued enums and `IntEnum`s are accepted (a `Flag` composite has no name to look up).
* `Literal["a", "b"]` is `LiteralType(enum_type{values: ["a", "b"]})` and its values travel as
  themselves; decoding returns the `str`. (The reference turns such annotations into an enum class
  named `LiteralEnum`; that class is accepted too and behaves the same.)
"""

from __future__ import annotations

import enum
import typing
from typing import Any

from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import EnumType, LiteralType

from flyte_types._transformer import Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import LITERAL_ENUM, is_literal, strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "EnumTransformer",
    "LiteralTransformer",
    "literal_string_values",
]


def _check_transportable(t: type[enum.Enum]) -> None:
    members = list(t)
    if not members:
        raise TypeTransformerFailedError(
            f"{t.__name__} has no members, so there is nothing to put on the wire."
        )
    if isinstance(members[0].value, str):
        return
    if issubclass(t, enum.Flag):
        raise TypeTransformerFailedError(
            f"{t.__name__} is a Flag enum. A composite member such as 'READ|WRITE' cannot be "
            "looked up by name, so Flag and IntFlag cannot cross a task boundary. Use an IntEnum, "
            "or pass the combined value as an int."
        )
    if not issubclass(t, enum.IntEnum):
        raise TypeTransformerFailedError(
            f"Only string-valued enums and IntEnum are supported, got {t.__name__} with "
            f"{type(members[0].value).__name__} values."
        )


class EnumTransformer(TypeTransformer[enum.Enum]):
    """Enum classes: members travel by name."""

    def __init__(self) -> None:
        super().__init__("DefaultEnumTransformer", enum.Enum)

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens in the filler."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return `enum_type` with the member names (values for a `LiteralEnum`)."""
        cls, _ = strip_annotated(t)
        _check_transportable(cls)
        if cls.__name__ == LITERAL_ENUM:
            return LiteralType(enum_type=EnumType(values=[m.value for m in cls]))
        return LiteralType(enum_type=EnumType(values=[m.name for m in cls]))

    def make_filler(self, python_type: Any) -> Filler:
        """Write the member name (a member name or value given as `str` is accepted too)."""
        cls, _ = strip_annotated(python_type)
        _check_transportable(cls)
        literal_enum = cls.__name__ == LITERAL_ENUM
        by_name = {m.name: (m.value if literal_enum else m.name) for m in cls}
        by_value = {m.value: by_name[m.name] for m in cls if isinstance(m.value, str)}

        def fill(v: Any, lit: Literal) -> None:
            if isinstance(v, cls):
                lit.scalar.primitive.string_value = by_name[v.name]
                return
            if isinstance(v, str) and not isinstance(v, enum.Enum):
                text = by_value.get(v) if literal_enum else by_name.get(v, by_value.get(v))
                if text is not None:
                    lit.scalar.primitive.string_value = text
                    return
                raise mismatch(cls, v, f"valid values are {sorted(by_name.values())}")
            raise mismatch(cls, v)

        return fill

    def make_reader(self, python_type: Any) -> Reader:
        """Look the member up by name (a `LiteralEnum` returns the `str`)."""
        cls, _ = strip_annotated(python_type)
        if cls.__name__ == LITERAL_ENUM:
            values = {m.value for m in cls}

            def read_literal_enum(lit: Literal) -> Any:
                p = lit.scalar.primitive
                if p.HasField("string_value") and p.string_value in values:
                    return p.string_value
                raise LiteralDecodeError(f"Cannot convert {lit} to one of {sorted(values)}")

            return read_literal_enum

        def read(lit: Literal) -> Any:
            p = lit.scalar.primitive
            if p.HasField("string_value"):
                try:
                    return cls[p.string_value]
                except KeyError:
                    raise LiteralDecodeError(
                        f"'{p.string_value}' is not a member of {type_name(cls)}"
                    ) from None
            raise LiteralDecodeError(
                f"Cannot convert {lit.WhichOneof('value')} to {type_name(cls)}"
            )

        return read

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Build a string-valued enum named `DynamicEnum` from the values."""
        if literal_type.HasField("enum_type"):
            return enum.Enum("DynamicEnum", {v: v for v in literal_type.enum_type.values})  # type: ignore[misc]
        raise ValueError(f"Enum transformer cannot reverse {literal_type}")


def literal_string_values(tp: Any) -> tuple[str, ...] | None:
    """Return the values of `Literal[...]` if they are all strings, else `None`."""
    if not is_literal(tp):
        return None
    values = typing.get_args(tp)
    if values and all(isinstance(v, str) for v in values):
        return tuple(dict.fromkeys(values))
    return None


class LiteralTransformer(TypeTransformer[Any]):
    """`Literal["a", "b", ...]` with string values: an enum type whose values travel as strings.

    The union tag is the enum transformer's name, like the reference (whose `Literal` annotations
    are turned into enums).
    """

    def __init__(self) -> None:
        super().__init__("DefaultEnumTransformer", str)

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens in the filler."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return `enum_type` with the literal values."""
        values = literal_string_values(strip_annotated(t)[0])
        if values is None:
            raise TypeTransformerFailedError(f"{t} is not a Literal of strings")
        return LiteralType(enum_type=EnumType(values=list(values)))

    def make_filler(self, python_type: Any) -> Filler:
        """Write the string, which must be one of the values."""
        tp, _ = strip_annotated(python_type)
        values = frozenset(literal_string_values(tp) or ())

        def fill(v: Any, lit: Literal) -> None:
            if isinstance(v, enum.Enum):
                v = v.value
            if isinstance(v, str) and v in values:
                lit.scalar.primitive.string_value = v
                return
            raise mismatch(tp, v, f"valid values are {sorted(values)}")

        return fill

    def make_reader(self, python_type: Any) -> Reader:
        """Return the string, which must be one of the values."""
        tp, _ = strip_annotated(python_type)
        values = frozenset(literal_string_values(tp) or ())

        def read(lit: Literal) -> Any:
            p = lit.scalar.primitive
            if p.HasField("string_value") and p.string_value in values:
                return p.string_value
            raise LiteralDecodeError(f"Cannot convert {lit} to {type_name(tp)}")

        return read
