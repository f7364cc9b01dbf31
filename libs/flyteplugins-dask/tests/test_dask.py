"""The Dask plugin: its custom config is the backend's DaskJob, and locally its tasks compute real
Dask graphs on a LocalCluster the task starts and shuts down."""

from __future__ import annotations

import asyncio
import pathlib

import dask
import pytest
from distributed import Client
from flyteidl2.plugins import dask_pb2
from flyteplugins.dask import Dask, DaskTask, Scheduler, WorkerGroup, get_client
from google.protobuf.json_format import ParseDict

import flyte
from flyte_models import SerializationContext

SCTX = SerializationContext(project="p", domain="d", version="v1", root_dir=pathlib.Path.cwd())

env = flyte.TaskEnvironment(
    name="dask_tests", plugin_config=Dask(workers=WorkerGroup(number_of_workers=2))
)
SEEN: dict[str, object] = {}


@env.task
def incr_sum(n: int) -> int:
    client = Client()  # as on a cluster: connects to the task's scheduler
    SEEN["address"] = client.scheduler.address
    SEEN["workers"] = len(client.scheduler_info()["workers"])
    return sum(client.gather(client.map(lambda x: x + 1, range(n))))


@env.task
async def array_mean(n: int) -> float:
    import dask.array as da

    assert flyte.ctx().data["dask_client"] is get_client()
    x = da.arange(n * n, chunks=n).reshape((n, n))
    return float(x.mean().compute())


@env.task
def fails(n: int) -> int:
    SEEN["failing_address"] = get_client().scheduler.address
    raise ValueError(f"bad {n}")


@env.task
def graph(n: int) -> int:
    @dask.delayed
    def square(x: int) -> int:
        return x * x

    total = dask.delayed(sum)([square(i) for i in range(n)])
    return int(total.compute())


def test_the_config_selects_the_dask_task_type() -> None:
    assert isinstance(incr_sum, DaskTask) and incr_sum.task_type == "dask"
    assert incr_sum.custom_config(SCTX) == {"scheduler": {}, "workers": {"numberOfWorkers": 2}}


def test_custom_config_is_the_backend_daskjob() -> None:
    config = Dask(
        scheduler=Scheduler(
            image="scheduler:latest",
            resources=flyte.Resources(cpu=("1", "2"), memory=("1Gi", "2Gi")),
        ),
        workers=WorkerGroup(
            number_of_workers=8,
            image="workers:latest",
            resources=flyte.Resources(cpu="2", memory="4Gi", gpu=1),
        ),
    )
    task = env.clone_with("dask_full", plugin_config=config).task(lambda: None)
    custom = task.custom_config(SCTX)
    assert custom == {
        "scheduler": {
            "image": "scheduler:latest",
            "resources": {
                "requests": [{"name": "CPU", "value": "1"}, {"name": "MEMORY", "value": "1Gi"}],
                "limits": [{"name": "CPU", "value": "2"}, {"name": "MEMORY", "value": "2Gi"}],
            },
        },
        "workers": {
            "numberOfWorkers": 8,
            "image": "workers:latest",
            "resources": {
                "requests": [
                    {"name": "CPU", "value": "2"},
                    {"name": "MEMORY", "value": "4Gi"},
                    {"name": "GPU", "value": "1"},
                ]
            },
        },
    }
    # It parses back into the flyteidl2 message the backend's Dask plugin unmarshals.
    job = ParseDict(custom, dask_pb2.DaskJob())
    assert job.workers.number_of_workers == 8 and job.scheduler.image == "scheduler:latest"


def test_a_dask_graph_runs_on_a_local_cluster_the_task_owns() -> None:
    assert flyte.run(incr_sum, n=10).outputs()[0] == 55
    assert SEEN["workers"] == min(2, __import__("os").cpu_count() or 1)
    # The cluster is gone after the task, and `Client()` no longer points at it.
    assert dask.config.get("scheduler-address", None) is None
    with pytest.raises(OSError):
        Client(SEEN["address"], timeout="1s")


def test_async_task_and_dask_arrays() -> None:
    assert flyte.run(array_mean, n=20).outputs()[0] == pytest.approx(199.5)


def test_dask_delayed_uses_the_cluster() -> None:
    assert flyte.run(graph, n=10).outputs()[0] == 285


def test_the_cluster_is_shut_down_when_the_task_fails() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="bad 3"):
        flyte.run(fails, n=3)
    with pytest.raises(OSError):
        Client(SEEN["failing_address"], timeout="1s")
    assert dask.config.get("scheduler-address", None) is None


def test_an_existing_scheduler_is_used_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        assert flyte.run(incr_sum, n=4).outputs()[0] == 10
        assert SEEN["address"] == cluster.scheduler_address and SEEN["workers"] == 1
        # The task did not own that cluster: it still runs.
        with Client(cluster.scheduler_address) as client:
            assert client.submit(lambda: 41 + 1).result() == 42


def test_get_client_outside_a_dask_task() -> None:
    with pytest.raises(RuntimeError, match="only available while a Dask task runs"):
        get_client()


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match="number_of_workers must be an int >= 1, got 0"):
        WorkerGroup(number_of_workers=0)
    with pytest.raises(TypeError, match="Scheduler.image must be an image URI string"):
        Scheduler(image=flyte.Image.from_debian_base())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Dask.workers must be a WorkerGroup"):
        Dask(workers=3)  # type: ignore[arg-type]


def test_two_tasks_in_one_run_each_get_a_cluster() -> None:
    @env.task
    async def both(n: int) -> int:
        a, b = await asyncio.gather(array_mean.aio(n), graph.aio(n))
        return int(a) + b

    assert flyte.run(both, n=4).outputs()[0] == 7 + 14


def test_example(tmp_path: pathlib.Path) -> None:
    import runpy

    here = pathlib.Path(__file__).resolve()
    for root in (pathlib.Path.cwd(), *here.parents):
        script = root / "examples" / "dask_example.py"
        if script.is_file():
            break
    else:
        pytest.fail("examples/dask_example.py not found")
    result = runpy.run_path(str(script), run_name="dask_example")
    assert result["main"]() == "sum of squares of 0..99: 328350 (Dask, 2 workers)"
