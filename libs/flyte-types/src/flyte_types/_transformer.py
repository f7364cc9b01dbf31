"""The `TypeTransformer` base class: the unit of extension of the type engine.

A transformer owns one Python type (and optionally its subclasses): it describes the type as a
`LiteralType`, and converts values of it to `Literal` messages and back. Conversions are `async`
because some types move data (files, directories, dataframes).

Transformers whose conversions never do I/O may also offer *synchronous fast paths* through
`make_filler` / `make_reader`. The engine compiles those once per Python type and then converts
values without awaiting anything: that is what makes `list[int]` of a million elements cheap.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgpack
from flyteidl2.core.literals_pb2 import Binary, Literal
from flyteidl2.core.types_pb2 import LiteralType

from flyte_types._typing import is_class, type_name
from flyte_types.errors import LiteralDecodeError, RestrictedTypeError, TypeTransformerFailedError

__all__ = [
    "Filler",
    "MESSAGEPACK",
    "Reader",
    "RestrictedTypeTransformer",
    "TypeTransformer",
    "describe_value",
    "mismatch",
]

T = TypeVar("T")

MESSAGEPACK = "msgpack"
"""`Binary.tag` of msgpack-encoded values (dataclasses, pydantic models, untyped dicts)."""

Filler = Callable[[Any, Literal], None]
"""Writes a Python value into an empty `Literal` (in place, which is far cheaper than building
nested messages); raises `TypeTransformerFailedError` when the value does not fit."""

Reader = Callable[[Literal], Any]
"""Reads a Python value from a `Literal`; raises `LiteralDecodeError` when the shape is wrong."""


def describe_value(value: Any, limit: int = 80) -> str:
    """Return `type (repr)` of a value for error messages, with the repr shortened."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = object.__repr__(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type_name(type(value))} ({text})"


def mismatch(expected: Any, value: Any, detail: str = "") -> TypeTransformerFailedError:
    """Build the standard "value does not match the declared type" error."""
    msg = f"Expected a value of type {type_name(expected)}, got {describe_value(value)}"
    if detail:
        msg = f"{msg}: {detail}"
    return TypeTransformerFailedError(msg)


