"""`flyte start devbox` in one shell, `flyte get devbox` / `flyte stop devbox` from another.

HOME is a scratch directory, so the state file (`~/.flyte/devbox-cli.json`) is this test's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def test_get_and_stop_a_devbox_started_in_another_process(
    flyte_cmd: Callable, project_dir: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    r = flyte_cmd("-of", "json", "get", "devbox", env=env)
    assert r.code == 0 and json.loads(r.out)["status"] == "not running", r
    r = flyte_cmd("stop", "devbox", env=env)
    assert r.code == 0 and "No devbox is running" in r.out, r

    state = tmp_path / "state"
    proc = subprocess.Popen(
        [*[sys.executable, "-m", "flyte_cli"], "start", "devbox", "--port", "0"]
        + ["--state-dir", str(state), "--a0", f"{sys.executable} -m flyte_runtime._entrypoint"],
        cwd=project_dir,
        env={**child_env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        info: dict = {}
        while time.monotonic() < deadline and proc.poll() is None:
            r = flyte_cmd("-of", "json", "get", "devbox", env=env)
            info = json.loads(r.out)
            if info["status"] == "running":
                break
            time.sleep(0.2)
        assert info.get("status") == "running", info
        assert info["pid"] == proc.pid and info["state_dir"] == str(state)
        assert info["endpoint"].startswith("dns:///127.0.0.1:")
        assert not info["endpoint"].endswith(":0")
        r = flyte_cmd("--endpoint", info["endpoint"], "--insecure", "get", "project", env=env)
        assert r.code == 0 and "flytesnacks" in r.out, r  # the recorded endpoint serves
        r = flyte_cmd("get", "devbox", env=env)
        assert r.code == 0 and "running" in r.out and info["endpoint"] in r.out, r

        r = flyte_cmd("stop", "devbox", env=env)
        assert r.code == 0, r
        assert f"Stopped the devbox at {info['endpoint']} (pid {proc.pid})" in r.out
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert not (home / ".flyte" / "devbox-cli.json").exists()
    assert (state).is_dir()  # its state is kept for the next start
    r = flyte_cmd("-of", "json", "get", "devbox", env=env)
    assert json.loads(r.out)["status"] == "not running", r


def test_a_stale_record_is_reported_and_never_signalled(
    flyte_cmd: Callable, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".flyte").mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # a record whose pid belongs to some other program (not a flyte process)
        record = {"pid": sleeper.pid, "host": "127.0.0.1", "port": 9, "endpoint": "dns:///x:9"}
        (home / ".flyte" / "devbox-cli.json").write_text(json.dumps(record))
        r = flyte_cmd("get", "devbox", env={"HOME": str(home)})
        assert r.code == 0 and "not running (stale record)" in r.out, r
        (home / ".flyte" / "devbox-cli.json").write_text(json.dumps(record))
        r = flyte_cmd("stop", "devbox", env={"HOME": str(home)})
        assert r.code == 0 and "No devbox is running" in r.out, r
        assert sleeper.poll() is None  # untouched
    finally:
        sleeper.kill()
        sleeper.wait()
