"""Task inputs and outputs as flyteidl2 messages and files (`inputs.pb`, `outputs.pb`).

* `flyteidl2.task.Inputs{literals: [NamedLiteral{name, value}], context: [KeyValuePair]}` lists
  the inputs in the interface's order; defaults of omitted inputs are filled in.
* `flyteidl2.task.Outputs{literals}` names outputs `o0`, `o1`, ... (a task returning a tuple has
  one output per element); reading them back gives `None`, the single value, or a plain tuple.

Serialized inputs and outputs are capped (`MAX_INLINE_IO_BYTES`, 10 MiB, by default): larger ones
raise `InlineSizeExceededError` before anything is written or parsed. Large data belongs in
`File`, `Dir` or `DataFrame`, which travel by reference.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any, TypeAlias

from flyteidl2.core import literals_pb2
from flyteidl2.task import common_pb2

from flyte_models import MAX_INLINE_IO_BYTES
from flyte_types import _storage
from flyte_types._engine import TypeEngine, run_sync
from flyte_types._typing import NoneType, is_optional, type_name
from flyte_types.errors import (
    InlineSizeExceededError,
    LiteralDecodeError,
    TypeTransformerFailedError,
)

__all__ = [
    "INPUTS_FILE_NAME",
    "MAX_INLINE_IO_BYTES",
    "OUTPUTS_FILE_NAME",
    "build_inputs",
    "build_inputs_sync",
    "build_outputs",
    "build_outputs_sync",
    "load_inputs",
    "load_outputs",
    "read_inputs",
    "read_inputs_sync",
    "read_outputs",
    "read_outputs_sync",
    "write_inputs",
    "write_outputs",
]


INPUTS_FILE_NAME = "inputs.pb"
OUTPUTS_FILE_NAME = "outputs.pb"

Source: TypeAlias = common_pb2.Inputs | common_pb2.Outputs | bytes | str | os.PathLike[str]


def _check_size(size: int, max_bytes: int | None, what: str) -> None:
    if max_bytes is not None and max_bytes >= 0 and size > max_bytes:
        raise InlineSizeExceededError(
            f"{what} are {size} bytes ({size / 1024 / 1024:.2f} MiB), over the inline limit of "
            f"{max_bytes} bytes ({max_bytes / 1024 / 1024:.2f} MiB). Pass large data as "
            "flyte.io.File, Dir or DataFrame, or raise the task's max_inline_io_bytes.",
            size=size,
            limit=max_bytes,
        )


def _is_has_default(interface: Any, value: Any) -> bool:
    marker = getattr(type(interface), "has_default", None)
    return marker is not None and (value is marker or isinstance(value, marker))


async def build_inputs(
    interface: Any,
    kwargs: Mapping[str, Any] | None = None,
    *,
    context: Mapping[str, str] | None = None,
    max_bytes: int | None = MAX_INLINE_IO_BYTES,
) -> common_pb2.Inputs:
    """Convert keyword arguments of a task call to a flyteidl2 `Inputs` message.

    Omitted inputs take their default (a Python default is converted; a wire-form default of an
    input marked `NativeInterface.has_default` is copied; `Optional` inputs without a default
    become `None`).

    Args:
        interface: The task's `flyte_models.NativeInterface`.
        kwargs: The input values by name.
        context: Custom context key/values propagated with the inputs.
        max_bytes: Cap on the serialized size (`None` or `-1`: no cap).

    Returns:
        The inputs, in the interface's order.

    Raises:
        TypeTransformerFailedError: If an input is missing, unknown, or does not match its type
            (the message names the input, the expected type and the received type).
        InlineSizeExceededError: If the serialized inputs exceed `max_bytes`.
    """
    values = {k: v for k, v in (kwargs or {}).items() if not _is_has_default(interface, v)}
    unknown = [k for k in values if k not in interface.inputs]
    if unknown:
        raise TypeTransformerFailedError(
            f"Unknown input(s) {', '.join(sorted(unknown))}; expected one of {list(interface.inputs)}"
        )
    remote = getattr(interface, "remote_defaults", None) or {}
    hints: dict[str, Any] = {}
    fixed: dict[str, literals_pb2.Literal] = {}
    missing = []
    for name, (tp, default) in interface.inputs.items():
        if name in values:
            hints[name] = tp
        elif _is_has_default(interface, default):
            if name not in remote:
                raise TypeTransformerFailedError(
                    f"Input '{name}' has a default value but it is not set in the interface."
                )
            fixed[name] = remote[name]
        elif tp is None or tp is NoneType:
            values[name], hints[name] = None, NoneType
        elif default is not inspect.Parameter.empty:
            values[name], hints[name] = default, tp
        elif is_optional(tp):
            values[name], hints[name] = None, tp
        else:
            missing.append(name)
    if missing:
        raise TypeTransformerFailedError(f"Missing required inputs: {', '.join(missing)}")
    lm = await TypeEngine.dict_to_literal_map(values, hints)
    inputs = common_pb2.Inputs()
    for name in interface.inputs:
        lit = fixed.get(name) if name in fixed else lm.literals[name]
        inputs.literals.add(name=name).value.CopyFrom(lit)
    for key, value in (context or {}).items():
        inputs.context.add(key=key, value=value)
    _check_size(inputs.ByteSize(), max_bytes, "Inputs")
    return inputs


def build_inputs_sync(
    interface: Any,
    kwargs: Mapping[str, Any] | None = None,
    *,
    context: Mapping[str, str] | None = None,
    max_bytes: int | None = MAX_INLINE_IO_BYTES,
) -> common_pb2.Inputs:
    """Synchronous twin of `build_inputs`."""
    return run_sync(build_inputs(interface, kwargs, context=context, max_bytes=max_bytes))


async def _load(source: Any, message: Any, what: str, max_bytes: int | None) -> Any:
    if isinstance(source, type(message)):
        _check_size(source.ByteSize(), max_bytes, what)
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if not _storage.is_remote(path):
            local = _storage.strip_file_scheme(path)
            try:
                _check_size(os.path.getsize(local), max_bytes, what)
            except FileNotFoundError as e:
                raise LiteralDecodeError(f"{what} file {path} does not exist") from e
        data = await _storage.read_bytes(path)
    else:
        raise TypeError(
            f"Expected a {type(message).__name__} message, bytes or a path, got {source!r}"
        )
    _check_size(len(data), max_bytes, what)
    try:
        message.ParseFromString(data)
    except Exception as e:
        raise LiteralDecodeError(
            f"Corrupt {what.lower()}: cannot parse {type(message).__name__}: {e}"
        ) from e
    return message


async def read_inputs(
    source: Source, interface: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> dict[str, Any]:
    """Convert an `Inputs` message (or its bytes, or an `inputs.pb` path) to keyword arguments.

    Args:
        source: The message, its serialized bytes, or a local/remote path to `inputs.pb`.
        interface: The task's `flyte_models.NativeInterface`.
        max_bytes: Cap on the serialized size.

    Returns:
        The values by input name (only the inputs present in the message).

    Raises:
        LiteralDecodeError: If the message is corrupt or a literal does not fit its input type.
        TypeTransformerFailedError: If a literal cannot be converted (naming the input).
        InlineSizeExceededError: If the serialized inputs exceed `max_bytes`.
    """
    inputs = await _load(source, common_pb2.Inputs(), "Inputs", max_bytes)
    literals = {nl.name: nl.value for nl in inputs.literals}
    types_ = {name: spec[0] for name, spec in interface.inputs.items()}
    return await TypeEngine.literal_map_to_kwargs(literals, types_)


def read_inputs_sync(
    source: Source, interface: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> dict[str, Any]:
    """Synchronous twin of `read_inputs`."""
    return run_sync(read_inputs(source, interface, max_bytes=max_bytes))


async def build_outputs(
    interface: Any, value: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> common_pb2.Outputs:
    """Convert a task's return value to a flyteidl2 `Outputs` message.

    A tuple is split over the outputs (`o0`, `o1`, ...); any other value is the single output.

    Raises:
        TypeTransformerFailedError: If the number of values does not match the interface, or a
            value does not match its output type (naming the output).
        InlineSizeExceededError: If the serialized outputs exceed `max_bytes`.
    """
    outputs_spec = dict(interface.outputs)
    values = value if isinstance(value, tuple) and len(outputs_spec) != 1 else (value,)
    if not outputs_spec:
        if value is not None:
            raise TypeTransformerFailedError(
                f"Expected no outputs but got {type_name(type(value))}; did you miss a return "
                "type annotation?"
            )
        values = ()
    elif len(values) != len(outputs_spec):
        raise TypeTransformerFailedError(
            f"Received {len(values)} outputs but the return annotation declares "
            f"{len(outputs_spec)} ({', '.join(outputs_spec)})"
        )
    lm = await _outputs_map(outputs_spec, values)
    outputs = common_pb2.Outputs()
    for name in outputs_spec:
        outputs.literals.add(name=name).value.CopyFrom(lm.literals[name])
    _check_size(outputs.ByteSize(), max_bytes, "Outputs")
    return outputs


async def _outputs_map(spec: dict[str, Any], values: tuple[Any, ...]) -> literals_pb2.LiteralMap:
    return await TypeEngine._to_literal_map(dict(zip(spec, values, strict=False)), spec, "output")


def build_outputs_sync(
    interface: Any, value: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> common_pb2.Outputs:
    """Synchronous twin of `build_outputs`."""
    return run_sync(build_outputs(interface, value, max_bytes=max_bytes))


async def read_outputs(
    source: Source, interface: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> Any:
    """Convert an `Outputs` message (or its bytes, or an `outputs.pb` path) to the return value.

    Returns:
        `None` for no outputs, the value for one output, else a plain tuple in interface order.

    Raises:
        LiteralDecodeError: If the message is corrupt or a literal does not fit its output type.
        InlineSizeExceededError: If the serialized outputs exceed `max_bytes`.
    """
    outputs = await _load(source, common_pb2.Outputs(), "Outputs", max_bytes)
    literals = {nl.name: nl.value for nl in outputs.literals}
    spec = dict(interface.outputs)
    values = await TypeEngine._from_literal_map(literals, spec, None, "output")
    if not values:
        return None
    if len(spec) == 1:
        return next(iter(values.values()))
    missing = [name for name in spec if name not in values]
    if missing:
        raise LiteralDecodeError(f"Outputs are missing {', '.join(missing)}")
    return tuple(values[name] for name in spec)


def read_outputs_sync(
    source: Source, interface: Any, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> Any:
    """Synchronous twin of `read_outputs`."""
    return run_sync(read_outputs(source, interface, max_bytes=max_bytes))


async def _write(
    message: Any, path: str | os.PathLike[str], what: str, max_bytes: int | None
) -> str:
    data = message.SerializeToString(deterministic=True)
    _check_size(len(data), max_bytes, what)
    target = os.fspath(path)
    if not _storage.is_remote(target):
        local = _storage.strip_file_scheme(target)
        os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
        tmp = f"{local}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, local)
        return target
    staging = _storage.new_local_path(os.path.basename(target))
    with open(staging, "wb") as f:
        f.write(data)
    uri: str = await _storage.storage().put(staging, target)
    return uri or target


async def write_inputs(
    inputs: common_pb2.Inputs,
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = MAX_INLINE_IO_BYTES,
) -> str:
    """Write an `Inputs` message to `path` (typically `<prefix>/inputs.pb`); return the URI."""
    return await _write(inputs, path, "Inputs", max_bytes)


async def write_outputs(
    outputs: common_pb2.Outputs,
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = MAX_INLINE_IO_BYTES,
) -> str:
    """Write an `Outputs` message to `path` (typically `<prefix>/outputs.pb`); return the URI."""
    return await _write(outputs, path, "Outputs", max_bytes)


async def load_inputs(
    path: str | os.PathLike[str] | bytes, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> common_pb2.Inputs:
    """Read and parse an `inputs.pb` file (local or remote) or its bytes.

    Raises:
        LiteralDecodeError: If the file is missing or corrupt.
        InlineSizeExceededError: If it exceeds `max_bytes`.
    """
    result: common_pb2.Inputs = await _load(path, common_pb2.Inputs(), "Inputs", max_bytes)
    return result


async def load_outputs(
    path: str | os.PathLike[str] | bytes, *, max_bytes: int | None = MAX_INLINE_IO_BYTES
) -> common_pb2.Outputs:
    """Read and parse an `outputs.pb` file (local or remote) or its bytes.

    Raises:
        LiteralDecodeError: If the file is missing or corrupt.
        InlineSizeExceededError: If it exceeds `max_bytes`.
    """
    result: common_pb2.Outputs = await _load(path, common_pb2.Outputs(), "Outputs", max_bytes)
    return result
