"""Identifiers of projects, runs, actions and tasks, and the lifecycle phase of an action.

A run lives in a project and domain of an organisation; its actions are named within the run (the
root action is always `a0`); a task is identified by name and version within a project and domain.
These value objects mirror the flyteidl2 identifier messages without importing protobuf:
flyte-client converts them.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "ActionID",
    "ActionPhase",
    "ProjectID",
    "RunID",
    "TaskID",
]

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rem = divmod(number, 36)
        digits.append(_BASE36[rem])
    return "".join(reversed(digits))


def _check_optional_str(owner: str, name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{owner}.{name} must be a str or None, got {value!r}")


def _check_name(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{owner}.{name} must be a non-empty str, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class ProjectID:
    """A project and domain within an organisation.

    Args:
        project: The project name.
        domain: The domain, e.g. `development`.
        org: The organisation; `None` (or empty) on single-tenant deployments.
    """

    project: str
    domain: str
    org: str | None = None

    def __post_init__(self) -> None:
        _check_name("ProjectID", "project", self.project)
        _check_name("ProjectID", "domain", self.domain)
        _check_optional_str("ProjectID", "org", self.org)


@dataclass(frozen=True, kw_only=True)
class RunID:
    """A run within a project and domain.

    Args:
        name: The run name (server-generated, e.g. `r` followed by random characters).
        project: The project name.
        domain: The domain.
        org: The organisation, if any.
    """

    name: str
    project: str | None = None
    domain: str | None = None
    org: str | None = None

    def __post_init__(self) -> None:
        _check_name("RunID", "name", self.name)
        _check_optional_str("RunID", "project", self.project)
        _check_optional_str("RunID", "domain", self.domain)
        _check_optional_str("RunID", "org", self.org)

    def action(self, name: str = "a0") -> ActionID:
        """Return the id of an action of this run.

        Args:
            name: The action name; the root action is `a0`.

        Returns:
            The action id.
        """
        return ActionID(
            name=name, run_name=self.name, project=self.project, domain=self.domain, org=self.org
        )


@dataclass(frozen=True, kw_only=True)
class TaskID:
    """A deployed task: its fully qualified name (`<env>.<function>`) and version.

    Args:
        name: The task name.
        version: The task version (the code bundle digest or an explicit version).
        project: The project name.
        domain: The domain.
        org: The organisation, if any.
    """

    name: str
    version: str
    project: str | None = None
    domain: str | None = None
    org: str | None = None

    def __post_init__(self) -> None:
        _check_name("TaskID", "name", self.name)
        _check_name("TaskID", "version", self.version)
        _check_optional_str("TaskID", "project", self.project)
        _check_optional_str("TaskID", "domain", self.domain)
        _check_optional_str("TaskID", "org", self.org)


@dataclass(frozen=True, kw_only=True)
class ActionID:
    """The id of an action (one task call) within a run.

    Args:
        name: The action name (`a0` for the root action of a run).
        run_name: The run name; defaults to `name`.
        project: The project name.
        domain: The domain.
        org: The organisation, if any.
    """

    name: str
    run_name: str | None = None
    project: str | None = None
    domain: str | None = None
    org: str | None = None

    def __post_init__(self) -> None:
        _check_name("ActionID", "name", self.name)
        _check_optional_str("ActionID", "run_name", self.run_name)
        _check_optional_str("ActionID", "project", self.project)
        _check_optional_str("ActionID", "domain", self.domain)
        _check_optional_str("ActionID", "org", self.org)
        if self.run_name is None:
            object.__setattr__(self, "run_name", self.name)

    @classmethod
    def create_random(cls) -> ActionID:
        """Return an action id with a random name, which is also its run name."""
        name = str(uuid.uuid4())
        return cls(name=name, run_name=name)

    @property
    def run_id(self) -> RunID:
        """The id of the run this action belongs to."""
        return RunID(
            name=self.run_name or self.name, project=self.project, domain=self.domain, org=self.org
        )

    def new_sub_action(self, name: str | None = None) -> ActionID:
        """Return the id of a sibling action in the same run.

        Args:
            name: The new action name; random when omitted.

        Returns:
            The new action id (same run, project, domain and org).
        """
        return replace(self, name=name if name is not None else str(uuid.uuid4()))

    def new_sub_action_from(
        self, task_call_seq: int, task_hash: str, input_hash: str, group: str | None
    ) -> ActionID:
        """Return a child action id whose name is a deterministic digest of its call.

        The name depends only on this action's name, the inputs digest, the task identity digest,
        the call sequence number and the group, so a recovered run reproduces the same names.

        Args:
            task_call_seq: 1-based count of identical calls made from this action.
            task_hash: Digest of the called task's identity.
            input_hash: Digest of the call's inputs.
            group: The enclosing group name, if any.

        Returns:
            The child action id.
        """
        components = f"{self.name}-{input_hash}-{task_hash}-{task_call_seq}" + (
            f"-{group}" if group else ""
        )
        digest = hashlib.md5(components.encode(), usedforsecurity=False).digest()
        return self.new_sub_action(_base36(digest))

    def unique_id_str(self, salt: str | None = None) -> str:
        """Return `{project}-{domain}-{run_name}-{name}`, with `-{salt}` appended when given.

        Args:
            salt: Optional suffix.

        Returns:
            The identifier string.
        """
        value = f"{self.project}-{self.domain}-{self.run_name}-{self.name}"
        return f"{value}-{salt}" if salt is not None else value


# Wire numbers of flyteidl2.common.ActionPhase (PROTOCOL.md section 4); 0 is UNSPECIFIED.
_PHASE_NUMBERS: dict[str, int] = {
    "queued": 1,
    "waiting_for_resources": 2,
    "initializing": 3,
    "running": 4,
    "succeeded": 5,
    "failed": 6,
    "aborted": 7,
    "timed_out": 8,
    "paused": 9,
    "recovered": 10,
}
_PROTO_PREFIX = "ACTION_PHASE_"


class ActionPhase(str, enum.Enum):
    """The lifecycle phase of an action (and of a run, through its root action).

    `SUCCEEDED`, `FAILED`, `ABORTED`, `TIMED_OUT` and `RECOVERED` are terminal; `RECOVERED`
    (reused as-is from a prior run) counts as a success. `PAUSED` means waiting on a condition.

    Example:
        ```python
        ActionPhase.from_protobuf(5)            # ActionPhase.SUCCEEDED
        ActionPhase.RUNNING.to_protobuf_name()  # "ACTION_PHASE_RUNNING"
        ActionPhase.FAILED.is_terminal          # True
        ```
    """

    QUEUED = "queued"
    WAITING_FOR_RESOURCES = "waiting_for_resources"
    INITIALIZING = "initializing"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    TIMED_OUT = "timed_out"
    RECOVERED = "recovered"

    @property
    def is_terminal(self) -> bool:
        """Whether the phase is final (no further transition happens)."""
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        """Whether the phase is a successful end (`SUCCEEDED` or `RECOVERED`)."""
        return self in (ActionPhase.SUCCEEDED, ActionPhase.RECOVERED)

    def to_protobuf_name(self) -> str:
        """Return the flyteidl2 enum name, e.g. `ACTION_PHASE_QUEUED`."""
        return _PROTO_PREFIX + self.value.upper()

    def to_protobuf_value(self) -> int:
        """Return the flyteidl2 enum number, e.g. `1` for `QUEUED`."""
        return _PHASE_NUMBERS[self.value]

    @classmethod
    def from_protobuf(cls, pb_phase: Any) -> ActionPhase:
        """Convert a wire phase to an `ActionPhase`.

        Args:
            pb_phase: The enum number (an `int`, as protobuf enums are), the enum name
                (`"ACTION_PHASE_RUNNING"`), the short name or value (`"RUNNING"`, `"running"`),
                or an `ActionPhase`.

        Returns:
            The phase.

        Raises:
            ValueError: For `UNSPECIFIED` (0) or an unknown number or name.
            TypeError: For any other kind of value.
        """
        if isinstance(pb_phase, ActionPhase):
            return pb_phase
        if isinstance(pb_phase, bool):
            raise TypeError(f"pb_phase must be an int or str, got {pb_phase!r}")
        if isinstance(pb_phase, int):
            for value, number in _PHASE_NUMBERS.items():
                if number == pb_phase:
                    return cls(value)
            if pb_phase == 0:
                raise ValueError("pb_phase 0 is ACTION_PHASE_UNSPECIFIED, which has no ActionPhase")
            raise ValueError(f"pb_phase {pb_phase!r} is not a known ActionPhase number (1-10)")
        if isinstance(pb_phase, str):
            text = pb_phase.strip()
            short = text[len(_PROTO_PREFIX) :] if text.upper().startswith(_PROTO_PREFIX) else text
            short = short.lower()
            if short == "unspecified":
                raise ValueError(f"pb_phase {pb_phase!r} is UNSPECIFIED, which has no ActionPhase")
            try:
                return cls(short)
            except ValueError:
                raise ValueError(f"pb_phase {pb_phase!r} is not a known ActionPhase name") from None
        raise TypeError(f"pb_phase must be an int or str, got {pb_phase!r}")


_TERMINAL = frozenset(
    {
        ActionPhase.SUCCEEDED,
        ActionPhase.FAILED,
        ActionPhase.ABORTED,
        ActionPhase.TIMED_OUT,
        ActionPhase.RECOVERED,
    }
)
