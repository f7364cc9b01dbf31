"""Translate a task (`flyte_models.TaskTemplate`) into the `flyteidl2.task.TaskSpec` sent to a backend.

The spec is what `RunService.CreateRun(task_spec=...)`, `TaskService.DeployTask` and the in-task
controller's `EnqueueAction` carry (PROTOCOL.md section 3.2). The container arguments come from
`task.container_args(ctx)` (the `a0` command line with `{{.x}}` placeholders the backend fills in).

```python
from flyte_client._spec import translate_task_to_spec
from flyte_models import CodeBundle, SerializationContext

ctx = SerializationContext(
    version="abc123", project="flytesnacks", domain="development", org="local",
    code_bundle=CodeBundle(tgz="s3://bucket/fast.tar.gz", computed_version="abc123"),
    root_dir=pathlib.Path.cwd(),
)
spec = translate_task_to_spec(my_task, ctx, image_uri="ghcr.io/flyteorg/flyte:py3.12-v2.12.1")
```

Default inputs are converted asynchronously (`await default_inputs_of(task)`) and passed in, as
`flyte deploy` does; a run submission leaves them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flyteidl2.core import identifier_pb2, literals_pb2, security_pb2, tasks_pb2
from flyteidl2.task import environment_pb2, task_definition_pb2
from google.protobuf import duration_pb2, struct_pb2, wrappers_pb2

from flyte_client._version import __version__

if TYPE_CHECKING:
    from flyteidl2.task import common_pb2

    from flyte_models import SerializationContext, TaskTemplate

__all__ = [
    "ACCELERATOR_DEVICES",
    "SpecError",
    "default_inputs_of",
    "resources_to_proto",
    "task_identifier",
    "translate_task_to_spec",
]

MAX_ENVIRONMENT_NAME_LENGTH = 63
MAX_SHORT_NAME_LENGTH = 63
MAX_SHORT_DESCRIPTION_LENGTH = 255
MAX_LONG_DESCRIPTION_LENGTH = 2048
PRIMARY_CONTAINER_NAME_FIELD = "primary_container_name"
"""The `TaskTemplate.config` key naming the pod template's primary container."""

ACCELERATOR_DEVICES: Mapping[str, str] = {
    "A100": "nvidia-tesla-a100",
    "A100 80G": "nvidia-a100-80gb",
    "H100": "nvidia-tesla-h100",
    "A10": "nvidia-a10",
    "A10G": "nvidia-a10g",
    "A100G": "nvidia-a100g",
    "L4": "nvidia-l4",
    "L40s": "nvidia-l40s",
    "L4_VWS": "nvidia-l4-vws",
    "K80": "nvidia-tesla-k80",
    "M60": "nvidia-tesla-m60",
    "P4": "nvidia-tesla-p4",
    "P100": "nvidia-tesla-p100",
    "T4": "nvidia-tesla-t4",
    "V100": "nvidia-tesla-v100",
    "V5E": "tpu-v5-lite-podslice",
    "V5P": "tpu-v5p-slice",
    "V6E": "tpu-v6e-slice",
}
"""Accelerator names as users write them -> the device names Kubernetes node labels carry."""

_DEVICE_CLASSES = {
    "GPU": tasks_pb2.GPUAccelerator.NVIDIA_GPU,
    "TPU": tasks_pb2.GPUAccelerator.GOOGLE_TPU,
    "NEURON": tasks_pb2.GPUAccelerator.AMAZON_NEURON,
    "AMD_GPU": tasks_pb2.GPUAccelerator.AMD_GPU,
    "HABANA_GAUDI": tasks_pb2.GPUAccelerator.HABANA_GAUDI,
}


class SpecError(ValueError):
    """A task cannot be turned into a `TaskSpec` (the message names the task and the fix)."""


# ---------------------------------------------------------------------------------------------
# Small converters
# ---------------------------------------------------------------------------------------------


