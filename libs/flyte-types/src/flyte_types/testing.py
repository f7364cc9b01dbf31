"""Test helpers for code that defines or uses types: round trips and a transformer conformance suite.

```python
from flyte_types.testing import assert_roundtrip

def test_point() -> None:
    assert_roundtrip(Point(1, 2), Point)
```

`TransformerConformance` is a pytest base class for plugin authors: subclass it, set `transformer`,
`python_type` and `values`, and pytest collects a set of checks every transformer should pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType

from flyte_types._engine import TypeEngine
from flyte_types._transformer import TypeTransformer

__all__ = [
    "TransformerConformance",
    "assert_roundtrip",
    "roundtrip",
]


def roundtrip(value: Any, type_hint: Any) -> tuple[Any, Literal]:
    """Convert `value` to a literal, serialize and parse it, and convert it back.

    Returns:
        The decoded value and the literal.
    """
    lt = TypeEngine.to_literal_type(type_hint)
    lit = TypeEngine.to_literal_sync(value, type_hint, lt)
    wire = Literal()
    wire.ParseFromString(lit.SerializeToString())
    return TypeEngine.to_python_value_sync(wire, type_hint), lit


def assert_roundtrip(
    value: Any,
    type_hint: Any,
    *,
    expected: Any = ...,
    eq: Callable[[Any, Any], bool] | None = None,
) -> Literal:
    """Assert that `value` survives a trip through a serialized literal as `type_hint`.

    Args:
        value: The value to convert.
        type_hint: Its declared type.
        expected: The value expected back (default: `value` itself).
        eq: Equality to use (default: `==`).

    Returns:
        The literal, for further checks.

    Raises:
        AssertionError: If the decoded value differs, or the literal type cannot be serialized.
    """
    lt = TypeEngine.to_literal_type(type_hint)
    assert LiteralType.FromString(lt.SerializeToString()) == lt, "literal type does not round-trip"
    back, lit = roundtrip(value, type_hint)
    want = value if expected is ... else expected
    same = eq(back, want) if eq is not None else back == want
    assert same, f"round trip of {value!r} as {type_hint!r} gave {back!r}, expected {want!r}"
    return lit


class TransformerConformance:
    """A pytest base class checking a `TypeTransformer` against the engine's contract.

    Subclass it in a test module (its name must start with `Test`) and set:

    * `transformer`: the transformer instance (registered with the engine if it is not yet);
    * `python_type`: the type it handles;
    * `values`: sample values (at least one).
    """

    transformer: ClassVar[TypeTransformer[Any]]
    python_type: ClassVar[Any]
    values: ClassVar[Sequence[Any]] = ()

    @classmethod
    def _engine_transformer(cls) -> TypeTransformer[Any]:
        if cls.python_type not in TypeEngine.get_available_transformers():
            TypeEngine.register(cls.transformer)
        return TypeEngine.get_transformer(cls.python_type)

    def test_is_the_engine_choice(self) -> None:
        assert self._engine_transformer() is self.transformer

    def test_has_values(self) -> None:
        assert len(self.values) > 0, "set `values` to at least one sample value"

    def test_literal_type_is_stable(self) -> None:
        self._engine_transformer()
        a = TypeEngine.to_literal_type(self.python_type)
        b = TypeEngine.to_literal_type(self.python_type)
        assert a == b
        assert a.WhichOneof("type") is not None, "the literal type must set its `type` oneof"

    def test_roundtrip(self) -> None:
        self._engine_transformer()
        for v in self.values:
            assert_roundtrip(v, self.python_type)

    def test_rejects_none(self) -> None:
        self._engine_transformer()
        try:
            TypeEngine.to_literal_sync(None, self.python_type)
        except (TypeError, ValueError, AssertionError):
            return
        raise AssertionError("None must be rejected for a non-optional type")

    def test_in_containers(self) -> None:
        self._engine_transformer()
        assert_roundtrip(list(self.values), list[self.python_type])  # type: ignore[name-defined]
        assert_roundtrip(
            {str(i): v for i, v in enumerate(self.values)},
            dict[str, self.python_type],  # type: ignore[name-defined]
        )
        assert_roundtrip(self.values[0], self.python_type | None)
