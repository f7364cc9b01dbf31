"""The Dask task type: its configuration, its custom config, and its cluster at run time."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from flyte.extend import download_code_bundle, get_proto_resources
from flyte_models import (
    AsyncFunctionTaskTemplate,
    Resources,
    TaskPluginRegistry,
    current_task_context,
)

if TYPE_CHECKING:
    from distributed import Client

    from flyte_models import SerializationContext

__all__ = ["Dask", "DaskTask", "Scheduler", "WorkerGroup", "get_client"]

logger = logging.getLogger("flyteplugins.dask")

CLIENT_KEY = "dask_client"
"""Key of the task's `distributed.Client` in `flyte.ctx().data`."""

# The Dask operator sets this in the job runner pod; dask reads it as the `scheduler-address`.
SCHEDULER_ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
LOCAL_WORKERS_ENV = "FLYTE_DASK_LOCAL_MAX_WORKERS"


@dataclass
class Scheduler:
    """The scheduler pod of the task's Dask cluster.

    Args:
        image: The scheduler's image (default: the task's image). It needs `dask[distributed]`
            and the same Python environment as the task and the workers.
        resources: The scheduler pod's resources.
    """

    image: Optional[str] = None
    resources: Optional[Resources] = None

    def __post_init__(self) -> None:
        _check_common("Scheduler", self.image, self.resources)


@dataclass
class WorkerGroup:
    """The worker pods of the task's Dask cluster.

    Args:
        number_of_workers: How many workers (at least 1). Locally, at most as many as the
            machine has CPUs are started (`FLYTE_DASK_LOCAL_MAX_WORKERS` changes the cap).
        image: The workers' image (default: the task's image). It needs `dask[distributed]` and
            the same Python environment as the task and the scheduler.
        resources: Each worker pod's resources.
    """

    number_of_workers: Optional[int] = 1
    image: Optional[str] = None
    resources: Optional[Resources] = None

    def __post_init__(self) -> None:
        _check_common("WorkerGroup", self.image, self.resources)
        n = self.number_of_workers
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"WorkerGroup.number_of_workers must be an int >= 1, got {n!r}")


@dataclass
class Dask:
    """The `plugin_config` of a Dask task environment.

    Args:
        scheduler: The scheduler pod (default: `Scheduler()`).
        workers: The default worker group (default: `WorkerGroup()`, one worker).
    """

    scheduler: Scheduler = field(default_factory=Scheduler)
    workers: WorkerGroup = field(default_factory=WorkerGroup)

    def __post_init__(self) -> None:
        if not isinstance(self.scheduler, Scheduler):
            raise TypeError(f"Dask.scheduler must be a Scheduler, got {self.scheduler!r}")
        if not isinstance(self.workers, WorkerGroup):
            raise TypeError(f"Dask.workers must be a WorkerGroup, got {self.workers!r}")


def _check_common(owner: str, image: Any, resources: Any) -> None:
    if image is not None and not isinstance(image, str):
        raise TypeError(
            f"{owner}.image must be an image URI string or None, got {image!r}; for an "
            "flyte.Image spec use its URI, or leave it None to use the task's image"
        )
    if resources is not None and not isinstance(resources, Resources):
        raise TypeError(f"{owner}.resources must be a flyte.Resources, got {resources!r}")


# ---------------------------------------------------------------------------------------------
# Code bundle plugins: make the task's code importable in the cluster's processes
# ---------------------------------------------------------------------------------------------


def _scheduler_plugin_base() -> type:
    from distributed.diagnostics.plugin import SchedulerPlugin

    return SchedulerPlugin


def _worker_plugin_base() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class _BundleSetup:
    """Download the task's code bundle into a Dask process (scheduler or worker) once."""

    name = "flyte-code-bundle"

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle

    async def _download(self) -> None:
        sys.path.insert(0, ".")
        await download_code_bundle(self.bundle)


def _bundle_plugins(bundle: Any) -> tuple[Any, Any]:
    """A scheduler plugin and a worker plugin that fetch `bundle` (classes made lazily: dask
    is imported only when a Dask task runs)."""

    class SchedulerBundle(_BundleSetup, _scheduler_plugin_base()):  # type: ignore[misc]
        async def start(self, scheduler: Any) -> None:
            await self._download()

    class WorkerBundle(_BundleSetup, _worker_plugin_base()):  # type: ignore[misc]
        async def setup(self, worker: Any) -> None:
            await self._download()

    return SchedulerBundle(bundle), WorkerBundle(bundle)


# ---------------------------------------------------------------------------------------------
# The cluster of one task execution
# ---------------------------------------------------------------------------------------------


def _close_clients(address: Any, keep: Any = None) -> None:
    """Close every client of the scheduler at `address` (but `keep`).

    Clients the task made itself (`Client()`) and left open would outlive the task, and try to
    reconnect to a closed cluster.
    """
    from distributed import Client

    for client in list(getattr(Client, "_instances", ())):
        if client is keep or _address(client) != address:
            continue
        try:
            client.close()
        except Exception as e:  # pragma: no cover - closing must not fail the task
            logger.debug("closing a Dask client failed: %s", e)


def _address(client: Any) -> Any:
    try:
        return client.scheduler.address
    except Exception:
        return None


