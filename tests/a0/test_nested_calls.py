"""Tasks that call tasks inside our `a0`, under our devbox: the remote controller end to end.

Every action is a real `a0` process started by the devbox; each nested call travels as a child
action through the devbox's QueueService + StateService (default) or ActionsService
(`_U_USE_ACTIONS=1`). The task specs are built with `flyte_client._spec.translate_task_to_spec`,
the code bundle is uploaded through a signed URL, and runs are created over Connect.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.task import common_pb2, run_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient
from support.devbox_runs import (
    DOMAIN,
    PROJECT,
    bundle_bytes,
    our_devbox_config,
    read_outputs,
    run_and_wait,
    task_module,
    tgz_context,
    upload_bundle,
    wait_terminal,
)

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
import flyte_types
from flyte_client._spec import translate_task_to_spec
from flyte_devbox import Devbox
from flyte_models import CodeBundle, SerializationContext
from flyte_runtime._resolver import install_default_resolver

MODULE = "a0_nested_tasks"
TASKS = """
import asyncio
import os
import signal

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="nest")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
def sync_square(x: int) -> int:
    return x * x


@env.task
async def fan_out(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))


@env.task
async def two_levels(n: int) -> int:
    parts = await asyncio.gather(fan_out(2), fan_out(3))
    return sum(sum(p) for p in parts) + n


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")


@env.task
async def catches(x: int) -> str:
    try:
        await fails(x)
    except flyte.errors.RuntimeUserError as e:
        return f"caught {e.code}: {e}"
    return "not caught"


@env.task
async def does_not_catch(x: int) -> int:
    return await fails(x) + 1


@env.task
async def maps(n: int) -> list[int]:
    return [r async for r in flyte.map.aio(square, range(n))]


@env.task
def maps_sync(n: int) -> list[int]:
    return list(flyte.map(sync_square, range(n)))


@env.task
def sync_parent(x: int) -> int:
    return sync_square(x) + 1


@env.task
async def grouped(x: int) -> int:
    with flyte.group("left"):
        a = await square(x)
    with flyte.group("right"):
        b = await square(x + 1)
    return a + b


@flyte.trace
async def plus_one(x: int) -> int:
    return x + 1


@env.task
async def traced(x: int) -> int:
    return await square(await plus_one(x))


# Children in this environment run a no-op process instead of a0 (the devbox's image_a0_commands):
# a wide fan-out then measures the controller and the control plane, not Python start-up.
noop = flyte.TaskEnvironment(name="noop", image="noop.example/noop:1")


@noop.task
async def tick(i: int) -> None:
    pass


@env.task
async def wide(n: int) -> int:
    await asyncio.gather(*(tick(i) for i in range(n)))
    return n


@env.task
async def killed(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("src")
    with task_module(root, MODULE, TASKS) as mod:
        yield root, mod


def _devbox(tmp: Path, **kw: Any) -> Devbox:
    config = our_devbox_config(
        tmp / "state",
        max_concurrent_actions=4,
        max_system_retries=0,
        image_a0_commands={"noop.example/*": ("true",)},
        **kw,
    )
    return Devbox(config).start()


@pytest.fixture(scope="module", params=["queue-state", "actions"])
def devbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Devbox]:
    dbx = _devbox(
        tmp_path_factory.mktemp(request.param), use_actions_service=request.param == "actions"
    )
    try:
        yield dbx
    finally:
        dbx.stop()


@pytest.fixture
async def runs(devbox: Devbox) -> AsyncIterator[RunServiceClient]:
    async with RunServiceClient(devbox.url) as client:
        yield client


_UPLOADED: dict[str, str] = {}


async def upload(devbox: Devbox, data: bytes, headers: dict[str, str] | None = None) -> str:
    """Upload the bundle once per devbox; return its native URL."""
    if devbox.url not in _UPLOADED:
        _UPLOADED[devbox.url] = await upload_bundle(devbox, data, headers)
    return _UPLOADED[devbox.url]


