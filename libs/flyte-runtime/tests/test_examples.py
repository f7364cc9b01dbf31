"""The scripts in `examples/` run as users run them (`python examples/x.py`) and print their results.

Each runs in a fresh process with its own local root, cache and HOME, so the results do not depend
on earlier runs or on config files on the machine.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

# The examples run in subprocesses, where Pants cannot see their imports: importing the facade
# here puts it (and, through it, every flyte-* library the examples use) in the test's sandbox.
import flyte  # noqa: F401

# In the Pants sandbox the example files sit at their repository path under the working
# directory; running pytest from the repository root finds them the same way.
EXAMPLES = Path.cwd() / "examples"
if not EXAMPLES.is_dir():  # pytest started elsewhere: fall back to the repository layout
    EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _run(name: str, env: dict[str, str], cwd: Path) -> list[str]:
    script = EXAMPLES / name
    assert script.is_file(), f"missing example {script}"
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.splitlines()


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


def test_hello(subprocess_env: dict[str, str], tmp_path: Path, local_root: Path) -> None:
    name_and_url, outputs = _run("hello.py", subprocess_env, tmp_path)
    name, url = name_and_url.split()
    assert Path(url) == local_root / "metadata" / name
    assert (Path(url) / "a0" / "outputs.pb").is_file()
    assert outputs == 'ActionOutputs(o0=[0, 1, 4, 9, 16], o1="HELLO! FLYTE!")'


def test_dataclasses_and_files(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    assert _run("dataclasses_and_files.py", subprocess_env, tmp_path) == [
        "lima: 4 readings, mean 20.25, {'min': 18.0, 'max': 22.0}",
        "oslo: 4 readings, mean -0.5, {'min': -3.0, 'max': 2.0}",
    ]


def test_retries_and_cache(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    lines = _run("retries_and_cache.py", subprocess_env, tmp_path)
    assert lines == [
        "first run: 410 attempts: 3",
        "second run: 410 score computed 1 time(s)",
        "not retried: NonRecoverableError",
    ]
    # Run again in a new process: the cache persisted, and the output is the same.
    assert _run("retries_and_cache.py", subprocess_env, tmp_path) == lines


def test_reports(subprocess_env: dict[str, str], tmp_path: Path, local_root: Path) -> None:
    total, report, checks = _run("reports.py", subprocess_env, tmp_path)
    assert total == "total items: 171"
    path = Path(report.removeprefix("report: "))
    assert path.is_relative_to(local_root / "metadata") and path.name == "report.html"
    assert checks == "has table: True | has alerts tab: True"


def test_traces_and_groups(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    stats, tags = _run("traces_and_groups.py", subprocess_env, tmp_path)
    assert ast.literal_eval(stats) == [{"words": 4, "long": 2}, {"words": 6, "long": 2}]
    assert ast.literal_eval(tags) == [
        "text-0 in local mode for search",
        "text-1 in local mode for search",
    ]


def test_error_handling(subprocess_env: dict[str, str], tmp_path: Path) -> None:
    assert _run("error_handling.py", subprocess_env, tmp_path)[-2:] == [
        "parsed: [1, -1, 3, -1]",
        "problems: ['two: ValueError', '4.5: ValueError']",
    ]


# dask_example.py needs the Dask plugin, which the runtime's layer rules keep out of these tests:
# libs/flyteplugins-dask/tests runs it. test_sandbox.py runs sandbox_example.py.
EXPECTED = {
    "dask_example.py",
    "sandbox_example.py",
    "dataclasses_and_files.py",
    "error_handling.py",
    "hello.py",
    "reports.py",
    "retries_and_cache.py",
    "traces_and_groups.py",
}


@pytest.fixture(autouse=True)
def _examples_exist() -> None:
    assert EXAMPLES.is_dir(), f"examples directory not found at {EXAMPLES}"
