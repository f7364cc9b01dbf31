"""The fork server: a warm interpreter that forks one child per action.

Run by the *executor's* Python (the runtime's virtualenv, maybe another Python version than the
devbox's), as a file, so it uses the standard library only and no devbox module:

    python _forkserver_main.py <socket fd> <entry> <warm file>

`<entry>` is `module:function` (a console script's target), `-m module`, or `-` for a plain
spawner (every request is an `exec`). The server serves requests on the Unix socket: each
request is a length-prefixed JSON frame `{"id", "argv", "env", "cwd"}` carrying, as SCM_RIGHTS ancillary data, the write end
of the pipe the action's output goes to. It forks; the child starts a new session, points
stdout/stderr at the pipe, takes the action's cwd/env/argv, imports the entry and calls it.
A request with `"exec": true` execs its argv instead (a small process forks faster than the
devbox, and its exits need no watcher threads). The server answers `{"id", "pid"}`, later
`{"id", "exit"}`.

Warming: a child lists the installed (not bundle-local) modules it imported into `<warm file>`;
the server imports those, so later children skip them. The entry's own top-level package is
never imported by the server: runtimes start threads at import (the reference SDK does), and a
process with threads cannot be forked safely. Should a warmed module start a thread anyway, the
server refuses further requests (`{"id", "error"}`) and the devbox falls back to plain
processes.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import traceback

_HEADER = struct.Struct(">I")
_MAX_FDS = 4


def _send(sock: socket.socket, msg: dict) -> None:  # type: ignore[type-arg]
    data = json.dumps(msg).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


def _installed(module: object) -> bool:
    """Importable in any child: from the interpreter's prefix (site-packages, stdlib), not cwd."""
    path = getattr(module, "__file__", None)
    if not path:
        return False
    path = os.path.abspath(path)
    prefixes = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return any(path.startswith(p + os.sep) for p in prefixes)


def _load_entry(entry: str):  # type: ignore[no-untyped-def]
    import importlib

    if entry.startswith("-m "):
        module = entry[3:].strip()
        importlib.import_module(module)

        def run_module() -> None:
            import runpy

            runpy.run_module(module, run_name="__main__", alter_sys=True)

        return run_module
    module, _, attr = entry.partition(":")
    target = importlib.import_module(module)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def _warm(path: str, done: set[str], skip: str) -> None:
    import importlib

    try:
        with open(path) as f:
            names = json.load(f)
    except (OSError, ValueError):
        return
    for name in names:
        if name in done or name in sys.modules or name.split(".")[0] == skip:
            continue
        if threading.active_count() > 1:
            return
        done.add(name)
        try:
            importlib.import_module(name)
        except BaseException:  # - a module that fails to preload just isn't
            pass


def _child(
    sock: socket.socket,
    wakeup_r: int,
    wakeup_w: int,
    log_fd: int,
    req: dict,  # type: ignore[type-arg]
    entry_spec: str,
    skip: str,
    zygote_modules: set[str],
    warm_file: str,
) -> None:
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        sock.close()
        os.close(wakeup_r)
        os.close(wakeup_w)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
            except Exception:
                pass
        os.chdir(req["cwd"])
        if req.get("exec"):
            argv = list(req["argv"])
            try:
                os.execvpe(argv[0], argv, req["env"])
            except OSError as e:
                print(f"[devbox] cannot execute {argv[0]!r}: {e}", file=sys.stderr)
                code = 127
                return
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = list(req["argv"])
        if sys.path and sys.path[0] != "":
            sys.path.insert(0, "")
        try:
            result = _load_entry(entry_spec)()
            code = result if isinstance(result, int) else 0
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        try:
            # In import order (sys.modules keeps it): warming out of order can break packages
            # (importing `_asyncio` before `asyncio` does).
            installed = [
                n for n, m in list(sys.modules.items()) if _installed(m) and n.split(".")[0] != skip
            ]
            if warm_file and any(n not in zygote_modules for n in installed):
                tmp = f"{warm_file}.{os.getpid()}"
                with open(tmp, "w") as f:
                    json.dump(installed, f)
                os.replace(tmp, warm_file)
        except BaseException:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF if code >= 0 else 1)


def main(argv: list[str]) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sock = socket.socket(fileno=int(argv[0]))
    sock.setblocking(True)
    entry_spec, warm_file = argv[1], argv[2]
    skip = entry_spec[3:].strip() if entry_spec.startswith("-m ") else entry_spec.split(":")[0]
    skip = skip.split(".")[0]
    if entry_spec == "-":
        warm_file = ""
    else:
        try:
            import importlib.util

            if importlib.util.find_spec(skip) is None:
                raise ImportError(f"no module named {skip!r}")
        except BaseException as e:
            _send(sock, {"error": f"cannot find {entry_spec}: {type(e).__name__}: {e}"})
            return 1
    warmed: set[str] = set()
    if warm_file:
        _warm(warm_file, warmed, skip)
    zygote_modules = set(sys.modules)
    _send(sock, {"ready": True, "pid": os.getpid()})

    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_r, False)
    os.set_blocking(wakeup_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wakeup_w)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "sock")
    sel.register(wakeup_r, selectors.EVENT_READ, "chld")
    children: dict[int, int] = {}
    buffer = b""
    pending_fds: list[int] = []
    warm_mtime = 0.0

    def reap() -> None:
        nonlocal warm_mtime
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            rid = children.pop(pid, None)
            if rid is not None:
                _send(sock, {"id": rid, "exit": os.waitstatus_to_exitcode(status)})
        # Idle: learn the modules children needed.
        if not warm_file:
            return
        try:
            mtime = os.stat(warm_file).st_mtime
        except OSError:
            return
        if mtime != warm_mtime:
            warm_mtime = mtime
            _warm(warm_file, warmed, skip)
            zygote_modules.update(sys.modules)

    while True:
        for key, _ in sel.select():
            if key.data == "chld":
                try:
                    while os.read(wakeup_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                reap()
                continue
            data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, _MAX_FDS)
            if not data:
                return 0  # the devbox went away
            buffer += data
            pending_fds.extend(fds)
            while len(buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(buffer)
                if len(buffer) < _HEADER.size + size:
                    break
                req = json.loads(buffer[_HEADER.size : _HEADER.size + size])
                buffer = buffer[_HEADER.size + size :]
                log_fd = pending_fds.pop(0)
                if threading.active_count() > 1 and not req.get("exec"):
                    os.close(log_fd)
                    _send(
                        sock,
                        {
                            "id": req["id"],
                            "error": "the fork server has started threads; "
                            "forking is no longer safe",
                        },
                    )
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                try:
                    pid = os.fork()
                except OSError as e:
                    os.close(log_fd)
                    _send(sock, {"id": req["id"], "error": f"fork failed: {e}"})
                    continue
                if pid == 0:
                    _child(
                        sock,
                        wakeup_r,
                        wakeup_w,
                        log_fd,
                        req,
                        entry_spec,
                        skip,
                        zygote_modules,
                        warm_file,
                    )
                os.close(log_fd)
                children[pid] = req["id"]
                _send(sock, {"id": req["id"], "pid": pid})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
