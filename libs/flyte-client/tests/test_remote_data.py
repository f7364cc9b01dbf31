"""ActionOutputs / ActionInputs and decoding action data with and without a task interface."""

from __future__ import annotations

import pickle

import flyte_types
from flyte_client.remote._common import phase_filter
from flyte_client.remote._data import ActionInputs, ActionOutputs, decode_inputs, decode_outputs
from flyte_models import NativeInterface, run_sync


def test_outputs_are_a_named_tuple_like_the_reference() -> None:
    out = ActionOutputs(None, (1, "a"))
    assert out == (1, "a") and out[0] == 1 and out.o1 == "a"
    assert out.named_outputs == {"o0": 1, "o1": "a"}
    assert repr(out) == 'ActionOutputs(o0=1, o1="a")'
    assert pickle.loads(pickle.dumps(out)).o1 == "a"
    try:
        _ = out.o5
    except AttributeError as e:
        assert "o5" in str(e) and "['o0', 'o1']" in str(e)
    else:  # pragma: no cover
        raise AssertionError("o5 should not exist")


def test_decode_with_interface_and_by_guessing() -> None:
    iface = NativeInterface.from_types(
        {"x": (int, NativeInterface.has_default), "names": (list[str], None)},
        {f"o{i}": int for i in range(11)},
        {
            "x": run_sync(
                flyte_types.TypeEngine.to_literal(
                    3, int, flyte_types.TypeEngine.to_literal_type(int)
                )
            )
        },
    )
    inputs_pb = run_sync(flyte_types.build_inputs(iface, {"x": 5, "names": ["a", "b"]}))
    decoded = run_sync(decode_inputs(inputs_pb, iface))
    assert isinstance(decoded, ActionInputs) and dict(decoded) == {"x": 5, "names": ["a", "b"]}
    guessed = run_sync(decode_inputs(inputs_pb, None))
    assert dict(guessed) == {"x": 5, "names": ["a", "b"]}

    outputs_pb = run_sync(flyte_types.build_outputs(iface, tuple(range(11))))
    outs = run_sync(decode_outputs(outputs_pb, iface))
    # o10 comes after o9 (interfaces list variables sorted by name).
    assert tuple(outs) == tuple(range(11)) and outs.o10 == 10
    assert tuple(run_sync(decode_outputs(outputs_pb, None))) == tuple(range(11))


def test_phase_filter_names_bad_phases() -> None:
    assert phase_filter(None) == []
    [single] = phase_filter(("succeeded",))
    assert list(single.values) == ["5"]
    [many] = phase_filter(("running", "FAILED"))
    assert list(many.values) == ["4", "6"]
    try:
        phase_filter(("nope",))
    except ValueError as e:
        assert "nope" in str(e) and "succeeded" in str(e)
    else:  # pragma: no cover
        raise AssertionError("an unknown phase must be rejected")
