"""`flyte rerun`, `flyte whoami` and `flyte run hello`, as subprocesses (against a devbox on
127.0.0.1 where a control plane is needed)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

APPROVAL = """
import flyte

env = flyte.TaskEnvironment(name="approval")


@env.task
async def gate(n: int) -> str:
    approve = await flyte.new_condition.aio("approve", prompt="Ship it?", data_type=bool)
    ok = await approve.wait.aio()
    count = await flyte.new_condition.aio("count", prompt="How many?", data_type=int)
    count = await count.wait.aio()
    return f"{ok}:{n + count}"
"""


def _run_name(out: str) -> str:
    for line in out.splitlines():
        if line.startswith("Created run "):
            return line.split()[2]
    raise AssertionError(f"no run name in {out!r}")


def test_rerun_repeats_a_run_with_its_inputs(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
    r = flyte_cmd("run", "--follow", "hello.py", "main", "--n", "2", "--name", "orig")
    assert r.code == 0, r
    first = _run_name(r.out)

    r = flyte_cmd("rerun", first, "--name", "again", "--label", "why=test", "--follow")
    assert r.code == 0, r
    second = _run_name(r.out)
    assert second == "again" and f"(a rerun of {first})" in r.out
    assert "URL: http://" in r.out and "Run again SUCCEEDED" in r.out
    assert "o0: [0, 1]" in r.out and "o1: HELLO! ORIG!" in r.out  # the earlier run's inputs
    r = flyte_cmd("-of", "json", "get", "io", second, "--inputs-only")
    assert r.code == 0 and json.loads(r.out) == {"inputs": {"n": 2, "name": "orig"}}, r

    r = flyte_cmd("rerun", "no-such-run")
    errors = [ln for ln in r.err.splitlines() if ln.startswith("Error:")]
    assert r.code == 1 and len(errors) == 1 and "no-such-run" in errors[0], r
    assert "Traceback" not in r.err
    r = flyte_cmd("rerun", first, "--allow-missing-outputs")
    assert r.code == 2 and "need --recover" in r.err, r
    r = flyte_cmd("rerun", first, "-e", "NOEQUALS")
    assert r.code == 2 and "KEY=VALUE" in r.err, r


def _paused_condition(flyte_cmd: Callable, run: str, name: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = flyte_cmd("-of", "json", "get", "action", run)
        if r.code == 0:
            for a in json.loads(r.out):
                md = a.get("metadata", {})
                paused = a["status"]["phase"] == "ACTION_PHASE_PAUSED"
                if paused and md.get("condition", {}).get("name") == name:
                    return str(a["id"]["name"])
        time.sleep(0.3)
    raise AssertionError(f"no paused condition {name!r} in run {run}")


def test_signal_condition(flyte_cmd: Callable, remote_dir: Path) -> None:
    (remote_dir / "approval.py").write_text(APPROVAL)
    r = flyte_cmd("run", "approval.py", "gate", "--n", "3")
    assert r.code == 0, r
    run = _run_name(r.out)
    action = _paused_condition(flyte_cmd, run, "approve")
    r = flyte_cmd("signal", "condition", run, action, "maybe")
    assert r.code == 2 and "is not a bool" in r.err, r
    r = flyte_cmd("signal", "condition", run, "no-such-condition", "true")
    assert r.code == 1 and action in r.err and "Traceback" not in r.err, r
    r = flyte_cmd("signal", "condition", run, action, "yes")
    assert r.code == 0 and "signalled: True" in r.out, r
    r = flyte_cmd("signal", "condition", run, action, "yes")
    assert r.code == 1 and "SUCCEEDED" in r.err, r  # already resolved
    _paused_condition(flyte_cmd, run, "count")
    # By the task's name for it, with the value asked for after the task's prompt.
    r = flyte_cmd("signal", "condition", run, "count", input="4\n")
    assert r.code == 0 and "How many? (int):" in r.out and "signalled: 4" in r.out, r
    r = flyte_cmd("-of", "json", "get", "io", run, "--outputs-only")
    deadline = time.monotonic() + 60
    while r.code != 0 or "o0" not in r.out:
        assert time.monotonic() < deadline, r
        time.sleep(0.3)
        r = flyte_cmd("-of", "json", "get", "io", run, "--outputs-only")
    assert json.loads(r.out) == {"outputs": {"o0": "True:7"}}, r


def test_whoami(flyte_cmd: Callable, remote_dir: Path) -> None:
    r = flyte_cmd("whoami")
    assert r.code == 0, r
    assert "Devbox User" in r.out and "subject" in r.out and "endpoint" in r.out
    r = flyte_cmd("-of", "json", "whoami")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["name"] == "Devbox User" and data["subject"]
    assert data["endpoint"].startswith("dns:///127.0.0.1:")


def test_whoami_without_a_control_plane_says_how_to_configure_one(flyte_cmd: Callable) -> None:
    r = flyte_cmd("whoami")
    assert r.code == 2 and "no control plane configured" in r.err, r


def test_run_hello_locally_needs_no_file(flyte_cmd: Callable, project_dir: Path) -> None:
    r = flyte_cmd("run", "--local", "hello", "--n", "4")
    assert r.code == 0, r
    assert "o0: 14" in r.out  # 0 + 1 + 4 + 9
    assert "built-in example" in r.err and "hello.py" in r.err
    assert not list(project_dir.iterdir())  # nothing written where the user is
    r = flyte_cmd("run", "hello", "--help")
    assert r.code == 0 and "--n INTEGER" in r.out and "[default: 5]" in r.out, r
    r = flyte_cmd("run", "--help")
    assert r.code == 0 and "hello" in r.out


def test_run_hello_on_the_devbox(flyte_cmd: Callable, remote_dir: Path) -> None:
    r = flyte_cmd("run", "--follow", "hello", "--n", "3")
    assert r.code == 0, r
    assert "(hello.square): SUCCEEDED" in r.out
    assert "o0: 5" in r.out  # 0 + 1 + 4
