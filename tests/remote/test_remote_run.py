"""Remote runs from the SDK against our devbox: `flyte.init(endpoint=...)`, `flyte.run`,
`flyte.with_runcontext(...)`, `flyte.deploy`, `flyte.rerun`, and the errors users meet.

Tasks come from the reference SDK's acceptance examples (copied into a fresh source root and
imported, as a user's script would be) or from small modules written here. Every run goes the
whole way: code bundle upload, UploadInputs, CreateRun, our a0 in a subprocess, outputs read back.
Runs whose tasks call other tasks need the remote controller in our a0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import flyte
import flyte.errors
from flyte_devbox import Devbox

pytestmark = pytest.mark.integration

Load = Callable[..., ModuleType]

LEAF = """
import flyte

env = flyte.TaskEnvironment(name="leaf_env")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
def greet(name: str, punct: str = "!") -> str:
    return f"hello {name}{punct}"


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")


@env.task
def env_var(name: str) -> str:
    import os

    return os.environ.get(name, "<unset>")
"""

FANOUT = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="fanout_env")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def fanout(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))
"""

DATA = """
from dataclasses import dataclass

import pandas as pd
import flyte
from flyte.io import DataFrame, Dir, File

env = flyte.TaskEnvironment(name="data_env")


@dataclass
class Point:
    x: int
    y: int


@env.task
async def shift(p: Point, dx: int) -> Point:
    return Point(p.x + dx, p.y)


@env.task
async def write_file(text: str) -> File:
    f = File.new_remote()
    async with f.open("wb") as fh:
        await fh.write(text.encode())
    return f


@env.task
async def read_file(f: File) -> str:
    async with f.open("rb") as fh:
        return (await fh.read()).decode()


@env.task
async def make_dir(n: int) -> Dir:
    import os, tempfile

    d = tempfile.mkdtemp()
    for i in range(n):
        with open(os.path.join(d, f"f{i}.txt"), "w") as fh:
            fh.write(str(i))
    return await Dir.from_local(d)


@env.task
async def count_files(d: Dir) -> int:
    return len([f async for f in d.walk()])


@env.task
async def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"i": list(range(n)), "sq": [i * i for i in range(n)]})
"""


def outputs(run: Any) -> Any:
    run.wait()
    return run.outputs()