async def run_task(
    devbox: Devbox,
    runs: RunServiceClient,
    source: tuple[Path, Any],
    name: str,
    *,
    inputs: common_pb2.Inputs | None = None,
    offloaded_uri: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> run_definition_pb2.ActionDetails:
    root, mod = source
    task = getattr(mod, name)
    install_default_resolver()
    url = await upload(devbox, bundle_bytes(root, MODULE), headers)
    sctx = tgz_context(url, root)
    spec = translate_task_to_spec(task, sctx)
    req = run_service_pb2.CreateRunRequest(
        project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
        task_spec=spec,
        run_spec=run_pb2.RunSpec(),
    )
    if offloaded_uri is not None:
        req.offloaded_input_data.uri = offloaded_uri
        req.offloaded_input_data.inputs_hash = "not-checked"
    else:
        req.inputs.CopyFrom(inputs or await flyte_types.build_inputs(task.interface, kwargs))
    created = await runs.create_run(req, headers=headers)
    return await wait_terminal(runs, created.run.action.id, headers)


async def children(runs: RunServiceClient, details: Any) -> list[run_definition_pb2.Action]:
    resp = await runs.list_actions(
        run_service_pb2.ListActionsRequest(
            run_id=details.id.run, request=list_pb2.ListRequest(limit=1000)
        )
    )
    return [a for a in resp.actions if a.id.name != "a0"]


def ok(details: Any) -> None:
    assert details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED, details.error_info


async def test_fan_out_of_50_children(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    started = time.monotonic()
    details = await run_task(devbox, runs, source, "fan_out", n=50)
    ok(details)
    assert await read_outputs(runs, details, source[1].fan_out) == [i * i for i in range(50)]
    kids = await children(runs, details)
    assert len(kids) == 50
    assert {k.metadata.parent for k in kids} == {"a0"}
    assert all(k.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED for k in kids)
    assert len({k.id.name for k in kids}) == 50  # distinct deterministic names
    print(f"fan-out of 50 children took {time.monotonic() - started:.1f}s")


async def test_fan_out_of_300_trivial_children(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    started = time.monotonic()
    details = await run_task(devbox, runs, source, "wide", n=300)
    ok(details)
    assert await read_outputs(runs, details, source[1].wide) == 300
    kids = await children(runs, details)
    assert len(kids) == 300 and all(
        k.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED for k in kids
    )
    elapsed = time.monotonic() - started
    print(f"fan-out of 300 trivial children took {elapsed:.1f}s")
    assert elapsed < 120


async def test_nested_two_levels(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "two_levels", n=100)
    ok(details)
    assert await read_outputs(runs, details, source[1].two_levels) == (0 + 1) + (0 + 1 + 4) + 100
    kids = await children(runs, details)
    middle = [k for k in kids if k.metadata.parent == "a0"]
    assert len(middle) == 2 and len(kids) == 2 + 2 + 3
    assert {k.metadata.parent for k in kids} - {"a0"} == {k.id.name for k in middle}


async def test_child_user_error_caught_by_the_parent(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "catches", x=5)
    ok(details)
    assert (
        await read_outputs(runs, details, source[1].catches)
        == "caught ValueError: x=5 is not welcome"
    )


async def test_child_user_error_not_caught_fails_the_parent(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "does_not_catch", x=6)
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
    assert details.error_info.code == "ValueError"
    assert details.error_info.message == "x=6 is not welcome"


async def test_flyte_map_async_and_sync(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "maps", n=6)
    ok(details)
    assert await read_outputs(runs, details, source[1].maps) == [i * i for i in range(6)]
    kids = await children(runs, details)
    assert {k.metadata.group for k in kids} == {"square_map"}
    details = await run_task(devbox, runs, source, "maps_sync", n=4)
    ok(details)
    assert await read_outputs(runs, details, source[1].maps_sync) == [0, 1, 4, 9]


async def test_sync_task_calls_a_sync_task(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "sync_parent", x=4)
    ok(details)
    assert await read_outputs(runs, details, source[1].sync_parent) == 17


async def test_groups_name_the_children(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "grouped", x=2)
    ok(details)
    assert await read_outputs(runs, details, source[1].grouped) == 4 + 9
    kids = await children(runs, details)
    assert sorted(k.metadata.group for k in kids) == ["left", "right"]


async def test_traces_run_in_the_parent(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "traced", x=2)
    ok(details)
    assert await read_outputs(runs, details, source[1].traced) == 9
    # The trace is recorded as an action of the run (beside the child task), with its outputs.
    kids = await children(runs, details)
    traces = [k for k in kids if k.metadata.HasField("trace")]
    assert [t.metadata.trace.name for t in traces] == ["plus_one"]
    assert traces[0].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=traces[0].id))
    assert data.outputs.literals[0].value.scalar.primitive.integer == 3
    assert len(kids) == 2


async def test_corrupt_inputs_are_a_system_error(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any], tmp_path: Path
) -> None:
    bad = tmp_path / "bad-inputs"
    bad.mkdir()
    (bad / "inputs.pb").write_bytes(b"\xff\xfe not a protobuf \x00\x01")
    details = await run_task(devbox, runs, source, "square", offloaded_uri=str(bad))
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert details.error_info.code == "LiteralDecodeError", details.error_info
    assert "cannot read the task inputs" in details.error_info.message


