"""From a task spec to a command line and environment, the way a Flyte backend does it.

The container args of a Flyte 2 task start with `a0` (the runtime's entrypoint) and carry
`{{.placeholders}}` that the backend fills in per attempt (PROTOCOL.md section 3.3). The devbox
swaps `a0` for the configured command (`DevboxConfig.a0_command`, or a per-image override)
and runs the result in a fresh working directory.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from flyteidl2.task import run_pb2, task_definition_pb2

from flyte_devbox._errors import InvalidArgument

_PLACEHOLDER = re.compile(r"\{\{\s*[.$]([A-Za-z0-9_]+)\s*\}\}")

# Variables that would point an action's client somewhere other than this devbox.
_SCRUBBED_ENV = frozenset(
    {
        "UCTL_CONFIG",
        "FLYTECTL_CONFIG",
        "FLYTE_API_KEY",
        "EAGER_API_KEY",
        "_UNION_EAGER_API_KEY",
        "FLYTE_AUTH_TYPE",
        "FLYTE_AUTH_COMMAND",
        "FLYTE_AUTH_PROXY_COMMAND",
        "PYTHONPATH",
        "PYTHONHOME",
        "VIRTUAL_ENV",
        "ACTION_NAME",
        "RUN_NAME",
    }
)
_SCRUBBED_PREFIXES = ("FLYTE_ADMIN_", "_U_", "_F_", "FLYTE_INTERNAL_")


@dataclasses.dataclass(frozen=True)
class AttemptPaths:
    inputs: str  # full path of inputs.pb ("" when the action has none)
    output_prefix: str
    raw_output_prefix: str
    checkpoint_prefix: str
    prev_checkpoint_prefix: str


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def substitute(arg: str, values: Mapping[str, str]) -> str:
    """Fill `{{.name}}` placeholders (case-insensitive, as Flyte's template engine); keep unknown."""

    def repl(m: re.Match[str]) -> str:
        value = values.get(m.group(1).lower())
        return m.group(0) if value is None else value

    return _PLACEHOLDER.sub(repl, arg)


@dataclasses.dataclass(frozen=True)
class PrimaryContainer:
    """What the devbox runs of a task: the image, command + args and env of its container."""

    image: str
    argv: list[str]
    env: list[tuple[str, str]]


def primary_container(spec: task_definition_pb2.TaskSpec) -> PrimaryContainer:
    """The container a task runs in: its `container` target, or for a `k8s_pod` target (a task
    with a pod template) the pod spec's primary container, named by the template's
    `primary_container_name` config (the rest of the pod, sidecars included, is not run)."""
    tt = spec.task_template
    kind = tt.WhichOneof("target")
    if kind == "container":
        c = tt.container
        argv = [*c.command, *c.args]
        image, env = c.image, [(kv.key, kv.value) for kv in c.env]
    elif kind == "k8s_pod":
        from google.protobuf import json_format

        primary = tt.config.get("primary_container_name") or "primary"
        pod = json_format.MessageToDict(tt.k8s_pod.pod_spec)
        found = [c for c in pod.get("containers") or [] if c.get("name") == primary]
        if not found:
            raise InvalidArgument(
                f"task {tt.id.name!r} has a k8s_pod target without its primary container "
                f"{primary!r}; name it in the pod spec or set primary_container_name"
            )
        c = found[0]
        argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        image = str(c.get("image") or "")
        env = [(str(e["name"]), str(e.get("value", ""))) for e in c.get("env") or [] if "name" in e]
    else:
        raise InvalidArgument(
            f"task {tt.id.name!r} has a {kind or 'no target'} target; the devbox runs only "
            "container tasks (and pod tasks, through their primary container)"
        )
    if not argv:
        raise InvalidArgument(f"task {tt.id.name!r} has an empty container command")
    return PrimaryContainer(image=image, argv=argv, env=env)


def container_args(spec: task_definition_pb2.TaskSpec) -> tuple[str, list[str]]:
    """The image and the full argv (command + args) of a task's (primary) container."""
    c = primary_container(spec)
    return c.image, list(c.argv)


def select_a0(
    image: str, default: Sequence[str], per_image: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    for pattern, command in per_image.items():
        if fnmatch.fnmatchcase(image, pattern):
            return tuple(command)
    return tuple(default)


def build_argv(
    spec: task_definition_pb2.TaskSpec,
    *,
    values: Mapping[str, str],
    a0_command: Sequence[str],
    per_image: Mapping[str, Sequence[str]],
) -> list[str]:
    image, argv = container_args(spec)
    argv = [substitute(a, values) for a in argv]
    if argv[0] == "a0":
        return [*select_a0(image, a0_command, per_image), *argv[1:]]
    return argv


def placeholder_values(
    *, paths: AttemptPaths, run_name: str, action_name: str, run_start_time: float
) -> dict[str, str]:
    inputs = paths.inputs
    return {
        "input": inputs,
        "inputprefix": inputs.rsplit("/", 1)[0] if inputs else "",
        "outputprefix": paths.output_prefix,
        "rawoutputdataprefix": paths.raw_output_prefix,
        "checkpointoutputprefix": paths.checkpoint_prefix,
        "prevcheckpointprefix": paths.prev_checkpoint_prefix,
        "runname": run_name,
        "actionname": action_name,
        "runstarttime": iso(run_start_time),
        "namespace": "",
    }


def build_env(
    *,
    base: Mapping[str, str],
    devbox_env: Mapping[str, str],
    spec: task_definition_pb2.TaskSpec,
    run_spec: run_pb2.RunSpec,
    system: Mapping[str, str],
    defaults: Mapping[str, str],
    command: Sequence[str],
) -> dict[str, str]:
    """base (scrubbed) < defaults < devbox env < task container env < run envs < system."""
    env = {
        k: v
        for k, v in base.items()
        if k not in _SCRUBBED_ENV and not k.startswith(_SCRUBBED_PREFIXES)
    }
    env.update(defaults)
    env.update(devbox_env)
    if spec.task_template.WhichOneof("target") in ("container", "k8s_pod"):
        for key, value in primary_container(spec).env:
            env[key] = value
    for kv in run_spec.envs.values:
        env[kv.key] = kv.value
    env.update(system)
    # The command's own bin directory first, so `python`/`a0` resolve inside its virtualenv.
    if command and os.sep in command[0]:
        bindir = str(Path(command[0]).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", os.defpath)
    return env


def fsspec_local_env() -> dict[str, str]:
    """fsspec's local filesystem must create parent directories (PROTOCOL.md section 7)."""
    return {"FSSPEC_FILE": json.dumps({"auto_mkdir": True})}
