"""Task templates: normalisation, calling (with and without a call handler), override, plugins,
container arguments and the resolver hook."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from flyte_models import (
    ActionID,
    AsyncFunctionTaskTemplate,
    Cache,
    CodeBundle,
    Image,
    NativeInterface,
    PodTemplate,
    RawDataPath,
    Resources,
    RetryStrategy,
    ReusePolicy,
    RuntimeTaskTemplate,
    SerializationContext,
    TaskCallHandler,
    TaskContext,
    TaskEnvironment,
    TaskPluginRegistry,
    TaskResolver,
    TaskTemplate,
    Timeout,
    Trigger,
    current_task_context,
    get_default_task_resolver,
    get_task_call_handler,
    set_default_task_resolver,
    set_task_call_handler,
    use_task_context,
)
from flyte_models.errors import RuntimeSystemError, RuntimeUserError


def double(x: int) -> int:
    return x * 2


async def adouble(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


def boom(x: int) -> int:
    raise ValueError(f"bad {x}")


def make(func: Any = double, **kwargs: Any) -> AsyncFunctionTaskTemplate[Any, Any, Any]:
    return AsyncFunctionTaskTemplate(
        func=func,
        name=f"env.{func.__name__}",
        interface=NativeInterface.from_callable(func),
        **kwargs,
    )


def test_template_normalises_its_requests() -> None:
    t = make(cache="on", retries=2, image="python:3.12")
    assert isinstance(t.image, Image) and t.image.uri == "python:3.12"
    assert t.cache == Cache(behavior="auto")
    assert t.retries == RetryStrategy(count=2)
    assert (t.short_name, t.task_type, t.debuggable) == ("env.double", "python", True)
    auto = make()
    assert isinstance(auto.image, Image) and auto.image.name == "flyte"
    assert make(image=None).image is None
    assert make(triggers=[Trigger.hourly()]).triggers == (Trigger.hourly(),)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"retries": "3"},
            ValueError,
            "AsyncFunctionTaskTemplate.retries must be an int .* got '3'",
        ),
        ({"retries": 1.5}, ValueError, "got 1.5"),
        (
            {"service_account": 3},
            TypeError,
            "AsyncFunctionTaskTemplate.service_account must be a str or None, got 3",
        ),
        (
            {"resources": {"cpu": 1}},
            TypeError,
            "AsyncFunctionTaskTemplate.resources must be a Resources or None",
        ),
        (
            {"image": 3},
            TypeError,
            "AsyncFunctionTaskTemplate.image must be an Image, an image URI, 'auto' or None, got 3",
        ),
        (
            {"timeout": "1h"},
            ValueError,
            "AsyncFunctionTaskTemplate.timeout must be a Timeout.* got '1h'",
        ),
        ({"timeout": -5}, ValueError, "Timeout.max_runtime must be >= 0, got -5"),
        (
            {"max_inline_io_bytes": 0},
            ValueError,
            "AsyncFunctionTaskTemplate.max_inline_io_bytes must be a positive int, got 0",
        ),
        (
            {"triggers": ("t",)},
            TypeError,
            "AsyncFunctionTaskTemplate.triggers entries must be Trigger, got 't'",
        ),
        ({"cache": "always"}, ValueError, "Cache.behavior must be one of .* got 'always'"),
        (
            {"pod_template": 1},
            TypeError,
            "pod_template must be a str or PodTemplate or None, got 1",
        ),
    ],
)
def test_template_validation_names_field_and_value(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make(**kwargs)


def test_template_requires_name_interface_and_callable() -> None:
    iface = NativeInterface.from_callable(double)
    with pytest.raises(
        ValueError, match="AsyncFunctionTaskTemplate.name must be a non-empty str, got ''"
    ):
        AsyncFunctionTaskTemplate(func=double, name="", interface=iface)
    with pytest.raises(
        TypeError, match="AsyncFunctionTaskTemplate.interface must be a NativeInterface, got None"
    ):
        AsyncFunctionTaskTemplate(func=double, name="n", interface=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AsyncFunctionTaskTemplate.func must be callable, got 3"):
        AsyncFunctionTaskTemplate(func=3, name="n", interface=iface)  # type: ignore[type-var]


def test_calling_outside_a_run_calls_the_function() -> None:
    sync_task, async_task = make(double), make(adouble)
    assert sync_task._call_as_synchronous and not async_task._call_as_synchronous
    assert sync_task(21) == 42
    coro = async_task(4)
    assert asyncio.iscoroutine(coro) and asyncio.run(coro) == 8
    assert asyncio.run(sync_task.aio(2)) == 4
    assert asyncio.run(async_task.aio(3)) == 6
    assert sync_task.forward(5) == 10


def test_sync_call_wraps_user_exceptions_with_the_class_name_as_code() -> None:
    with pytest.raises(RuntimeUserError) as info:
        make(boom)(3)
    assert (info.value.code, info.value.kind, str(info.value)) == ("ValueError", "user", "bad 3")
    assert isinstance(info.value.__cause__, ValueError)

    def flyte_error(x: int) -> int:
        raise RuntimeSystemError("Down", "system down")

    with pytest.raises(RuntimeSystemError, match="system down"):
        make(flyte_error)(1)
    with pytest.raises(ValueError, match="bad 1"):
        asyncio.run(make(boom).aio(1))


class RecordingHandler:
    def __init__(self, active: bool) -> None:
        self.active = active
        self.calls: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = []

    def is_active(self) -> bool:
        return self.active

    def call(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        self.calls.append(("call", task.name, args, kwargs))
        if kwargs.get("fail"):
            raise KeyError("submit failed")
        return "submitted"

    async def call_aio(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        self.calls.append(("aio", task.name, args, kwargs))
        return "submitted-aio"


def test_call_handler_takes_over_inside_runs() -> None:
    handler = RecordingHandler(active=True)
    assert isinstance(handler, TaskCallHandler)
    assert set_task_call_handler(handler) is None
    assert get_task_call_handler() is handler
    t = make(double)
    assert t(1) == "submitted"
    assert asyncio.run(t.aio(x=2)) == "submitted-aio"
    assert handler.calls == [("call", "env.double", (1,), {}), ("aio", "env.double", (), {"x": 2})]
    with pytest.raises(RuntimeUserError) as info:
        t(1, fail=True)  # type: ignore[call-arg]
    assert info.value.code == "KeyError"
    handler.active = False
    assert t(4) == 8 and asyncio.run(t.aio(4)) == 8
    assert set_task_call_handler(None) is handler and get_task_call_handler() is None


def test_set_task_call_handler_rejects_wrong_objects() -> None:
    with pytest.raises(
        TypeError,
        match="handler must have is_active\\(\\), call\\(\\) and call_aio\\(\\) methods, got 3",
    ):
        set_task_call_handler(3)  # type: ignore[arg-type]


def _ctx() -> TaskContext:
    return TaskContext(
        action=ActionID(name="a0", run_name="r"),
        version="v",
        raw_data_path=RawDataPath(path="/tmp/raw"),
        output_path="/tmp/out",
        run_base_dir="/tmp/base",
        data={"base": 1},
    )


class WithHooks(AsyncFunctionTaskTemplate[Any, Any, Any]):
    post_seen: list[Any] = []

    async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"pre": "yes"}

    async def post(self, return_vals: Any) -> Any:
        WithHooks.post_seen.append(return_vals)
        return return_vals


def test_execute_runs_pre_body_post_with_the_context() -> None:
    seen: dict[str, Any] = {}

    def body(x: int) -> int:
        ctx = current_task_context()
        seen["data"] = dict(ctx.data) if ctx else None
        seen["thread"] = threading.current_thread().name
        return x + 1

    task = WithHooks(func=body, name="env.body", interface=NativeInterface.from_callable(body))
    with use_task_context(_ctx()):
        assert asyncio.run(task.execute(1)) == 2
    assert seen["data"] == {"base": 1, "pre": "yes"}
    assert seen["thread"] != threading.current_thread().name
    assert WithHooks.post_seen == [2]
    assert asyncio.run(make(adouble).execute(5)) == 10


def test_base_template_hooks_and_defaults() -> None:
    iface = NativeInterface.from_callable(double)
    t: TaskTemplate[Any, Any, Any] = TaskTemplate(name="raw", interface=iface, image=None)
    sctx = SerializationContext(version="v")
    assert t.config(sctx) == {} and t.custom_config(sctx) == {} and t.container_args(sctx) == []
    assert t.sql(sctx) is None and t.data_loading_config(sctx) is None
    assert t.native_interface is iface and t.source_file is None
    assert t.json_schema == iface.json_schema
    assert asyncio.run(t.pre(1)) == {} and asyncio.run(t.post(3)) == 3
    with pytest.raises(NotImplementedError):
        t.forward(1)
    with pytest.raises(NotImplementedError):
        asyncio.run(t.execute(1))
    assert make().source_file == __file__


def test_override_keeps_unset_values_and_applies_new_ones() -> None:
    t = make(retries=1, queue="q1", env_vars={"A": "1"})
    o = t.override(
        short_name="s",
        resources=Resources(cpu=2),
        cache="auto",
        retries=3,
        timeout=Timeout(max_runtime=timedelta(minutes=1)),
        max_inline_io_bytes=1024,
        pod_template=PodTemplate(),
        interruptible=True,
        entrypoint=True,
        produces_artifacts=True,
        service_account="sa",
    )
    assert (o.short_name, o.retries, o.max_inline_io_bytes, o.service_account) == (
        "s",
        RetryStrategy(3),
        1024,
        "sa",
    )
    assert o.cache == Cache("auto") and o.interruptible and o.entrypoint and o.produces_artifacts
    assert o.queue == "q1" and o.env_vars == {"A": "1"} and o.func is t.func
    assert t.retries == RetryStrategy(1) and t.short_name == "env.double"
    assert t.override().retries == RetryStrategy(1)


@pytest.mark.parametrize("field_name", ["name", "image", "docs", "interface"])
def test_override_refuses_identity_fields(field_name: str) -> None:
    with pytest.raises(ValueError, match=f"{field_name} cannot be overridden, got {field_name}="):
        kwargs: dict[str, Any] = {field_name: "x"}
        make().override(**kwargs)


def test_override_rules_for_reusable_tasks() -> None:
    t = make(reusable=ReusePolicy(replicas=2))
    cases: list[tuple[str, Any]] = [
        ("resources", Resources(cpu=1)),
        ("env_vars", {"A": "1"}),
        ("secrets", "s"),
        ("service_account", "sa"),
    ]
    for key, value in cases:
        kwargs: dict[str, Any] = {key: value}
        with pytest.raises(
            ValueError, match=f"{key} cannot be overridden while the task is reusable"
        ):
            t.override(**kwargs)
    off = t.override(reusable="off", resources=Resources(cpu=1))
    assert off.reusable is None and off.resources == Resources(cpu=1)
    assert make().override(reusable=ReusePolicy()).reusable == ReusePolicy()


@dataclass(frozen=True)
class FakeConfig:
    workers: int = 1


@dataclass(kw_only=True)
class FakePluginTask(AsyncFunctionTaskTemplate[Any, Any, Any]):
    task_type: str = "fake"
    supports_reuse_policy = True

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        config: Any = self.plugin_config
        return {"workers": config.workers}


class SubConfig(FakeConfig):
    pass


@pytest.fixture
def fake_plugin() -> Any:
    TaskPluginRegistry.register(FakeConfig, FakePluginTask)
    yield FakePluginTask
    TaskPluginRegistry.unregister(FakeConfig)


def test_plugin_registry(fake_plugin: Any) -> None:
    assert TaskPluginRegistry.find(FakeConfig) is FakePluginTask
    assert TaskPluginRegistry.find(SubConfig) is FakePluginTask
    assert TaskPluginRegistry.find(int) is None
    assert FakeConfig in TaskPluginRegistry.list_plugins()
    assert "FakeConfig" in repr(TaskPluginRegistry)
    with pytest.raises(
        TypeError, match="plugin must be a subclass of AsyncFunctionTaskTemplate, got <class 'int'>"
    ):
        TaskPluginRegistry.register(FakeConfig, int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config_type must be a class, got 'x'"):
        TaskPluginRegistry.register("x", FakePluginTask)  # type: ignore[arg-type]


def test_override_with_plugin_config_rebuilds_as_the_plugin_class(fake_plugin: Any) -> None:
    t = make(retries=2)
    o = t.override(plugin_config=FakeConfig(workers=4))
    assert type(o) is FakePluginTask and o.task_type == "fake" and o.retries == RetryStrategy(2)
    assert o.custom_config(SerializationContext(version="v")) == {"workers": 4}
    with pytest.raises(ValueError, match="plugin_config of type int has no registered task plugin"):
        t.override(plugin_config=3)


def test_plugin_config_selects_the_task_class_in_environments(fake_plugin: Any) -> None:
    env = TaskEnvironment(
        name="plugged", plugin_config=FakeConfig(workers=2), reusable=ReusePolicy()
    )
    t = env.task(double)
    assert type(t) is FakePluginTask and t.plugin_config == FakeConfig(workers=2)


class FakeResolver:
    @property
    def import_path(self) -> str:
        return "flyte._internal.resolvers.default.DefaultTaskResolver"

    def loader_args(self, task: TaskTemplate[Any, Any, Any], root_dir: Any) -> list[str]:
        return ["mod", "pkg.mod", "instance", task.short_name]

    def load_task(self, loader_args: list[str]) -> TaskTemplate[Any, Any, Any]:
        return make()


def test_container_args_follow_the_a0_protocol(tmp_path: Path) -> None:
    resolver = FakeResolver()
    assert isinstance(resolver, TaskResolver)
    assert set_default_task_resolver(resolver) is None and get_default_task_resolver() is resolver
    t = make()
    assert isinstance(t, RuntimeTaskTemplate)
    bundle = CodeBundle(computed_version="abc", tgz="s3://b/fast.tar.gz")
    sctx = SerializationContext(
        version="abc", code_bundle=bundle, root_dir=tmp_path, image_cache="H4sI"
    )
    assert t.container_args(sctx) == [
        "a0",
        "--inputs",
        "{{.input}}",
        "--outputs-path",
        "{{.outputPrefix}}",
        "--version",
        "abc",
        "--raw-data-path",
        "{{.rawOutputDataPrefix}}",
        "--checkpoint-path",
        "{{.checkpointOutputPrefix}}",
        "--prev-checkpoint",
        "{{.prevCheckpointPrefix}}",
        "--run-name",
        "{{.runName}}",
        "--name",
        "{{.actionName}}",
        "--run-start-time",
        "{{.runStartTime}}",
        "--image-cache",
        "H4sI",
        "--tgz",
        "s3://b/fast.tar.gz",
        "--dest",
        ".",
        "--resolver",
        "flyte._internal.resolvers.default.DefaultTaskResolver",
        "mod",
        "pkg.mod",
        "instance",
        "env.double",
    ]
    assert resolver.load_task([]).name == "env.double"


def test_container_args_for_pickled_bundles_skip_the_resolver() -> None:
    class Cache_:
        serialized_form = "b64"

    bundle = CodeBundle(computed_version="abc", pkl="s3://b/code.pkl", destination="/root")
    args = make().container_args(
        SerializationContext(version="abc", code_bundle=bundle, image_cache=Cache_())
    )
    assert args[-6:] == ["--image-cache", "b64", "--pkl", "s3://b/code.pkl", "--dest", "/root"]
    assert "--resolver" not in args


def test_container_args_errors_without_resolver_or_root_dir(tmp_path: Path) -> None:
    sctx = SerializationContext(version="v", root_dir=tmp_path)
    with pytest.raises(RuntimeSystemError, match="no default resolver is installed") as info:
        make().container_args(sctx)
    assert info.value.code == "SerializationError"
    with pytest.raises(RuntimeSystemError, match="SerializationContext.root_dir is None"):
        make(task_resolver=FakeResolver()).container_args(SerializationContext(version="v"))
    with pytest.raises(TypeError, match="resolver must have import_path"):
        set_default_task_resolver(object())  # type: ignore[arg-type]


def test_pickle_drops_the_environment_reference_and_copy_keeps_it() -> None:
    env = TaskEnvironment(name="pickle_env")
    t = env.task(double)
    assert t.parent_env is not None and t.parent_env() is env
    restored = pickle.loads(pickle.dumps(t))
    assert restored.parent_env is None and restored.parent_env_name == "pickle_env"
    assert restored(2) == 4
    assert copy.copy(t).parent_env is t.parent_env