def _duration(value: timedelta | int | None) -> duration_pb2.Duration | None:
    if value is None:
        return None
    delta = value if isinstance(value, timedelta) else timedelta(seconds=value)
    out = duration_pb2.Duration()
    out.FromTimedelta(delta)
    return out


def _bound(value: timedelta | int | None) -> duration_pb2.Duration | None:
    """A timeout bound: unset and zero both mean unlimited and are left off the wire."""
    if value is None:
        return None
    delta = value if isinstance(value, timedelta) else timedelta(seconds=value)
    return _duration(delta) if delta.total_seconds() != 0 else None


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(dict(value))
    return out


def _retry_strategy(retries: Any) -> literals_pb2.RetryStrategy:
    from flyte_models import retry_strategy_from_request

    strategy = retry_strategy_from_request(retries)
    out = literals_pb2.RetryStrategy(retries=strategy.count)
    backoff = strategy.backoff
    if backoff is not None:
        out.backoff.CopyFrom(
            literals_pb2.Backoff(base=_duration(backoff.base), factor=backoff.factor)
        )
        if backoff.cap is not None:
            out.backoff.cap.CopyFrom(_duration(backoff.cap))
    return out


def _timeouts(
    timeout: Any,
) -> tuple[duration_pb2.Duration | None, literals_pb2.TimeoutStrategy | None]:
    """Return `(TaskMetadata.timeout, TaskMetadata.timeouts)` for a `timeout=` request."""
    if timeout is None:
        return None, None
    from flyte_models import timeout_from_request

    t = timeout_from_request(timeout)
    queued, deadline = _bound(t.max_queued_time), _bound(t.deadline)
    strategy = None
    if queued is not None or deadline is not None:
        strategy = literals_pb2.TimeoutStrategy()
        if queued is not None:
            strategy.queued_timeout.CopyFrom(queued)
        if deadline is not None:
            strategy.deadline.CopyFrom(deadline)
    return _bound(t.max_runtime), strategy


def _entry(name: int, value: Any) -> tasks_pb2.Resources.ResourceEntry:
    return tasks_pb2.Resources.ResourceEntry(name=name, value=str(value))  # type: ignore[arg-type]


def resources_to_proto(resources: Any) -> tasks_pb2.Resources | None:
    """Convert `flyte_models.Resources` to container requests and limits (`None` when empty).

    A `(request, limit)` pair of cpu or memory gives both; a single value is a request only.
    The accelerator count and disk are requests.

    Args:
        resources: A `flyte_models.Resources` or `None`.

    Returns:
        The resources message, or `None`.
    """
    if resources is None:
        return None
    rn = tasks_pb2.Resources.ResourceName
    requests: list[tasks_pb2.Resources.ResourceEntry] = []
    limits: list[tasks_pb2.Resources.ResourceEntry] = []
    for name, value in ((rn.CPU, resources.cpu), (rn.MEMORY, resources.memory)):
        if value is None:
            continue
        if isinstance(value, tuple):
            requests.append(_entry(name, value[0]))
            limits.append(_entry(name, value[1]))
        else:
            requests.append(_entry(name, value))
    device = resources.get_device() if resources.gpu is not None else None
    if device is not None:
        requests.append(_entry(rn.GPU, device.quantity))
    if resources.disk is not None:
        requests.append(_entry(rn.EPHEMERAL_STORAGE, resources.disk))
    if not requests and not limits:
        return None
    return tasks_pb2.Resources(requests=requests, limits=limits)


