"""Gaps found by running the reference SDK's examples against our devbox in remote mode
(benchmarks/compat/REMOTE_SWEEP.md), each pinned by the behaviour the example relies on.

* `File.from_local` / `Dir.from_local` of a file the task wrote into its working directory:
  the devbox's blob store is a local disk, and the attempt's working directory is removed
  when it ends, so the data must be copied under the raw data path
  (basics/dataclass_examples.py).
* `flyte.with_runcontext(preserve_original_types=True)`: a run's `pandas.DataFrame` output
  comes back as a `pandas.DataFrame`, not a `flyte.io.DataFrame` reference
  (basics/dataframe_usage.py, basics/dataframes/dataframe_inputs.py).
* `Run.get_debug_url()` exists and is None when the backend reports no debugger
  (basics/debug.py).
* A task with a pod template (a `k8s_pod` target) runs in its primary container
  (advanced/abort_callback.py).
* `Run.get_report()` / `Action.get_report()` download an action's HTML report
  (remote_management/get_report.py).
* `flyte.rerun(run, recover=True, force_rerun_actions=[...])` submits a run whose
  `RunSpec.relation` is RECOVER (RERUN without `recover`) pointing at the source run
  (rerun/rerun_and_recover.py, rerun/rerun_single_action.py).
* `flyte.remote.Condition`: list a run's conditions (the devbox filters `ListActions` on
  `action_type`), read their name, phase and type, and signal them
  (advanced/conditions.py, chained_conditions.py, cancel_signal.py; creating conditions from
  a task, `flyte.new_condition`, is still missing).
* `TaskEnvironment(include=(...))` ships the named files in the code bundle
  (reports/html_template_report.py).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import flyte
from flyte_devbox import Devbox

pytestmark = pytest.mark.integration

Load = Callable[..., ModuleType]

SCRATCH = """
import os
from dataclasses import dataclass
from datetime import timedelta

import flyte
from flyte.io import Dir, File

env = flyte.TaskEnvironment(name="scratch_env")


@dataclass
class Result:
    rows: int
    results_file: File


@env.task
async def write_csv(n: int) -> Result:
    with open("predictions.csv", "w") as fh:  # the attempt's working directory
        fh.write("prediction\\n" + "".join(f"{i}\\n" for i in range(n)))
    return Result(rows=n, results_file=await File.from_local("predictions.csv"))


@env.task
async def write_dir(n: int) -> Dir:
    os.makedirs("out", exist_ok=True)
    for i in range(n):
        with open(os.path.join("out", f"{i}.txt"), "w") as fh:
            fh.write(str(i))
    return await Dir.from_local("out")


@env.task
async def count_lines(r: Result) -> int:
    async with r.results_file.open("rb") as fh:
        return len((await fh.read()).decode().splitlines())


@env.task
async def pipeline(n: int) -> int:
    return await count_lines(await write_csv(n))


@env.task
async def count_dir(n: int) -> int:
    d = await write_dir(n)
    return len([f async for f in d.walk()])


pod_env = flyte.TaskEnvironment(
    name="pod_env",
    pod_template=flyte.PodTemplate().with_termination_grace_period(timedelta(minutes=1)),
)


@pod_env.task
async def in_pod(x: int) -> str:
    return f"{x}:{os.environ.get('ACTION_NAME', '?')}"
"""

FRAMES = """
import pandas as pd

import flyte

env = flyte.TaskEnvironment(name="frames_env")


@env.task
async def make(n: int) -> pd.DataFrame:
    return pd.DataFrame({"i": list(range(n))})
"""


INCLUDES = """
from pathlib import Path

import flyte

env = flyte.TaskEnvironment(name="include_env", include=("template.html", "assets"))


@env.task
async def render(name: str) -> str:
    here = Path(__file__).parent
    body = (here / "template.html").read_text().replace("{name}", name)
    return body + (here / "assets" / "style.css").read_text()
"""


REPORTS = """
import flyte
import flyte.report

env = flyte.TaskEnvironment(name="report_env")


@env.task(report=True)
async def child(name: str) -> str:
    flyte.report.log(f"<p>child of {name}</p>", do_flush=True)
    return name


@env.task(report=True)
async def parent(name: str) -> str:
    flyte.report.get_tab("Greeting").log(f"<h1>Hello, {name}!</h1>")
    await flyte.report.flush.aio()
    return await child(name)


@env.task
async def plain() -> int:
    return 1
