"""`NativeInterface` <-> flyteidl2 `TypedInterface`, and task defaults as `NamedParameter`s.

Wire facts (identical to the reference SDK): input and output variables are listed **sorted by
name** (so the interface hashes the same however the function orders its parameters); outputs are
named `o0`, `o1`, ... (or by `NamedTuple` field); a default value travels separately, as a
`NamedParameter{name, parameter{var{type}, default: <literal>}}` in `TaskSpec.default_inputs`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from flyteidl2.core import interface_pb2
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.task import common_pb2

from flyte_types._engine import TypeEngine, _wrap_error

__all__ = [
    "guess_interface",
    "translate_default_inputs",
    "translate_interface",
]


# Whether `guess_python_type` may return the original Python type a wire type is tagged with
# (`LiteralType.structure.tag`) instead of the generic one; set by `guess_interface`.
PRESERVE_ORIGINAL_TYPES: ContextVar[bool] = ContextVar(
    "flyte_types_preserve_original_types", default=False
)


def _variable_map(types_: Mapping[str, Any]) -> interface_pb2.VariableMap:
    entries = []
    for name in sorted(types_):
        try:
            lt = TypeEngine.to_literal_type(types_[name])
        except Exception as e:
            raise _wrap_error(e, "variable", name, types_[name]) from e
        entries.append(interface_pb2.VariableEntry(key=name, value=interface_pb2.Variable(type=lt)))
    return interface_pb2.VariableMap(variables=entries)


def translate_interface(interface: Any) -> interface_pb2.TypedInterface:
    """Describe a `flyte_models.NativeInterface` as a flyteidl2 `TypedInterface`.

    Args:
        interface: The native interface (`inputs`: name -> (type, default), `outputs`: name -> type).

    Returns:
        The typed interface, variables sorted by name.

    Raises:
        TypeTransformerFailedError: If a type cannot be described (naming the variable).
    """
    inputs = {name: spec[0] for name, spec in interface.inputs.items()}
    return interface_pb2.TypedInterface(
        inputs=_variable_map(inputs), outputs=_variable_map(dict(interface.outputs))
    )


async def translate_default_inputs(interface: Any) -> list[common_pb2.NamedParameter]:
    """Convert the default values of an interface's inputs to `NamedParameter`s (interface order).

    Inputs marked `NativeInterface.has_default` reuse their wire-form default.

    Raises:
        TypeTransformerFailedError: If a default does not match its type (naming the input).
    """
    remote: Mapping[str, Literal] = getattr(interface, "remote_defaults", None) or {}
    has_default = getattr(type(interface), "has_default", None)
    out = []
    for name, (tp, default) in interface.inputs.items():
        if default is inspect.Parameter.empty:
            continue
        lt = TypeEngine.to_literal_type(tp)
        if has_default is not None and (default is has_default or isinstance(default, has_default)):
            if name not in remote:
                raise ValueError(
                    f"Input '{name}' has a default value but it is not set in the interface."
                )
            literal = remote[name]
        else:
            try:
                literal = await TypeEngine.to_literal(default, tp, lt)
            except Exception as e:
                raise _wrap_error(e, "default of input", name, tp, default) from e
        out.append(
            common_pb2.NamedParameter(
                name=name,
                parameter=interface_pb2.Parameter(
                    var=interface_pb2.Variable(type=lt), default=literal
                ),
            )
        )
    return out


def guess_interface(
    interface: interface_pb2.TypedInterface | None,
    default_inputs: Iterable[common_pb2.NamedParameter] | None = None,
    *,
    preserve_original_types: bool = False,
) -> Any:
    """Build a `flyte_models.NativeInterface` from a `TypedInterface`, guessing Python types.

    Inputs with an entry in `default_inputs` are marked `NativeInterface.has_default` and keep
    their wire-form default (`remote_defaults`).

    Args:
        interface: The typed interface (e.g. of a task fetched from the control plane).
        default_inputs: The task's default inputs.
        preserve_original_types: Guess the original Python type where the wire type names it
            (a dataframe typed `pandas.DataFrame` guesses `pandas.DataFrame`, not
            `flyte.io.DataFrame`), as `flyte.with_runcontext(preserve_original_types=True)`
            asks for a run's outputs.

    Returns:
        The native interface.
    """
    from flyte_models import NativeInterface

    if interface is None:
        return NativeInterface({}, {})
    token = PRESERVE_ORIGINAL_TYPES.set(preserve_original_types)
    try:
        return _guess_interface(interface, default_inputs)
    finally:
        PRESERVE_ORIGINAL_TYPES.reset(token)


def _guess_interface(
    interface: interface_pb2.TypedInterface,
    default_inputs: Iterable[common_pb2.NamedParameter] | None,
) -> Any:
    from flyte_models import NativeInterface

    defaults: dict[str, Literal] = {}
    for param in default_inputs or ():
        if param.parameter.HasField("default"):
            defaults[param.name] = param.parameter.default
    inputs: dict[str, tuple[Any, Any]] = {}
    for name, tp in TypeEngine.guess_python_types(interface.inputs.variables).items():
        inputs[name] = (
            tp,
            NativeInterface.has_default if name in defaults else inspect.Parameter.empty,
        )
    outputs = TypeEngine.guess_python_types(interface.outputs.variables)
    return NativeInterface.from_types(inputs, outputs, defaults or None)