async def test_task_killed_by_the_os_fails_with_a_system_error(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any]
) -> None:
    details = await run_task(devbox, runs, source, "killed", x=1)
    assert details.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert details.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert details.error_info.code == "ProcessExited"
    assert "killed by signal 9" in details.error_info.message


async def test_nested_calls_authenticate_like_the_reference(
    source: tuple[Path, Any], tmp_path: Path
) -> None:
    # With a token the devbox checks every call, including the in-task controller's; it gives
    # actions FLYTE_AUTH_PROXY_COMMAND, which our a0 runs to get the proxy-authorization token.
    box = _devbox(tmp_path, token="s3cret")
    headers = {"authorization": "Bearer s3cret"}
    try:
        async with RunServiceClient(box.url) as runs:
            details = await run_task(box, runs, source, "fan_out", headers=headers, n=3)
            ok(details)
            assert await read_outputs(runs, details, source[1].fan_out, headers) == [0, 1, 4]
    finally:
        box.stop()


async def test_task_from_a_pkl_bundle_calls_tasks(
    devbox: Devbox, runs: RunServiceClient, source: tuple[Path, Any], tmp_path: Path
) -> None:
    # As from a notebook: the task travels pickled by value (no source in a tgz). Its children
    # get pkl bundles of their own, which the parent's a0 writes under the run base directory.
    import cloudpickle

    from flyte_runtime._codebundle import build_pkl_bundle

    mod = source[1]
    cloudpickle.register_pickle_by_value(mod)
    try:
        bundle = build_pkl_bundle(mod.two_levels)
    finally:
        cloudpickle.unregister_pickle_by_value(mod)
    url = await upload_bundle(devbox, bundle.data, filename=bundle.filename)
    sctx = SerializationContext(
        version=bundle.md5_hex,
        project=PROJECT,
        domain=DOMAIN,
        code_bundle=CodeBundle(pkl=url, computed_version=bundle.md5_hex),
    )
    spec = translate_task_to_spec(mod.two_levels, sctx)
    assert "--pkl" in spec.task_template.container.args
    assert "--resolver" not in spec.task_template.container.args
    details = await run_and_wait(runs, spec, mod.two_levels, n=1)
    ok(details)
    assert await read_outputs(runs, details, mod.two_levels) == 1 + 5 + 1
    assert len(await children(runs, details)) == 2 + 2 + 3