"""


SLEEPER = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="sleeper_env")


@env.task
async def sleeper(s: float) -> int:
    await asyncio.sleep(s)
    return 1
"""


def _outputs(run: Any) -> Any:
    run.wait()
    assert run.phase.value == "succeeded", run.phase
    return run.outputs()


def test_file_written_in_the_working_directory_outlives_the_attempt(
    remote: Devbox, load: Load
) -> None:
    mod = load("scratch_tasks", SCRATCH)
    assert _outputs(flyte.run(mod.pipeline, n=4))[0] == 5
    # The root's own output too: read after the attempt (and its directory) is gone.
    result = _outputs(flyte.run(mod.write_csv, n=2))[0]
    assert "/work/" not in result.results_file.path
    with open(result.results_file.path) as fh:
        assert fh.read().splitlines() == ["prediction", "0", "1"]
    assert _outputs(flyte.run(mod.count_dir, n=3))[0] == 3


def test_pod_template_task_runs_in_its_primary_container(remote: Devbox, load: Load) -> None:
    mod = load("scratch_tasks", SCRATCH)
    assert _outputs(flyte.run(mod.in_pod, x=3))[0] == "3:a0"


def test_preserve_original_types_returns_the_dataframe_class(remote: Devbox, load: Load) -> None:
    pd = pytest.importorskip("pandas")
    mod = load("frames_tasks", FRAMES)
    kept = _outputs(flyte.with_runcontext(preserve_original_types=True).run(mod.make, n=3))[0]
    assert isinstance(kept, pd.DataFrame) and list(kept["i"]) == [0, 1, 2]
    ref = _outputs(flyte.with_runcontext(preserve_original_types=False).run(mod.make, n=3))[0]
    assert isinstance(ref, flyte.io.DataFrame)


def test_debug_url_is_none_without_a_debugger(remote: Devbox, load: Load) -> None:
    mod = load("frames_tasks", FRAMES)
    run = flyte.with_runcontext(debug=True).run(mod.make, n=1)
    assert run.get_debug_url() is None  # the devbox reports no IDE link; returns once done
    assert run.phase.value == "succeeded"


def test_environment_include_files_are_shipped(remote: Devbox, load: Load, src_root: Any) -> None:
    (src_root / "template.html").write_text("<p>{name}</p>")
    (src_root / "assets").mkdir()
    (src_root / "assets" / "style.css").write_text("p{}")
    mod = load("include_tasks", INCLUDES)
    assert _outputs(flyte.run(mod.render, name="x"))[0] == "<p>x</p>p{}"


def test_run_and_action_reports(remote: Devbox, load: Load) -> None:
    import flyte.remote as remote_api

    mod = load("report_tasks", REPORTS)
    run = flyte.run(mod.parent, name="world")
    _outputs(run)
    assert "<h1>Hello, world!</h1>" in run.get_report()
    children = [a for a in remote_api.Action.listall(for_run_name=run.name) if a.name != "a0"]
    assert len(children) == 1
    assert "child of world" in children[0].get_report()
    no_report = flyte.run(mod.plain)
    _outputs(no_report)
    with pytest.raises(RuntimeError, match="No report is available"):
        no_report.get_report()


def test_rerun_records_its_relation_and_recover(remote: Devbox, load: Load) -> None:
    from flyteidl2.common import run_pb2 as common_run_pb2

    import flyte.remote as remote_api

    mod = load("frames_tasks", FRAMES)
    first = flyte.run(mod.make, n=2)
    _outputs(first)

    def spec_of(run: Any) -> Any:
        return remote_api.Run.get(run.name).details().pb2.run_spec

    plain = flyte.rerun(first.name)
    _outputs(plain)
    rel = spec_of(plain).relation
    assert rel.relation_type == common_run_pb2.RELATION_TYPE_RERUN
    assert rel.related_to.name == first.name
    recovered = flyte.rerun(plain.name, recover=True, force_rerun_actions=["x1"], n=3)
    _outputs(recovered)  # the devbox has no recovery: it runs everything again
    spec = spec_of(recovered)
    assert spec.relation.relation_type == common_run_pb2.RELATION_TYPE_RECOVER
    assert spec.relation.related_to.name == plain.name  # its own source, not the first run
    assert list(spec.recover.force_rerun_actions) == ["x1"]
    with pytest.raises(ValueError, match="force_rerun_actions requires recover=True"):
        flyte.rerun(first.name, force_rerun_actions=["x1"])
    with pytest.raises(ValueError, match="cannot be combined with action_name"):
        flyte.rerun(first.name, action_name="c1", recover=True)


