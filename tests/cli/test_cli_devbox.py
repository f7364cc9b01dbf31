"""Every remote verb of `flyte`, as a subprocess, against a devbox on 127.0.0.1.

The working directory holds a `.flyte/config.yaml` written for the devbox (as `flyte start devbox
--write-config` would), so the commands find the endpoint as a person's would; one test passes
`--endpoint ... --insecure` instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from flyte_devbox import Devbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SLOW = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="slow")


@env.task
async def nap(seconds: float = 60.0) -> str:
    print("napping", flush=True)
    await asyncio.sleep(seconds)
    return "awake"


@env.task
async def parent(seconds: float = 60.0) -> str:
    return await nap(seconds)


@env.task
async def fail(x: int) -> int:
    raise ValueError(f"x was {x}")
"""


CACHED = """
import flyte

env = flyte.TaskEnvironment(name="cached")


@env.task(cache="auto")
async def double(x: int) -> int:
    return 2 * x


@env.task
async def twice(x: int) -> int:
    return await double(x) + await double(x)
"""


def _hello(d: Path) -> None:
    (d / "hello.py").write_text((EXAMPLES / "hello.py").read_text())


def _wait_phase(flyte_cmd: Callable, run: str, phases: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    phase = ""
    while time.monotonic() < deadline:
        r = flyte_cmd("-of", "json", "get", "run", run)
        if r.code == 0:
            phase = json.loads(r.out)[0]["action"]["status"]["phase"].removeprefix("ACTION_PHASE_")
            if phase in phases:
                return phase
        time.sleep(0.3)
    raise AssertionError(f"run {run} stayed {phase}, wanted {phases}")


def _run_name(out: str) -> str:
    for line in out.splitlines():
        if line.startswith("Created run "):
            return line.split()[-1]
    raise AssertionError(f"no run name in {out!r}")


def test_run_follow_prints_phases_and_outputs(flyte_cmd: Callable, remote_dir: Path) -> None:
    _hello(remote_dir)
    r = flyte_cmd("run", "--follow", "hello.py", "main", "--n", "3", "--name", "cli")
    assert r.code == 0, r
    run = _run_name(r.out)
    assert "URL: http://" in r.out and run in r.out
    assert "a0 (hello.main): SUCCEEDED" in r.out
    assert "(hello.square): SUCCEEDED" in r.out
    assert f"Run {run} SUCCEEDED" in r.out
    lines = r.out.splitlines()
    root_done = lines.index("a0 (hello.main): SUCCEEDED")
    child_done = [i for i, line in enumerate(lines) if line.endswith("): SUCCEEDED")]
    assert max(child_done) == root_done, "a child's final phase was printed after the run's"
    assert "o0: [0, 1, 4]" in r.out and "o1: HELLO! CLI!" in r.out

    # get run / action / logs on it
    r = flyte_cmd("get", "run")
    assert r.code == 0, r
    assert run in r.out and "hello.main" in r.out and "SUCCEEDED" in r.out
    r = flyte_cmd("-of", "table-simple", "get", "run", "--in-phase", "succeeded", "--limit", "50")
    assert r.code == 0 and run in r.out, r
    r = flyte_cmd("-of", "table-simple", "get", "run", "--in-phase", "failed")
    assert r.code == 0 and run not in r.out, r
    r = flyte_cmd("-of", "table-simple", "get", "run", "--task-name", "hello.main")
    assert r.code == 0 and run in r.out, r
    r = flyte_cmd("get", "run", run, "--output", "json")
    data = json.loads(r.out)
    assert data[0]["action"]["id"]["run"]["name"] == run
    r = flyte_cmd("get", "action", run)
    assert r.code == 0, r
    assert r.out.count("hello.square") == 3 and r.out.count("hello.shout") == 2
    r = flyte_cmd("-of", "table-simple", "get", "action", run, "--in-phase", "succeeded")
    assert r.code == 0 and r.out.count("hello.square") == 3, r
    r = flyte_cmd("get", "io", run)
    assert r.code == 0, r
    assert "inputs:\n  n: 3\n  name: cli\n" in r.out
    assert "outputs:\n  o0: [0, 1, 4]\n  o1: HELLO! CLI!" in r.out
    r = flyte_cmd("-of", "json", "get", "io", run, "--inputs-only")
    assert json.loads(r.out) == {"inputs": {"n": 3, "name": "cli"}}
    r = flyte_cmd("-of", "json", "get", "action", run, "a0")
    assert json.loads(r.out)[0]["id"]["name"] == "a0"


def test_run_without_follow_returns_at_once_and_failure_is_reported(
    flyte_cmd: Callable, remote_dir: Path
) -> None:
    (remote_dir / "slow.py").write_text(SLOW)
    r = flyte_cmd("run", "slow.py", "fail", "--x", "7")
    assert r.code == 0, r
    run = _run_name(r.out)
    assert _wait_phase(flyte_cmd, run, {"FAILED", "SUCCEEDED"}) == "FAILED"
    r = flyte_cmd("run", "-f", "slow.py", "fail", "--x", "8")
    assert r.code == 1, r
    assert "FAILED" in r.out and "x was 8" in r.err


def test_global_endpoint_option_without_config(
    flyte_cmd: Callable, project_dir: Path, devbox: Devbox
) -> None:
    _hello(project_dir)
    r = flyte_cmd(
        "--endpoint",
        devbox.endpoint,
        "--insecure",
        "run",
        "-p",
        "flytesnacks",
        "-d",
        "development",
        "--follow",
        "hello.py",
        "main",
        "--n",
        "2",
        "--name",
        "ep",
    )
    assert r.code == 0, r
    assert "o1: HELLO! EP!" in r.out
    r = flyte_cmd("--endpoint", devbox.endpoint, "--insecure", "get", "project")
    assert r.code == 0, r
    assert "flytesnacks" in r.out


def test_get_logs(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "slow.py").write_text(SLOW)
    r = flyte_cmd("run", "--follow", "slow.py", "nap", "--seconds", "0.1")
    assert r.code == 0, r
    run = _run_name(r.out)
    assert "o0: awake" in r.out
    r = flyte_cmd("get", "logs", run)
    assert r.code == 0, r
    assert "napping" in r.out
    r = flyte_cmd("get", "logs", run, "a0", "--show-ts")
    assert r.code == 0 and "napping" in r.out, r


def test_abort_run(flyte_cmd: Callable, remote_dir: Path, child_env: dict[str, str]) -> None:
    """`get logs` of the running run, then `abort run`: the abort takes, and ends the log tail."""
    import subprocess
    import sys

    (remote_dir / "slow.py").write_text(SLOW)
    r = flyte_cmd("run", "slow.py", "nap")
    assert r.code == 0, r
    run = _run_name(r.out)
    _wait_phase(flyte_cmd, run, {"RUNNING"})
    # `get logs` of a running action follows it until it ends, so it runs in the background here:
    # read up to the task's own line, then abort while it is still following.
    logs = subprocess.Popen(
        [sys.executable, "-u", "-m", "flyte_cli", "get", "logs", run, "--all"],
        cwd=remote_dir,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert logs.stdout is not None
        seen = []
        for line in logs.stdout:
            seen.append(line)
            if "napping" in line:
                break
        assert any("napping" in line for line in seen), seen
        r = flyte_cmd("abort", "run", run, "--reason", "test")
        assert r.code == 0, r
        assert f"Run {run} aborted." in r.out
        # The aborted attempt ends the log stream: `get logs` returns by itself, successfully.
        _, err = logs.communicate(timeout=60)
        assert logs.returncode == 0, err
    finally:
        if logs.poll() is None:
            logs.kill()
            logs.wait()
    assert _wait_phase(flyte_cmd, run, {"ABORTED", "SUCCEEDED", "FAILED"}) == "ABORTED"
    r = flyte_cmd("-of", "json", "get", "run", run)
    assert json.loads(r.out)[0]["action"]["status"]["phase"] == "ACTION_PHASE_ABORTED"


def test_abort_action(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "slow.py").write_text(SLOW)
    r = flyte_cmd("run", "slow.py", "parent")
    run = _run_name(r.out)
    child = ""
    deadline = time.monotonic() + 60
    while not child and time.monotonic() < deadline:
        acts = json.loads(flyte_cmd("-of", "json", "get", "action", run).out)
        running = [
            a["id"]["name"]
            for a in acts
            if a["id"]["name"] != "a0" and a["status"]["phase"] == "ACTION_PHASE_RUNNING"
        ]
        child = running[0] if running else ""
        time.sleep(0.3)
    assert child, "the child action never ran"
    r = flyte_cmd("abort", "action", run, child)
    assert r.code == 0, r
    assert f"Action {child} of run {run} aborted." in r.out
    deadline = time.monotonic() + 60
    phase = ""
    while time.monotonic() < deadline:
        acts = json.loads(flyte_cmd("-of", "json", "get", "action", run, child).out)
        phase = acts[0]["status"]["phase"]
        if phase == "ACTION_PHASE_ABORTED":
            break
        time.sleep(0.3)
    assert phase == "ACTION_PHASE_ABORTED"
    flyte_cmd("abort", "run", run)


def test_deploy_then_tasks_triggers_and_deployed_task_run(
    flyte_cmd: Callable, remote_dir: Path
) -> None:
    _hello(remote_dir)
    r = flyte_cmd("deploy", "--dry-run", "hello.py")
    assert r.code == 0, r
    assert "hello.main" in r.out
    r = flyte_cmd("deploy", "hello.py", "hello")
    assert r.code == 0, r
    assert "hello.main" in r.out and "hello.square" in r.out

    r = flyte_cmd("get", "task")
    assert r.code == 0, r
    assert "hello.main" in r.out and "hello.shout" in r.out
    r = flyte_cmd("-of", "json", "get", "task", "hello.main")
    assert r.code == 0, r
    assert "hello.main" in r.out

    # deployed task: typed options from its remote interface, then a run
    r = flyte_cmd("run", "deployed-task", "hello.main", "--help")
    assert r.code == 0, r
    assert "--n INTEGER" in r.out and "--name TEXT" in r.out
    r = flyte_cmd("run", "--follow", "deployed-task", "hello.main", "--n", "2", "--name", "dep")
    assert r.code == 0, r
    assert "o1: HELLO! DEP!" in r.out

    # triggers: create, list, deactivate, delete
    r = flyte_cmd("create", "trigger", "hello.main", "hourly", "--schedule", "0 * * * *")
    assert r.code == 0, r
    r = flyte_cmd(
        "create", "trigger", "hello.main", "often", "--schedule", "every 10m", "--no-auto-activate"
    )
    assert r.code == 0, r
    r = flyte_cmd("-of", "table-simple", "get", "trigger", "hello.main")
    rows = {tuple(line.split("\t")) for line in r.out.splitlines()[1:]}
    assert ("hourly", "hello.main", "yes") in rows and ("often", "hello.main", "no") in rows, r
    r = flyte_cmd("update", "trigger", "hourly", "hello.main", "--deactivate")
    assert r.code == 0 and "deactivated" in r.out, r
    r = flyte_cmd("-of", "table-simple", "get", "trigger")
    assert "hourly\thello.main\tno" in r.out, r
    r = flyte_cmd("update", "trigger", "hourly", "hello.main", "--activate")
    assert r.code == 0 and "activated" in r.out, r
    for name in ("hourly", "often"):
        r = flyte_cmd("delete", "trigger", name, "hello.main")
        assert r.code == 0, r
    r = flyte_cmd("-of", "table-simple", "get", "trigger")
    assert "hourly" not in r.out and "often" not in r.out
    r = flyte_cmd("create", "trigger", "hello.main", "bad", "--schedule", "whenever")
    assert r.code == 2 and "cron" in r.err


def test_projects(flyte_cmd: Callable, remote_dir: Path) -> None:
    r = flyte_cmd(
        "create",
        "project",
        "--id",
        "cliproj",
        "--name",
        "CLI project",
        "--description",
        "made by a test",
        "-l",
        "team=ml",
    )
    assert r.code == 0, r
    r = flyte_cmd("get", "project")
    assert "cliproj" in r.out and "flytesnacks" in r.out
    r = flyte_cmd("-of", "json", "get", "project", "cliproj")
    data = json.loads(r.out)[0]
    assert data["id"] == "cliproj" and data["description"] == "made by a test"


def test_secrets_verbs(flyte_cmd: Callable, remote_dir: Path) -> None:
    r = flyte_cmd("create", "secret", "token", "--value", "s3cr3t")
    assert r.code == 0, r
    assert "Secret token created." in r.out
    r = flyte_cmd("get", "secret")
    assert r.code == 0, r
    assert "token" in r.out and "s3cr3t" not in r.out
    r = flyte_cmd("-of", "json", "get", "secret", "token")
    assert r.code == 0, r
    assert "token" in r.out and "s3cr3t" not in r.out
    r = flyte_cmd("create", "secret", "token", "--value", "again")
    assert r.code == 1 and "already exists" in r.err and "Traceback" not in r.err, r
    r = flyte_cmd("create", "secret", "piped", input="from-stdin\n")
    assert r.code == 0, r
    assert "piped" in flyte_cmd("get", "secret").out
    for name in ("token", "piped"):
        r = flyte_cmd("delete", "secret", name)
        assert r.code == 0, r
    r = flyte_cmd("get", "secret")
    assert r.code == 0, r
    assert "token" not in r.out and "piped" not in r.out
    r = flyte_cmd("get", "secret", "token")
    assert r.code == 1 and "token" in r.err and "Traceback" not in r.err, r
    r = flyte_cmd("delete", "secret", "token")
    assert r.code == 1 and "token" in r.err and "Traceback" not in r.err, r


def test_not_found_is_one_line(flyte_cmd: Callable, remote_dir: Path) -> None:
    r = flyte_cmd("get", "run", "rdoesnotexist")
    assert r.code == 1, r
    assert "rdoesnotexist" in r.err and "Traceback" not in r.err


def test_auth_failure_is_one_line_and_the_written_config_authenticates(
    flyte_cmd: Callable, project_dir: Path, tmp_path: Path, make_devbox_config: Callable
) -> None:
    import dataclasses

    config = dataclasses.replace(make_devbox_config(tmp_path / "state"), token="tok-123")
    with Devbox(config) as box:
        r = flyte_cmd("--endpoint", box.endpoint, "--insecure", "get", "project")
        assert r.code == 1, r
        assert "authentication failed" in r.err and "Traceback" not in r.err
        assert len(r.err.strip().splitlines()) == 2  # the line, and the -v hint
        box.write_client_config(project_dir / ".flyte" / "config.yaml")
        r = flyte_cmd("get", "project")
        assert r.code == 0, r
        assert "flytesnacks" in r.out


def test_get_action_shows_cache_hits(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "cached.py").write_text(CACHED)
    r = flyte_cmd("run", "--follow", "cached.py", "twice", "--x", "21")
    assert r.code == 0 and "o0: 84" in r.out, r
    r = flyte_cmd("-of", "table-simple", "get", "action", _run_name(r.out))
    assert r.code == 0, r
    header, *rows = (line.split("\t") for line in r.out.splitlines())
    cache = header.index("cache")
    statuses = sorted(row[cache] for row in rows if row[0] != "a0")
    assert statuses == ["hit", "populated"], r.out
