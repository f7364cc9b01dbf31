"""Wire compatibility: runs submitted by our SDK execute under the reference SDK's runtime.

The devbox runs every action with the reference virtualenv's `a0` (PyPI flyte==2.12.1), so the
task spec, container arguments, code bundle, inputs and `RunSpec` our `flyte.run` produces must be
what the reference runtime expects; a nested fan-out also exercises its controller against the
task spec we sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import flyte
from flyte_devbox import Devbox

pytestmark = [pytest.mark.integration, pytest.mark.reference]

TASKS = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="ref_a0_env")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def fanout(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")
"""


def _ref_a0() -> Path:
    value = os.environ.get("FLYTE_TEST_REF_VENV")
    if not value:
        pytest.skip("FLYTE_TEST_REF_VENV is not set (scripts/ref-venv.sh creates one)")
    a0 = Path(value) / "bin" / "a0"
    if not a0.exists():
        pytest.fail(f"FLYTE_TEST_REF_VENV={value} has no bin/a0")
    return a0


def test_our_runs_execute_under_the_reference_a0(
    tmp_path: Path, load: Callable[..., ModuleType], src_root: Path, make_devbox_config: Any
) -> None:
    a0 = _ref_a0()
    mod = load("ref_a0_tasks", TASKS)
    config = make_devbox_config(tmp_path / "state").replace(a0_command=(str(a0),), env={})
    with Devbox(config) as box:
        flyte.init(
            endpoint=box.endpoint,
            insecure=True,
            project="flytesnacks",
            domain="development",
            root_dir=src_root,
        )
        try:
            run = flyte.run(mod.square, x=7)
            run.wait()
            assert run.outputs()[0] == 49
            run = flyte.run(mod.fanout, n=4)
            run.wait()
            assert run.outputs()[0] == [0, 1, 4, 9]
            run = flyte.run(mod.fails, x=2)
            run.wait()
            assert run.phase.value == "failed"
            with pytest.raises(flyte.errors.RuntimeUserError, match="x=2 is not welcome"):
                run.outputs()
        finally:
            flyte.init()