async def test_remote_condition_list_get_and_signal(remote: Devbox, load: Load) -> None:
    from flyteidl2.core import types_pb2
    from flyteidl2.workflow import queue_service_pb2, run_definition_pb2, run_service_pb2
    from flyteidl2.workflow.queue_service_connect import QueueServiceClient
    from flyteidl2.workflow.run_service_connect import RunServiceClient

    import flyte.remote as remote_api

    mod = load("sleeper_tasks", SLEEPER)
    run = await flyte.run.aio(mod.sleeper, s=60.0)
    try:
        await run.wait.aio(quiet=True, wait_for="running")
        root = run.action.pb2.id
        base = remote.url
        async with QueueServiceClient(base) as queue:
            for name, simple in (("approve", types_pb2.BOOLEAN), ("size", types_pb2.INTEGER)):
                child = type(root)(run=root.run, name=f"cond-{name}")
                await queue.enqueue_action(
                    queue_service_pb2.EnqueueActionRequest(
                        action_id=child,
                        parent_action_name="a0",
                        input_uri="/dev/null",
                        run_output_base="/tmp",
                        condition=run_definition_pb2.ConditionAction(
                            name=name,
                            prompt=f"{name}?",
                            type=types_pb2.LiteralType(simple=simple),
                        ),
                    )
                )
        conds = [c async for c in remote_api.Condition.listall.aio(run_name=run.name)]
        assert sorted(c.name for c in conds) == ["approve", "size"]
        assert all(c.phase == "ACTION_PHASE_PAUSED" and c.parent == "a0" for c in conds)
        assert {c.name: c.expected_type for c in conds} == {"approve": bool, "size": int}
        assert [c async for c in remote_api.Condition.listall.aio(run.name, "nobody")] == []
        size = await remote_api.Condition.get.aio("size", run_name=run.name)
        assert size is not None and size.action_name == "cond-size"
        assert await remote_api.Condition.get.aio("missing", run_name=run.name) is None
        with pytest.raises(TypeError, match="bool, int, float or str"):
            await size.signal.aio([1])
        await size.signal.aio(7)
        async with RunServiceClient(base) as runs:
            details = await runs.get_action_details(
                run_service_pb2.GetActionDetailsRequest(action_id=size.pb2.id)
            )
        assert details.details.signal_info.output.scalar.primitive.integer == 7
    finally:
        await run.abort.aio()


LOCAL_INPUTS = """
import flyte
from flyte.io import Dir, File

env = flyte.TaskEnvironment(name="local_inputs_env")


@env.task
async def read_all(f: File, d: Dir, fs: list[File]) -> str:
    async with f.open("rb") as fh:
        first = (await fh.read()).decode()
    names = sorted([entry.name async for entry in d.walk()])
    rest = []
    for g in fs:
        async with g.open("rb") as fh:
            rest.append((await fh.read()).decode())
    return "|".join([first, ",".join(names), *rest])
"""


def test_local_files_and_dirs_given_as_inputs_are_uploaded(
    remote: Devbox, load: Load, tmp_path: Any
) -> None:
    """A remote run's task runs elsewhere: local paths in its inputs are uploaded through the
    data proxy first, and the task reads the uploaded copies (the originals are gone)."""
    from flyte.io import Dir, File

    mod = load("local_inputs_tasks", LOCAL_INPUTS)
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "two.txt").write_text("two")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "d" / "b.txt").write_text("b")
    one = File.from_local_sync(str(tmp_path / "one.txt"))
    run = flyte.run(
        mod.read_all,
        f=one,
        d=Dir.from_local_sync(str(tmp_path / "d")),
        fs=[one, File.from_local_sync(str(tmp_path / "two.txt"))],
    )
    for p in ("one.txt", "two.txt", "d/a.txt", "d/b.txt"):
        (tmp_path / p).unlink()  # the task must read the uploaded copies
    assert _outputs(run)[0] == "one|a.txt,b.txt|one|two"
    inputs = run.inputs()
    assert str(tmp_path) not in inputs["f"].path and str(tmp_path) not in inputs["d"].path
    assert inputs["fs"][0].path == inputs["f"].path  # one path, uploaded once

    with pytest.raises(FileNotFoundError, match="does not exist"):
        flyte.run(mod.read_all, f=one, d=Dir(path=str(tmp_path / "gone")), fs=[])
