"""The `a0` entrypoint, run as a subprocess on task modules inside real code bundles."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.core import execution_pb2

import flyte_runtime._entrypoint as entrypoint  # also tells Pants this test depends on it
import flyte_types
from flyte_models import CodeBundle, NativeInterface, SerializationContext, TaskEnvironment
from flyte_models.errors import NonRecoverableError
from flyte_runtime._resolver import DefaultTaskResolver, install_default_resolver

TASKS = """
import asyncio
import os

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="bundle")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
def describe(x: int, label: str = "n") -> str:
    ctx = flyte.ctx()
    return (
        f"{label}={x} action={ctx.action.name} run={ctx.action.run_name} "
        f"project={ctx.action.project} mode={ctx.mode} custom={ctx.custom_context} "
        f"base={ctx.run_base_dir} env={os.environ.get('FROM_RUN_SPEC')}"
    )


@env.task
async def fails(x: int) -> int:
    raise ValueError(f"x={x} is not welcome")


@env.task
async def gives_up(x: int) -> int:
    raise flyte.errors.NonRecoverableError("no point retrying")


@env.task
async def wrong_type(x: int) -> int:
    return "not an int"


@env.task
async def calls_a_task(x: int) -> int:
    return await square(x)


@env.task
async def calls_after_using_the_engine(x: int) -> int:
    flyte.current_project()  # imports the local engine, which has a call handler of its own
    return await square(x)