class _LocalCluster:
    """The LocalCluster of this process, shared by the Dask tasks running in it at a time.

    Started by the first of them, scaled up to the largest worker count asked for, and shut
    down (with every client of it) when the last one finishes.
    """

    _lock = threading.Lock()
    _cluster: Any = None
    _client: Any = None
    _users = 0
    _previous_address: Any = None

    @classmethod
    def acquire(cls, workers: int) -> Any:
        from distributed import Client, LocalCluster

        import dask

        with cls._lock:
            if cls._cluster is None:
                logger.info(
                    "No Dask scheduler is configured: starting a LocalCluster of %d", workers
                )
                # Threads in this process: no pickling of the task's closures to other
                # processes, a start in ~0.1 s, and `Client()` in the task connects to it.
                cls._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=False,
                    dashboard_address=None,
                    silence_logs=logging.WARNING,
                )
                cls._previous_address = dask.config.get("scheduler-address", None)
                dask.config.set({"scheduler-address": cls._cluster.scheduler_address})
                # The default client: `dask.compute()` in the task uses the cluster too.
                cls._client = Client(cls._cluster, set_as_default=True)
            elif len(cls._cluster.workers) < workers:
                cls._cluster.scale(workers)
                cls._client.wait_for_workers(workers, timeout=60)
            cls._users += 1
            return cls._client

    @classmethod
    def release(cls) -> None:
        import dask

        with cls._lock:
            cls._users -= 1
            if cls._users > 0:
                return
            cluster, client = cls._cluster, cls._client
            cls._cluster = cls._client = None
            try:
                _close_clients(cluster.scheduler_address, keep=client)
                client.close()
            finally:
                try:
                    cluster.close()
                finally:
                    dask.config.set({"scheduler-address": cls._previous_address})


class _Session:
    """The Dask cluster one task execution uses: the backend's, or the local one."""

    def __init__(self, client: Client, local: bool, previous_address: Any = None) -> None:
        self.client = client
        self.local = local
        self._previous_address = previous_address

    @classmethod
    def start(cls, config: Dask, bundle: Any, in_cluster: bool) -> _Session:
        from distributed import Client

        import dask

        address = os.environ.get(SCHEDULER_ADDRESS_ENV) or dask.config.get(
            "scheduler-address", None
        )
        if address and not _LocalCluster._users:
            previous = dask.config.get("scheduler-address", None)
            # `Client()` in the task connects here (dask reads the variable only at import).
            dask.config.set({"scheduler-address": address})
            client = Client(address)
            if in_cluster and bundle is not None and getattr(bundle, "tgz", None):
                scheduler_plugin, worker_plugin = _bundle_plugins(bundle)
                client.register_plugin(scheduler_plugin)
                client.register_plugin(worker_plugin)
            return cls(client, False, previous)
        cap = int(os.environ.get(LOCAL_WORKERS_ENV) or os.cpu_count() or 1)
        workers = max(1, min(config.workers.number_of_workers or 1, cap))
        return cls(_LocalCluster.acquire(workers), True)

    def close(self) -> None:
        if self.local:
            _LocalCluster.release()
            return
        import dask

        try:
            _close_clients(_address(self.client), keep=self.client)
            self.client.close()
        finally:
            dask.config.set({"scheduler-address": self._previous_address})


_SESSION: contextvars.ContextVar[Optional[_Session]] = contextvars.ContextVar(
    "flyteplugins_dask_session", default=None
)


def get_client() -> Client:
    """The `distributed.Client` of the running Dask task (`Client()` connects to the same cluster).

    Raises:
        RuntimeError: Outside a Dask task.
    """
    session = _SESSION.get()
    if session is None:
        tctx = current_task_context()
        client = tctx.data.get(CLIENT_KEY) if tctx is not None and tctx.data else None
        if client is not None:
            return client  # type: ignore[no-any-return]
        raise RuntimeError(
            "flyteplugins.dask.get_client() is only available while a Dask task runs (a task of "
            "an environment with plugin_config=Dask(...))"
        )
    return session.client


@dataclass(kw_only=True)
class DaskTask(AsyncFunctionTaskTemplate[Any, Any, Any]):
    """A task that runs with a Dask cluster (what environments with `plugin_config=Dask()` make).

    The custom config is the `flyteidl2.plugins.DaskJob` message the backend's Dask plugin reads.
    """

    plugin_config: Dask
    task_type: str = "dask"
    debuggable: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.plugin_config, Dask):
            raise TypeError(f"DaskTask.plugin_config must be a Dask, got {self.plugin_config!r}")

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        """The `DaskJob` message as a JSON dict (camelCase field names, defaults omitted)."""
        from flyteidl2.plugins.dask_pb2 import DaskJob, DaskScheduler, DaskWorkerGroup
        from google.protobuf.json_format import MessageToDict

        scheduler = self.plugin_config.scheduler
        workers = self.plugin_config.workers
        job = DaskJob(
            scheduler=DaskScheduler(
                image=scheduler.image, resources=get_proto_resources(scheduler.resources)
            ),
            workers=DaskWorkerGroup(
                number_of_workers=workers.number_of_workers,
                image=workers.image,
                resources=get_proto_resources(workers.resources),
            ),
        )
        return MessageToDict(job)

    async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Expose the task's client in `flyte.ctx().data["dask_client"]`."""
        session = _SESSION.get()
        return {CLIENT_KEY: session.client} if session is not None else {}

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Connect to (or start) the cluster, run the task, and close what was started."""
        tctx = current_task_context()
        bundle = tctx.code_bundle if tctx is not None else None
        in_cluster = bool(tctx is not None and tctx.is_in_cluster())
        session = await asyncio.to_thread(_Session.start, self.plugin_config, bundle, in_cluster)
        token = _SESSION.set(session)
        try:
            return await super().execute(*args, **kwargs)
        finally:
            _SESSION.reset(token)
            await asyncio.to_thread(session.close)


TaskPluginRegistry.register(Dask, DaskTask)
