"""Sandboxed orchestrators run through our devbox and our a0: the worker runs the code in
pydantic-monty, its task calls become child actions (a0's remote controller), and a hostile
orchestrator fails with its typed error code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic_monty  # noqa: F401 - the sandbox extra: the a0 worker needs it
import pytest
from flyteidl2.common import list_pb2, phase_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from plugins.devbox_helpers import plugin_devbox, run_spec, spec_of, upload_module
from support.devbox_runs import task_module

import flyte_runtime._sandbox  # noqa: F401 - what the bundle's module uses (a Pants dependency)
from flyte_devbox import Devbox

MODULE = "sandbox_devbox_tasks"
TASKS = """
import flyte
import flyte.sandbox

env = flyte.TaskEnvironment(name="sandbox_devbox")


@env.task
async def score(word: str) -> int:
    return len(word)


@env.sandbox.orchestrator(timeout_ms=2_000)
async def best(words: list[str]) -> str:
    top = ""
    top_score = -1
    for w in words:
        s = await score(w)
        if s > top_score:
            top, top_score = w, s
    return top


@env.sandbox.orchestrator(timeout_ms=2_000)
def histogram(words: list[str]) -> dict[str, int]:
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return counts


snoop = flyte.sandbox.orchestrator_from_str(
    "import os\\nos.environ['HOME']", inputs={}, output=str, name="snoop"
)
env.add_task(snoop)
"""


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    with task_module(tmp_path / "src", MODULE, TASKS) as mod:
        yield tmp_path / "src", mod


@pytest.fixture
def devbox(tmp_path: Path) -> Iterator[Devbox]:
    with plugin_devbox(tmp_path / "state") as dbx:
        yield dbx


async def test_orchestrators_run_in_a0(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    url = await upload_module(devbox, root, MODULE)

    spec = spec_of(mod.histogram, url, root)
    assert spec.task_template.type == "sandboxed-python"
    details, out = await run_spec(runs, spec, mod.histogram, words=["a", "b", "a"])
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert out == {"a": 2, "b": 1}

    # Its task calls are child actions, run by the a0 remote controller through the devbox.
    details, out = await run_spec(
        runs, spec_of(mod.best, url, root), mod.best, words=["ab", "abcd", "abc"]
    )
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    assert out == "abcd"
    listed = await runs.list_actions(
        run_service_pb2.ListActionsRequest(
            run_id=details.id.run, request=list_pb2.ListRequest(limit=100)
        )
    )
    children = [a for a in listed.actions if a.id.name != "a0"]
    assert len(children) == 3, [a.id.name for a in listed.actions]

    details, _ = await run_spec(runs, spec_of(mod.snoop, url, root), mod.snoop)
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.code == "SandboxAccessError"
    assert "os.environ" in details.error_info.message
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
