"""The in-task controller's pure parts: hashes and child names (checked against the reference SDK),
error conversion, configuration from the environment, and the call handler's guards.

Child actions submitted over a real devbox are tested in the repository's tests/a0.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess
import textwrap
from typing import Any

import pytest
from flyteidl2.core import execution_pb2
from flyteidl2.task import common_pb2

import flyte_types
from flyte_client._spec import translate_task_to_spec
from flyte_models import (
    ActionID,
    Cache,
    CodeBundle,
    RawDataPath,
    SerializationContext,
    TaskContext,
    TaskEnvironment,
    use_task_context,
)
from flyte_models import errors as ferr
from flyte_runtime._remote_controller import (
    RemoteController,
    RemoteControllerUnavailableError,
    RemoteTaskCallHandler,
    cache_key_hash,
    error_to_exception,
    inputs_hash,
    task_identity_hash,
)
from flyte_runtime._resolver import install_default_resolver

# Read now: the autouse fixture in conftest.py clears FLYTE_* variables during each test.
REF_VENV = os.environ.get("FLYTE_TEST_REF_VENV")

env = TaskEnvironment(name="rc")


@env.task(cache=Cache(behavior="auto", version_override="v9", ignored_inputs=("note",)))
async def add(x: int, items: list[int], mapping: dict[str, float], note: str = "") -> int:
    return x + sum(items)


@env.task
async def plain(x: int) -> int:
    return x


def _ctx(**kw: Any) -> TaskContext:
    return TaskContext(
        action=ActionID(name="a0", run_name="r1", project="p", domain="d", org="o"),
        version="v1",
        raw_data_path=RawDataPath(path="/tmp/raw"),
        output_path="/tmp/out",
        run_base_dir="/tmp/base",
        **kw,
    )


def _spec(task: Any) -> Any:
    install_default_resolver()
    sctx = SerializationContext(
        version="v1",
        project="p",
        domain="d",
        org="o",
        code_bundle=CodeBundle(tgz="s3://b/x.tgz", computed_version="v1"),
        root_dir=pathlib.Path(__file__).parent,
    )
    return translate_task_to_spec(task, sctx, image_uri="img")


def _inputs() -> common_pb2.Inputs:
    return flyte_types.build_inputs_sync(
        add.interface, {"x": 3, "items": [1, 2], "mapping": {"b": 2.0, "a": 1.0}, "note": "hi"}
    )


def test_inputs_hash_is_stable_and_honours_ignored_inputs() -> None:
    inputs = _inputs()
    assert inputs_hash(inputs) == inputs_hash(_inputs())
    assert inputs_hash(inputs) != inputs_hash(inputs, frozenset({"note"}))
    other = flyte_types.build_inputs_sync(
        add.interface, {"x": 3, "items": [1, 2], "mapping": {"b": 2.0, "a": 1.0}, "note": "ho"}
    )
    assert inputs_hash(other, frozenset({"note"})) == inputs_hash(inputs, frozenset({"note"}))
    assert inputs_hash(common_pb2.Inputs()) == ""


def test_task_identity_ignores_image_and_bundle() -> None:
    spec = _spec(add)
    other = _spec(add)
    other.task_template.container.image = "another"
    other.task_template.id.version = "v2"
    assert task_identity_hash(spec.task_template) == task_identity_hash(other.task_template)
    assert task_identity_hash(spec.task_template) != task_identity_hash(_spec(plain).task_template)


REF_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from flyteidl2.task import common_pb2, task_definition_pb2
    from flyte._internal.runtime import convert
    from flyte.models import ActionID
    data = json.loads(sys.stdin.read())
    inputs = common_pb2.Inputs.FromString(bytes.fromhex(data["inputs"]))
    spec = task_definition_pb2.TaskSpec.FromString(bytes.fromhex(data["spec"]))
    tmpl = spec.task_template
    ignored = list(tmpl.metadata.cache_ignore_input_vars)
    full = convert.generate_inputs_hash_from_proto(inputs)
    named = convert.generate_filtered_inputs_hash(inputs, ignored)
    identity = convert.generate_task_identity_hash(tmpl)
    key = convert.generate_cache_key_hash(
        tmpl.id.name, full, tmpl.interface, tmpl.metadata.discovery_version, ignored, inputs
    )
    parent = ActionID(name="a0", run_name="r1", project="p", domain="d", org="o")
    child = parent.new_sub_action_from(task_call_seq=2, task_hash=identity, input_hash=named, group="g")
    print(json.dumps({"full": full, "named": named, "identity": identity, "key": key,
                      "child": child.name}))
    """
)


