"""`Devbox`: assembling the engine, the services and the HTTP server, and running them.

Why hypercorn: one port has to speak Connect over HTTP/1.1 (the reference client's pyqwest
transport uses plain HTTP/1.1 for `http://` endpoints) and gRPC over cleartext HTTP/2 (what a
grpcio client sends, with prior knowledge). Hypercorn serves both on the same socket (it
detects the HTTP/2 preface) and implements the ASGI `http.response.trailers` extension that
gRPC needs for its status trailers. uvicorn has no HTTP/2, and daphne no trailers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from flyte_devbox._config import DevboxConfig, client_config_yaml

logger = logging.getLogger("flyte_devbox")

__all__ = ["Devbox", "DevboxStartError"]


class DevboxStartError(RuntimeError):
    """The devbox could not start (port taken, state directory locked, ...)."""


def _connect_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::", "localhost"):
        return "127.0.0.1"
    return host


class Devbox:
    """An embedded Flyte 2 control plane.

    Run it in the background of your process:

    ```python
    with Devbox(DevboxConfig(port=0, state_dir=tmp)) as dbx:
        print(dbx.endpoint)          # dns:///127.0.0.1:<port>
        print(dbx.client_config())   # YAML for flyte's config.yaml
    ```

    or, from async code, `async with Devbox(...) as dbx:`; or in the foreground with
    `await Devbox(...).serve()` (what the `flyte-devbox` command does). The server, the engine
    and every action process live on the devbox's own event loop (a background thread for
    `start()`), so the caller's loop is never blocked by it.
    """

    def __init__(self, config: DevboxConfig | None = None, **overrides: Any) -> None:
        config = config or DevboxConfig()
        self.config = config.replace(**overrides) if overrides else config
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._started_at = 0.0
        self._stats_source: Callable[[], dict[str, Any]] | None = None

    # ------------------------------------------------------------------------------ facts

    @property
    def port(self) -> int:
        if self._port is None:
            raise DevboxStartError("the devbox is not running")
        return self._port

    @property
    def host(self) -> str:
        return _connect_host(self.config.host)

    @property
    def endpoint(self) -> str:
        """The endpoint for a Flyte client: `dns:///127.0.0.1:<port>`."""
        return f"dns:///{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base HTTP URL: `http://127.0.0.1:<port>`."""
        return f"http://{self.host}:{self.port}"

    def client_config(self) -> str:
        """The YAML for a client's `config.yaml` (admin endpoint, insecure, project, domain)."""
        return client_config_yaml(
            endpoint=self.endpoint,
            project=self.config.project,
            domain=self.config.domain,
            token=self.config.token,
        )

    def write_client_config(self, path: str | os.PathLike[str]) -> Path:
        """Write `client_config()` to `path` (parent directories created); returns the path."""
        p = Path(path).expanduser()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.client_config())
        return p

    # ------------------------------------------------------------------ background thread

    def start(self, timeout: float = 60.0) -> Devbox:
        """Start in a background thread; returns once the port accepts requests."""
        if self._thread is not None:
            raise DevboxStartError("the devbox is already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._thread_main, name="flyte-devbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise DevboxStartError(f"the devbox did not start within {timeout:g}s")
        if self._error is not None:
            error = self._error
            self._thread.join(timeout)
            self._thread = None
            raise DevboxStartError(f"the devbox failed to start: {error}") from error
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as e:  # reported by start() or logged
            if not self._ready.is_set():
                self._error = e
                self._ready.set()
            else:
                logger.exception("the devbox stopped with an error")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server and every action process (their state is kept for the next start)."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("the devbox thread did not stop within %gs", timeout)
            self._thread = None

    def request_stop(self) -> None:
        """Ask a running devbox to stop (thread-safe, returns at once)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)

    def __enter__(self) -> Devbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Devbox:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --------------------------------------------------------------------------- serving

    async def serve(self, on_ready: Callable[[Devbox], None] | None = None) -> None:
        """Run on the current event loop until `request_stop()` (or cancellation)."""
        t0 = time.monotonic()
        import hypercorn.asyncio
        import hypercorn.config

        from flyte_devbox import _services as svc
        from flyte_devbox._blobs import UrlSigner, open_blob_store
        from flyte_devbox._engine import Engine
        from flyte_devbox._http import DevboxApp
        from flyte_devbox._hub import Hub
        from flyte_devbox._records import ProjectRecord
        from flyte_devbox._rpc import ServerInterceptor
        from flyte_devbox._store import Store
        from flyte_devbox._triggers import TriggerScheduler

        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        lock = _lock_state_dir(cfg.state_dir)
        store = Store(cfg.state_dir / "devbox.db")
        engine: Engine | None = None
        scheduler: TriggerScheduler | None = None
        launcher = _make_launcher(cfg)
        listen_fd = -1
        handed_over = False
        try:
            secret = store.get_meta("url_secret")
            if secret is None:
                secret = secrets.token_hex(32)
                store.set_meta("url_secret", secret)
            if store.get_project(cfg.project) is None:
                store.upsert_project(
                    ProjectRecord(
                        name=cfg.project,
                        org="",
                        display_name=cfg.project,
                        description="",
                        labels={},
                        state=0,
                        domains=["development", "staging", "production"],
                        created_at=time.time(),
                    )
                )
            blobs = open_blob_store(cfg.blob_root, cfg.state_dir / "tmp")
            sock = _bind(cfg.host, cfg.port)
            self._port = sock.getsockname()[1]
            listen_fd = sock.detach()  # hypercorn owns (and closes) the listening socket
            signer = UrlSigner(bytes.fromhex(secret), self.url)
            hub = Hub()
            engine = Engine(cfg, store, blobs, hub, launcher)
            engine.endpoint = self.endpoint
            await launcher.start()
            await engine.start()
            scheduler = TriggerScheduler(engine)
            scheduler.start()
            ctx = svc.Context(cfg, engine, signer, scheduler)
            interceptor = ServerInterceptor()
            the_engine: Engine = engine
            self._stats_source = lambda: {
                "rpc_calls": dict(interceptor.counts),
                "active_actions": the_engine.active_count(),
            }
            app = DevboxApp(
                services=_service_apps(ctx, [interceptor]),
                blobs=blobs,
                signer=signer,
                token=cfg.token,
                max_upload_bytes=cfg.max_upload_bytes,
                info={
                    "name": "flyte-devbox",
                    "endpoint": self.endpoint,
                    "project": cfg.project,
                    "domain": cfg.domain,
                },
                stats=self._stats_source,
            )
            hconfig = hypercorn.config.Config()
            hconfig.bind = [f"fd://{listen_fd}"]
            hconfig.graceful_timeout = 3.0
            hconfig.keep_alive_timeout = 75.0
            hconfig.accesslog = None
            hconfig.errorlog = logging.getLogger("flyte_devbox.http")
            hconfig.h2_max_concurrent_streams = 1000
            hconfig.include_server_header = False

            stop = self._stop

            async def shutdown_trigger() -> None:
                await stop.wait()
                logger.info("stopping the devbox")
                # Actions first: a process must not report a failure caused by the shutdown.
                await the_engine.stop()

            self._started_at = time.monotonic() - t0
            logger.info(
                "flyte-devbox listening on %s (state in %s, started in %.2fs)",
                self.url,
                cfg.state_dir,
                self._started_at,
            )
            self._ready.set()
            if on_ready is not None:
                on_ready(self)
            handed_over = True
            served = asyncio.ensure_future(
                hypercorn.asyncio.serve(app, hconfig, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]
            )
            try:
                await served
            except asyncio.CancelledError:
                stop.set()
                await the_engine.stop()
                raise
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if engine is not None and not engine.closing.is_set():
                await engine.stop()
            with contextlib.suppress(Exception):
                await launcher.close()
            store.close()
            if listen_fd >= 0 and not handed_over:
                with contextlib.suppress(OSError):
                    os.close(listen_fd)
            lock.close()
            self._port = None

    def stats(self) -> dict[str, Any]:
        """RPC call counts per `Service/Method` and the number of unfinished actions."""
        source = self._stats_source
        return source() if source is not None else {}

    @property
    def startup_seconds(self) -> float:
        """How long the last start took, from `serve()` to accepting requests."""
        return self._started_at


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise DevboxStartError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    sock.listen(1024)
    return sock


class _StateLock:
    def __init__(self, f: Any) -> None:
        self._f = f

    def close(self) -> None:
        self._f.close()


def _lock_state_dir(state_dir: Path) -> _StateLock:
    """One devbox per state directory: two would fight over the database and the processes."""
    f = open(state_dir / "devbox.lock", "a+")  # noqa: SIM115 - held for the devbox's lifetime
    if sys.platform != "win32":
        import fcntl

        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise DevboxStartError(
                f"another devbox is using {state_dir}; stop it or choose another state_dir"
            ) from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return _StateLock(f)


def _make_launcher(cfg: DevboxConfig) -> Any:
    from flyte_devbox._process import SubprocessLauncher

    if cfg.launcher == "direct" or sys.platform == "win32":
        return SubprocessLauncher()
    from flyte_devbox._forkserver import ServerLauncher

    return ServerLauncher(cfg, warm_python=cfg.launcher == "fork-server")


def _service_apps(ctx: Any, interceptors: list[Any]) -> dict[str, Any]:
    from flyteidl2.actions import actions_service_connect
    from flyteidl2.auth import auth_service_connect, identity_connect
    from flyteidl2.cluster import service_connect as cluster_connect
    from flyteidl2.dataproxy import dataproxy_service_connect
    from flyteidl2.project import project_service_connect
    from flyteidl2.secret import secret_connect
    from flyteidl2.task import task_service_connect
    from flyteidl2.trigger import trigger_service_connect
    from flyteidl2.workflow import (
        queue_service_connect,
        run_logs_service_connect,
        run_service_connect,
        state_service_connect,
    )

    from flyte_devbox import _services as svc
    from flyte_devbox._secrets import SecretService

    apps = [
        run_service_connect.RunServiceASGIApplication(
            svc.RunService(ctx), interceptors=interceptors
        ),
        dataproxy_service_connect.DataProxyServiceASGIApplication(
            svc.DataProxyService(ctx), interceptors=interceptors
        ),
        run_logs_service_connect.RunLogsServiceASGIApplication(
            svc.RunLogsService(ctx), interceptors=interceptors
        ),
        cluster_connect.ClusterServiceASGIApplication(
            svc.ClusterService(), interceptors=interceptors
        ),
        queue_service_connect.QueueServiceASGIApplication(
            svc.QueueService(ctx), interceptors=interceptors
        ),
        state_service_connect.StateServiceASGIApplication(
            svc.StateService(ctx), interceptors=interceptors
        ),
        actions_service_connect.ActionsServiceASGIApplication(
            svc.ActionsService(ctx), interceptors=interceptors
        ),
        task_service_connect.TaskServiceASGIApplication(
            svc.TaskService(ctx), interceptors=interceptors
        ),
        trigger_service_connect.TriggerServiceASGIApplication(
            svc.TriggerService(ctx), interceptors=interceptors
        ),
        project_service_connect.ProjectServiceASGIApplication(
            svc.ProjectService(ctx), interceptors=interceptors
        ),
        secret_connect.SecretServiceASGIApplication(
            SecretService(ctx.store), interceptors=interceptors
        ),
        auth_service_connect.AuthMetadataServiceASGIApplication(
            svc.AuthMetadataService(ctx), interceptors=interceptors
        ),
        identity_connect.IdentityServiceASGIApplication(
            svc.IdentityService(), interceptors=interceptors
        ),
    ]
    return {app.path.lstrip("/"): app for app in apps}