def test_leaf_task_runs_remotely(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    run = flyte.run(mod.square, x=7)
    assert run.name and run.url
    assert outputs(run)[0] == 49
    run = flyte.with_runcontext(mode="remote").run(mod.greet, name="flyte")
    assert outputs(run)[0] == "hello flyte!"


def test_reference_example_hello_leaf(remote: Devbox, load: Load) -> None:
    mod = load("ex_hello", example="basics/hello.py")
    assert outputs(flyte.run(mod.fn, x=3))[0] == 11


def test_reference_example_simple_types(remote: Devbox, load: Load) -> None:
    from datetime import datetime, timedelta

    mod = load("ex_simple_types", example="basics/types/simple_types.py")
    run = flyte.run(
        mod.main,
        str="s",
        int=1,
        float=2.5,
        bool=True,
        start_time=datetime(2024, 1, 2, 3, 4, 5),
        duration=timedelta(seconds=90),
    )
    out = outputs(run)[0]
    assert "s" in out and "2.5" in out


def test_reference_example_pydantic_input_and_output(remote: Devbox, load: Load) -> None:
    mod = load("ex_pydantic", example="basics/pydantic_models.py")
    cfg = mod.BatchConfig(name="t", max_lines_per_batch=2)
    result = outputs(
        flyte.run(mod.process_data, input_lines=["a", "b", "c", "d"], batch_config=cfg)
    )[0]
    assert result.total_lines == 4
    assert result.batches_created == 2
    assert result.config_used.name == "t"


def test_dataclass_file_dir_dataframe(remote: Devbox, load: Load) -> None:
    mod = load("data_tasks", DATA)
    p = outputs(flyte.run(mod.shift, p=mod.Point(1, 2), dx=10))[0]
    assert (p.x, p.y) == (11, 2)
    f = outputs(flyte.run(mod.write_file, text="payload"))[0]
    assert outputs(flyte.run(mod.read_file, f=f))[0] == "payload"
    d = outputs(flyte.run(mod.make_dir, n=3))[0]
    assert outputs(flyte.run(mod.count_files, d=d))[0] == 3
    df = outputs(flyte.run(mod.frame, n=4))[0]
    import pandas as pd

    if not isinstance(df, pd.DataFrame):  # a remote output is a flyte.io.DataFrame reference
        df = df.open(pd.DataFrame).all_sync()
    assert list(df["sq"]) == [0, 1, 4, 9]


def test_user_error_fails_the_run_with_its_message(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    run = flyte.run(mod.fails, x=3)
    run.wait()
    assert run.phase.value == "failed"
    with pytest.raises(flyte.errors.RuntimeUserError, match="x=3 is not welcome"):
        run.outputs()


def test_run_context_name_env_vars_labels(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    name = f"named-{int(time.time() * 1000) % 10**8}"
    run = flyte.with_runcontext(
        name=name, env_vars={"MY_SETTING": "on"}, labels={"team": "a"}, annotations={"k": "v"}
    ).run(mod.env_var, name="MY_SETTING")
    assert run.name == name
    assert outputs(run)[0] == "on"
    # The name is taken now: a second run with it is refused with a clear error.
    with pytest.raises(flyte.errors.RuntimeUserError, match="already exists"):
        flyte.with_runcontext(name=name).run(mod.square, x=1)


def test_pickled_task_copy_style_none(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    run = flyte.with_runcontext(copy_style="none").run(mod.square, x=5)
    assert outputs(run)[0] == 25


def test_dry_run_builds_the_spec_without_submitting(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    run = flyte.with_runcontext(dry_run=True, version="v-dry").run(mod.square, x=2)
    spec = run.task_spec  # type: ignore[attr-defined]
    args = list(spec.task_template.container.args)
    assert args[0] == "a0" and "--tgz" in args
    assert args[-4:] == ["mod", "leaf_tasks", "instance", "square"]
    assert spec.task_template.id.version == "v-dry"


def test_fanout_with_asyncio_gather(remote: Devbox, load: Load) -> None:
    """Needs the remote controller in our a0 (nested task calls)."""
    mod = load("fanout_tasks", FANOUT)
    assert outputs(flyte.run(mod.fanout, n=4))[0] == [0, 1, 4, 9]


def test_reference_example_hello_main_with_map(remote: Devbox, load: Load) -> None:
    """Needs the remote controller in our a0 (`flyte.map` over a task)."""
    mod = load("ex_hello", example="basics/hello.py")
    assert outputs(flyte.run(mod.main, x_list=list(range(10))))[0] == 14.0


def test_deploy_then_run_by_name(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    deployments = flyte.deploy(mod.env, version="v1")
    assert len(deployments) == 1
    names = {t.get_name() for t in deployments[0].tasks}
    assert "leaf_env.square" in names and "leaf_env.greet" in names
    assert "leaf_env.square" in deployments[0].summary_repr()

    task = flyte.remote.Task.get("leaf_env.square", version="v1")
    assert outputs(flyte.run(task, x=6))[0] == 36
    latest = flyte.remote.Task.get("leaf_env.greet", auto_version="latest")
    assert outputs(flyte.run(latest, name="x", punct="?"))[0] == "hello x?"


def test_deploy_dry_run_registers_nothing(remote: Devbox, load: Load) -> None:
    mod = load("fanout_tasks", FANOUT)
    (dep,) = flyte.deploy(mod.env, dryrun=True)
    assert {t.get_name() for t in dep.tasks} == {"fanout_env.square", "fanout_env.fanout"}
    with pytest.raises(Exception, match="fanout_env.fanout"):
        flyte.remote.Task.get("fanout_env.fanout", auto_version="latest").fetch()


def test_rerun_with_changed_input(remote: Devbox, load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    first = flyte.run(mod.greet, name="a")
    assert outputs(first)[0] == "hello a!"
    again = flyte.rerun(first.name, punct="?")
    assert again.name != first.name
    assert outputs(again)[0] == "hello a?"
    named = flyte.with_runcontext(name=f"rerun-{int(time.time() * 1000) % 10**8}").rerun(
        first.name, name="b"
    )
    assert named.name.startswith("rerun-")
    assert outputs(named)[0] == "hello b!"


def test_unknown_mode_and_uninitialised_remote_are_clear(load: Load) -> None:
    mod = load("leaf_tasks", LEAF)
    flyte.init()
    with pytest.raises(flyte.errors.InitializationError, match="flyte.init"):
        flyte.with_runcontext(mode="remote").run(mod.square, x=1)


def test_devbox_down_at_run_gives_a_clear_error_quickly(
    tmp_path: Any, load: Load, src_root: Any, make_devbox_config: Any
) -> None:
    box = Devbox(make_devbox_config(tmp_path / "gone")).start()
    endpoint = box.endpoint
    box.stop()
    mod = load("leaf_tasks", LEAF)
    flyte.init(endpoint=endpoint, insecure=True, project="p", domain="d", root_dir=src_root)
    started = time.monotonic()
    try:
        with pytest.raises(flyte.errors.BaseRuntimeError) as info:
            flyte.run(mod.square, x=1)
    finally:
        flyte.init()
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert endpoint.replace("dns:///", "") in message, message
    assert "devbox" in message or "endpoint" in message, message
    assert elapsed < 30, f"took {elapsed:.1f}s"


SCRIPT = """
import sys

import flyte

env = flyte.TaskEnvironment(name="script_env")


@env.task
def double(x: int) -> int:
    return 2 * x


if __name__ == "__main__":
    flyte.init(endpoint=sys.argv[1], insecure=True, project="flytesnacks", domain="development")
    run = flyte.run(double, x=21)
    print("URL", run.url)
    run.wait()
    print("OUT", run.outputs()[0])
"""


def test_a_script_submits_its_own_task(devbox: Devbox, src_root: Any) -> None:
    """The everyday flow: `python script.py` in the project directory runs a task remotely; the
    task is defined in `__main__` and found again in the worker by its file name."""
    import os
    import subprocess
    import sys

    (src_root / "my_script.py").write_text(SCRIPT)
    # Absolute: under Pants the source roots on sys.path are relative to the sandbox.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}
    proc = subprocess.run(
        [sys.executable, "my_script.py", devbox.endpoint],
        cwd=src_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "OUT 42" in proc.stdout, proc.stdout + proc.stderr[-2000:]


TWO_ENVS = """
import flyte

base = flyte.TaskEnvironment(name="two_base")
top = flyte.TaskEnvironment(name="two_top", depends_on=[base])


@base.task
async def inc(x: int) -> int:
    return x + 1


@top.task
async def twice_inc(x: int) -> int:
    return await inc(await inc(x))
"""


def test_deploy_closure_over_depends_on_then_run_nested(remote: Devbox, load: Load) -> None:
    """Deploys both environments; running the top task calls into the other environment
    (needs the remote controller in our a0)."""
    mod = load("two_envs", TWO_ENVS)
    (dep,) = flyte.deploy(mod.top)
    assert set(dep.envs) == {"two_top", "two_base"}
    version = dep.tasks[0].version
    assert all(t.version == version for t in dep.tasks)
    base_task = flyte.remote.Task.get("two_base.inc", version=version)
    assert outputs(flyte.run(base_task, x=1))[0] == 2
    top_task = flyte.remote.Task.get("two_top.twice_inc", auto_version="latest")
    assert outputs(flyte.run(top_task, x=1))[0] == 3
