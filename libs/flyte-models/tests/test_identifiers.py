"""Identifiers (project, run, action, task) and ActionPhase with its wire mapping."""

from __future__ import annotations

import pytest

from flyte_models import ActionID, ActionPhase, ProjectID, RunID, TaskID

WIRE = {
    "QUEUED": 1,
    "WAITING_FOR_RESOURCES": 2,
    "INITIALIZING": 3,
    "RUNNING": 4,
    "SUCCEEDED": 5,
    "FAILED": 6,
    "ABORTED": 7,
    "TIMED_OUT": 8,
    "PAUSED": 9,
    "RECOVERED": 10,
}


def test_action_phase_has_the_ten_phases_with_their_values() -> None:
    assert [p.name for p in ActionPhase] == [
        "QUEUED",
        "WAITING_FOR_RESOURCES",
        "INITIALIZING",
        "RUNNING",
        "PAUSED",
        "SUCCEEDED",
        "FAILED",
        "ABORTED",
        "TIMED_OUT",
        "RECOVERED",
    ]
    assert ActionPhase.TIMED_OUT == "timed_out"
    assert ActionPhase("waiting_for_resources") is ActionPhase.WAITING_FOR_RESOURCES


def test_is_terminal_and_is_success() -> None:
    terminal = {p for p in ActionPhase if p.is_terminal}
    assert terminal == {
        ActionPhase.SUCCEEDED,
        ActionPhase.FAILED,
        ActionPhase.ABORTED,
        ActionPhase.TIMED_OUT,
        ActionPhase.RECOVERED,
    }
    assert {p for p in ActionPhase if p.is_success} == {
        ActionPhase.SUCCEEDED,
        ActionPhase.RECOVERED,
    }


@pytest.mark.parametrize("name", list(WIRE))
def test_protobuf_round_trip(name: str) -> None:
    phase = ActionPhase[name]
    assert phase.to_protobuf_name() == f"ACTION_PHASE_{name}"
    assert phase.to_protobuf_value() == WIRE[name]
    assert ActionPhase.from_protobuf(WIRE[name]) is phase
    assert ActionPhase.from_protobuf(f"ACTION_PHASE_{name}") is phase
    assert ActionPhase.from_protobuf(name) is phase
    assert ActionPhase.from_protobuf(name.lower()) is phase
    assert ActionPhase.from_protobuf(phase) is phase


@pytest.mark.parametrize("bad", [0, "ACTION_PHASE_UNSPECIFIED", "unspecified"])
def test_from_protobuf_rejects_unspecified(bad: object) -> None:
    with pytest.raises(ValueError, match="UNSPECIFIED"):
        ActionPhase.from_protobuf(bad)


def test_from_protobuf_rejects_unknown_values_naming_them() -> None:
    with pytest.raises(ValueError, match="pb_phase 11"):
        ActionPhase.from_protobuf(11)
    with pytest.raises(ValueError, match="'bogus'"):
        ActionPhase.from_protobuf("bogus")
    with pytest.raises(TypeError, match="pb_phase must be an int or str, got 1.5"):
        ActionPhase.from_protobuf(1.5)
    with pytest.raises(TypeError, match="True"):
        ActionPhase.from_protobuf(True)


def test_action_id_defaults_run_name_and_helpers() -> None:
    a = ActionID(name="a0", project="p", domain="d", org="o")
    assert a.run_name == "a0"
    assert a.unique_id_str() == "p-d-a0-a0"
    assert a.unique_id_str(salt="s") == "p-d-a0-a0-s"
    assert a.run_id == RunID(name="a0", project="p", domain="d", org="o")
    child = a.new_sub_action("c1")
    assert (child.name, child.run_name, child.project) == ("c1", "a0", "p")
    assert a.new_sub_action().name != a.new_sub_action().name


def test_new_sub_action_from_is_deterministic_and_matches_the_reference_naming() -> None:
    parent = ActionID(name="a")
    first = parent.new_sub_action_from(1, "t", "i", None)
    assert first == parent.new_sub_action_from(1, "t", "i", None)
    # The reference SDK (2.12.1) names this child "4a3hdawjz6c5hp6zcio06vgyo".
    assert first.name == "4a3hdawjz6c5hp6zcio06vgyo"
    assert parent.new_sub_action_from(2, "t", "i", None).name != first.name
    assert parent.new_sub_action_from(1, "t", "i", "g").name != first.name


def test_create_random() -> None:
    a = ActionID.create_random()
    assert a.name == a.run_name and len(a.name) == 36


def test_run_id_action_and_task_and_project_ids() -> None:
    run = RunID(name="r1", project="p", domain="d")
    assert run.action() == ActionID(name="a0", run_name="r1", project="p", domain="d")
    assert run.action("x").name == "x"
    task = TaskID(name="env.fn", version="v1", project="p", domain="d", org="o")
    assert (task.name, task.version) == ("env.fn", "v1")
    assert ProjectID(project="p", domain="d").org is None


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: ActionID(name=""), "ActionID.name must be a non-empty str, got ''"),
        (lambda: ActionID(name="a", project=3), "ActionID.project must be a str or None, got 3"),  # type: ignore[arg-type]
        (lambda: RunID(name=None), "RunID.name must be a non-empty str, got None"),  # type: ignore[arg-type]
        (lambda: TaskID(name="t", version=""), "TaskID.version must be a non-empty str, got ''"),
        (
            lambda: ProjectID(project="p", domain=""),
            "ProjectID.domain must be a non-empty str, got ''",
        ),
    ],
)
def test_identifier_validation_names_field_and_value(factory: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        factory()  # type: ignore[operator]
    assert message in str(info.value)


def test_identifiers_are_frozen_and_hashable() -> None:
    a = ActionID(name="a")
    with pytest.raises(AttributeError):
        a.name = "b"  # type: ignore[misc]
    assert len({a, ActionID(name="a")}) == 1
