"""Environment and TaskEnvironment: validation, @env.task, clone_with, dependencies, from_task."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from flyte_models import (
    AsyncFunctionTaskTemplate,
    Cache,
    Documentation,
    Environment,
    Image,
    Link,
    NativeInterface,
    PodTemplate,
    Resources,
    RetryStrategy,
    ReusePolicy,
    Secret,
    TaskEnvironment,
    Timeout,
    Trigger,
    list_loaded_environments,
)


def add(x: int, y: int = 1) -> int:
    return x + y


async def aadd(x: int) -> int:
    return x + 1


@pytest.mark.parametrize("name", ["a", "my_env", "my-env", "env2", "a1_b2-c3"])
def test_valid_names(name: str) -> None:
    assert TaskEnvironment(name=name).name == name


@pytest.mark.parametrize("name", ["", "My_env", "my env", "_env", "env_", "a__b", "a.b", "a--b"])
def test_invalid_names_raise_value_error_naming_the_value(name: str) -> None:
    with pytest.raises(
        ValueError, match=f"TaskEnvironment.name must be snake_case or kebab-case .* got {name!r}"
    ):
        TaskEnvironment(name=name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": 3}, "TaskEnvironment.image must be an Image, an image URI or 'auto', got 3"),
        (
            {"secrets": 3},
            "TaskEnvironment.secrets must be a str, a Secret or a list of them, got 3",
        ),
        (
            {"resources": {"cpu": 1}},
            "TaskEnvironment.resources must be a Resources, got \\{'cpu': 1\\}",
        ),
        ({"env_vars": [("A", "1")]}, "TaskEnvironment.env_vars must be a dict of str to str"),
        ({"pod_template": 3}, "TaskEnvironment.pod_template must be a str or a PodTemplate, got 3"),
        ({"depends_on": ["x"]}, "TaskEnvironment.depends_on entries must be Environment, got 'x'"),
        ({"depends_on": "x"}, "TaskEnvironment.depends_on must be a list of Environment, got 'x'"),
        ({"service_account": 3}, "TaskEnvironment.service_account must be a str, got 3"),
        (
            {"include": "file.txt"},
            "TaskEnvironment.include must be a sequence of paths, not a single str",
        ),
        ({"include": [3]}, "TaskEnvironment.include entries must be str, got 3"),
        ({"include": 3}, "TaskEnvironment.include must be a sequence of str paths, got 3"),
        ({"reusable": 2}, "TaskEnvironment.reusable must be a ReusePolicy, got 2"),
        ({"cache": 3}, "TaskEnvironment.cache must be a str or a Cache, got 3"),
        ({"queue": 3}, "TaskEnvironment.queue must be a str, got 3"),
        ({"interruptible": "yes"}, "TaskEnvironment.interruptible must be a bool, got 'yes'"),
        ({"description": 3}, "TaskEnvironment.description must be a str, got 3"),
    ],
)
def test_type_checks_raise_type_error_naming_field_and_value(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        TaskEnvironment(name="e", **kwargs)


def test_invalid_cache_string_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="TaskEnvironment.cache is invalid: .* got 'always'"):
        TaskEnvironment(name="e", cache="always")  # type: ignore[arg-type]


def test_description_longer_than_255_is_truncated_and_include_becomes_a_tuple() -> None:
    env = TaskEnvironment(name="e", description="d" * 400, include=["a.txt", "b/*.html"])  # type: ignore[arg-type]
    assert env.description is not None and len(env.description) == 255
    assert env.description.endswith("...(tr.)")
    assert env.include == ("a.txt", "b/*.html")
    assert TaskEnvironment(name="e", description="short").description == "short"


def test_bare_task_decorator_uses_environment_defaults() -> None:
    env = TaskEnvironment(
        name="my_env",
        resources=Resources(cpu=1),
        env_vars={"A": "1"},
        secrets=["s"],
        cache="auto",
        queue="q",
        interruptible=True,
        image="python:3.12",
        service_account="sa",
        pod_template="tmpl",
    )
    t = env.task(add)
    assert isinstance(t, AsyncFunctionTaskTemplate)
    assert (t.name, t.short_name, t.parent_env_name) == ("my_env.add", "add", "my_env")
    assert t.parent_env is not None and t.parent_env() is env
    assert t.resources == Resources(cpu=1) and t.env_vars == {"A": "1"} and t.secrets == ["s"]
    assert (
        t.cache == Cache("auto")
        and t.queue == "q"
        and t.interruptible
        and t.service_account == "sa"
    )
    assert t.pod_template == "tmpl"
    assert isinstance(t.image, Image) and t.image.uri == "python:3.12"
    assert t.retries == RetryStrategy(count=0) and t.timeout == 0
    assert t.interface == NativeInterface.from_callable(add)
    assert env.tasks == {"my_env.add": t}
    assert t(2) == 3


def test_task_decorator_with_options() -> None:
    env = TaskEnvironment(name="opts", cache="auto", interruptible=True)
    trigger = Trigger.daily()

    class MyLink(Link):
        name = "l"

        def get_link(self, *args: Any, **kwargs: Any) -> str:
            return "u"

    link = MyLink()

    @env.task(
        short_name="nice",
        cache="disable",
        retries=3,
        timeout=Timeout(max_runtime=60),
        docs=Documentation("doc"),
        pod_template=PodTemplate(),
        report=True,
        interruptible=False,
        max_inline_io_bytes=1000,
        queue="gpu",
        service_account="sa",
        triggers=trigger,
        links=link,
        entrypoint=True,
        produces_artifacts=True,
    )
    async def job(x: int) -> int:
        return x

    assert (job.name, job.short_name) == ("opts.job", "nice")
    assert job.cache == Cache("disable") and job.retries == RetryStrategy(3)
    assert job.docs == Documentation("doc") and job.report and not job.interruptible
    assert (job.max_inline_io_bytes, job.queue, job.service_account) == (1000, "gpu", "sa")
    assert job.triggers == (trigger,) and job.links == (link,)
    assert job.entrypoint and job.produces_artifacts
    assert isinstance(job.pod_template, PodTemplate)

    @env.task(cache=None)
    def inherits(x: int) -> int:
        return x

    assert inherits.cache == Cache("auto") and inherits.interruptible
    assert set(env.tasks) == {"opts.job", "opts.inherits"}


def test_auto_image_is_the_default_debian_image() -> None:
    t = TaskEnvironment(name="auto_img").task(add)
    assert isinstance(t.image, Image) and t.image == Image.from_debian_base()


def test_reusable_environment_rules() -> None:
    env = TaskEnvironment(
        name="reuse", reusable=ReusePolicy(replicas=2, concurrency=4), service_account="sa"
    )
    assert env.task(aadd).reusable == ReusePolicy(replicas=2, concurrency=4)
    with pytest.raises(
        ValueError,
        match="function 'add' is sync, but reusable environment 'reuse' has concurrency=4",
    ):
        env.task(add)
    with pytest.raises(
        ValueError, match="pod_template cannot be set on a task of reusable environment 'reuse'"
    ):
        env.task(pod_template="p")
    with pytest.raises(
        ValueError, match="service_account cannot be changed .* got service_account='other'"
    ):
        env.task(service_account="other")
    assert env.task(service_account="sa")(aadd).service_account == "sa"
    single = TaskEnvironment(name="reuse1", reusable=ReusePolicy(replicas=2))
    assert single.task(add)(1) == 2


def test_plugin_config_without_registered_plugin() -> None:
    env = TaskEnvironment(name="noplugin", plugin_config=object())
    with pytest.raises(
        ValueError, match="plugin_config of type object has no registered task plugin"
    ):
        env.task(add)
    with pytest.raises(
        ValueError, match="TaskEnvironment.plugin_config cannot be combined with reusable"
    ):
        TaskEnvironment(name="x", plugin_config=object(), reusable=ReusePolicy())


def test_decorating_non_functions_fails() -> None:
    env = TaskEnvironment(name="nonfunc")
    with pytest.raises(TypeError, match="@env.task decorates functions, got 3"):
        env.task(3)  # type: ignore[call-overload]


def test_clone_with_inherits_and_overrides() -> None:
    dep = TaskEnvironment(name="dep")
    env = TaskEnvironment(
        name="base",
        resources=Resources(cpu=1),
        secrets=Secret("s"),
        depends_on=[dep],
        cache="auto",
        reusable=ReusePolicy(),
        queue="q",
        include=("x.txt",),
        description="base env",
    )
    env.task(aadd)
    clone = env.clone_with(
        "clone", env_vars={"A": "1"}, cache="disable", reusable=None, interruptible=True
    )
    assert isinstance(clone, TaskEnvironment)
    assert (clone.name, clone.resources, clone.secrets) == ("clone", Resources(cpu=1), Secret("s"))
    assert clone.env_vars == {"A": "1"} and clone.cache == "disable" and clone.reusable is None
    assert clone.queue == "q" and clone.include == ("x.txt",) and clone.interruptible
    assert clone.description == "base env" and clone.tasks == {}
    assert clone.depends_on == [dep] and clone.depends_on is not env.depends_on
    kept = env.clone_with("kept", image="python:3.11", include=["y"], service_account="sa2", description="d")  # type: ignore[arg-type]
    assert kept.reusable == ReusePolicy() and kept.cache == "auto" and kept.image == "python:3.11"
    assert kept.include == ("y",) and kept.service_account == "sa2"
    with pytest.raises(
        TypeError, match="clone_with got unexpected keyword arguments \\['bogus'\\]"
    ):
        env.clone_with("c2", bogus=1)
    with pytest.raises(ValueError, match="got 'Bad Name'"):
        env.clone_with("Bad Name")


def test_environment_base_class() -> None:
    base = Environment(name="base_only", image="auto")
    with pytest.raises(NotImplementedError):
        base.clone_with("other")
    assert base.declaring_file == __file__


def test_add_dependency_and_depends_on() -> None:
    a, b, c = TaskEnvironment(name="a"), TaskEnvironment(name="b"), TaskEnvironment(name="c")
    a.add_dependency(b, c)
    a.add_dependency(b)
    assert a.depends_on == [b, c]
    with pytest.raises(ValueError, match="environment 'a' cannot depend on itself"):
        a.add_dependency(TaskEnvironment(name="a"))
    with pytest.raises(TypeError, match="add_dependency takes Environment instances, got 'x'"):
        a.add_dependency("x")  # type: ignore[arg-type]
    d = TaskEnvironment(name="d", depends_on=(a,))  # type: ignore[arg-type]
    assert d.depends_on == [a]


def test_from_task_builds_an_environment_from_free_tasks() -> None:
    iface = NativeInterface.from_callable(add)
    img = Image.from_base("python:3.12")
    t1: AsyncFunctionTaskTemplate[Any, Any, Any] = AsyncFunctionTaskTemplate(
        func=add, name="free.add", interface=iface, image=img
    )
    t2: AsyncFunctionTaskTemplate[Any, Any, Any] = AsyncFunctionTaskTemplate(
        func=add, name="free.add2", interface=iface, image=img
    )
    env = TaskEnvironment.from_task("free", t1, t2)
    assert env.image == img and set(env.tasks) == {"free.add", "free.add2"}
    assert t1.parent_env is not None and t1.parent_env() is env and t1.parent_env_name == "free"
    with pytest.raises(ValueError, match="task 'free.add' already belongs to environment 'free'"):
        TaskEnvironment.from_task("again", t1)
    other: AsyncFunctionTaskTemplate[Any, Any, Any] = AsyncFunctionTaskTemplate(
        func=add, name="o.add", interface=iface, image="python:3.11"
    )
    loose: AsyncFunctionTaskTemplate[Any, Any, Any] = AsyncFunctionTaskTemplate(
        func=add, name="o.add2", interface=iface, image=img
    )
    with pytest.raises(
        ValueError, match="tasks must share one image to form an environment, got 2 images"
    ):
        TaskEnvironment.from_task("mixed", other, loose)
    empty = TaskEnvironment.from_task("empty", depends_on=[env])
    assert empty.image == "auto" and empty.depends_on == [env]
    assert isinstance(weakref.ref(env), weakref.ref)


def test_add_task_registers_and_reparents() -> None:
    env = TaskEnvironment(name="adder")
    t: AsyncFunctionTaskTemplate[Any, Any, Any] = AsyncFunctionTaskTemplate(
        func=add, name="x.add", interface=NativeInterface.from_callable(add)
    )
    assert env.add_task(t) is t and env.tasks["x.add"] is t and t.parent_env_name == "adder"
    with pytest.raises(TypeError, match="add_task takes a TaskTemplate, got 3"):
        env.add_task(3)  # type: ignore[arg-type]


def test_environments_are_recorded_in_creation_order() -> None:
    first, second = TaskEnvironment(name="order_one"), TaskEnvironment(name="order_two")
    loaded = list_loaded_environments()
    assert loaded.index(first) < loaded.index(second)