def _extended_resources(resources: Any) -> tasks_pb2.ExtendedResources | None:
    if resources is None:
        return None
    accelerator = None
    if resources.gpu is not None and not isinstance(resources.gpu, int):
        device = resources.get_device()
        if device is not None and device.device_class != "APPLE_SILICON":
            if device.device is None:
                raise SpecError(
                    f"the accelerator {resources.gpu!r} names no device model; use e.g. "
                    "GPU('A100', 1) or the string 'A100:1'"
                )
            accelerator = tasks_pb2.GPUAccelerator(
                device=ACCELERATOR_DEVICES.get(device.device, device.device),
                partition_size=device.partition or None,
                device_class=_DEVICE_CLASSES.get(
                    device.device_class, tasks_pb2.GPUAccelerator.NVIDIA_GPU
                ),
            )
    shm = resources.get_shared_memory()
    if accelerator is None and shm is None:
        return None
    shared = (
        tasks_pb2.SharedMemory(mount_path="/dev/shm", mount_name="flyte-shm", size_limit=shm)
        if shm is not None
        else None
    )
    return tasks_pb2.ExtendedResources(gpu_accelerator=accelerator, shared_memory=shared)


def _security_context(
    secrets: Any, service_account: str | None
) -> security_pb2.SecurityContext | None:
    if secrets is None and not service_account:
        return None
    from flyte_models import secrets_from_request

    mount = security_pb2.Secret.MountType
    return security_pb2.SecurityContext(
        run_as=(
            security_pb2.Identity(k8s_service_account=service_account) if service_account else None
        ),
        secrets=[
            security_pb2.Secret(
                group=s.group,
                key=s.key,
                mount_requirement=mount.ENV_VAR if s.as_env_var else mount.FILE,
                env_var=s.as_env_var,
            )
            for s in secrets_from_request(secrets)
        ],
    )


def _reuse_policy(policy: Any) -> tasks_pb2.ReusePolicy:
    out = tasks_pb2.ReusePolicy(
        min_replicas=policy.min_replicas,
        max_replicas=policy.max_replicas,
        concurrency=policy.concurrency,
        scope=tasks_pb2.ReusePolicy.RUN if policy.scope == "run" else tasks_pb2.ReusePolicy.GLOBAL,
    )
    out.idle_ttl.CopyFrom(_duration(policy.get_idle_ttl()))
    scaledown = policy.get_scaledown_ttl()
    if scaledown is not None:
        out.scaledown_ttl.CopyFrom(_duration(scaledown))
    return out


def _actor_custom(
    template: tasks_pb2.TaskTemplate, policy: Any, code_bundle: Any, env_name: str
) -> dict[str, Any]:
    """The `custom` section older readers use to run a reusable ("actor") task."""
    import hashlib

    image, container = "", b""
    if template.HasField("container"):
        copy = tasks_pb2.Container()
        copy.CopyFrom(template.container)
        del copy.args[:]
        container, image = copy.SerializeToString(deterministic=True), copy.image
    elif template.HasField("k8s_pod"):
        pod = tasks_pb2.K8sPod()
        pod.CopyFrom(template.k8s_pod)
        primary = template.config.get(PRIMARY_CONTAINER_NAME_FIELD, "primary")
        for c in pod.pod_spec["containers"]:
            if c.get("name") == primary:
                image = c.get("image", "")
                if "args" in c:
                    del c["args"]
        container = pod.SerializeToString(deterministic=True)
    idle = policy.get_idle_ttl()
    scaledown = policy.get_scaledown_ttl()
    parts = [env_name, str(container), f"{policy.min_replicas}", f"{policy.max_replicas}"]
    if idle:
        parts.append(str(idle.total_seconds()))
    if scaledown is not None:
        parts.append(str(scaledown))
    if code_bundle is not None:
        parts.append(code_bundle.computed_version)
    parts.append(str(template.security_context.SerializeToString(deterministic=True)))
    parts.append(str(template.metadata.interruptible))
    parts.append(template.metadata.pod_template_name)
    unique = hashlib.sha256(":".join(parts).encode("utf-8")).hexdigest()
    return {
        "name": env_name,
        "version": unique[:15],
        "type": "actor",
        "spec": {
            "container_image": image,
            "backlog_length": None,
            "parallelism": policy.concurrency,
            "min_replica_count": policy.min_replicas,
            "replica_count": policy.max_replicas,
            "ttl_seconds": idle.total_seconds() if idle else None,
            "scaledown_ttl_seconds": scaledown.total_seconds() if scaledown else None,
        },
    }


