"""Which devbox `flyte start devbox` is running: a small state file, read by `get/stop devbox`.

`flyte start devbox` runs the control plane in its own (foreground) process and records it in
`~/.flyte/devbox-cli.json` (pid, endpoint, state directory); the file is removed when it stops.
`flyte get devbox` reads it (and probes the port), `flyte stop devbox` signals the process
(SIGTERM: a clean stop; the state directory is kept, so the next `start devbox` resumes it).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any


def state_file() -> Path:
    """`~/.flyte/devbox-cli.json`."""
    return Path.home() / ".flyte" / "devbox-cli.json"


def free_port(host: str) -> int:
    """A port the OS says is free now (for `--port 0`, so the recorded endpoint is exact)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def record(host: str, port: int, state_dir: str | None) -> dict[str, Any]:
    """Write the state file for this process; returns what was written."""
    data = {
        "pid": os.getpid(),
        "host": host,
        "port": port,
        "endpoint": f"dns:///{_client_host(host)}:{port}",
        "state_dir": os.path.abspath(state_dir) if state_dir else None,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
    return data


def forget(pid: int) -> None:
    """Remove the state file if it still describes process `pid`."""
    data = read()
    if data is not None and data.get("pid") == pid:
        state_file().unlink(missing_ok=True)


def read() -> dict[str, Any] | None:
    """The recorded devbox, or None (no file, or an unreadable one)."""
    try:
        data = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def alive(pid: int) -> bool:
    """Whether process `pid` exists and (where /proc tells) is a `flyte start devbox`: a stale
    file whose pid now belongs to another program must not get that program signalled."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        return b"start" in args and b"devbox" in args
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False  # /proc works, and there is no such process
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def listening(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((_client_host(host), port), timeout=timeout):
            return True
    except OSError:
        return False


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
