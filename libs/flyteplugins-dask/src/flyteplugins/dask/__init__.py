"""Dask for Flyte: a task that runs with a Dask cluster next to it.

```python
from distributed import Client
from flyteplugins.dask import Dask, Scheduler, WorkerGroup

env = flyte.TaskEnvironment(
    name="dask_env", plugin_config=Dask(workers=WorkerGroup(number_of_workers=4))
)

@env.task
def total(n: int) -> int:
    client = Client()  # connects to the task's cluster
    return sum(client.gather(client.map(lambda x: x + 1, range(n))))
```

On a Flyte cluster with the Dask plugin the backend starts the scheduler and the workers (the
task's custom config says how many, with which image and resources). Anywhere else (a local run,
or a worker with no Dask operator, such as the devbox) the task starts a `LocalCluster` in its
own process for the duration of the task.
"""

from flyteplugins.dask._task import (
    Dask,
    DaskTask,
    Scheduler,
    WorkerGroup,
    get_client,
)
from flyteplugins.dask._version import __version__

__all__ = ["Dask", "DaskTask", "Scheduler", "WorkerGroup", "__version__", "get_client"]
