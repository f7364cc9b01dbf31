"""Driving the reference SDK (in its own virtualenv) against a devbox, for the tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox.devbox_ref_programs import DRIVER, WORKFLOW

from flyte_devbox import Devbox, DevboxConfig

REF_VERSION = "2.12.1"


def ref_env(home: Path) -> dict[str, str]:
    """A clean environment for the reference SDK: no FLYTE_* settings, nothing of ours."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLYTE_", "UCTL_", "_U_", "_F_", "PYTHON", "VIRTUAL_ENV"))
    }
    keep["HOME"] = str(home)
    keep["PYTHONUNBUFFERED"] = "1"
    return keep


@dataclass
class RefClient:
    """The reference SDK pointed at one devbox, working in `workdir`."""

    venv: Path
    devbox: Devbox
    workdir: Path
    extra_env: dict[str, str] | None = None

    @property
    def config(self) -> Path:
        return self.workdir / "config.yaml"

    def write_config(self) -> None:
        self.devbox.write_client_config(self.config)

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            argv,
            cwd=self.workdir,
            env={**ref_env(self.workdir / "home"), **(self.extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc

    def python(self, *args: str, timeout: float = 300) -> dict[str, Any]:
        """Run the driver (reference Python API); returns its JSON result."""
        proc = self._run(
            [str(self.venv / "bin" / "python"), "driver.py", str(self.config), *args], timeout
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"driver {args} failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
            )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise AssertionError(
                f"driver {args} printed no result:\n{proc.stdout[-3000:]}\n"
                f"{proc.stderr[-3000:]}"
            )
        return dict(json.loads(lines[-1]))

    def cli(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        """Run the reference `flyte` CLI; returns stdout+stderr (ANSI codes removed)."""
        proc = self._run(
            [
                str(self.venv / "bin" / "python"),
                "-c",
                _CLI_SHIM,
                "--config",
                str(self.config),
                *args,
            ],
            timeout,
        )
        out = _strip_ansi(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"flyte {' '.join(args)} failed ({proc.returncode}):\n{out[-6000:]}"
            )
        return out


# The reference `flyte` command, run so that its exit status is kept but interpreter teardown is
# skipped: the reference client's native HTTP threads have been seen to abort the process
# (SIGABRT) during shutdown, after the command itself had finished.
_CLI_SHIM = """
import os, sys
from flyte.cli.main import main
sys.argv[0] = "flyte"
try:
    code = main()
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.flush()
os._exit(code if isinstance(code, int) else (0 if code is None else 1))
"""


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x1b\x07]*(\x07|\x1b\\\\)", "", text)


def make_workdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "home").mkdir(exist_ok=True)
    (path / "wf.py").write_text(WORKFLOW)
    (path / "driver.py").write_text(DRIVER)
    return path


def devbox_config(ref_venv: Path, state_dir: Path, **overrides: Any) -> DevboxConfig:
    kwargs: dict[str, Any] = {
        "port": 0,
        "state_dir": state_dir,
        "a0_command": (str(ref_venv / "bin" / "a0"),),
        "max_concurrent_actions": 6,
    }
    kwargs.update(overrides)
    return DevboxConfig(**kwargs)
