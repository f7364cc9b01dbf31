"""Small helpers for inspecting Python type annotations.

Everything here is pure introspection of `typing` objects: no transformer lookups, no imports of
optional libraries. Used by the engine and the built-in transformers to classify a type once, when
its converter is built, never per value.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from typing import Any

__all__ = [
    "LITERAL_ENUM",
    "NoneType",
    "dataclass_class",
    "is_annotated",
    "is_class",
    "is_enum_class",
    "is_literal",
    "is_named_tuple",
    "is_optional",
    "is_pydantic_model",
    "is_typed_dict",
    "is_typed_tuple",
    "is_union",
    "strip_annotated",
    "type_name",
    "union_args",
]

NoneType = type(None)

LITERAL_ENUM = "LiteralEnum"
"""Class name of the enums the reference SDK builds from `Literal[...]` annotations."""

_UNION_TYPES: tuple[Any, ...] = (typing.Union, types.UnionType)


def is_class(tp: Any) -> bool:
    """Return whether `tp` is a real class (Python 3.10 also says so of `list[int]`; this does not)."""
    return isinstance(tp, type) and not isinstance(tp, types.GenericAlias)


def is_annotated(tp: Any) -> bool:
    """Return whether `tp` is `Annotated[...]`."""
    return typing.get_origin(tp) is typing.Annotated


def strip_annotated(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """Split `Annotated[X, m1, m2]` into `(X, (m1, m2))`; other types give `(tp, ())`."""
    if typing.get_origin(tp) is typing.Annotated:
        base, *meta = typing.get_args(tp)
        inner, more = strip_annotated(base)
        return inner, (*more, *meta)
    return tp, ()


def is_union(tp: Any) -> bool:
    """Return whether `tp` is `Union[...]`, `Optional[...]` or `A | B`."""
    return isinstance(tp, types.UnionType) or typing.get_origin(tp) in _UNION_TYPES


def union_args(tp: Any) -> tuple[Any, ...]:
    """Return the member types of a union (in declaration order)."""
    return typing.get_args(tp)


def is_optional(tp: Any) -> bool:
    """Return whether `tp` is a union that includes `None`."""
    return is_union(tp) and NoneType in typing.get_args(tp)


def is_literal(tp: Any) -> bool:
    """Return whether `tp` is `typing.Literal[...]`."""
    return typing.get_origin(tp) is typing.Literal


def is_named_tuple(tp: Any) -> bool:
    """Return whether `tp` is a `typing.NamedTuple` (or `collections.namedtuple` with annotations)."""
    return (
        is_class(tp)
        and issubclass(tp, tuple)
        and isinstance(getattr(tp, "_fields", None), tuple)
        and hasattr(tp, "__annotations__")
    )


def is_typed_tuple(tp: Any) -> bool:
    """Return whether `tp` is a fixed-length `tuple[A, B, ...]` (not `tuple[A, ...]`)."""
    if typing.get_origin(tp) is not tuple:
        return False
    args = typing.get_args(tp)
    return bool(args) and not (len(args) == 2 and args[1] is Ellipsis)


def is_typed_dict(tp: Any) -> bool:
    """Return whether `tp` is a `TypedDict` class (from `typing` or `typing_extensions`)."""
    if not is_class(tp):
        return False
    if typing.is_typeddict(tp):
        return True
    te = sys.modules.get("typing_extensions")
    return bool(te is not None and te.is_typeddict(tp))


def is_pydantic_model(tp: Any) -> bool:
    """Return whether `tp` is a pydantic v2 `BaseModel` subclass, without importing pydantic.

    A class can only derive from `BaseModel` if pydantic is already imported, so checking the MRO
    by name keeps `import flyte_types` free of pydantic.
    """
    if not is_class(tp) or "pydantic" not in sys.modules:
        return False
    for klass in tp.__mro__:
        if klass.__name__ == "BaseModel" and klass.__module__ == "pydantic.main":
            return True
    return False


def dataclass_class(tp: Any) -> Any:
    """Return the dataclass behind `tp` (unwrapping `Annotated` and generic aliases), or `None`."""
    bare, _ = strip_annotated(tp)
    if is_class(bare) and dataclasses.is_dataclass(bare):
        return bare
    origin = typing.get_origin(bare)
    if is_class(origin) and dataclasses.is_dataclass(origin):
        return origin
    return None


def type_name(tp: Any) -> str:
    """Return a short, readable name for a type, for error messages (`int`, `list[int]`, `Point`)."""
    if tp is NoneType or tp is None:
        return "None"
    if is_class(tp) and not typing.get_args(tp):
        if tp.__module__ == "builtins":
            return tp.__name__
        return tp.__qualname__
    text = repr(tp)
    return text.replace("typing.", "")


def is_enum_class(tp: Any) -> bool:
    """Return whether `tp` is an `enum.Enum` subclass."""
    return is_class(tp) and issubclass(tp, enum.Enum)
