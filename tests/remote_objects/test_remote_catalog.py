"""`flyte.remote.Task`, `Project`, `Trigger` and `Secret` against our devbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from remote_objects.conftest import Env
from remote_objects.remote_helpers import DOMAIN, PROJECT, deploy_task

import flyte
import flyte.errors
import flyte.remote
from flyte_models import run_sync


@pytest.fixture(scope="module")
def deployed(env: Env) -> Env:
    run_sync(deploy_task(env.devbox, env.spec("pair", version="v1")))
    run_sync(deploy_task(env.devbox, env.spec("pair", version="v2")))
    run_sync(deploy_task(env.devbox, env.spec("square", version="v1")))
    return env


def test_task_get_and_listall(deployed: Env) -> None:
    name = deployed.mod.pair.name
    lazy = flyte.remote.Task.get(name, auto_version="latest")
    assert isinstance(lazy, flyte.remote.LazyEntity) and lazy.name == name
    details = lazy.fetch()
    assert isinstance(details, flyte.remote.TaskDetails)
    assert details.version == "v2"
    assert details.task_id.name == name and details.task_id.project == PROJECT
    assert details.task_spec.task_template.id.version == "v2"
    iface = details.interface
    assert set(iface.inputs) == {"x", "label"} and set(iface.outputs) == {"o0", "o1"}
    assert details.required_args == ("x",)
    assert details.default_input_args == ("label",)
    pinned = flyte.remote.Task.get(name, project=PROJECT, domain=DOMAIN, version="v1").fetch()
    assert pinned.version == "v1"
    names = {t.name for t in flyte.remote.Task.listall()}
    assert {name, deployed.mod.square.name} <= names
    only = [t.name for t in flyte.remote.Task.listall(by_task_name=name)]
    assert only == [name]


def test_task_errors_are_clear(deployed: Env) -> None:
    with pytest.raises(ValueError, match="auto_version"):
        flyte.remote.Task.get("robj.pair")
    with pytest.raises(flyte.errors.RemoteTaskNotFoundError, match="not deployed"):
        flyte.remote.Task.get("robj.nope", auto_version="latest").fetch()
    with pytest.raises(flyte.errors.RemoteTaskNotFoundError, match="v9"):
        flyte.remote.Task.get(deployed.mod.pair.name, version="v9").fetch()
    details = flyte.remote.Task.get(deployed.mod.pair.name, auto_version="latest").fetch()
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="inside a task"):
        run_sync(details(x=1))
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="keyword"):
        run_sync(details(1))


def test_project_get_and_listall(env: Env) -> None:
    projects = list(flyte.remote.Project.listall())
    assert PROJECT in [p.id for p in projects]
    p = flyte.remote.Project.get(PROJECT)
    assert p.id == PROJECT and DOMAIN in p.domains
    made = flyte.remote.Project.create("robj-extra", "Remote objects", description="for tests")
    assert made.description == "for tests"
    made.archive()
    assert "robj-extra" not in [p.id for p in flyte.remote.Project.listall()]
    assert "robj-extra" in [p.id for p in flyte.remote.Project.listall(archived=True)]
    with pytest.raises(flyte.errors.RuntimeUserError):
        flyte.remote.Project.get("no-such-project")


def test_trigger_lifecycle(deployed: Env) -> None:
    task_name = deployed.mod.pair.name
    trig = flyte.Trigger(
        name="robj_hourly",
        automation=flyte.Cron("0 * * * *"),
        inputs={"x": 7},
        auto_activate=False,
    )
    created = flyte.remote.Trigger.create(trig, task_name)
    assert created.name == "robj_hourly" and created.task_name == task_name
    assert not created.is_active
    got = flyte.remote.Trigger.get(name="robj_hourly", task_name=task_name)
    assert got.automation_spec.schedule.cron.expression == "0 * * * *"
    assert got.pb2.spec.task_version == "v2"
    assert {nl.name for nl in got.pb2.spec.inputs.literals} >= {"x"}
    listed = [t.name for t in flyte.remote.Trigger.listall(task_name=task_name)]
    assert listed == ["robj_hourly"]
    flyte.remote.Trigger.update("robj_hourly", task_name, active=True)
    assert flyte.remote.Trigger.get(name="robj_hourly", task_name=task_name).is_active
    created.deactivate()
    assert not flyte.remote.Trigger.get(name="robj_hourly", task_name=task_name).is_active
    flyte.remote.Trigger.delete("robj_hourly", task_name)
    assert list(flyte.remote.Trigger.listall(task_name=task_name)) == []
    with pytest.raises(ValueError, match="does not have"):
        flyte.remote.Trigger.create(flyte.Trigger(name="bad", inputs={"nope": 1}), task_name)


def test_secrets_create_get_listall_delete(env: Env) -> None:
    from flyte_client.errors import AlreadyExistsError, NotFoundError

    flyte.remote.Secret.create("robj", "value")
    flyte.remote.Secret.create("robj-bin", b"\x00\x01", type="regular")
    got = flyte.remote.Secret.get("robj")
    assert got.name == "robj" and got.type == "regular"
    assert got.pb2.id.project == PROJECT and got.pb2.id.domain == DOMAIN
    assert b"value" not in got.pb2.SerializeToString()  # metadata only, never the value
    names = [s.name for s in flyte.remote.Secret.listall()]
    assert "robj" in names and "robj-bin" in names
    # listall follows the page token to the end.
    assert [s.name for s in flyte.remote.Secret.listall(limit=1)] == sorted(names)
    with pytest.raises(AlreadyExistsError, match="already exists"):
        flyte.remote.Secret.create("robj", "again")
    flyte.remote.Secret.delete("robj")
    flyte.remote.Secret.delete("robj-bin")
    assert "robj" not in [s.name for s in flyte.remote.Secret.listall()]
    with pytest.raises(NotFoundError, match="robj"):
        flyte.remote.Secret.get("robj")
    with pytest.raises(NotFoundError, match="robj"):
        flyte.remote.Secret.delete("robj")
    with pytest.raises(ValueError, match="type must be"):
        flyte.remote.Secret.create("robj", "v", type="weird")  # type: ignore[arg-type]


def test_user_and_uploads(env: Env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    import flyte_storage

    def read_bytes(url: str) -> bytes:
        dest = tmp_path / "dl" / url.rsplit("/", 1)[-1]
        dest.parent.mkdir(exist_ok=True)
        return Path(flyte_storage.get_sync(url, str(dest))).read_bytes()

    user = flyte.remote.User.get()
    assert user.subject() and user.name() == "Devbox User"

    f = tmp_path / "one.txt"
    f.write_bytes(b"hello remote")
    digest, url = flyte.remote.upload_file(f)
    assert digest == hashlib.md5(b"hello remote").hexdigest()
    assert url.endswith("/one.txt")
    assert (read_bytes(url)) == b"hello remote"

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("A")
    (tree / "sub" / "b.txt").write_text("B")
    base = flyte.remote.upload_dir(tree, prefix="robj-dir")
    assert base.endswith("/robj-dir")
    assert (read_bytes(f"{base}/a.txt")) == b"A"
    assert (read_bytes(f"{base}/sub/b.txt")) == b"B"
    with pytest.raises(ValueError, match="not a file"):
        flyte.remote.upload_file(tree)
