"""`translate_task_to_spec`: every field of the TaskSpec a backend receives."""

from __future__ import annotations

import asyncio
import pathlib
from datetime import timedelta
from typing import Any

import pytest
from flyteidl2.core import identifier_pb2, security_pb2, tasks_pb2
from google.protobuf import json_format

from flyte_client._spec import (
    SpecError,
    default_inputs_of,
    resources_to_proto,
    task_identifier,
    translate_task_to_spec,
)
from flyte_models import (
    Backoff,
    Cache,
    CodeBundle,
    Documentation,
    PodTemplate,
    Resources,
    RetryStrategy,
    ReusePolicy,
    Secret,
    SerializationContext,
    TaskEnvironment,
    Timeout,
)

IMAGE = "registry.example/app:v1"


class Resolver:
    """A minimal task resolver (flyte-client may not import the runtime's)."""

    import_path = "tests.Resolver"

    def loader_args(self, task: Any, root_dir: Any) -> list[str]:
        return ["mod", "mymod", "instance", task.func.__name__]

    def load_task(self, loader_args: list[str]) -> Any:  # pragma: no cover - not loaded here
        raise NotImplementedError


def ctx(**kw: Any) -> SerializationContext:
    base: dict[str, Any] = dict(
        version="v7",
        project="proj",
        domain="dev",
        org="acme",
        code_bundle=CodeBundle(tgz="s3://bucket/fast123.tar.gz", computed_version="v7"),
        root_dir=pathlib.Path("/src"),
    )
    base.update(kw)
    return SerializationContext(**base)


env = TaskEnvironment(
    name="specs",
    description="Environment for spec tests",
    resources=Resources(cpu=(1, 2), memory=("1Gi", "2Gi")),
    env_vars={"A": "1"},
    secrets=[Secret(key="token", as_env_var="TOKEN"), Secret(key="f", mount="/etc/flyte/secrets")],
)


@env.task(
    retries=RetryStrategy(
        count=3, backoff=Backoff(timedelta(seconds=2), 2.0, timedelta(seconds=60))
    ),
    cache=Cache(behavior="auto", version_override="cv1", ignored_inputs=("y",), serialize=True),
    timeout=Timeout(max_runtime=60, max_queued_time=30, deadline=600),
    interruptible=True,
    short_name="sq",
    report=True,
)
async def square(x: int, y: str = "a") -> int:
    """Square a number.

    The long description of square.
    """
    return x * x


@env.task
def pair(x: int) -> tuple[int, str]:
    return x, "s"


for t in (square, pair):
    t.task_resolver = Resolver()


def test_identifier_and_runtime_metadata() -> None:
    spec = translate_task_to_spec(square, ctx(), image_uri=IMAGE)
    tmpl = spec.task_template
    assert tmpl.id == identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK,
        project="proj",
        domain="dev",
        name="specs.square",
        version="v7",
        org="acme",
    )
    assert tmpl.id == task_identifier(
        "specs.square", "v7", project="proj", domain="dev", org="acme"
    )
    assert tmpl.type == "python"
    assert tmpl.metadata.runtime.type == tasks_pb2.RuntimeMetadata.FLYTE_SDK
    assert tmpl.metadata.runtime.flavor == "python"
    assert tmpl.metadata.runtime.version
    assert tmpl.metadata.code_bundle_uri == "s3://bucket/fast123.tar.gz"
    assert spec.short_name == "sq"
    assert spec.environment.name == "specs"
    assert spec.environment.description == "Environment for spec tests"


def test_metadata_retries_cache_timeouts() -> None:
    md = translate_task_to_spec(square, ctx(), image_uri=IMAGE).task_template.metadata
    assert md.retries.retries == 3
    assert md.retries.backoff.base.seconds == 2 and md.retries.backoff.factor == 2.0
    assert md.retries.backoff.cap.seconds == 60
    assert md.discoverable and md.discovery_version == "cv1"
    assert list(md.cache_ignore_input_vars) == ["y"]
    assert md.cache_serializable
    assert md.timeout.seconds == 60
    assert md.timeouts.queued_timeout.seconds == 30 and md.timeouts.deadline.seconds == 600
    assert md.interruptible
    assert md.generates_deck.value is True
    assert md.debuggable