def test_hashes_and_child_names_match_the_reference() -> None:
    if not REF_VENV:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set: point it at a virtualenv with the reference SDK "
            "(scripts/ref-venv.sh creates one) to compare hashes with it"
        )
    python = pathlib.Path(REF_VENV) / "bin" / "python"
    assert python.exists(), f"FLYTE_TEST_REF_VENV={REF_VENV} has no bin/python"
    inputs, spec = _inputs(), _spec(add)
    proc = subprocess.run(
        [str(python), "-c", REF_SCRIPT],
        input=json.dumps(
            {"inputs": inputs.SerializeToString().hex(), "spec": spec.SerializeToString().hex()}
        ),
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert proc.returncode == 0, proc.stderr
    ref = json.loads(proc.stdout.strip().splitlines()[-1])
    tmpl = spec.task_template
    ignored = frozenset(tmpl.metadata.cache_ignore_input_vars)
    named = inputs_hash(inputs, ignored)
    identity = task_identity_hash(tmpl)
    assert inputs_hash(inputs) == ref["full"]
    assert named == ref["named"]
    assert identity == ref["identity"]
    assert cache_key_hash(tmpl.id.name, named, tmpl.interface, "v9") == ref["key"]
    parent = ActionID(name="a0", run_name="r1", project="p", domain="d", org="o")
    child = parent.new_sub_action_from(
        task_call_seq=2, task_hash=identity, input_hash=named, group="g"
    )
    assert child.name == ref["child"]


EE = execution_pb2.ExecutionError


@pytest.mark.parametrize(
    ("err", "cls", "code"),
    [
        (EE(kind=EE.USER, code="ValueError", message="bad"), ferr.RuntimeUserError, "ValueError"),
        (
            EE(kind=EE.USER, code="RetriesExhausted|ValueError", message="m"),
            ferr.RetriesExhaustedError,
            "ValueError",
        ),
        (EE(kind=EE.USER, code="OOMKilled", message="m"), ferr.OOMError, "OOMKilled"),
        (
            EE(kind=EE.USER, code="MaxRuntimeExceededError", message="m"),
            ferr.MaxRuntimeExceededError,
            None,
        ),
        (
            EE(kind=EE.SYSTEM, code="ProcessExited", message="m"),
            ferr.RuntimeSystemError,
            "ProcessExited",
        ),
        (EE(kind=EE.UNKNOWN, code="X", message="m"), ferr.RuntimeUnknownError, "X"),
    ],
)
def test_child_errors_become_flyte_errors(err: Any, cls: type, code: str | None) -> None:
    exc = error_to_exception(err)
    assert type(exc) is cls
    if code is not None:
        assert exc.code == code
    assert "m" in str(exc) or "bad" in str(exc)


def test_user_error_keeps_the_child_message() -> None:
    exc = error_to_exception(EE(kind=EE.USER, code="ValueError", message="x=5 is not welcome"))
    assert isinstance(exc, ferr.RuntimeUserError) and exc.kind == "user"
    assert str(exc) == "x=5 is not welcome"


def test_configuration_from_the_environment() -> None:
    c = RemoteController.from_env(
        {"_U_EP_OVERRIDE": "dns:///127.0.0.1:1234", "_U_INSECURE": "true", "_U_USE_ACTIONS": "1"}
    )
    assert (c.endpoint, c.insecure, c.use_actions) == ("dns:///127.0.0.1:1234", True, True)
    c = RemoteController.from_env({})
    assert (c.endpoint, c.insecure, c.use_actions) == (None, False, False)


async def test_a_call_without_an_endpoint_names_the_variable() -> None:
    controller = RemoteController(None)
    with (
        use_task_context(_ctx()),
        pytest.raises(RemoteControllerUnavailableError, match="_U_EP_OVERRIDE"),
    ):
        await controller.submit(plain, (1,), {})
    assert controller._clients is None  # nothing was connected


async def test_a_call_inside_a_trace_is_refused() -> None:
    import flyte

    @flyte.trace
    async def traced() -> int:
        return await RemoteController("dns:///127.0.0.1:9").submit(plain, (1,), {})

    with (
        use_task_context(_ctx()),
        pytest.raises(ferr.TraceDoesNotAllowNestedTasksError, match="rc.plain"),
    ):
        await traced()


async def test_handler_is_active_only_inside_a_task() -> None:
    handler = RemoteTaskCallHandler(RemoteController(None), asyncio.get_running_loop())
    assert not handler.is_active()
    with use_task_context(_ctx()):
        assert handler.is_active()


async def test_sync_task_called_from_async_code_is_refused() -> None:
    @env.task
    def sync_task(x: int) -> int:
        return x

    handler = RemoteTaskCallHandler(RemoteController(None), asyncio.get_running_loop())
    with (
        use_task_context(_ctx()),
        pytest.raises(ferr.SyncTaskCallInAsyncContextError, match=r"\.aio"),
    ):
        handler.call(sync_task, (1,), {})
