"""Fixtures for the `flyte` command: run it as a subprocess, in a scratch project directory,
optionally against a devbox on 127.0.0.1 (started in this process) whose actions run our a0.

The command is `python -m flyte_cli` (the `flyte` console script runs the same `main`): in the
Pants sandbox no console script is installed. The child gets this interpreter's sys.path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flyte_devbox import Devbox, DevboxConfig

CHILD_PATH = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
FLYTE = [sys.executable, "-m", "flyte_cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without Flyte settings, with our libraries importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLYTE_", "_U_", "_F_", "UCTL_")) and k != "PYTHONPATH"
    }
    env.update(
        {
            "PYTHONPATH": CHILD_PATH,
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "HOME": env.get("HOME", "/tmp"),
        }
    )
    env.update(extra)
    return env


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@pytest.fixture
def child_env() -> dict[str, str]:
    """`clean_env()` as a fixture (test modules cannot import the conftest)."""
    return clean_env()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A scratch project directory (the command's working directory)."""
    d = tmp_path / "proj"
    d.mkdir()
    return d


@pytest.fixture
def flyte_cmd(project_dir: Path) -> Callable[..., Result]:
    """`flyte_cmd(*args, input=None, env=None, timeout=180)`: run `flyte ARGS` in project_dir."""

    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 180,
        cwd: Path | None = None,
    ) -> Result:
        proc = subprocess.run(
            [*FLYTE, *args],
            cwd=cwd or project_dir,
            env=clean_env(**(env or {})),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def devbox_config(state_dir: Path) -> DevboxConfig:
    return DevboxConfig(
        port=0,
        state_dir=state_dir,
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        env={"PYTHONPATH": CHILD_PATH},
        max_concurrent_actions=4,
    )


@pytest.fixture
def make_devbox_config() -> Callable[[Path], DevboxConfig]:
    """`devbox_config` as a fixture (test modules cannot import the conftest)."""
    return devbox_config


@pytest.fixture(scope="module")
def devbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    box = Devbox(devbox_config(tmp_path_factory.mktemp("devbox"))).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def remote_dir(project_dir: Path, devbox: Devbox) -> Path:
    """project_dir with a `.flyte/config.yaml` that points at the devbox."""
    devbox.write_client_config(project_dir / ".flyte" / "config.yaml")
    return project_dir
