"""The control-plane objects behind `flyte.remote`: runs, actions, conditions, tasks, projects,
triggers, secrets.

Every method is callable from sync code and awaitable through its `.aio` twin
(`Run.get("r1")` / `await Run.get.aio("r1")`); listings are iterators (async iterators through
`.aio`). The objects reach the control plane configured by `flyte.init(...)`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Action",
    "ActionDetails",
    "ActionInputs",
    "ActionOutputs",
    "Condition",
    "LazyEntity",
    "PhaseTransitionInfo",
    "Project",
    "Run",
    "RunDetails",
    "Secret",
    "SecretTypes",
    "Task",
    "TaskDetails",
    "TimeFilter",
    "Trigger",
    "TriggerDetails",
    "User",
    "configure",
    "upload_dir",
    "upload_file",
]

_LAZY: dict[str, str] = {
    "Action": "_action",
    "ActionDetails": "_action",
    "PhaseTransitionInfo": "_action",
    "ActionInputs": "_data",
    "ActionOutputs": "_data",
    "Condition": "_condition",
    "Run": "_run",
    "RunDetails": "_run",
    "LazyEntity": "_task",
    "Task": "_task",
    "TaskDetails": "_task",
    "Project": "_project",
    "Trigger": "_trigger",
    "TriggerDetails": "_trigger",
    "Secret": "_secret",
    "SecretTypes": "_secret",
    "TimeFilter": "_common",
    "configure": "_client",
    "User": "_user",
    "upload_dir": "_upload",
    "upload_file": "_upload",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
