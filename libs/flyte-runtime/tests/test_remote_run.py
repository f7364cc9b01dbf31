"""`flyte.init` / `init_from_config` for a control plane, run settings, and submission pieces
that need no server (the end-to-end runs against a devbox are in tests/remote/)."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flyteidl2.task import run_pb2

import flyte
import flyte.errors
from flyte_runtime import _remote_run, _run


@pytest.fixture(autouse=True)
def back_to_local() -> Iterator[None]:
    yield
    flyte.init()


def test_init_with_an_endpoint_configures_remote_without_connecting(tmp_path: Path) -> None:
    flyte.init(
        endpoint="dns:///127.0.0.1:1",
        insecure=True,
        project="p",
        domain="d",
        org="o",
        root_dir=tmp_path,
        images={"leaf": "registry/leaf:1"},
    )
    settings = _remote_run.current_settings()
    assert settings is not None
    assert (settings.endpoint, settings.insecure, settings.org) == ("dns:///127.0.0.1:1", True, "o")
    assert settings.root_dir == tmp_path.resolve()
    assert settings.images == {"leaf": "registry/leaf:1"}
    assert (flyte.current_project(), flyte.current_domain()) == ("p", "d")
    assert str(tmp_path.resolve()) in sys.path
    flyte.init(project="x", domain="y")
    assert _remote_run.current_settings() is None


def test_init_from_api_key_takes_its_endpoint() -> None:
    key = base64.b64encode(b"flyte.example.com:443:client:secret:org").decode()
    flyte.init(api_key=key, project="p", domain="d")
    settings = _remote_run.current_settings()
    assert settings is not None and settings.endpoint == "flyte.example.com:443"
    with pytest.raises(flyte.errors.InitializationError, match="api_key"):
        flyte.init(api_key="not-a-key")


def test_init_from_config_reads_endpoint_and_task_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "admin:\n  endpoint: dns:///localhost:30080\n  insecure: true\n"
        "task:\n  project: flytesnacks\n  domain: development\n"
        "image:\n  image_refs:\n    base: registry/base:1\n"
    )
    flyte.init_from_config(str(cfg), images=("extra=registry/extra:2",))
    settings = _remote_run.current_settings()
    assert settings is not None
    assert (settings.endpoint, settings.insecure) == ("dns:///localhost:30080", True)
    assert (flyte.current_project(), flyte.current_domain()) == ("flytesnacks", "development")
    assert settings.images == {"base": "registry/base:1", "extra": "registry/extra:2"}
    flyte.init_from_config(str(cfg), project="other")
    assert flyte.current_project() == "other"


def test_init_from_config_without_endpoint_stays_local(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("task:\n  project: p\n  domain: d\n")
    flyte.init_from_config(cfg)
    assert _remote_run.current_settings() is None
    assert flyte.current_project() == "p"


def test_remote_mode_without_a_control_plane_is_a_clear_error() -> None:
    env = flyte.TaskEnvironment(name="remote_unit")

    @env.task
    async def one() -> int:
        return 1

    with pytest.raises(flyte.errors.InitializationError, match=r"flyte.init\(endpoint="):
        flyte.with_runcontext(mode="remote").run(one)
    # mode="local" always runs here, even when a control plane is configured.
    flyte.init(endpoint="dns:///127.0.0.1:1", insecure=True, project="p", domain="d")
    assert flyte.with_runcontext(mode="local").run(one).outputs()[0] == 1


def test_with_runcontext_validates_remote_options() -> None:
    with pytest.raises(ValueError, match="copy_style"):
        flyte.with_runcontext(copy_style="some")  # type: ignore[arg-type]
    runner = flyte.with_runcontext(
        copy_style="none", version="v9", interruptible=True, service_account="sa", queue="q"
    )
    assert runner.remote.copy_style == "none" and runner.remote.version == "v9"


def test_run_spec_carries_env_labels_cache_and_sys_path(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    settings = _remote_run.RemoteSettings(endpoint="x:1", root_dir=tmp_path)
    sys.path.insert(0, str(tmp_path / "sub"))
    try:
        runner = flyte.with_runcontext(
            env_vars={"A": "1"},
            labels={"l": "v"},
            annotations={"a": "b"},
            overwrite_cache=True,
            interruptible=False,
            raw_data_path="s3://bucket/raw",
            service_account="sa",
        )
        spec = _remote_run.build_run_spec(runner.options, runner.remote, settings, None)
    finally:
        sys.path.remove(str(tmp_path / "sub"))
    envs = {kv.key: kv.value for kv in spec.envs.values}
    assert envs["A"] == "1" and "./sub" in envs["_F_SYS_PATH"].split(":")
    assert {"LOG_LEVEL", "LOG_FORMAT", "USER_LOG_LEVEL"} <= set(envs)
    assert dict(spec.labels.values) == {"l": "v"} and dict(spec.annotations.values) == {"a": "b"}
    assert spec.overwrite_cache and spec.cache_config.overwrite_cache
    assert spec.HasField("interruptible") and spec.interruptible.value is False
    assert spec.raw_data_storage.raw_data_prefix == "s3://bucket/raw"
    assert spec.security_context.run_as.k8s_service_account == "sa"
    assert spec.cache_config.cache_lookup_scope == run_pb2.CACHE_LOOKUP_SCOPE_GLOBAL  # the default


def test_cache_lookup_scope_goes_on_the_wire_and_is_validated(tmp_path: Path) -> None:
    settings = _remote_run.RemoteSettings(endpoint="x:1", root_dir=tmp_path)
    runner = flyte.with_runcontext(cache_lookup_scope="project-domain")
    spec = _remote_run.build_run_spec(runner.options, runner.remote, settings, None)
    assert spec.cache_config.cache_lookup_scope == run_pb2.CACHE_LOOKUP_SCOPE_PROJECT_DOMAIN
    with pytest.raises(ValueError, match="cache_lookup_scope must be one of 'global'"):
        flyte.with_runcontext(cache_lookup_scope="everywhere")


def test_run_needs_project_and_domain() -> None:
    env = flyte.TaskEnvironment(name="remote_unit2")

    @env.task
    async def one() -> int:
        return 1

    flyte.init(endpoint="dns:///127.0.0.1:1", insecure=True)
    with pytest.raises(flyte.errors.InitializationError, match="project and a domain"):
        flyte.run(one)


def test_facade_exports_deploy_and_rerun() -> None:
    assert flyte.deploy is not None and flyte.rerun is not None
    assert _run.rerun is flyte.rerun


def test_dry_run_spec_and_notebook_tasks_are_pickled(tmp_path: Path) -> None:
    import types

    flyte.init(endpoint="dns:///127.0.0.1:1", insecure=True, project="p", domain="d")
    cell = types.ModuleType("notebook_cell")  # no __file__: code typed into a notebook
    sys.modules["notebook_cell"] = cell
    try:
        exec(
            "import flyte\n"
            "env = flyte.TaskEnvironment(name='nb_env', image='registry/nb:1')\n"
            "@env.task\n"
            "async def square(x: int) -> int:\n"
            "    return x * x\n",
            cell.__dict__,
        )
        run = flyte.with_runcontext(dry_run=True, labels={"k": "v"}).run(cell.square, x=2)
    finally:
        sys.modules.pop("notebook_cell", None)
    spec = run.task_spec
    args = list(spec.task_template.container.args)
    assert args[0] == "a0" and "--pkl" in args and "--resolver" not in args
    assert spec.task_template.container.image == "registry/nb:1"
    assert spec.task_template.id.name == "nb_env.square"
    assert [nl.name for nl in run.inputs.literals] == ["x"]
    assert dict(run.run_spec.labels.values) == {"k": "v"}


def test_submission_errors_are_explained() -> None:
    from flyte_client.errors import error_for_status

    taken = _remote_run._explain(error_for_status("ALREADY_EXISTS", "run r1"), "p/d", "r1", None)
    assert isinstance(taken, flyte.errors.RuntimeUserError) and "'r1' already exists" in str(taken)
    missing = _remote_run._explain(
        error_for_status("NOT_FOUND", "project nope not found"), "nope/d", None, None
    )
    assert isinstance(missing, flyte.errors.RuntimeUserError)
    assert "project/domain nope/d" in str(missing) and "flyte create project" in str(missing)
    other = error_for_status("INTERNAL", "boom")
    assert _remote_run._explain(other, "p/d", None, None) is other


def test_init_from_config_keyword_overrides_win(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("admin:\n  endpoint: dns:///from-file:1\ntask:\n  project: p\n  domain: d\n")
    flyte.init_from_config(cfg, endpoint="dns:///from-flag:2", insecure=True)
    settings = _remote_run.current_settings()
    assert settings is not None
    assert (settings.endpoint, settings.insecure) == ("dns:///from-flag:2", True)