def _k8s_resource_name(entry: tasks_pb2.Resources.ResourceEntry) -> str:
    return tasks_pb2.Resources.ResourceName.Name(entry.name).lower().replace("_", "-")


def _k8s_pod(container: tasks_pb2.Container, pod_template: Any) -> tasks_pb2.K8sPod:
    """Merge the task's container into the pod template's primary container."""
    spec = pod_template.to_pod_spec_dict()
    primary = pod_template.primary_container_name
    containers = list(spec.get("containers") or [])
    if not any(c.get("name") == primary for c in containers):
        if containers:
            names = [c.get("name") for c in containers]
            raise SpecError(
                f"the pod template has no container named {primary!r} (containers: {names}); "
                "name the primary container in the pod spec or set primary_container_name"
            )
        containers.append({"name": primary})
    merged = []
    for c in containers:
        c = dict(c)
        if c.get("name") == primary:
            if not c.get("image"):
                c["image"] = container.image
            c["command"] = list(container.command)
            c["args"] = list(container.args)
            limits = {_k8s_resource_name(e): e.value for e in container.resources.limits}
            requests = {_k8s_resource_name(e): e.value for e in container.resources.requests}
            if limits or requests:
                existing = dict(c.get("resources") or {})
                existing["limits"] = {**(existing.get("limits") or {}), **limits}
                existing["requests"] = {**(existing.get("requests") or {}), **requests}
                c["resources"] = existing
            if container.env:
                c["env"] = [{"name": e.key, "value": e.value} for e in container.env] + list(
                    c.get("env") or []
                )
        merged.append(c)
    spec["containers"] = merged
    return tasks_pb2.K8sPod(
        pod_spec=_struct(spec),
        metadata=tasks_pb2.K8sObjectMetadata(
            labels=pod_template.labels or {}, annotations=pod_template.annotations or {}
        ),
    )


