"""`flyte` on a terminal (a pseudo-terminal driven by pexpect) and `flyte start devbox` in the
foreground: the live view renders and ends cleanly; the devbox serves until it is stopped."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def test_follow_live_view_on_a_terminal(remote_dir: Path, child_env: dict[str, str]) -> None:
    (remote_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
    env = {**child_env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "flyte_cli", "run", "--follow", "hello.py", "main", "--n", "3", "--name", "tty"],
        cwd=str(remote_dir),
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 120),
    )
    seen = io.StringIO()
    child.logfile_read = seen
    try:
        child.expect(r"Created run (\w+)")
        run = child.match.group(1)
        # the live table: a title and the column headers, drawn with box characters
        child.expect(f"Run {run}")
        child.expect("phase")
        child.expect(f"Run {run} SUCCEEDED")
        child.expect("o1: HELLO! TTY!")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    raw = seen.getvalue()
    assert child.exitstatus == 0, raw
    text = ANSI.sub("", raw)
    assert "Traceback" not in text
    # a live table was drawn: box-drawing borders, the column headers and the actions
    assert "━" in text or "─" in text, text
    assert "action" in text and "task" in text and "hello.square" in text
    # the spinner and the live view hid the cursor and showed it again before exiting
    assert "\x1b[?25l" in raw and raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")


def test_plain_lines_when_not_a_terminal(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
    r = flyte_cmd(
        "run", "--follow", "hello.py", "main", "--n", "1", "--name", "p", env={"NO_COLOR": "1"}
    )
    assert r.code == 0, r
    assert "\x1b[" not in r.out and "\x1b[" not in r.err  # no colours, no cursor moves
    assert "a0 (hello.main): SUCCEEDED" in r.out


def test_start_devbox_in_the_foreground_writes_config_and_serves(
    flyte_cmd: Callable, project_dir: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flyte_cli",
            "start",
            "devbox",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
            "--write-config",
            "--a0",
            f"{sys.executable} -m flyte_runtime._entrypoint",
            "--env",
            f"PYTHONPATH={child_env['PYTHONPATH']}",
        ],
        cwd=project_dir,
        env={**child_env, "HOME": str(tmp_path)},  # its ~/.flyte/devbox-cli.json is the test's
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    config = project_dir / ".flyte" / "config.yaml"
    try:
        deadline = time.monotonic() + 60
        while not config.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert config.exists(), proc.stdout.read() if proc.poll() is not None else "no config"
        written = yaml.safe_load(config.read_text())
        assert written["admin"]["endpoint"].startswith("dns:///127.0.0.1:")
        assert written["admin"]["insecure"] is True
        assert written["task"] == {"project": "flytesnacks", "domain": "development"}
        r = flyte_cmd("get", "project")
        assert r.code == 0, r
        assert "flytesnacks" in r.out
        (project_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
        r = flyte_cmd("run", "--follow", "hello.py", "main", "--n", "2", "--name", "fg")
        assert r.code == 0, r
        assert "o1: HELLO! FG!" in r.out
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out
    assert "Wrote the client configuration" in out
