"""Starting, watching and killing the `a0` processes that execute actions.

Every action attempt runs in its own session (process group), so an abort kills the whole
tree the task may have started. Its stdout and stderr are pumped through the devbox into a
per-attempt log file, one `<POSIX seconds>\\t<line>` record per line, which `TailLogs` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger("flyte_devbox")

#: Seconds between SIGTERM and SIGKILL when a process group is stopped.
KILL_GRACE_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class LaunchSpec:
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: str
    log_path: str


class Process:
    """A started action process; `wait()` returns its exit status once its output is drained."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start_ticks = process_start_ticks(pid)

    async def wait(self) -> int:
        raise NotImplementedError

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        kill_group(self.pid, sig)


class _Subprocess(Process):
    def __init__(self, proc: asyncio.subprocess.Process, pump: asyncio.Task[None]) -> None:
        super().__init__(proc.pid)
        self._proc = proc
        self._pump = pump

    async def wait(self) -> int:
        code = await self._proc.wait()
        # The pipe may stay open in grandchildren; don't let them hold up the result.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._pump), timeout=2.0)
        return code


class Launcher:
    """Starts action processes. Subclasses may keep a warm interpreter around (`start`)."""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def spawn(self, spec: LaunchSpec) -> Process:
        raise NotImplementedError


class SubprocessLauncher(Launcher):
    """A fresh `exec` of the command for every attempt."""

    async def spawn(self, spec: LaunchSpec) -> Process:
        log = open_log(spec.log_path)
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        assert proc.stdout is not None
        pump = asyncio.ensure_future(pump_lines(proc.stdout.read, log))
        return _Subprocess(proc, pump)


def open_log(path: str) -> LogWriter:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return LogWriter(path)


class LogWriter:
    """Appends timestamped lines to an attempt's log file."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        self._partial = b""

    def feed(self, data: bytes) -> None:
        if not data:
            return
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > 64 * 1024:  # a very long line without newline: cut it
            lines.append(self._partial)
            self._partial = b""
        if lines:
            stamp = f"{time.time():.6f}\t".encode()
            self._f.write(b"".join(stamp + line.rstrip(b"\r") + b"\n" for line in lines))

    def system(self, message: str) -> None:
        """A line written by the devbox itself (not the task)."""
        self._f.write(f"{time.time():.6f}\t[devbox] {message}\n".encode())

    def close(self) -> None:
        if self._partial:
            self.feed(b"\n")
        self._f.close()


async def pump_lines(read: Callable[[int], Awaitable[bytes]], log: LogWriter) -> None:
    try:
        while True:
            data = await read(65536)
            if not data:
                return
            log.feed(data)
    except Exception as e:  # pragma: no cover - a broken pipe must not crash the devbox
        logger.debug("log pump ended: %s", e)
    finally:
        log.close()


def read_log_lines(path: str, offset: int = 0) -> tuple[list[tuple[float, str]], int]:
    """Complete records from byte `offset` on, and the offset after the last one read."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    out: list[tuple[float, str]] = []
    for raw in data[: end + 1].splitlines():
        stamp, sep, text = raw.partition(b"\t")
        try:
            ts = float(stamp) if sep else 0.0
        except ValueError:
            ts, text = 0.0, raw
        out.append((ts, text.decode("utf-8", errors="replace")))
    return out, offset + end + 1


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the process group led by `pid` (each action is its own session)."""
    if pid <= 0:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def terminate_group(process: Process, grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the group, then SIGKILL whatever is left after `grace` seconds."""
    process.kill_group(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(process.wait()), timeout=grace)
    except (asyncio.TimeoutError, Exception):
        pass
    process.kill_group(signal.SIGKILL)


def process_start_ticks(pid: int) -> int:
    """The start time of `pid` in clock ticks since boot (Linux), or 0 when unknown."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return 0
    # The command name (field 2) may contain spaces or parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return 0


def kill_stale(pid: int, start_ticks: int) -> bool:
    """Kill the process group of a process a previous devbox started, if it is still that one."""
    if pid <= 0:
        return False
    current = process_start_ticks(pid)
    if current == 0 or (start_ticks and current != start_ticks):
        return False
    kill_group(pid, signal.SIGKILL)
    return True
