"""`ActionOutputs` and `ActionInputs`, and decoding an action's data with `flyte_types`.

These containers are shared by local runs (`flyte_runtime`) and remote runs: importing this
module costs nothing beyond the standard library.
"""

from __future__ import annotations

from collections import UserDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyteidl2.task import common_pb2

__all__ = ["ActionInputs", "ActionOutputs", "decode_inputs", "decode_outputs", "native_interface"]


def _output_name(i: int) -> str:
    return f"o{i}"


class ActionOutputs(tuple):  # type: ignore[type-arg]
    """The outputs of an action: a tuple (`outputs()[0]` for a single output) whose elements are
    also reachable by name (`outputs().o0`, `outputs().named_outputs["o0"]`).

    Args:
        pb2: The wire `flyteidl2.task.Outputs` (None for outputs produced in this process).
        data: The Python values, in output order.
        fields: The output names; `o0`, `o1`, ... by default.
    """

    pb2: common_pb2.Outputs | None
    _fields: tuple[str, ...]

    def __new__(
        cls,
        pb2: common_pb2.Outputs | None,
        data: Iterable[Any],
        fields: Iterable[str] | None = None,
    ) -> ActionOutputs:
        obj = super().__new__(cls, tuple(data))
        obj.pb2 = pb2
        obj._fields = (
            tuple(fields) if fields is not None else tuple(_output_name(i) for i in range(len(obj)))
        )
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    @property
    def named_outputs(self) -> dict[str, Any]:
        """The outputs by name: `o0`, `o1`, ... (also for a NamedTuple return)."""
        return dict(zip(self._fields, self, strict=False))

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return self[fields.index(name)]
        raise AttributeError(f"ActionOutputs has no output {name!r}; outputs are {list(fields)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (ActionOutputs, (None, tuple(self), self._fields))

    def __repr__(self) -> str:
        # Rendered like the reference SDK, which users' logs and tests compare against.
        parts = (
            f'{n}="{v}"' if isinstance(v, str) else f"{n}={v}"
            for n, v in zip(self._fields, self, strict=False)
        )
        return f"ActionOutputs({', '.join(parts)})"


class ActionInputs(UserDict):  # type: ignore[type-arg]
    """The inputs of an action, as a dict from input name to Python value.

    Args:
        pb2: The wire `flyteidl2.task.Inputs`.
        data: The decoded values by name.
    """

    def __init__(self, pb2: common_pb2.Inputs | None, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.pb2 = pb2

    def __repr__(self) -> str:
        return f"ActionInputs({dict(self.data)!r})"


def native_interface(
    spec_interface: Any, default_inputs: Any = None, preserve_original_types: bool = False
) -> Any:
    """A `NativeInterface` guessed from a `TypedInterface` (None when there is none); with
    `preserve_original_types`, tagged types (e.g. `pandas.DataFrame`) guess their own class."""
    if spec_interface is None:
        return None
    import flyte_types

    return flyte_types.guess_interface(
        spec_interface, default_inputs, preserve_original_types=preserve_original_types
    )


async def decode_inputs(pb: common_pb2.Inputs, interface: Any) -> ActionInputs:
    """Decode wire inputs with the task's interface; without one, render the literals as-is."""
    literals = {nl.name: nl.value for nl in pb.literals}
    if not literals:
        return ActionInputs(pb, {})
    import flyte_types

    if interface is not None and all(n in interface.inputs for n in literals):
        try:
            values = await flyte_types.read_inputs(pb, interface, max_bytes=None)
            return ActionInputs(pb, values)
        except Exception:
            pass  # fall back to the literals' own shape
    rendered = flyte_types.literal_string_repr(pb)
    return ActionInputs(pb, rendered if isinstance(rendered, dict) else {})


def _output_order(name: str) -> tuple[int, str]:
    # o0, o1, ..., o10 in numeric order (interfaces list variables sorted by name).
    if name[:1] == "o" and name[1:].isdigit():
        return int(name[1:]), ""
    return 1 << 30, name


async def decode_outputs(pb: common_pb2.Outputs, interface: Any) -> ActionOutputs:
    """Decode wire outputs with the task's interface; without one, render the literals as-is."""
    import flyte_types

    names = sorted((nl.name for nl in pb.literals), key=_output_order)
    literals = {nl.name: nl.value for nl in pb.literals}
    if not names and (interface is None or not interface.outputs):
        # Like a local run (and the reference SDK): a task without outputs has the output None.
        return ActionOutputs(pb, (None,), ("o0",))
    if interface is not None and names and all(n in interface.outputs for n in names):
        try:
            values = await flyte_types.TypeEngine.literal_map_to_kwargs(
                literals, {n: interface.outputs[n] for n in names}
            )
            return ActionOutputs(pb, [values[n] for n in names], names)
        except Exception:
            pass
    rendered = flyte_types.literal_string_repr(pb)
    return ActionOutputs(pb, [rendered.get(n) for n in names], names)
