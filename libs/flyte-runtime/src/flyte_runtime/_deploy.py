"""`flyte.deploy(env, ...)`: register every task of an environment (and of the environments it
`depends_on`) with the control plane, so they can be run by name and fired by triggers.

One code bundle serves the whole deployment; its md5 is the version unless one is given. Each
task becomes `TaskService.DeployTask{task_id, spec, triggers}`; `dryrun=True` builds the specs
without uploading or registering anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from flyte_models import SerializationContext, TaskEnvironment, TaskTemplate, syncify

__all__ = ["DeployedTask", "DeployedTaskEnvironment", "Deployment", "deploy", "plan_deploy"]


@dataclass
class DeployedTask:
    """A task as deployed: its `TaskSpec` and its triggers (`TaskTrigger` messages)."""

    deployed_task: Any
    deployed_triggers: list[Any] = field(default_factory=list)

    def get_name(self) -> str:
        """The task name (`<env>.<function>`)."""
        return str(self.deployed_task.task_template.id.name)

    @property
    def version(self) -> str:
        """The deployed version."""
        return str(self.deployed_task.task_template.id.version)

    def summary_repr(self) -> str:
        """One line: name and version."""
        return f"DeployedTask(name={self.get_name()}, version={self.version})"

    def table_repr(self) -> list[tuple[str, ...]]:
        """Rows for a table: type, name, version, triggers."""
        return [
            ("type", "task"),
            ("name", self.get_name()),
            ("version", self.version),
            ("triggers", ",".join(t.name for t in self.deployed_triggers)),
        ]


@dataclass
class DeployedTaskEnvironment:
    """One environment of a deployment and its deployed tasks."""

    env: Any
    deployed_entities: list[DeployedTask] = field(default_factory=list)

    def get_name(self) -> str:
        """The environment name."""
        return str(self.env.name)

    def summary_repr(self) -> str:
        """One line: the environment and its tasks."""
        entities = ", ".join(e.summary_repr() for e in self.deployed_entities)
        return f"Deployment(env=[{self.env.name}], entities=[{entities}])"

    def table_repr(self) -> list[list[tuple[str, ...]]]:
        """One table per deployed task."""
        return [e.table_repr() for e in self.deployed_entities]

    def env_repr(self) -> list[tuple[str, ...]]:
        """Rows: environment name and image."""
        image = getattr(self.env, "image", None)
        uri = image if isinstance(image, str) else getattr(image, "uri", "") or ""
        return [("environment", self.env.name), ("image", str(uri))]


@dataclass(frozen=True)
class Deployment:
    """The result of `flyte.deploy` for one environment closure: environments by name."""

    envs: dict[str, DeployedTaskEnvironment]

    def summary_repr(self) -> str:
        """One line for the whole deployment."""
        envs = ", ".join(e.summary_repr() for e in self.envs.values())
        return f"Deployment(envs=[{envs}])"

    def table_repr(self) -> list[list[tuple[str, ...]]]:
        """One table per deployed task."""
        return [row for e in self.envs.values() for row in e.table_repr()]

    def env_repr(self) -> list[list[tuple[str, ...]]]:
        """One table per environment."""
        return [e.env_repr() for e in self.envs.values()]

    @property
    def tasks(self) -> list[DeployedTask]:
        """Every deployed task."""
        return [t for e in self.envs.values() for t in e.deployed_entities]

    def __str__(self) -> str:
        return self.summary_repr()


def _closure(env: Any, found: dict[str, Any]) -> dict[str, Any]:
    if env.name in found:
        if found[env.name] is not env:
            raise ValueError(
                f"two different environments are named {env.name!r}; environment names must be "
                "unique within a deployment"
            )
        return found
    found[env.name] = env
    for dep in getattr(env, "depends_on", None) or []:
        _closure(dep, found)
    return found


def plan_deploy(*envs: Any) -> list[dict[str, Any]]:
    """The deployment plans: for each given environment not already covered, the environments
    it reaches through `depends_on` (itself included), by name."""
    plans: list[dict[str, Any]] = []
    seen: dict[str, Any] = {}
    for env in envs:
        if not hasattr(env, "name"):
            raise TypeError(
                f"flyte.deploy expects environments (flyte.TaskEnvironment), got {env!r}"
            )
        if env.name in seen:
            if seen[env.name] is not env:
                raise ValueError(f"two different environments are named {env.name!r}")
            continue
        plan = _closure(env, {})
        plans.append(plan)
        seen.update(plan)
    return plans


async def _triggers(task: TaskTemplate[Any, Any, Any], task_spec: Any) -> list[Any]:
    """flyteidl2 `TaskTrigger`s of `task.triggers` (cron / fixed-rate / on demand)."""
    triggers = list(getattr(task, "triggers", ()) or ())
    if not triggers:
        return []
    from flyteidl2.task import task_definition_pb2

    import flyte_types
    from flyte_client.remote._trigger import trigger_automation, trigger_run_spec, trigger_values

    out = []
    for t in triggers:
        kickoff, values = trigger_values(t)
        unknown = set(values) - set(task.native_interface.inputs)
        if unknown:
            raise ValueError(
                f"trigger {t.name!r} of task {task.name!r} sets inputs {sorted(unknown)} that the "
                f"task does not have; its inputs are {sorted(task.native_interface.inputs)}"
            )
        iface = task.native_interface
        # Only the inputs the trigger sets; the rest come from the task's defaults when it fires.
        partial = dataclasses.replace(
            iface, inputs={k: (iface.inputs[k][0], None) for k in values}, _remote_defaults=None
        )
        inputs = await flyte_types.build_inputs(partial, values)
        automation = trigger_automation(t, kickoff)
        run_spec = trigger_run_spec(t)
        out.append(
            task_definition_pb2.TaskTrigger(
                name=t.name,
                spec=task_definition_pb2.TaskTriggerSpec(
                    active=t.auto_activate,
                    run_spec=run_spec,
                    inputs=inputs,
                    description=t.description or "",
                ),
                automation_spec=automation,
            )
        )
    return out


async def _deploy_plan(
    plan: dict[str, Any], *, version: str | None, copy_style: str, dryrun: bool
) -> Deployment:
    from flyteidl2.task import task_definition_pb2, task_service_pb2

    from flyte_runtime import _remote_run

    settings = _remote_run.current_settings()
    if settings is None:
        if not dryrun:
            _remote_run._require_settings()  # raises the "call flyte.init(endpoint=...)" error
        settings = _remote_run.RemoteSettings(endpoint="")
    project, domain, org = settings.project, settings.domain, settings.org
    if not dryrun and (not project or not domain):
        raise ValueError(
            f"flyte.deploy needs a project and a domain (got {project!r}/{domain!r}): pass "
            "flyte.init(project=..., domain=...) or set task.project/task.domain in the config"
        )
    tasks = [t for env in plan.values() for t in getattr(env, "tasks", {}).values()]
    if copy_style == "none":
        raise ValueError(
            "copy_style='none' (a pickled task) cannot be deployed: deployed tasks are loaded "
            "from a code bundle; use 'loaded_modules' or 'all'"
        )
    bundle = await _remote_run.prepare_code_bundle(
        None,
        settings,
        copy_style=copy_style,  # type: ignore[arg-type]
        project=project,
        domain=domain,
        upload=not dryrun,
        envs=list(plan.values()),
    )
    ver = version or bundle.computed_version
    image_cache = await _remote_run.image_cache_for(list(plan.values()), settings)
    sctx = SerializationContext(
        version=ver,
        project=project or None,
        domain=domain or None,
        org=org or None,
        code_bundle=bundle,
        root_dir=settings.root_dir,
        image_cache=image_cache,
    )

    async def one(task: TaskTemplate[Any, Any, Any]) -> DeployedTask:
        image = await _remote_run.resolve_image(task, settings)
        from flyte_client._spec import default_inputs_of

        spec = _remote_run.task_spec_for(task, sctx, image, await default_inputs_of(task))
        triggers = await _triggers(task, spec)
        if not dryrun:
            cs = _remote_run.clients()
            req = task_service_pb2.DeployTaskRequest(
                task_id=task_definition_pb2.TaskIdentifier(
                    org=org, project=project, domain=domain, name=task.name, version=ver
                ),
                spec=spec,
                triggers=triggers,
            )
            await _remote_run.call(
                f"deploy task {task.name!r} to {project}/{domain}",
                lambda: cs.task_service.DeployTask(req),
            )
        return DeployedTask(deployed_task=spec, deployed_triggers=triggers)

    deployed = await asyncio.gather(*(one(t) for t in tasks))
    by_env: dict[str, DeployedTaskEnvironment] = {
        name: DeployedTaskEnvironment(env=env) for name, env in plan.items()
    }
    for task, d in zip(tasks, deployed, strict=True):
        by_env[task.parent_env_name or ""].deployed_entities.append(d)
    return Deployment(envs=by_env)


@syncify
async def deploy(
    *envs: TaskEnvironment,
    dry_run: bool = False,
    version: str | None = None,
    interactive_mode: bool | None = None,
    copy_style: str = "loaded_modules",
    dryrun: bool | None = None,
) -> list[Deployment]:
    """Deploy environments: every task of `envs` and of the environments they `depends_on`.

    Args:
        envs: The environments.
        dry_run: Build the task specs (and the code bundle) but upload and register nothing.
        version: The version of every deployed task (default: the code bundle's md5).
        interactive_mode: Not supported (deployed tasks load from a code bundle).
        copy_style: `loaded_modules` (default) or `all`.
        dryrun: Alias of `dry_run`.

    Returns:
        One `Deployment` per independent environment closure.

    Raises:
        InitializationError: No control plane is configured (and not a dry run).
        ValueError: No project/domain, duplicate environment names, or a bad copy style.
        flyte_client.errors.RpcError: The control plane refused a task.
    """
    if interactive_mode:
        raise NotImplementedError(
            "interactive_mode deployments are not supported: deploy from a file"
        )
    dry = bool(dry_run or dryrun)
    plans = plan_deploy(*envs)
    return list(
        await asyncio.gather(
            *(_deploy_plan(p, version=version, copy_style=copy_style, dryrun=dry) for p in plans)
        )
    )