def test_disabled_cache_still_versions_the_code() -> None:
    md = translate_task_to_spec(pair, ctx(), image_uri=IMAGE).task_template.metadata
    assert not md.discoverable
    assert len(md.discovery_version) == 64  # the auto policy's hash of the function body
    assert list(md.cache_ignore_input_vars) == []
    pkl = ctx(code_bundle=CodeBundle(pkl="s3://b/x.pkl.gz", computed_version="pk1"))
    assert (
        translate_task_to_spec(pair, pkl, image_uri=IMAGE).task_template.metadata.discovery_version
        == "pk1"
    )


def test_interface_and_container() -> None:
    tmpl = translate_task_to_spec(pair, ctx(), image_uri=IMAGE).task_template
    assert [v.key for v in tmpl.interface.inputs.variables] == ["x"]
    assert [v.key for v in tmpl.interface.outputs.variables] == ["o0", "o1"]
    c = tmpl.container
    assert c.image == IMAGE
    assert list(c.args[:3]) == ["a0", "--inputs", "{{.input}}"]
    assert list(c.args[-6:]) == ["--resolver", "tests.Resolver", "mod", "mymod", "instance", "pair"]
    assert (
        "--tgz" in c.args
        and c.args[list(c.args).index("--tgz") + 1] == "s3://bucket/fast123.tar.gz"
    )
    assert [(e.key, e.value) for e in c.env] == [("A", "1")]
    requests = {
        tasks_pb2.Resources.ResourceName.Name(e.name): e.value for e in c.resources.requests
    }
    limits = {tasks_pb2.Resources.ResourceName.Name(e.name): e.value for e in c.resources.limits}
    assert requests == {"CPU": "1", "MEMORY": "1Gi"} and limits == {"CPU": "2", "MEMORY": "2Gi"}


def test_secrets_and_service_account() -> None:
    task = pair.override(service_account="robot")
    sc = translate_task_to_spec(task, ctx(), image_uri=IMAGE).task_template.security_context
    assert sc.run_as.k8s_service_account == "robot"
    assert [(s.key, s.mount_requirement, s.env_var) for s in sc.secrets] == [
        ("token", security_pb2.Secret.MountType.ENV_VAR, "TOKEN"),
        ("f", security_pb2.Secret.MountType.FILE, ""),
    ]


def test_accelerators_disk_and_shared_memory() -> None:
    task = pair.override(resources=Resources(gpu="A100:2", disk="10Gi", shm="auto"))
    tmpl = translate_task_to_spec(task, ctx(), image_uri=IMAGE).task_template
    requests = {
        tasks_pb2.Resources.ResourceName.Name(e.name): e.value
        for e in tmpl.container.resources.requests
    }
    assert requests == {"GPU": "2", "EPHEMERAL_STORAGE": "10Gi"}
    acc = tmpl.extended_resources.gpu_accelerator
    assert (
        acc.device == "nvidia-tesla-a100"
        and acc.device_class == tasks_pb2.GPUAccelerator.NVIDIA_GPU
    )
    assert tmpl.extended_resources.shared_memory.mount_path == "/dev/shm"
    assert tmpl.extended_resources.shared_memory.size_limit == ""
    assert resources_to_proto(None) is None and resources_to_proto(Resources()) is None


def test_reusable_task_becomes_an_actor() -> None:
    task = pair.override(reusable=ReusePolicy(replicas=(1, 3), idle_ttl=60, concurrency=2))
    tmpl = translate_task_to_spec(task, ctx(), image_uri=IMAGE).task_template
    assert tmpl.type == "actor"
    assert (tmpl.reuse_policy.min_replicas, tmpl.reuse_policy.max_replicas) == (1, 3)
    assert tmpl.reuse_policy.concurrency == 2 and tmpl.reuse_policy.idle_ttl.seconds == 60
    custom = json_format.MessageToDict(tmpl.custom)
    assert custom["type"] == "actor" and custom["name"] == "specs"
    assert custom["spec"]["container_image"] == IMAGE and custom["spec"]["parallelism"] == 2
    assert len(custom["version"]) == 15
    assert not tmpl.metadata.debuggable