not_a_task = 42
"""


def make_bundle(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    archive = tmp_path / "bundle.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        for name in files:
            tf.add(src / name, arcname=name)
    return archive


def write_inputs(path: Path, signature: Any, values: dict[str, Any], **context: str) -> Path:
    iface = NativeInterface.from_callable(signature)
    msg = flyte_types.build_inputs_sync(iface, values, context=context)
    path.write_bytes(msg.SerializeToString())
    return path


def _x(x: int) -> None:
    ...


class A0:
    """Runs `python -m flyte_runtime._entrypoint` like a backend does, in a fresh work dir."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp = tmp_path
        self.env = {
            **env,
            "_U_RUN_BASE": str(tmp_path / "base"),
            "FLYTE_INTERNAL_EXECUTION_PROJECT": "proj",
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": "dev",
            "_U_ORG_NAME": "local",
        }
        self.bundle = make_bundle(tmp_path, {"tasks.py": TASKS})
        self.inputs = write_inputs(tmp_path / "inputs.pb", _x, {"x": 7})
        self.out = tmp_path / "base" / "a0" / "1"

    def run(self, task: str, *extra: str, bundle: Path | None = None, **env: str) -> Any:
        work = self.tmp / f"work-{task}"
        work.mkdir(exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "flyte_runtime._entrypoint",
            "--inputs",
            str(self.inputs),
            "--outputs-path",
            str(self.out),
            "--version",
            "v1",
            "--raw-data-path",
            str(self.tmp / "raw"),
            "--checkpoint-path",
            "{{.checkpointOutputPrefix}}",
            "--prev-checkpoint",
            "",
            "--run-name",
            "r123",
            "--name",
            "a0",
            "--run-start-time",
            "2024-05-01T10:00:00Z",
            "--image-cache",
            "H4sIAAAAAAAA",
            "--tgz",
            str(bundle or self.bundle),
            "--dest",
            ".",
            *extra,
            "--resolver",
            "flyte._internal.resolvers.default.DefaultTaskResolver",
            "mod",
            "tasks",
            "instance",
            task,
        ]
        return subprocess.run(
            argv,
            cwd=work,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def outputs(self, signature: Any) -> Any:
        assert not (self.out / "error.pb").exists(), self.error()
        iface = NativeInterface.from_callable(signature)
        return flyte_types.read_outputs_sync(str(self.out / "outputs.pb"), iface)

    def error(self) -> execution_pb2.ContainerError:
        doc = execution_pb2.ErrorDocument.FromString((self.out / "error.pb").read_bytes())
        assert not (self.out / "outputs.pb").exists()
        return doc.error


@pytest.fixture
def a0(tmp_path: Path, subprocess_env: dict[str, str]) -> A0:
    return A0(tmp_path, subprocess_env)


USER = execution_pb2.ExecutionError.USER
SYSTEM = execution_pb2.ExecutionError.SYSTEM
RECOVERABLE = execution_pb2.ContainerError.RECOVERABLE
NON_RECOVERABLE = execution_pb2.ContainerError.NON_RECOVERABLE


def test_success_writes_outputs(a0: A0) -> None:
    proc = a0.run("square")
    assert proc.returncode == 0, proc.stderr

    def sig(x: int) -> int:
        ...

    assert a0.outputs(sig) == 49
    # The bundle was unpacked into --dest (the work directory).
    assert (a0.tmp / "work-square" / "tasks.py").exists()


def test_task_context_and_defaults(a0: A0) -> None:
    write_inputs(a0.inputs, _x, {"x": 3}, team="blue")
    proc = a0.run("describe", "--interactive-mode", "false", "--future-flag", FROM_RUN_SPEC="yes")
    assert proc.returncode == 0, proc.stderr
    assert "ignoring unknown arguments ['--future-flag']" in proc.stderr

    def sig() -> str:
        ...

    assert a0.outputs(sig) == (
        "n=3 action=a0 run=r123 project=proj mode=remote custom={'team': 'blue'} "
        f"base={a0.tmp / 'base'} env=yes"
    )


def test_placeholder_names_come_from_the_environment(a0: A0) -> None:
    proc = a0.run("describe", "--name", "{{.actionName}}", ACTION_NAME="a7", RUN_NAME="rr")
    assert proc.returncode == 0, proc.stderr

    def sig() -> str:
        ...

    assert "action=a7 run=r123" in a0.outputs(sig)


def test_user_error_writes_error_pb_and_exits_0(a0: A0) -> None:
    proc = a0.run("fails")
    assert proc.returncode == 0, proc.stderr
    err = a0.error()
    assert (err.code, err.message) == ("ValueError", "x=7 is not welcome")
    assert (err.origin, err.kind) == (USER, RECOVERABLE)
    assert "ValueError: x=7 is not welcome" in proc.stderr  # the traceback is in the log


def test_non_recoverable_error(a0: A0) -> None:
    assert a0.run("gives_up").returncode == 0
    err = a0.error()
    assert (err.code, err.message) == ("NonRecoverableError", "no point retrying")
    assert (err.origin, err.kind) == (USER, NON_RECOVERABLE)


def test_wrong_output_type_is_a_user_error(a0: A0) -> None:
    assert a0.run("wrong_type").returncode == 0
    err = a0.error()
    assert err.origin == USER and err.code == "TypeTransformerFailedError"


@pytest.mark.parametrize("task", ["calls_a_task", "calls_after_using_the_engine"])
def test_nested_call_without_an_endpoint_is_a_system_error(a0: A0, task: str) -> None:
    # No _U_EP_OVERRIDE: the remote controller cannot reach a control plane. (With one, nested
    # calls become child actions: tests/a0/test_nested_calls.py runs them under a devbox.)
    assert a0.run(task, _U_EP_OVERRIDE="").returncode == 0
    err = a0.error()
    assert err.code == "RemoteControllerUnavailable"
    assert (err.origin, err.kind) == (SYSTEM, NON_RECOVERABLE)
    assert "'bundle.square'" in err.message and "_U_EP_OVERRIDE" in err.message


@pytest.mark.parametrize(
    ("task", "words"),
    [
        ("no_such_task", ["module 'tasks' has no attribute 'no_such_task'"]),
        ("not_a_task", ["tasks.not_a_task is not a task"]),
    ],
)
def test_missing_task_is_a_module_load_error(a0: A0, task: str, words: list[str]) -> None:
    assert a0.run(task).returncode == 0
    err = a0.error()
    assert (err.code, err.origin) == ("ModuleLoadError", USER)
    for w in words:
        assert w in err.message


def test_missing_module_names_module_and_variable(a0: A0) -> None:
    bundle = make_bundle(a0.tmp / "other", {"elsewhere.py": "x = 1\n"})
    assert a0.run("square", bundle=bundle).returncode == 0
    err = a0.error()
    assert err.code == "ModuleLoadError"
    assert "'square'" in err.message and "module 'tasks' not found" in err.message


def test_corrupt_inputs_are_a_system_error(a0: A0) -> None:
    a0.inputs.write_bytes(b"\xff\xff definitely not protobuf")
    assert a0.run("square").returncode == 0
    err = a0.error()
    assert err.origin == SYSTEM and err.code == "LiteralDecodeError"
    assert str(a0.inputs) in err.message


def test_unsafe_bundle_is_a_system_error_naming_the_member(a0: A0) -> None:
    evil = a0.tmp / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tf:
        tf.add(a0.bundle, arcname="../escaped.tgz")
    assert a0.run("square", bundle=evil).returncode == 0
    err = a0.error()
    assert (err.code, err.origin) == ("UnsafeCodeBundle", SYSTEM)
    assert "'../escaped.tgz'" in err.message
    assert not (a0.tmp / "escaped.tgz").exists()


def test_unwritable_outputs_exit_non_zero_with_one_line(a0: A0) -> None:
    blocker = a0.tmp / "blocker"
    blocker.write_text("a file where a directory should be")
    a0.out = blocker / "a0" / "1"
    proc = a0.run("square")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"a0: cannot write {a0.out}/error.pb")


