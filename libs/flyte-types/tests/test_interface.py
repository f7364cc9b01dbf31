"""NativeInterface <-> TypedInterface, and default inputs."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import NamedTuple, Optional

import pytest
from flyteidl2.core.types_pb2 import LiteralType, SimpleType

from flyte_models import NativeInterface
from flyte_types import TypeEngine, guess_interface, translate_default_inputs, translate_interface
from flyte_types.errors import TypeTransformerFailedError


@dataclasses.dataclass
class Cfg:
    n: int = 1


class Pair(NamedTuple):
    left: int
    right: str


def task(
    z: int, a: str = "x", cfg: Cfg = Cfg(), opt: Optional[float] = None
) -> tuple[int, list[str]]:
    return z, [a]


def named() -> Pair:
    return Pair(1, "a")


def test_variables_are_sorted_and_outputs_named() -> None:
    ti = translate_interface(NativeInterface.from_callable(task))
    assert [v.key for v in ti.inputs.variables] == ["a", "cfg", "opt", "z"]
    assert [v.key for v in ti.outputs.variables] == ["o0", "o1"]
    assert ti.inputs.variables[3].value.type == LiteralType(simple=SimpleType.INTEGER)
    assert [
        v.key for v in translate_interface(NativeInterface.from_callable(named)).outputs.variables
    ] == [
        "left",
        "right",
    ]


def test_default_inputs_in_interface_order() -> None:
    params = asyncio.run(translate_default_inputs(NativeInterface.from_callable(task)))
    assert [p.name for p in params] == ["a", "cfg", "opt"]
    assert params[0].parameter.default.scalar.primitive.string_value == "x"
    assert params[0].parameter.var.type == TypeEngine.to_literal_type(str)
    assert params[2].parameter.default.scalar.union.value.scalar.HasField("none_type")


def test_bad_default_names_the_input() -> None:
    def bad(x: int = "nope") -> None:  # type: ignore[assignment]
        pass

    with pytest.raises(TypeTransformerFailedError, match="'x'"):
        asyncio.run(translate_default_inputs(NativeInterface.from_callable(bad)))


def test_guess_interface_round_trip() -> None:
    ni = NativeInterface.from_callable(task)
    ti = translate_interface(ni)
    defaults = asyncio.run(translate_default_inputs(ni))
    guessed = guess_interface(ti, defaults)
    assert list(guessed.inputs) == ["a", "cfg", "opt", "z"]
    assert guessed.inputs["z"] == (int, inspect.Parameter.empty)
    assert guessed.inputs["a"][1] is NativeInterface.has_default
    assert guessed.remote_defaults["a"] == defaults[0].parameter.default
    assert guessed.outputs["o1"] == list[str]
    assert dataclasses.is_dataclass(guessed.inputs["cfg"][0])
    assert translate_interface(guessed) == ti


def test_guess_interface_of_nothing() -> None:
    empty = guess_interface(None)
    assert empty.inputs == {} and empty.outputs == {}
