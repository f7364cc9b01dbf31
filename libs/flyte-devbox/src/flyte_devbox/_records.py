"""Plain records of what the devbox stores, and the identities that key them.

Protobuf payloads (specs, errors) are kept as serialized bytes so that loading a record never
parses more than the caller asks for. Times are POSIX seconds (float) throughout.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

# flyteidl2.common.ActionPhase numbers (stable wire values; see PROTOCOL.md section 4).
UNSPECIFIED = 0
QUEUED = 1
WAITING_FOR_RESOURCES = 2
INITIALIZING = 3
RUNNING = 4
SUCCEEDED = 5
FAILED = 6
ABORTED = 7
TIMED_OUT = 8
PAUSED = 9
RECOVERED = 10

TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED, ABORTED, TIMED_OUT, RECOVERED})

# flyteidl2.workflow.ActionType numbers.
KIND_TASK = 1
KIND_TRACE = 2
KIND_CONDITION = 3

ROOT_ACTION = "a0"

# flyteidl2.core.CatalogCacheStatus numbers (`ActionStatus.cache_status`).
CACHE_DISABLED = 0
CACHE_MISS = 1
CACHE_HIT = 2
CACHE_POPULATED = 3
CACHE_LOOKUP_FAILURE = 4
CACHE_PUT_FAILURE = 5
CACHE_SKIPPED = 6


def is_terminal(phase: int) -> bool:
    return phase in TERMINAL_PHASES


class RunKey(NamedTuple):
    """A run. The org is not part of the key: a devbox serves one tenant (see `_ids.py`)."""

    project: str
    domain: str
    name: str

    def action(self, name: str) -> ActionKey:
        return ActionKey(self.project, self.domain, self.name, name)

    def __str__(self) -> str:
        return f"{self.project}/{self.domain}/{self.name}"


class ActionKey(NamedTuple):
    project: str
    domain: str
    run: str
    name: str

    @property
    def run_key(self) -> RunKey:
        return RunKey(self.project, self.domain, self.run)

    def __str__(self) -> str:
        return f"{self.project}/{self.domain}/{self.run}/{self.name}"


class TaskKey(NamedTuple):
    project: str
    domain: str
    name: str
    version: str


class TriggerKey(NamedTuple):
    project: str
    domain: str
    task_name: str
    name: str


@dataclasses.dataclass
class RunRecord:
    key: RunKey
    org: str
    created_at: float
    updated_at: float
    run_spec: bytes  # flyteidl2.task.RunSpec
    labels: dict[str, str]
    source: int  # flyteidl2.workflow.RunSource
    task_name: str
    task_version: str
    run_output_base: str
    run_start_time: float
    phase: int = QUEUED
    trigger: TriggerKey | None = None
    trigger_revision: int = 0
    trigger_type: bytes = b""  # flyteidl2.task.TriggerAutomationSpec


@dataclasses.dataclass
class ActionRecord:
    key: ActionKey
    org: str
    parent: str | None
    group: str
    kind: int
    spec: bytes  # TaskSpec (task), TraceAction (trace) or ConditionAction (condition)
    task_id: tuple[str, str, str, str, str]  # org, project, domain, name, version
    short_name: str
    env_name: str
    task_type: str
    cache_key: str
    input_uri: str  # full path of inputs.pb ("" when there are no inputs)
    run_output_base: str
    phase: int
    attempts: int
    created_at: float
    updated_at: float
    start_time: float | None = None
    end_time: float | None = None
    error: bytes = b""  # flyteidl2.workflow.ErrorInfo
    abort_info: bytes = b""  # flyteidl2.workflow.AbortInfo
    output_uri: str = ""
    value: bytes = b""  # flyteidl2.core.Literal (a signalled condition)
    system_failures: int = 0
    user_failures: int = 0
    holds_children: bool = False  # enqueued a child action at least once (a parent)
    cache_status: int = CACHE_DISABLED  # flyteidl2.core.CatalogCacheStatus
    #: For a cache hit: the action attempt whose outputs were reused.
    cache_source: CacheSource | None = None

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES


class CacheSource(NamedTuple):
    """The attempt of an action that produced a cache entry's outputs."""

    action: ActionKey
    attempt: int


class CacheScope(NamedTuple):
    """What a task cache entry is looked up by: the task's project/domain, its name, and the
    `cache_key` the SDK computed (inputs, interface and cache version hashed together). The org
    is not part of it: a devbox serves one tenant (the org is echoed, never an identity)."""

    project: str
    domain: str
    task_name: str
    cache_key: str


@dataclasses.dataclass
class CacheEntry:
    """The outputs of a SUCCEEDED discoverable task action, reusable by later calls."""

    scope: CacheScope
    output_uri: str  # the attempt's output prefix (holds outputs.pb)
    source: CacheSource
    created_at: float
    org: str = ""  # of the action that wrote it (information only)


@dataclasses.dataclass
class AttemptRecord:
    key: ActionKey
    attempt: int
    phase: int
    start_time: float
    end_time: float | None = None
    error: bytes = b""  # flyteidl2.workflow.ErrorInfo
    output_prefix: str = ""
    log_path: str = ""
    pid: int = 0
    pid_start: int = 0  # the process' start time (clock ticks since boot), to detect pid reuse
    logs_available: bool = False


@dataclasses.dataclass
class TransitionRecord:
    attempt: int
    phase: int
    at: float


@dataclasses.dataclass
class TaskRecord:
    key: TaskKey
    org: str
    spec: bytes  # flyteidl2.task.TaskSpec
    short_name: str
    env_name: str
    deployed_at: float


@dataclasses.dataclass
class TriggerRecord:
    key: TriggerKey
    org: str
    revision: int
    task_version: str
    spec: bytes  # flyteidl2.trigger.TriggerSpec
    automation: bytes  # flyteidl2.task.TriggerAutomationSpec
    active: bool
    description: str
    deployed_at: float
    updated_at: float
    triggered_at: float | None = None
    next_fire_at: float | None = None
    activated_at: float | None = None


@dataclasses.dataclass
class ProjectRecord:
    name: str
    org: str
    display_name: str
    description: str
    labels: dict[str, str]
    state: int
    domains: list[str]
    created_at: float


@dataclasses.dataclass
class SecretRecord:
    """A secret of the SecretService. `value` never leaves the devbox except into an action."""

    org: str
    project: str
    domain: str
    name: str
    secret_type: int  # flyteidl2.secret.SecretType
    value: bytes
    is_binary: bool  # set with `binary_value` (else `string_value`, UTF-8)
    created_at: float
    updated_at: float
