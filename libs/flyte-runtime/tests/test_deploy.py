"""`flyte.deploy`: the `depends_on` closure, dry runs (specs, triggers) without a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte
from flyte_runtime import _deploy


@pytest.fixture(autouse=True)
def back_to_local() -> Iterator[None]:
    yield
    flyte.init()


def test_plan_follows_depends_on_once() -> None:
    base = flyte.TaskEnvironment(name="dep_base")
    mid = flyte.TaskEnvironment(name="dep_mid", depends_on=[base])
    top = flyte.TaskEnvironment(name="dep_top", depends_on=[mid, base])
    plans = _deploy.plan_deploy(top, base)
    assert len(plans) == 1
    assert set(plans[0]) == {"dep_base", "dep_mid", "dep_top"}
    other = flyte.TaskEnvironment(name="dep_base")
    with pytest.raises(ValueError, match="dep_base"):
        _deploy.plan_deploy(top, other)
    with pytest.raises(TypeError, match="environments"):
        _deploy.plan_deploy("not an env")  # type: ignore[arg-type]


def test_dry_run_deploy_builds_specs_and_triggers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import sys

    (tmp_path / "deploy_mod.py").write_text(
        "import flyte\n"
        "from datetime import datetime\n"
        "env = flyte.TaskEnvironment(name='deploy_env', image='registry/img:1')\n"
        "@env.task(triggers=[flyte.Trigger('hourly', flyte.Cron('0 * * * *'),"
        " inputs={'when': flyte.TriggerTime, 'n': 3})])\n"
        "async def work(when: datetime, n: int) -> int:\n"
        "    return n\n"
        "@env.task\n"
        "async def other(x: int) -> int:\n"
        "    return x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("deploy_mod", None)
    mod = importlib.import_module("deploy_mod")
    flyte.init(project="p", domain="d", root_dir=tmp_path)
    (dep,) = flyte.deploy(mod.env, dryrun=True, version="v7")
    tasks = {t.get_name(): t for t in dep.tasks}
    assert set(tasks) == {"deploy_env.work", "deploy_env.other"}
    work = tasks["deploy_env.work"]
    tmpl = work.deployed_task.task_template
    assert tmpl.id.version == "v7" and tmpl.container.image == "registry/img:1"
    assert list(tmpl.container.args)[-4:] == ["mod", "deploy_mod", "instance", "work"]
    (trig,) = work.deployed_triggers
    assert trig.name == "hourly" and trig.spec.active
    assert trig.automation_spec.schedule.cron.expression == "0 * * * *"
    assert trig.automation_spec.schedule.kickoff_time_input_arg == "when"
    assert [nl.name for nl in trig.spec.inputs.literals] == ["n"]
    assert "deploy_env.work" in dep.summary_repr()
    assert ("version", "v7") in work.table_repr()
    with pytest.raises(ValueError, match="copy_style='none'"):
        flyte.deploy(mod.env, dryrun=True, copy_style="none")
    sys.modules.pop("deploy_mod", None)


def test_deploy_without_a_control_plane_is_a_clear_error(tmp_path: Path) -> None:
    env = flyte.TaskEnvironment(name="deploy_nowhere")
    with pytest.raises(flyte.errors.InitializationError, match="flyte.init"):
        flyte.deploy(env)
