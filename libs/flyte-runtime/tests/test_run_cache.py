"""The local cache seen through `flyte.run`: hits skip the body, misses and overrides rerun it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="test_run_cache")

calls: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


@env.task(cache="auto")
async def cached_square(x: int) -> int:
    calls["cached_square"] += 1
    return x * x


@env.task
async def uncached_square(x: int) -> int:
    calls["uncached_square"] += 1
    return x * x


@env.task(cache="override")
async def always_refresh(x: int) -> int:
    calls["always_refresh"] += 1
    return x + calls["always_refresh"]


@env.task(cache=flyte.Cache(behavior="auto", ignored_inputs=("note",)))
async def ignores_note(x: int, note: str) -> int:
    calls["ignores_note"] += 1
    return x


@env.task(cache=flyte.Cache(behavior="auto", version_override="v1"))
async def versioned_v1(x: int) -> int:
    calls["versioned"] += 1
    return x


@env.task(cache="auto")
async def cached_failure(x: int) -> int:
    calls["cached_failure"] += 1
    raise ValueError("never cached")


@env.task
async def parent(xs: list[int]) -> list[int]:
    return list(await asyncio.gather(*(cached_square(x) for x in xs)))


def test_second_run_is_a_hit_and_skips_the_body(cache_dir: Path) -> None:
    assert flyte.run(cached_square, 4).outputs()[0] == 16
    assert flyte.run(cached_square, 4).outputs()[0] == 16
    assert calls["cached_square"] == 1
    assert (cache_dir / "outputs.db").is_file()


def test_a_different_input_misses() -> None:
    flyte.run(cached_square, 4)
    assert flyte.run(cached_square, 5).outputs()[0] == 25
    assert calls["cached_square"] == 2


def test_children_hit_the_cache_across_runs() -> None:
    assert flyte.run(parent, [1, 2, 3]).outputs()[0] == [1, 4, 9]
    assert flyte.run(parent, [3, 2, 1, 4]).outputs()[0] == [9, 4, 1, 16]
    assert calls["cached_square"] == 4


def test_overwrite_cache_reruns_and_refreshes() -> None:
    flyte.run(cached_square, 6)
    flyte.with_runcontext(overwrite_cache=True).run(cached_square, 6)
    assert calls["cached_square"] == 2
    flyte.run(cached_square, 6)  # the refreshed entry is used again
    assert calls["cached_square"] == 2


def test_disable_run_cache_neither_reads_nor_writes(cache_dir: Path) -> None:
    flyte.with_runcontext(disable_run_cache=True).run(cached_square, 7)
    flyte.with_runcontext(disable_run_cache=True).run(cached_square, 7)
    assert calls["cached_square"] == 2
    flyte.run(cached_square, 7)  # nothing was stored by the runs above
    assert calls["cached_square"] == 3


def test_uncached_tasks_always_run_and_override_enables_caching() -> None:
    flyte.run(uncached_square, 2)
    flyte.run(uncached_square, 2)
    assert calls["uncached_square"] == 2
    cached = uncached_square.override(cache="auto")
    flyte.run(cached, 2)
    flyte.run(cached, 2)
    assert calls["uncached_square"] == 3


def test_override_behavior_always_runs() -> None:
    assert flyte.run(always_refresh, 10).outputs()[0] == 11
    assert flyte.run(always_refresh, 10).outputs()[0] == 12


def test_ignored_inputs_do_not_change_the_key() -> None:
    flyte.run(ignores_note, 1, "first")
    assert flyte.run(ignores_note, 1, "second").outputs()[0] == 1
    assert calls["ignores_note"] == 1


def test_a_new_cache_version_misses() -> None:
    flyte.run(versioned_v1, 1)
    flyte.run(versioned_v1, 1)
    assert calls["versioned"] == 1
    v2 = versioned_v1.override(cache=flyte.Cache(behavior="auto", version_override="v2"))
    flyte.run(v2, 1)
    assert calls["versioned"] == 2


def _edited_before() -> Any:
    @env.task(cache="auto")
    async def edited(x: int) -> int:
        calls["edited"] += 1
        return x

    return edited


def _edited_after() -> Any:
    @env.task(cache="auto")
    async def edited(x: int) -> int:
        calls["edited"] += 1
        return x + 1

    return edited


def test_editing_the_function_body_misses() -> None:
    before, after = _edited_before(), _edited_after()
    assert before.name == after.name
    assert flyte.run(before, 1).outputs()[0] == 1
    assert flyte.run(after, 1).outputs()[0] == 2  # same name and inputs, new body: a miss
    assert flyte.run(before, 1).outputs()[0] == 1  # the old body's entry is still there
    assert calls["edited"] == 2


def test_failures_are_not_cached() -> None:
    for _ in range(2):
        with pytest.raises(flyte.errors.RuntimeUserError, match="never cached"):
            flyte.run(cached_failure, 1)
    assert calls["cached_failure"] == 2


def test_the_cache_dir_is_read_at_each_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flyte.run(cached_square, 8)
    monkeypatch.setenv("FLYTE_LOCAL_CACHE_DIR", str(tmp_path / "other-cache"))
    flyte.run(cached_square, 8)  # a fresh, empty cache: runs again
    assert calls["cached_square"] == 2
    assert (tmp_path / "other-cache" / "outputs.db").is_file()


_SCRIPT = """\
import sys

import flyte

env = flyte.TaskEnvironment(name="cache_script")


@env.task(cache="auto")
async def expensive(x: int) -> int:
    with open(sys.argv[1], "a") as marker:
        marker.write(f"ran {x}\\n")
    return x * 3


if __name__ == "__main__":
    print(flyte.run(expensive, 14).outputs()[0])
"""


def test_the_cache_is_shared_across_processes(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    script = tmp_path / "cache_script.py"
    script.write_text(_SCRIPT)
    marker = tmp_path / "marker.txt"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(script), str(marker)],
            capture_output=True,
            text=True,
            env=subprocess_env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "42"
    assert marker.read_text() == "ran 14\n"  # the second process hit the cache