def test_pod_template_moves_the_container_into_the_pod() -> None:
    pod = PodTemplate(
        pod_spec={"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]},
        primary_container_name="main",
        labels={"l": "v"},
    )
    tmpl = translate_task_to_spec(
        pair.override(pod_template=pod), ctx(), image_uri=IMAGE
    ).task_template
    assert not tmpl.HasField("container")
    assert tmpl.config["primary_container_name"] == "main"
    spec = json_format.MessageToDict(tmpl.k8s_pod.pod_spec)
    (main,) = spec["containers"]
    assert main["image"] == IMAGE and main["args"][0] == "a0"
    assert main["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert main["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert dict(tmpl.k8s_pod.metadata.labels) == {"l": "v"}
    named = translate_task_to_spec(pair.override(pod_template="gpu-pods"), ctx(), image_uri=IMAGE)
    assert named.task_template.metadata.pod_template_name == "gpu-pods"
    assert named.task_template.HasField("container")


def test_pod_template_without_its_primary_container_is_rejected() -> None:
    pod = PodTemplate(pod_spec={"containers": [{"name": "side"}]}, primary_container_name="main")
    with pytest.raises(SpecError, match="no container named 'main'"):
        translate_task_to_spec(pair.override(pod_template=pod), ctx(), image_uri=IMAGE)


def test_documentation_and_default_inputs() -> None:
    spec = translate_task_to_spec(
        square, ctx(), image_uri=IMAGE, default_inputs=asyncio.run(default_inputs_of(square))
    )
    assert spec.documentation.short_description == "Square a number."
    assert spec.documentation.long_description == "The long description of square."
    (param,) = spec.default_inputs
    assert param.name == "y" and param.parameter.default.scalar.primitive.string_value == "a"
    bare = translate_task_to_spec(square, ctx(), image_uri=IMAGE, documentation=False)
    assert not bare.HasField("documentation") and not bare.default_inputs


def test_docs_object_is_used_without_a_docstring() -> None:
    task = pair.override()
    task.docs = Documentation(description="Pair up.\nMore words.")
    spec = translate_task_to_spec(task, ctx(), image_uri=IMAGE)
    assert spec.documentation.short_description == "Pair up."
    assert spec.documentation.long_description == "More words."


def test_image_defaults_to_the_task_image_uri() -> None:
    task = pair.override()
    spec = translate_task_to_spec(task, ctx())
    assert spec.task_template.container.image == task.image.uri


def test_image_cache_lookup_by_environment() -> None:
    class Cache_:
        image_lookup = {"specs": "built.example/specs:abc"}
        build_run_ids: dict[str, Any] = {}

    spec = translate_task_to_spec(pair, ctx(image_cache=Cache_()))
    assert spec.task_template.container.image == "built.example/specs:abc"


def test_long_names_are_truncated() -> None:
    task = pair.override(short_name="s" * 100)
    assert len(translate_task_to_spec(task, ctx(), image_uri=IMAGE).short_name) == 63


def test_plugin_tasks_carry_their_type_custom_config_and_sql() -> None:
    from dataclasses import dataclass

    from flyte_models import AsyncFunctionTaskTemplate

    @dataclass(kw_only=True)
    class PluginTask(AsyncFunctionTaskTemplate[Any, Any, Any]):
        task_type: str = "spark"

        def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
            return {"executors": 2, "conf": {"a": "b"}}

        def config(self, sctx: SerializationContext) -> dict[str, str]:
            return {"k": "v"}

    async def job(x: int) -> int:
        return x

    plugin = PluginTask(
        name="specs.job",
        interface=square.interface,
        func=job,
        parent_env_name="specs",
        task_resolver=Resolver(),
    )
    tmpl = translate_task_to_spec(plugin, ctx(), image_uri=IMAGE).task_template
    assert tmpl.type == "spark"
    assert json_format.MessageToDict(tmpl.custom) == {"executors": 2, "conf": {"a": "b"}}
    assert dict(tmpl.config) == {"k": "v"}
    assert [(kv.key, kv.value) for kv in tmpl.container.config] == [("k", "v")]
    # A plugin type keeps its own type and custom section; only the reuse policy is added.
    reused = translate_task_to_spec(plugin.override(reusable=ReusePolicy()), ctx(), image_uri=IMAGE)
    assert reused.task_template.type == "spark" and reused.task_template.reuse_policy.max_replicas
    assert json_format.MessageToDict(reused.task_template.custom)["executors"] == 2
    python_plugin = plugin.override(task_type="python", reusable=ReusePolicy())
    with pytest.raises(SpecError, match="plugins cannot run in reusable containers"):
        translate_task_to_spec(python_plugin, ctx(), image_uri=IMAGE)

    class SqlTask(PluginTask):
        def sql(self, sctx: SerializationContext) -> Any:
            return tasks_pb2.Sql(statement="select 1", dialect=tasks_pb2.Sql.ANSI)

    sql = SqlTask(name="specs.q", interface=square.interface, func=job, parent_env_name="specs")
    tmpl = translate_task_to_spec(sql, ctx(), image_uri=IMAGE).task_template
    assert not tmpl.HasField("container") and tmpl.sql.statement == "select 1"
