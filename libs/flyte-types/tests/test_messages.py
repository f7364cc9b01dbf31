"""Inputs / Outputs messages and the inputs.pb / outputs.pb files, with the inline size guard."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest
from flyteidl2.task import common_pb2

from flyte_models import NativeInterface, TaskContext
from flyte_models.errors import InlineIOMaxBytesBreached
from flyte_types import (
    build_inputs,
    build_inputs_sync,
    build_outputs,
    build_outputs_sync,
    load_inputs,
    load_outputs,
    read_inputs,
    read_inputs_sync,
    read_outputs,
    read_outputs_sync,
    write_inputs,
    write_outputs,
)
from flyte_types.errors import (
    InlineSizeExceededError,
    LiteralDecodeError,
    TypeTransformerFailedError,
)


@dataclasses.dataclass
class Cfg:
    n: int = 1


class Pair(NamedTuple):
    left: int
    right: str


def fn(x: int, y: str = "hi", z: Optional[float] = None, cfg: Cfg = Cfg()) -> tuple[int, str]:
    return x, y


def one(x: int) -> list[int]:
    return [x]


def nothing(x: int) -> None:
    return None


def named(x: int) -> Pair:
    return Pair(x, "a")


IFACE = NativeInterface.from_callable(fn)


def test_inputs_fill_defaults_in_interface_order() -> None:
    inputs = build_inputs_sync(IFACE, {"x": 3})
    assert [nl.name for nl in inputs.literals] == ["x", "y", "z", "cfg"]
    assert read_inputs_sync(inputs, IFACE) == {"x": 3, "y": "hi", "z": None, "cfg": Cfg()}


def test_inputs_context() -> None:
    inputs = build_inputs_sync(IFACE, {"x": 1}, context={"team": "a"})
    assert [(kv.key, kv.value) for kv in inputs.context] == [("team", "a")]


def test_missing_and_unknown_inputs() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Missing required inputs: x"):
        build_inputs_sync(IFACE, {})
    with pytest.raises(TypeTransformerFailedError, match="Unknown input"):
        build_inputs_sync(IFACE, {"x": 1, "nope": 2})


def test_bad_input_names_parameter_expected_and_received_types() -> None:
    with pytest.raises(TypeTransformerFailedError) as info:
        build_inputs_sync(IFACE, {"x": "three"})
    message = str(info.value)
    assert "input 'x'" in message and "expected type int" in message and "type str" in message
    assert isinstance(info.value, TypeError)


def test_remote_defaults_are_copied() -> None:
    remote = NativeInterface.from_types(
        {"x": (int, NativeInterface.has_default)},
        {},
        {"x": build_inputs_sync(NativeInterface.from_callable(one), {"x": 9}).literals[0].value},
    )
    inputs = build_inputs_sync(remote, {})
    assert read_inputs_sync(inputs, remote) == {"x": 9}


def test_outputs_tuple_single_none_and_named() -> None:
    out = build_outputs_sync(IFACE, (1, "a"))
    assert [nl.name for nl in out.literals] == ["o0", "o1"]
    assert read_outputs_sync(out, IFACE) == (1, "a")
    single = NativeInterface.from_callable(one)
    assert read_outputs_sync(build_outputs_sync(single, [1, 2]), single) == [1, 2]
    none = NativeInterface.from_callable(nothing)
    assert len(build_outputs_sync(none, None).literals) == 0
    assert read_outputs_sync(common_pb2.Outputs(), none) is None
    nt = NativeInterface.from_callable(named)
    out = build_outputs_sync(nt, Pair(1, "b"))
    assert [nl.name for nl in out.literals] == ["left", "right"]
    assert read_outputs_sync(out, nt) == (1, "b")


def test_output_errors() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Received 1 outputs"):
        build_outputs_sync(IFACE, (1,))
    with pytest.raises(TypeTransformerFailedError, match="output 'o0'"):
        build_outputs_sync(IFACE, ("x", "y"))
    with pytest.raises(TypeTransformerFailedError, match="no outputs"):
        build_outputs_sync(NativeInterface.from_callable(nothing), 5)


def test_files_roundtrip(tmp_path: Path) -> None:
    async def main() -> Any:
        inputs = await build_inputs(IFACE, {"x": 2, "cfg": Cfg(5)})
        path = await write_inputs(inputs, tmp_path / "a" / "inputs.pb")
        assert await load_inputs(path) == inputs
        kwargs = await read_inputs(tmp_path / "a" / "inputs.pb", IFACE)
        outputs = await build_outputs(IFACE, (kwargs["x"], kwargs["y"]))
        await write_outputs(outputs, str(tmp_path / "a" / "outputs.pb"))
        assert await load_outputs(tmp_path / "a" / "outputs.pb") == outputs
        return await read_outputs(str(tmp_path / "a" / "outputs.pb"), IFACE)

    assert asyncio.run(main()) == (2, "hi")


def test_files_on_remote_storage(remote_task: TaskContext) -> None:
    async def main() -> Any:
        prefix = remote_task.raw_data_path.path
        inputs = await build_inputs(IFACE, {"x": 4})
        uri = await write_inputs(inputs, f"{prefix}/io/inputs.pb")
        return await read_inputs(uri, IFACE)

    assert asyncio.run(main())["x"] == 4


def test_inline_size_guard_on_build_and_read(tmp_path: Path) -> None:
    big = NativeInterface.from_callable(one)
    with pytest.raises(InlineSizeExceededError) as info:
        build_inputs_sync(big, {"x": 1}, max_bytes=4)
    assert info.value.limit == 4 and info.value.size > 4
    assert isinstance(info.value, InlineIOMaxBytesBreached)
    assert info.value.code == "InlineIOMaxBytesBreached" and info.value.kind == "user"
    inputs = build_inputs_sync(big, {"x": 1})
    path = tmp_path / "inputs.pb"
    path.write_bytes(inputs.SerializeToString())
    with pytest.raises(InlineSizeExceededError, match="over the inline limit"):
        read_inputs_sync(path, big, max_bytes=2)
    with pytest.raises(InlineSizeExceededError):
        build_outputs_sync(big, list(range(1000)), max_bytes=100)
    assert read_inputs_sync(path, big, max_bytes=None) == {"x": 1}


def test_default_limit_is_ten_mib() -> None:
    from flyte_types import MAX_INLINE_IO_BYTES

    assert MAX_INLINE_IO_BYTES == 10 * 1024 * 1024
    huge = NativeInterface.from_types({"s": (str, inspect.Parameter.empty)}, {})
    with pytest.raises(InlineSizeExceededError):
        build_inputs_sync(huge, {"s": "x" * (11 * 1024 * 1024)})
    assert build_inputs_sync(huge, {"s": "x" * (9 * 1024 * 1024)}).ByteSize() > 9 * 1024 * 1024


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "inputs.pb"
    bad.write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(LiteralDecodeError, match="Corrupt inputs"):
        read_inputs_sync(bad, IFACE)
    with pytest.raises(LiteralDecodeError, match="does not exist"):
        read_inputs_sync(tmp_path / "missing.pb", IFACE)


def test_literal_of_wrong_type_names_the_input() -> None:
    other = NativeInterface.from_types({"x": (str, inspect.Parameter.empty)}, {})
    inputs = build_inputs_sync(NativeInterface.from_callable(one), {"x": 1})
    with pytest.raises(TypeTransformerFailedError, match="input 'x'"):
        read_inputs_sync(inputs, other)