def _truncate(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    if len(text) <= limit:
        return text
    return text[: limit - 8] + "...(tr.)" if limit >= 8 else text[:limit]


def _documentation(task: TaskTemplate[Any, Any, Any]) -> task_definition_pb2.DocumentationEntity:
    docstring = getattr(task.interface, "docstring", None)
    short = getattr(docstring, "short_description", None) if docstring is not None else None
    long = getattr(docstring, "long_description", None) if docstring is not None else None
    if not short and task.docs is not None and task.docs.description:
        short, _, rest = task.docs.description.strip().partition("\n")
        long = long or rest.strip() or None
    return task_definition_pb2.DocumentationEntity(
        short_description=_truncate(short, MAX_SHORT_DESCRIPTION_LENGTH),
        long_description=_truncate(long, MAX_LONG_DESCRIPTION_LENGTH),
    )


def _discovery_version(task: TaskTemplate[Any, Any, Any], ctx: SerializationContext) -> str:
    """The code version: the cache version, or the `auto` policy's one when caching is off.

    It identifies the task's code in deterministic child action names even without caching.
    """
    from flyte_models import VersionParameters, cache_from_request

    bundle = ctx.code_bundle
    if bundle is not None and bundle.pkl:
        return bundle.computed_version
    cache = cache_from_request(task.cache)
    policy = cache if cache.is_enabled() else cache_from_request("auto")
    params = VersionParameters(func=getattr(task, "func", None), image=task.image)
    try:
        return policy.get_version(params)
    except ValueError:
        if cache.is_enabled():
            raise
        return ""  # e.g. a function whose source is unavailable; only caching needs it


def _image_uri(task: TaskTemplate[Any, Any, Any], ctx: SerializationContext) -> str | None:
    env_name = task.parent_env_name
    lookup = getattr(ctx.image_cache, "image_lookup", None)
    if env_name and isinstance(lookup, Mapping) and env_name in lookup:
        return str(lookup[env_name])
    image = task.image
    if image is None:
        return None
    if isinstance(image, str):
        return image
    if image.ref_name is None and (ctx.image_cache is None or not image.layers):
        return str(image.uri)
    raise SpecError(
        f"the image of environment {env_name!r} (task {task.name!r}) has to be built but is not in "
        "the image cache; build it first (flyte build), declare the environment with depends_on=[...] "
        "from the calling environment, or pass image_uri="
    )


def _image_build_run(task: TaskTemplate[Any, Any, Any], ctx: SerializationContext) -> Any:
    runs = getattr(ctx.image_cache, "build_run_ids", None)
    if not isinstance(runs, Mapping) or task.parent_env_name not in runs:
        return None
    from flyteidl2.common import identifier_pb2 as common_identifier_pb2

    rid = runs[task.parent_env_name]
    return common_identifier_pb2.RunIdentifier(
        org=rid.org, project=rid.project, domain=rid.domain, name=rid.name
    )


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def task_identifier(
    name: str,
    version: str,
    *,
    project: str | None = None,
    domain: str | None = None,
    org: str | None = None,
) -> identifier_pb2.Identifier:
    """Return the `core.Identifier` of a task (`resource_type=TASK`).

    Args:
        name: The task name, `<environment>.<function>`.
        version: The task version.
        project: The project.
        domain: The domain.
        org: The organisation.

    Returns:
        The identifier.
    """
    return identifier_pb2.Identifier(
        resource_type=identifier_pb2.TASK,
        project=project or "",
        domain=domain or "",
        name=name,
        version=version,
        org=org or "",
    )


async def default_inputs_of(task: TaskTemplate[Any, Any, Any]) -> list[common_pb2.NamedParameter]:
    """Return the task's defaulted inputs as `NamedParameter`s (what a deployed spec carries).

    Args:
        task: The task.

    Returns:
        One parameter per input with a default, in interface order.
    """
    from flyte_types import translate_default_inputs

    return await translate_default_inputs(task.interface)


def translate_task_to_spec(
    task: TaskTemplate[Any, Any, Any],
    ctx: SerializationContext,
    *,
    image_uri: str | None = None,
    default_inputs: Sequence[common_pb2.NamedParameter] | None = None,
    documentation: bool = True,
) -> task_definition_pb2.TaskSpec:
    """Translate a task into the `TaskSpec` a backend runs.

    Args:
        task: The task (any `TaskTemplate`; plugins contribute `task_type`, `custom_config`,
            `config`, `container_args`, `sql`, `data_loading_config`).
        ctx: The serialisation context: version, project, domain, org, code bundle, root dir and
            image cache.
        image_uri: The container image; by default it is looked up in `ctx.image_cache` by
            environment name, else taken from `task.image.uri` (images that need no build).
        default_inputs: The defaulted inputs (`await default_inputs_of(task)`); left out if `None`.
        documentation: Whether to fill `TaskSpec.documentation` from the docstring / `docs`.

    Returns:
        The task spec.

    Raises:
        SpecError: If the image cannot be determined, the reuse policy does not fit the task, or
            the pod template has no primary container.
        RuntimeSystemError: If the container args cannot be formed (no resolver or root dir).
        TypeTransformerFailedError: If an input or output type has no wire form.
    """
    from flyte_models import ReusePolicy, cache_from_request
    from flyte_types import translate_interface

    tid = task_identifier(
        task.name, ctx.version, project=ctx.project, domain=ctx.domain, org=ctx.org
    )
    config: dict[str, str] = dict(task.config(ctx) or {})
    sql = task.sql(ctx)
    pod_template = task.pod_template
    container = None
    pod = None
    if sql is None or (pod_template is not None and not isinstance(pod_template, str)):
        if image_uri is None:
            image_uri = _image_uri(task, ctx)
        env_vars = [
            literals_pb2.KeyValuePair(key=k, value=v) for k, v in (task.env_vars or {}).items()
        ]
        container = tasks_pb2.Container(
            image=image_uri or "",
            command=[],
            args=task.container_args(ctx),
            resources=resources_to_proto(task.resources),
            env=env_vars,
            data_config=task.data_loading_config(ctx),
            config=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in config.items()],
        )
    if pod_template is not None and not isinstance(pod_template, str) and container is not None:
        pod = _k8s_pod(container, pod_template)
        container = None
        config[PRIMARY_CONTAINER_NAME_FIELD] = pod_template.primary_container_name

    cache = cache_from_request(task.cache)
    enabled = cache.is_enabled()
    max_runtime, timeouts = _timeouts(task.timeout)
    bundle = ctx.code_bundle
    metadata = tasks_pb2.TaskMetadata(
        discoverable=enabled,
        discovery_version=_discovery_version(task, ctx),
        cache_serializable=cache.serialize,
        cache_ignore_input_vars=list(cache.get_ignored_inputs()) if enabled else None,
        cache_max_age=_duration(cache.max_age),  # type: ignore[arg-type]
        runtime=tasks_pb2.RuntimeMetadata(
            type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version=__version__, flavor="python"
        ),
        retries=_retry_strategy(task.retries),
        timeout=max_runtime,
        timeouts=timeouts,
        pod_template_name=pod_template if isinstance(pod_template, str) else None,
        interruptible=task.interruptible,
        generates_deck=wrappers_pb2.BoolValue(value=task.report),
        debuggable=task.debuggable if task.reusable is None else False,
        is_entrypoint=task.entrypoint,
        produces_artifacts=task.produces_artifacts,
        image_build_run=_image_build_run(task, ctx),
        code_bundle_uri=bundle.tgz if bundle is not None else None,
    )
    custom = task.custom_config(ctx) or {}
    template = tasks_pb2.TaskTemplate(
        id=tid,
        type=task.task_type,
        metadata=metadata,
        interface=translate_interface(task.interface),
        custom=_struct(custom) if custom else None,
        container=container,
        k8s_pod=pod,
        sql=sql,  # type: ignore[arg-type]
        task_type_version=task.task_type_version,
        security_context=_security_context(task.secrets, task.service_account),
        config=config,
        extended_resources=_extended_resources(task.resources),
    )
    env_name = _environment_name(task)
    if task.reusable is not None:
        if not isinstance(task.reusable, ReusePolicy):
            raise SpecError(
                f"task {task.name!r} has reusable={task.reusable!r}; it must be a ReusePolicy"
            )
        template.reuse_policy.CopyFrom(_reuse_policy(task.reusable))
        if task.task_type == "python":
            if custom:
                raise SpecError(
                    f"task {task.name!r} is a plugin task with a reuse policy; plugins cannot run "
                    "in reusable containers (drop reusable=, or use a plain container task)"
                )
            name = env_name or task.name.split(".")[0]
            template.custom.CopyFrom(_struct(_actor_custom(template, task.reusable, bundle, name)))
            template.type = "actor"

    env = None
    if env_name:
        env = environment_pb2.Environment(
            name=env_name[:MAX_ENVIRONMENT_NAME_LENGTH],
            description=_environment_description(task) or "",
        )
    return task_definition_pb2.TaskSpec(
        task_template=template,
        default_inputs=list(default_inputs) if default_inputs else None,
        short_name=(task.short_name or task.name)[:MAX_SHORT_NAME_LENGTH],
        environment=env,
        documentation=_documentation(task) if documentation else None,
    )


def _environment_name(task: TaskTemplate[Any, Any, Any]) -> str | None:
    env = task.parent_env() if task.parent_env is not None else None
    if env is not None:
        return str(env.name)
    return task.parent_env_name


def _environment_description(task: TaskTemplate[Any, Any, Any]) -> str | None:
    env = task.parent_env() if task.parent_env is not None else None
    description = getattr(env, "description", None)
    return description if isinstance(description, str) else None
