"""A Dask task runs through our devbox and our a0: the spec carries the DaskJob custom config, and
a0, with no Dask operator around, runs the task on a LocalCluster it starts and shuts down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flyteplugins.dask  # noqa: F401 - the plugin the bundle's module uses
import pytest
from flyteidl2.common import phase_pb2
from flyteidl2.plugins import dask_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from google.protobuf.json_format import MessageToDict, ParseDict
from plugins.devbox_helpers import plugin_devbox, run_spec, spec_of, upload_module
from support.devbox_runs import task_module

from flyte_devbox import Devbox

MODULE = "dask_devbox_tasks"
TASKS = """
import dask.array as da
from distributed import Client
from flyteplugins.dask import Dask, WorkerGroup

import flyte

env = flyte.TaskEnvironment(
    name="dask_devbox", plugin_config=Dask(workers=WorkerGroup(number_of_workers=2))
)


@env.task
def squares(n: int) -> str:
    client = Client()
    total = sum(client.gather(client.map(lambda x: x * x, range(n))))
    arr = int((da.arange(n, chunks=5) ** 2).sum().compute())
    workers = len(client.scheduler_info()["workers"])
    return f"{total} {arr} {workers} {client.scheduler.address.split(':')[0]}"
"""


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    with task_module(tmp_path / "src", MODULE, TASKS) as mod:
        yield tmp_path / "src", mod


@pytest.fixture
def devbox(tmp_path: Path) -> Iterator[Devbox]:
    with plugin_devbox(tmp_path / "state", FLYTE_DASK_LOCAL_MAX_WORKERS="2") as dbx:
        yield dbx


async def test_dask_task_runs_on_the_devbox(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    root, mod = source
    spec = spec_of(mod.squares, await upload_module(devbox, root, MODULE), root)
    template = spec.task_template
    assert template.type == "dask"
    custom = MessageToDict(template.custom)
    assert custom == {"scheduler": {}, "workers": {"numberOfWorkers": 2}}
    assert ParseDict(custom, dask_pb2.DaskJob()).workers.number_of_workers == 2

    details, out = await run_spec(runs, spec, mod.squares, n=20)
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info
    # 0^2 + ... + 19^2 = 2470, by client.map and by dask.array, on the in-process LocalCluster
    # (no Dask operator in a devbox) with min(2, cap 2) workers.
    assert out == "2470 2470 2 inproc"
