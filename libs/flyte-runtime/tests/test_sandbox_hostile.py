"""Hostile sandboxed code is stopped with a typed error, and nothing else is affected.

Each case runs a real orchestrator in Monty; afterwards the same process still runs sandboxed and
ordinary tasks, no file was written, and a task running concurrently finished normally.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pydantic_monty  # noqa: F401 - the sandbox extra: these tests need it installed
import pytest

import flyte
import flyte.sandbox
from flyte.sandbox import (
    SandboxAccessError,
    SandboxError,
    SandboxImportError,
    SandboxMemoryError,
    SandboxRecursionError,
    SandboxSyntaxError,
    SandboxTimeoutError,
)
from flyte_models import errors as ferr

env = flyte.TaskEnvironment(name="hostile")


@env.task
def add(x: int, y: int) -> int:
    return x + y


def orchestrator(code: str, name: str, **limits: int) -> flyte.sandbox.CodeTaskTemplate:
    return env.sandbox.orchestrator(
        code, inputs={"target": str}, output=int, tasks=[add], name=name, **limits
    )


# (name, code, the error it must raise, text its message must contain)
CASES = [
    (
        "import_subprocess",
        "import subprocess\nsubprocess.run(['id'])",
        SandboxImportError,
        "subprocess",
    ),
    (
        "import_socket",
        "import socket\nsocket.create_connection(('1.1.1.1', 80))",
        SandboxImportError,
        "socket",
    ),
    (
        "network_urllib",
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1')",
        SandboxImportError,
        "urllib",
    ),
    ("read_file", "open('/etc/passwd').read()", SandboxAccessError, "file system"),
    ("write_file", "f = open(target, 'w')\nf.write('pwned')\n1", SandboxAccessError, "file system"),
    (
        "pathlib_write",
        "from pathlib import Path\nPath(target).write_text('pwned')",
        SandboxAccessError,
        "file system",
    ),
    ("environment", "import os\nos.environ['HOME']", SandboxAccessError, "os.environ"),
    ("infinite_loop", "while True:\n    pass", SandboxTimeoutError, "time limit of 500 ms"),
    ("memory_bomb", "x = 'a' * (10 ** 10)\nlen(x)", SandboxMemoryError, "memory limit"),
    (
        "memory_growth",
        "xs = []\nwhile True:\n    xs.append([0] * 100000)",
        SandboxMemoryError,
        "memory limit",
    ),
    (
        "deep_recursion",
        "def r(n):\n    return r(n + 1)\nr(0)",
        SandboxRecursionError,
        "max_stack_depth=64",
    ),
    ("syntax", "def (:", SandboxSyntaxError, "does not parse"),
    (
        "sleep_forever",
        "import asyncio\nawait asyncio.sleep(3600)",
        SandboxTimeoutError,
        "time limit",
    ),
]


# With the static type check (the default) some code is refused before it runs; without it the
# interpreter itself stops it: both must end in the same typed error.
@pytest.mark.parametrize("type_check", [True, False], ids=["checked", "unchecked"])
@pytest.mark.parametrize(("name", "code", "error", "text"), CASES, ids=[c[0] for c in CASES])
def test_hostile_code_is_stopped(
    name: str, code: str, error: type[SandboxError], text: str, type_check: bool, tmp_path: Path
) -> None:
    target = tmp_path / "pwned.txt"
    task = orchestrator(
        code, name.replace("_", "-"), timeout_ms=500, max_stack_depth=64, type_check=type_check
    )
    started = time.monotonic()
    with pytest.raises(error) as info:
        flyte.run(task, target=str(target))
    assert time.monotonic() - started < 30
    assert text in str(info.value)
    assert isinstance(info.value, ferr.RuntimeUserError) and info.value.code == error.__name__
    assert not target.exists(), "sandboxed code wrote to the host file system"
    # Nothing else is affected: the same process still runs sandboxed code and tasks.
    ok = orchestrator("add(len(target), 1)", "still-ok")
    assert flyte.run(ok, target="abc").outputs()[0] == 4


def test_violations_and_limits_are_not_retried() -> None:
    task = env.sandbox.orchestrator(
        "while True:\n    pass", inputs={}, output=int, name="spin", timeout_ms=200, retries=3
    )
    started = time.monotonic()
    with pytest.raises(SandboxTimeoutError):
        flyte.run(task)
    # Retrying cannot help: one attempt (~0.2 s), not four with backoff in between.
    assert time.monotonic() - started < 3
    assert issubclass(SandboxTimeoutError, ferr.NonRecoverableError)
    assert issubclass(SandboxAccessError, ferr.NonRecoverableError)


def test_a_concurrent_task_is_unaffected_by_a_runaway_orchestrator() -> None:
    spin = env.sandbox.orchestrator(
        "while True:\n    pass", inputs={}, output=int, name="runaway", timeout_ms=1_000
    )

    @env.task
    async def both() -> str:
        results = await asyncio.gather(spin.aio(), add.aio(2, 3), return_exceptions=True)
        return f"{type(results[0]).__name__} {results[1]}"

    assert flyte.run(both).outputs()[0] == "SandboxTimeoutError 5"


def test_time_in_called_tasks_does_not_count() -> None:
    @env.task
    def slow(x: int) -> int:
        time.sleep(0.6)
        return x

    @env.task
    async def slow_async(x: int) -> int:
        await asyncio.sleep(0.6)
        return x

    task = env.sandbox.orchestrator(
        "slow(1) + await slow_async(2)",
        inputs={},
        output=int,
        tasks=[slow, slow_async],
        name="patient",
        timeout_ms=500,
    )
    assert flyte.run(task).outputs()[0] == 3


def test_a_task_timeout_stops_the_orchestrator_and_its_calls() -> None:
    calls: list[int] = []

    @env.task
    async def slow_step(i: int) -> int:
        calls.append(i)
        await asyncio.sleep(0.3)
        return i

    loop_forever = env.sandbox.orchestrator(
        "i = 0\nwhile True:\n    i = await slow_step(i) + 1",
        inputs={},
        output=int,
        tasks=[slow_step],
        name="forever",
    ).override(timeout=1)
    started = time.monotonic()
    with pytest.raises(ferr.TaskTimeoutError):
        flyte.run(loop_forever)
    assert time.monotonic() - started < 5
    seen = len(calls)
    time.sleep(0.8)
    assert len(calls) == seen, "the sandbox kept calling tasks after its task timed out"
