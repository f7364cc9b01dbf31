"""Helpers for the devbox unit tests: task specs, requests, waiting."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl2.task import common_pb2, environment_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_service_pb2

PROJECT = "flytesnacks"
DOMAIN = "development"

A0_ARGS = [
    "a0",
    "--inputs",
    "{{.input}}",
    "--outputs-path",
    "{{.outputPrefix}}",
    "--version",
    "v1",
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
    "--resolver",
    "some.Resolver",
    "mod",
    "tasks",
    "instance",
    "square",
]


def int_literal(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(
        scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value))
    )


def task_spec(
    name: str = "env.square",
    *,
    mode: str = "square",
    version: str = "v1",
    retries: int = 0,
    timeout: float | None = None,
    outputs: bool = True,
    image: str = "ghcr.io/flyteorg/flyte:py3.11-v2.12.1",
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
) -> task_definition_pb2.TaskSpec:
    int_type = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    iface = interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(
            variables=[
                interface_pb2.VariableEntry(key="x", value=interface_pb2.Variable(type=int_type))
            ]
        ),
    )
    if outputs:
        iface.outputs.variables.append(
            interface_pb2.VariableEntry(key="o0", value=interface_pb2.Variable(type=int_type))
        )
    container_env = [literals_pb2.KeyValuePair(key="FAKE_MODE", value=mode)]
    for k, v in (env or {}).items():
        container_env.append(literals_pb2.KeyValuePair(key=k, value=v))
    tmpl = tasks_pb2.TaskTemplate(
        id=core_identifier_pb2.Identifier(
            resource_type=core_identifier_pb2.TASK,
            project=PROJECT,
            domain=DOMAIN,
            name=name,
            version=version,
        ),
        type="python",
        metadata=tasks_pb2.TaskMetadata(retries=literals_pb2.RetryStrategy(retries=retries)),
        interface=iface,
        container=tasks_pb2.Container(image=image, args=args or A0_ARGS, env=container_env),
    )
    if timeout is not None:
        tmpl.metadata.timeout.FromSeconds(int(timeout))
    return task_definition_pb2.TaskSpec(
        task_template=tmpl,
        short_name=name.rsplit(".", 1)[-1],
        environment=environment_pb2.Environment(name=name.split(".", 1)[0]),
        default_inputs=[
            common_pb2.NamedParameter(
                name="x",
                parameter=interface_pb2.Parameter(
                    var=interface_pb2.Variable(type=int_type), default=int_literal(3)
                ),
            )
        ],
    )


def inputs(x: int) -> common_pb2.Inputs:
    return common_pb2.Inputs(literals=[common_pb2.NamedLiteral(name="x", value=int_literal(x))])


def create_run_request(
    spec: task_definition_pb2.TaskSpec, x: int | None = 7, name: str = "", **run_spec: Any
) -> run_service_pb2.CreateRunRequest:
    req = run_service_pb2.CreateRunRequest(
        task_spec=spec,
        run_spec=run_pb2.RunSpec(**run_spec),
    )
    if name:
        req.run_id.CopyFrom(
            identifier_pb2.RunIdentifier(org="", project=PROJECT, domain=DOMAIN, name=name)
        )
    else:
        req.project_id.CopyFrom(identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN))
    if x is not None:
        req.inputs.CopyFrom(inputs(x))
    return req


FAKE_A0 = str(Path(__file__).resolve().with_name("devbox_fake_a0.py"))


def fake_env() -> dict[str, str]:
    """The fake a0 runs with this interpreter; hand it our import path (Pants or not)."""
    return {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


TERMINAL = {
    phase_pb2.ACTION_PHASE_SUCCEEDED,
    phase_pb2.ACTION_PHASE_FAILED,
    phase_pb2.ACTION_PHASE_ABORTED,
    phase_pb2.ACTION_PHASE_TIMED_OUT,
}


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


async def watch_until(stream: Any, predicate: Callable[[Any], Any], timeout: float = 60.0) -> Any:
    """The first item of a server stream that satisfies `predicate`; the stream is closed."""
    import asyncio
    import contextlib

    async with contextlib.aclosing(stream) as items, asyncio.timeout(timeout):
        async for item in items:
            if predicate(item):
                return item
    raise AssertionError("the stream ended before the condition was met")
