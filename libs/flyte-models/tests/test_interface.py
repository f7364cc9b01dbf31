"""NativeInterface: inputs with defaults, outputs o0..oN, tuple/NamedTuple returns, binding."""

# mypy: disable-error-code="empty-body"
# (the sample functions below only exist for their signatures)

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, NamedTuple, Optional

import pytest

from flyte_models import Docstring, InputBindingError, NativeInterface


class Pair(NamedTuple):
    total: int
    label: str


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Point:
    x: int
    y: float


def add(x: int, y: int = 1) -> int:
    return x + y


def test_from_callable_reads_inputs_defaults_and_single_output() -> None:
    iface = NativeInterface.from_callable(add)
    assert iface.inputs == {"x": (int, inspect.Parameter.empty), "y": (int, 1)}
    assert iface.outputs == {"o0": int}
    assert iface.required_inputs() == ["x"]
    assert iface.num_required_inputs() == 1
    assert iface.get_input_types() == {"x": int, "y": int}
    assert iface.get_input_defaults() == {"y": 1}
    assert iface.has_outputs()


def test_tuple_return_gives_one_output_per_element() -> None:
    def f(a: str) -> tuple[int, str, float]:
        ...

    assert NativeInterface.from_callable(f).outputs == {"o0": int, "o1": str, "o2": float}

    def g(a: str) -> typing.Tuple[int, str]:  # noqa: UP006
        ...

    assert NativeInterface.from_callable(g).outputs == {"o0": int, "o1": str}


def test_named_tuple_return_keeps_field_names() -> None:
    def f() -> Pair:
        ...

    assert NativeInterface.from_callable(f).outputs == {"total": int, "label": str}


def test_none_and_missing_return_have_no_outputs() -> None:
    def f() -> None:
        ...

    def g():
        ...  # type: ignore[no-untyped-def]

    assert NativeInterface.from_callable(f).outputs == {}
    assert NativeInterface.from_callable(g).outputs == {}
    assert not NativeInterface.from_callable(f).has_outputs()


def test_string_annotations_are_resolved_with_extras() -> None:
    def f(x: Annotated[int, "meta"], y: Optional[Point] = None) -> list[Point]:
        ...

    iface = NativeInterface.from_callable(f)
    assert iface.inputs["x"][0] == Annotated[int, "meta"]
    assert iface.inputs["y"] == (Optional[Point], None)
    assert iface.outputs == {"o0": list[Point]}


def test_literal_annotations_are_kept_and_unannotated_inputs_are_any() -> None:
    def f(mode: Literal["a", "b"], other) -> Literal["x"]:
        ...  # type: ignore[no-untyped-def]

    iface = NativeInterface.from_callable(f)
    assert iface.inputs["mode"][0] == Literal["a", "b"]
    assert iface.inputs["other"][0] is Any
    assert iface.outputs == {"o0": Literal["x"]}


def test_async_functions_are_supported() -> None:
    async def f(x: int) -> str:
        ...

    assert NativeInterface.from_callable(f).outputs == {"o0": str}


def test_variadic_parameters_are_rejected_naming_the_parameter() -> None:
    def f(*args: int) -> None:
        ...

    with pytest.raises(ValueError, match="'args'"):
        NativeInterface.from_callable(f)


def test_bad_tuple_returns_are_rejected() -> None:
    def one() -> tuple[int]:
        ...

    def var() -> tuple[int, ...]:
        ...

    with pytest.raises(TypeError, match="only one element"):
        NativeInterface.from_callable(one)
    with pytest.raises(TypeError, match="variable-length"):
        NativeInterface.from_callable(var)


def test_unresolvable_hint_names_the_function() -> None:
    def f(x: UndefinedName) -> None:  # type: ignore[name-defined]  # noqa: F821
        ...

    with pytest.raises(TypeError, match="'test_unresolvable_hint_names_the_function.<locals>.f'"):
        NativeInterface.from_callable(f)