def test_missing_outputs_path_is_a_usage_error(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flyte_runtime._entrypoint", "--inputs", "x"],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--outputs-path is required" in proc.stderr


def test_pkl_bundle(a0: A0, tmp_path: Path) -> None:
    # cloudpickle pickles tasks by value; a module-level task of an importable module pickles
    # by reference, which the worker resolves from the code bundle (--dest) as well.
    pkl = tmp_path / "task.pkl"
    script = (
        "import cloudpickle, gzip, sys; sys.path.insert(0, sys.argv[1]); import tasks; "
        "open(sys.argv[2], 'wb').write(gzip.compress(cloudpickle.dumps(tasks.square)))"
    )
    pytest.importorskip("cloudpickle")
    src = tmp_path / "src"
    subprocess.run(
        [sys.executable, "-c", script, str(src), str(pkl)], check=True, env=a0.env, timeout=60
    )
    work = tmp_path / "work-pkl"
    work.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flyte_runtime._entrypoint",
            "--inputs",
            str(a0.inputs),
            "--outputs-path",
            str(a0.out),
            "--run-name",
            "r1",
            "--name",
            "a0",
            "--pkl",
            str(pkl),
            "--dest",
            str(src),
        ],
        cwd=work,
        env=a0.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr

    def sig() -> int:
        ...

    assert a0.outputs(sig) == 49


def test_default_resolver_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "proj" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "wf.py").write_text(TASKS.replace("import flyte.errors", "import flyte.errors  # x"))
    monkeypatch.syspath_prepend(str(tmp_path / "proj"))
    resolver = DefaultTaskResolver()
    task = resolver.load_task(["mod", "pkg.wf", "instance", "square"])
    assert task.name == "bundle.square"
    assert resolver.loader_args(task, tmp_path / "proj") == ["mod", "pkg.wf", "instance", "square"]
    assert resolver.import_path == "flyte._internal.resolvers.default.DefaultTaskResolver"
    from flyte._internal.resolvers.default import DefaultTaskResolver as Compat

    assert Compat is DefaultTaskResolver


def test_container_args_use_the_installed_default_resolver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flyte_models

    monkeypatch.setattr(flyte_models._task, "_DEFAULT_RESOLVER", None)
    install_default_resolver()
    assert isinstance(flyte_models.get_default_task_resolver(), DefaultTaskResolver)
    env = TaskEnvironment(name="argsenv")

    async def double(x: int) -> int:
        return 2 * x

    task = env.task(double)
    globals()["double"] = task  # a module-level task, as the resolver requires
    try:
        sctx = SerializationContext(
            version="v9",
            code_bundle=CodeBundle(tgz="/b/fast.tgz", computed_version="d1"),
            root_dir=Path(__file__).parent,
        )
        args = task.container_args(sctx)
    finally:
        del globals()["double"]
    tail = args[args.index("--resolver") :]
    assert tail == [
        "--resolver",
        "flyte._internal.resolvers.default.DefaultTaskResolver",
        "mod",
        __name__,
        "instance",
        "double",
    ]
    assert args[args.index("--tgz") + 1] == "/b/fast.tgz"


def test_error_document_of_runtime_errors() -> None:
    doc = execution_pb2.ErrorDocument.FromString(
        entrypoint._error_document(NonRecoverableError("stop", code="Halt"))
    )
    assert (doc.error.code, doc.error.message, doc.error.kind) == ("Halt", "stop", NON_RECOVERABLE)
