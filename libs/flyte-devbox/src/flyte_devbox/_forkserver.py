"""`ServerLauncher`: start action processes from small helper processes.

* `spawner` (the default launcher): a tiny helper (`_forkserver_main.py` with no entry, run by
  the devbox's interpreter) forks and execs every action. Forking a small process is much
  cheaper than forking the devbox, and the helper reports exits, so no watcher thread per
  child is needed.
* `fork-server`: additionally, for an `a0` that is a Python entry point (a console script
  `#!.../python` + `from module import function`, or `python -m module`), one warm server per
  command, run by that command's own Python, forks a child that calls the entry point
  directly. It has the runtime's dependencies imported already (learned from earlier children),
  so a child skips most of the import time (about 0.4 s of CPU of the reference SDK's 0.6 s).
  Caveat: modules the server imported read *its* environment at import time, not the action's
  (the action's environment is in place before the entry point runs).

Every child gets its own session, working directory, environment and output pipe, as with
the direct launcher; anything a helper cannot serve falls back to a direct process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flyte_devbox import _forkserver_main
from flyte_devbox._config import DevboxConfig
from flyte_devbox._process import (
    Launcher,
    LaunchSpec,
    Process,
    SubprocessLauncher,
    open_log,
    pump_lines,
)

logger = logging.getLogger("flyte_devbox")

_HEADER = struct.Struct(">I")
# Run by path with the executor's Python; imported here only so packaging sees the dependency.
_SERVER_SCRIPT = str(Path(_forkserver_main.__file__))
_IMPORT_LINE = re.compile(r"^from\s+([\w.]+)\s+import\s+([\w.]+)\s*$", re.M)


def entry_point(command: Sequence[str]) -> tuple[str, str, int] | None:
    """How to serve `command` from a fork server: (python, entry, number of argv items it
    takes), or None if it is not a Python entry point."""
    if len(command) >= 3 and command[1] == "-m" and os.path.isabs(command[0]):
        return command[0], f"-m {command[2]}", 3
    if len(command) != 1 or not os.path.isfile(command[0]):
        return None
    try:
        with open(command[0], "rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return None
    if not head.startswith("#!"):
        return None
    python = head[2:].splitlines()[0].strip()
    if " " in python or "python" not in os.path.basename(python):
        return None
    found = _IMPORT_LINE.search(head)
    if found is None or "sys.exit(" not in head:
        return None
    return python, f"{found.group(1)}:{found.group(2)}", 1


class _Forked(Process):
    def __init__(
        self, pid: int, exit_future: asyncio.Future[int], pump: asyncio.Task[None]
    ) -> None:
        super().__init__(pid)
        self._exit = exit_future
        self._pump = pump

    async def wait(self) -> int:
        code = await asyncio.shield(self._exit)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._pump), timeout=2.0)
        return code


class _ForkServer:
    def __init__(self, python: str, entry: str, warm_file: Path, log_path: Path) -> None:
        self.python = python
        self.entry = entry
        self.warm_file = warm_file
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self._buffer = b""
        self._next = 0
        self._pids: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._ready: asyncio.Future[None] | None = None
        self.broken = False

    async def start(self, env: dict[str, str]) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.python,
                    _SERVER_SCRIPT,
                    str(theirs.fileno()),
                    self.entry,
                    str(self.warm_file),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
                cwd="/",
            )
        theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self._ready = loop.create_future()
        loop.add_reader(ours.fileno(), self._on_readable)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout=120)
        except Exception:
            await self.close()
            raise

    def _on_readable(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost("the fork server exited")
            return
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                return
            msg = json.loads(self._buffer[_HEADER.size : _HEADER.size + size])
            self._buffer = self._buffer[_HEADER.size + size :]
            self._dispatch(msg)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "ready" in msg or ("error" in msg and "id" not in msg):
            if self._ready is not None and not self._ready.done():
                if "error" in msg:
                    self._ready.set_exception(RuntimeError(msg["error"]))
                else:
                    self._ready.set_result(None)
            return
        rid = msg["id"]
        if "pid" in msg:
            fut = self._pids.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(int(msg["pid"]))
        elif "exit" in msg:
            fut = self._exits.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(int(msg["exit"]))
        elif "error" in msg:
            self.broken = True
            fut = self._pids.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_exception(RuntimeError(msg["error"]))
            exit_future = self._exits.pop(rid, None)
            if exit_future is not None:
                exit_future.cancel()

    def _lost(self, why: str) -> None:
        self.broken = True
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(RuntimeError(why))
        for fut in self._pids.values():
            if not fut.done():
                fut.set_exception(RuntimeError(why))
        for fut in self._exits.values():
            if not fut.done():
                fut.set_result(-9)  # the server (and its bookkeeping) is gone
        self._pids.clear()
        self._exits.clear()

    async def spawn(self, spec: LaunchSpec, argv: Sequence[str], exec_: bool = False) -> Process:
        assert self.sock is not None
        loop = asyncio.get_running_loop()
        self._next += 1
        rid = self._next
        pid_future: asyncio.Future[int] = loop.create_future()
        exit_future: asyncio.Future[int] = loop.create_future()
        self._pids[rid] = pid_future
        self._exits[rid] = exit_future
        read_fd, write_fd = os.pipe()
        log = open_log(spec.log_path)
        try:
            frame = json.dumps(
                {
                    "id": rid,
                    "argv": list(argv),
                    "env": dict(spec.env),
                    "cwd": spec.cwd,
                    "exec": exec_,
                }
            ).encode()
            payload = _HEADER.pack(len(frame)) + frame
            sent = await self._send(payload, write_fd)
            if sent < len(payload):
                await loop.sock_sendall(self.sock, payload[sent:])
        except BaseException:
            os.close(read_fd)
            log.close()
            self._pids.pop(rid, None)
            self._exits.pop(rid, None)
            raise
        finally:
            os.close(write_fd)
        reader = os.fdopen(read_fd, "rb", buffering=0)
        stream = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), reader)
        pump = asyncio.ensure_future(pump_lines(stream.read, log))
        try:
            pid = await pid_future
        except BaseException:
            pump.cancel()
            raise
        return _Forked(pid, exit_future, pump)

    async def _send(self, payload: bytes, fd: int) -> int:
        assert self.sock is not None
        while True:
            try:
                return socket.send_fds(self.sock, [payload], [fd])
            except BlockingIOError:
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            try:
                await asyncio.to_thread(self.proc.wait, 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


class ServerLauncher(Launcher):
    """The `spawner` and `fork-server` launchers (see the module docstring)."""

    def __init__(self, config: DevboxConfig, *, warm_python: bool) -> None:
        self._dir = config.state_dir / "forkserver"
        self._warm_python = warm_python
        self._servers: dict[tuple[str, str], _ForkServer | None] = {}
        self._starting: dict[tuple[str, str], asyncio.Future[_ForkServer | None]] = {}
        self._direct = SubprocessLauncher()

    async def start(self) -> None:
        await self._server(sys.executable, "-", {"PATH": os.environ.get("PATH", os.defpath)})

    async def spawn(self, spec: LaunchSpec) -> Process:
        if self._warm_python:
            found = _match(spec.argv)
            if found is not None:
                python, entry, taken = found
                server = await self._server(python, entry, spec.env)
                if server is not None and not server.broken:
                    argv = [spec.argv[0] if taken == 1 else python, *spec.argv[taken:]]
                    try:
                        return await server.spawn(spec, argv)
                    except RuntimeError as e:
                        logger.warning("fork server for %s failed (%s)", entry, e)
        spawner = await self._server(sys.executable, "-", spec.env)
        if spawner is not None and not spawner.broken:
            try:
                return await spawner.spawn(spec, spec.argv, exec_=True)
            except RuntimeError as e:
                logger.warning("the spawner failed (%s); starting actions directly", e)
        return await self._direct.spawn(spec)

    async def _server(self, python: str, entry: str, env: Any) -> _ForkServer | None:
        key = (python, entry)
        if key in self._servers:
            return self._servers[key]
        starting = self._starting.get(key)
        if starting is not None:
            return await asyncio.shield(starting)
        fut: asyncio.Future[_ForkServer | None] = asyncio.get_running_loop().create_future()
        self._starting[key] = fut
        digest = hashlib.sha256(f"{python}\0{entry}".encode()).hexdigest()[:16]
        server = _ForkServer(
            python, entry, self._dir / f"{digest}.warm.json", self._dir / f"{digest}.log"
        )
        what = "the spawner" if entry == "-" else f"a fork server for {entry}"
        result: _ForkServer | None
        try:
            await server.start(_server_env(env))
            result = server
            logger.debug("%s is ready (%s)", what, python)
        except Exception as e:
            logger.warning("cannot start %s (%s); starting actions directly", what, e)
            result = None
        self._servers[key] = result
        del self._starting[key]
        fut.set_result(result)
        return result

    async def close(self) -> None:
        for server in self._servers.values():
            if server is not None:
                await server.close()
        self._servers.clear()


def _match(argv: Sequence[str]) -> tuple[str, str, int] | None:
    found = entry_point(argv[:3]) if len(argv) >= 3 and argv[1] == "-m" else None
    if found is None and argv:
        found = entry_point(argv[:1])
    return found


# Per-action variables: the server must not import modules under one action's identity.
_PER_ACTION = (
    "ACTION_NAME",
    "RUN_NAME",
    "_U_RUN_BASE",
    "FLYTE_ATTEMPT_NUMBER",
    "FLYTE_INTERNAL_EXECUTION_ID",
)


def _server_env(env: Any) -> dict[str, str]:
    out = {k: v for k, v in dict(env).items() if k not in _PER_ACTION}
    out["PYTHONUNBUFFERED"] = "1"
    return out
