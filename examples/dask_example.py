"""A task with a Dask cluster.

`pip install flyteplugins-dask`, then `python examples/dask_example.py`.

On a Flyte cluster the backend starts the scheduler and 2 workers for the task; locally (and on a
devbox) the task starts a Dask LocalCluster in its own process and shuts it down afterwards.
"""

import dask.array as da
from distributed import Client
from flyteplugins.dask import Dask, Scheduler, WorkerGroup

import flyte

dask_env = flyte.TaskEnvironment(
    name="dask_example",
    plugin_config=Dask(scheduler=Scheduler(), workers=WorkerGroup(number_of_workers=2)),
    resources=flyte.Resources(cpu=1, memory="1Gi"),
)


@dask_env.task
def sum_of_squares(n: int) -> str:
    client = Client()  # connects to the task's cluster
    squares = client.map(lambda x: x * x, range(n))
    total = client.submit(sum, squares).result()
    workers = len(client.scheduler_info()["workers"])
    # Dask collections use the same cluster.
    assert int((da.arange(n, chunks=10) ** 2).sum().compute()) == total
    return f"sum of squares of 0..{n - 1}: {total} (Dask, {workers} workers)"


def main() -> str:
    return flyte.run(sum_of_squares, n=100).outputs()[0]


if __name__ == "__main__":
    print(main())