def test_convert_to_kwargs_binds_positional_and_keyword_arguments() -> None:
    iface = NativeInterface.from_callable(add)
    assert iface.convert_to_kwargs(3) == {"x": 3}
    assert iface.convert_to_kwargs(3, 4) == {"x": 3, "y": 4}
    assert iface.convert_to_kwargs(y=5, x=2) == {"x": 2, "y": 5}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1, 2, 3), {}, "Too many positional arguments"),
        ((), {"z": 1, "x": 1}, "Unknown input 'z'"),
        ((1,), {"x": 2}, "Input 'x' was given both"),
        ((), {"y": 1}, "Missing required inputs: x"),
    ],
)
def test_convert_to_kwargs_errors_are_type_and_value_errors(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    iface = NativeInterface.from_callable(add)
    with pytest.raises(InputBindingError, match=message) as info:
        iface.convert_to_kwargs(*args, **kwargs)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_repr_looks_like_a_signature() -> None:
    def f(x: int, y: str = "a") -> tuple[int, str]:
        ...

    assert repr(NativeInterface.from_callable(f)) == "(x: int, y: str = 'a') -> (o0: int, o1: str):"
    assert repr(NativeInterface.from_callable(add)) == "(x: int, y: int = 1) -> o0: int:"
    empty = NativeInterface(inputs={}, outputs={})
    assert repr(empty) == "():"


def test_from_types_with_remote_defaults() -> None:
    iface = NativeInterface.from_types(
        {"a": (int, inspect.Parameter.empty), "b": (str, NativeInterface.has_default)},
        {"o0": int},
        default_inputs={"b": "<literal>"},
    )
    assert iface.required_inputs() == ["a"]
    assert iface.remote_defaults == {"b": "<literal>"}
    assert iface.get_input_defaults() == {}
    assert repr(iface) == "(a: int, b: str = ...) -> o0: int:"


def test_from_types_requires_a_default_for_marked_inputs() -> None:
    with pytest.raises(ValueError, match=r"inputs\['b'\]"):
        NativeInterface.from_types({"b": (str, NativeInterface.has_default)}, {})


def test_constructor_validates_shapes() -> None:
    with pytest.raises(TypeError, match=r"inputs\['a'\] must be a \(type, default\) tuple, got"):
        NativeInterface(inputs={"a": int}, outputs={})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="NativeInterface.outputs must be a dict"):
        NativeInterface(inputs={}, outputs=[int])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="NativeInterface.inputs must be a dict"):
        NativeInterface(inputs=[], outputs={})  # type: ignore[arg-type]


def test_interfaces_compare_by_inputs_and_outputs() -> None:
    assert NativeInterface.from_callable(add) == NativeInterface.from_callable(add)


def test_json_schema_maps_common_types() -> None:
    def f(
        a: int,
        b: float,
        c: str,
        d: bool,
        e: list[int],
        f: dict[str, float],
        g: Optional[str],
        h: Literal["x", "y"],
        i: Color,
        j: Point,
        k: Any = None,
    ) -> None:
        ...

    schema = NativeInterface.from_callable(f).json_schema
    props = schema["properties"]
    assert props["a"] == {"type": "integer"}
    assert props["b"] == {"type": "number"}
    assert props["c"] == {"type": "string"}
    assert props["d"] == {"type": "boolean"}
    assert props["e"] == {"type": "array", "items": {"type": "integer"}}
    assert props["f"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["g"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["h"] == {"enum": ["x", "y"]}
    assert props["i"] == {"enum": ["red", "blue"]}
    assert props["j"]["properties"] == {"x": {"type": "integer"}, "y": {"type": "number"}}
    assert props["k"] == {}
    assert schema["required"] == list("abcdefghij")


def test_docstring_google_style() -> None:
    def f(x: int, y: int) -> int:
        """Add two numbers.

        Longer explanation
        over two lines.

        Args:
            x: The first.
            y (int): The second,
                continued.

        Returns:
            The sum.
        """
        return x + y

    doc = NativeInterface.from_callable(f).docstring
    assert isinstance(doc, Docstring)
    assert doc.short_description == "Add two numbers."
    assert doc.long_description == "Longer explanation\nover two lines."
    assert doc.input_descriptions == {"x": "The first.", "y": "The second, continued."}
    assert doc.output_descriptions == {"o0": "The sum."}


def test_docstring_sphinx_and_numpy_styles() -> None:
    sphinx = Docstring(":param a: first\n:param int b: second\n:returns: result")
    assert sphinx.input_descriptions == {"a": "first", "b": "second"}
    assert sphinx.output_descriptions == {"o0": "result"}
    numpy = Docstring("Summary.\n\nParameters\n----------\nx : int\n    The x.\n")
    assert numpy.short_description == "Summary."
    assert numpy.input_descriptions == {"x": "The x."}


def test_docstring_named_returns_and_equality() -> None:
    doc = Docstring("S.\n\nReturns:\n    total: the total\n    label: the label\n")
    assert doc.output_descriptions == {"total": "the total", "label": "the label"}
    assert doc == Docstring("S.\n\nReturns:\n    total: the total\n    label: the label\n")
    assert hash(doc) == hash(Docstring(doc.raw))
    assert Docstring(None).short_description is None
    assert repr(Docstring("Hi.")) == "Docstring('Hi.')"


def test_no_docstring_means_none() -> None:
    assert NativeInterface.from_callable(add).docstring is None