class TypeTransformer(Generic[T]):
    """Converts one Python type to flyteidl2 literals and back.

    Subclass it, implement `get_literal_type`, `to_literal` and `to_python_value`, and register an
    instance with `TypeEngine.register` (or through the `flyte.plugins.types` entry point group,
    see `flyte_types.extend`).

    Args:
        name: A stable name; it is written into union literals as the variant tag, so changing it
            changes the wire format.
        t: The Python type handled.
        enable_type_assertions: Whether the engine calls `assert_type` before `to_literal`.

    Example:
        ```python
        class PointTransformer(TypeTransformer[Point]):
            def __init__(self) -> None:
                super().__init__("Point", Point)

            def get_literal_type(self, t):
                return LiteralType(simple=SimpleType.STRING)

            async def to_literal(self, python_val, python_type, expected):
                return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{python_val.x},{python_val.y}")))

            async def to_python_value(self, lv, expected_python_type):
                x, y = lv.scalar.primitive.string_value.split(",")
                return Point(int(x), int(y))
        ```
    """

    def __init__(self, name: str, t: type[T], enable_type_assertions: bool = True) -> None:
        self._name = name
        self._t = t
        self._type_assertions_enabled = enable_type_assertions

    @property
    def name(self) -> str:
        """The transformer name (the union variant tag on the wire)."""
        return self._name

    @property
    def python_type(self) -> type[T]:
        """The Python type this transformer handles."""
        return self._t

    @property
    def type_assertions_enabled(self) -> bool:
        """Whether the engine should call `assert_type` before `to_literal`."""
        return self._type_assertions_enabled

    def isinstance_generic(self, obj: Any, generic_alias: Any) -> None:
        """Check `obj` against the origin of a generic alias (`list` for `list[int]`).

        Raises:
            TypeTransformerFailedError: If it is not an instance.
        """
        origin = typing.get_origin(generic_alias)
        if not isinstance(obj, origin):
            raise mismatch(generic_alias, obj)

    def assert_type(self, t: Any, v: Any) -> None:
        """Check that `v` is a value of `t`; the default does a plain `isinstance` check.

        Raises:
            TypeTransformerFailedError: If it is not.
        """
        if isinstance(t, types.GenericAlias):
            self.isinstance_generic(v, t)
            return
        if is_class(t) and not isinstance(v, t):
            raise mismatch(t, v)

    def get_literal_type(self, t: Any) -> LiteralType:
        """Describe the Python type `t` as a `LiteralType`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_literal_type")

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Return a Python type for a `LiteralType` this transformer produces.

        Raises:
            ValueError: If this transformer does not recognise the literal type (the default).
        """
        raise ValueError(f"Transformer {self.name} cannot reverse {literal_type}")

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Convert a Python value of `python_type` to a `Literal`.

        Args:
            python_val: The value.
            python_type: The declared type (use it rather than `type(python_val)`).
            expected: The `LiteralType` of the declared type.

        Returns:
            The literal.

        Raises:
            TypeTransformerFailedError: If the value does not match the type.
        """
        filler = self.make_filler(python_type)
        if filler is None:
            raise NotImplementedError(f"{type(self).__name__} does not implement to_literal")
        lit = Literal()
        filler(python_val, lit)
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Convert a `Literal` to a Python value of `expected_python_type`.

        Raises:
            TypeTransformerFailedError: If the literal cannot be converted.
        """
        reader = self.make_reader(expected_python_type)
        if reader is None:
            raise NotImplementedError(f"{type(self).__name__} does not implement to_python_value")
        return reader(lv)

    def make_filler(self, python_type: Any) -> Filler | None:
        """Return a synchronous encoder for `python_type`, or `None` if conversion may need I/O.

        The engine calls this once per Python type and caches the result. A filler writes into
        the empty `Literal` it is given and validates the value itself.
        """
        return None

    def make_reader(self, python_type: Any) -> Reader | None:
        """Return a synchronous decoder for `python_type`, or `None` if conversion may need I/O."""
        return None

    def from_binary_idl(self, binary_idl_object: Binary, expected_python_type: Any) -> Any:
        """Decode a `Binary` scalar (msgpack, as produced for attribute access on structs).

        Raises:
            TypeTransformerFailedError: If the binary format is not msgpack.
        """
        if binary_idl_object.tag != MESSAGEPACK:
            raise TypeTransformerFailedError(f"Unsupported binary format `{binary_idl_object.tag}`")
        from flyte_types._msgpack import decoder_for

        try:
            data = msgpack.unpackb(binary_idl_object.value, strict_map_key=False)
        except Exception as e:
            raise LiteralDecodeError(f"Corrupt msgpack payload: {e}") from e
        return decoder_for(expected_python_type)(data)

    def schema_match(self, schema: dict[str, Any]) -> bool:
        """Return whether a JSON-schema fragment describes this transformer's type."""
        return False

    def to_html(self, python_val: Any, expected_python_type: Any) -> str:
        """Render a value as HTML for reports; the default is `str(value)`."""
        return str(python_val)

    def __repr__(self) -> str:
        return f"{self._name} Transforms ({self._t}) to Flyte native"


class RestrictedTypeTransformer(TypeTransformer[T]):
    """A transformer that refuses every conversion: values of its type may not cross tasks."""

    def get_literal_type(self, t: Any = None) -> LiteralType:
        """Raise `RestrictedTypeError`."""
        raise RestrictedTypeError(
            f"Transformer for type {self.python_type} is restricted currently"
        )

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Raise `RestrictedTypeError`."""
        raise RestrictedTypeError(
            f"Transformer for type {self.python_type} is restricted currently"
        )

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Raise `RestrictedTypeError`."""
        raise RestrictedTypeError(
            f"Transformer for type {self.python_type} is restricted currently"
        )
