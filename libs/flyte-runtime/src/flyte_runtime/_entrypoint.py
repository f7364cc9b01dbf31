# Start-up time is critical: this module is the `a0` entrypoint that every task action runs.
# Import only what is needed, lazily, inside the functions that need it; nothing heavy (no
# click, rich, docker, grpc, pydantic) and no flyte_storage unless a URI is remote.
"""`a0`: run one leaf task action in a worker (PROTOCOL.md sections 3.3 and 3.4).

```
a0 --inputs <inputs.pb> --outputs-path <prefix> --version <v> --raw-data-path <prefix>
   --checkpoint-path <p> --prev-checkpoint <p> --run-name <run> --name <action>
   --run-start-time <iso> [--image-cache <b64>] [--tgz <uri> | --pkl <uri>] [--dest <dir>]
   [--resolver <import path> <loader args...>]
```

Environment: `_U_RUN_BASE` (`--run-base-dir`), `ACTION_NAME`, `RUN_NAME`,
`FLYTE_INTERNAL_EXECUTION_PROJECT`, `FLYTE_INTERNAL_EXECUTION_DOMAIN`, `_U_ORG_NAME`.

The action unpacks the code bundle into `--dest` (first on `sys.path`), loads the task with the
resolver (or from the pkl bundle), reads `inputs.pb`, runs the task in a `TaskContext`, and writes
either `<prefix>/outputs.pb` or `<prefix>/error.pb` (`core.ErrorDocument`). It exits 0 whenever
one of them was written, also on a user error: the backend reads `error.pb` first. It exits
non-zero only when neither can be written, with one line on stderr.

A task that calls tasks submits each call as a child action through the remote controller
(`flyte_runtime._remote_controller`; Queue/State services, or the Actions service with
`_U_USE_ACTIONS=1`, at `_U_EP_OVERRIDE`). grpc and the client are imported on the first such call
only, so leaf tasks start as fast as before. Without `_U_EP_OVERRIDE` a nested call fails with
`RemoteControllerUnavailableError` (a system error).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from flyte_models.errors import RuntimeSystemError
from flyte_runtime._remote_controller import RemoteControllerUnavailableError
from flyte_runtime._resolver import install_default_resolver

if TYPE_CHECKING:
    import argparse

    from flyte_models import TaskContext

__all__ = ["RemoteControllerUnavailableError", "main"]

_ERROR_FILE = "error.pb"
_OUTPUTS_FILE = "outputs.pb"
# Loading the entrypoint makes ours the default task resolver (`TaskTemplate.container_args`).
install_default_resolver()

_OUR_RESOLVER_PATHS = (
    "flyte._internal.resolvers.default.DefaultTaskResolver",
    "flyte_runtime._resolver.DefaultTaskResolver",
)


def _parser() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(
        prog="a0", description="Run one Flyte task action.", allow_abbrev=False
    )
    env = os.environ.get
    p.add_argument("--inputs", "-i")
    p.add_argument("--outputs-path", "-o")
    p.add_argument("--version", "-v", default="")
    p.add_argument("--run-base-dir", default=env("_U_RUN_BASE"))
    p.add_argument("--raw-data-path", "-r")
    p.add_argument("--checkpoint-path", "-c")
    p.add_argument("--prev-checkpoint", "-p")
    p.add_argument("--name")
    p.add_argument("--run-name")
    p.add_argument("--run-start-time")
    p.add_argument("--project", default=env("FLYTE_INTERNAL_EXECUTION_PROJECT"))
    p.add_argument("--domain", default=env("FLYTE_INTERNAL_EXECUTION_DOMAIN"))
    p.add_argument("--org", default=env("_U_ORG_NAME"))
    p.add_argument("--debug")  # accepted, ignored (the reference starts a debug server)
    p.add_argument("--interactive-mode")
    p.add_argument("--image-cache")
    p.add_argument("--tgz")
    p.add_argument("--pkl")
    p.add_argument("--dest")
    # The resolver's own arguments follow it: `--resolver <path> mod <m> instance <v>`.
    p.add_argument("--resolver", nargs="...")
    return p


def _placeholder(value: str | None) -> bool:
    return not value or value.startswith("{{")


def _join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name


def _is_remote(uri: str) -> bool:
    scheme, sep, _ = uri.partition("://")
    return bool(sep) and scheme != "file" and "/" not in scheme


def _write_blob(uri: str, data: bytes) -> None:
    """Write `data` to a local path or remote URI (atomically on local disk)."""
    if not _is_remote(uri):
        path = uri[len("file://") :] if uri.startswith("file://") else uri
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return
    import tempfile

    import flyte_storage

    with tempfile.TemporaryDirectory(prefix="flyte-a0-") as d:
        local = os.path.join(d, uri.rsplit("/", 1)[-1] or "blob")
        with open(local, "wb") as f:
            f.write(data)
        flyte_storage.put_sync(local, uri)


def _parse_start_time(raw: str | None) -> Any:
    """`--run-start-time` in UTC; the epoch when missing or unparsable (stable across retries)."""
    from datetime import datetime, timezone

    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if _placeholder(raw):
        return epoch
    text = str(raw).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return epoch
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def _install_controller(args: argparse.Namespace) -> Any:
    """Route the task's calls of other tasks to a remote controller (connected on first use).

    The run state lets `flyte.map` (which submits through the run's controller) work in `a0`.
    """
    import asyncio
    from pathlib import Path

    from flyte_models import set_task_call_handler
    from flyte_runtime._remote_controller import RemoteController, RemoteTaskCallHandler
    from flyte_runtime._state import _RUN, RunOptions, RunState

    loop = asyncio.get_running_loop()
    controller = RemoteController.from_env()
    # The local engine (`flyte_runtime._run`, which a task may import at any time through
    # `flyte.init` or `flyte.current_project`) installs its handler only where none is installed,
    # so it never replaces this one.
    set_task_call_handler(RemoteTaskCallHandler(controller, loop))
    _RUN.set(
        RunState(
            run_name=args.run_name,
            options=RunOptions(project=args.project or None, domain=args.domain or None),
            metadata_dir=Path(args.run_base_dir),
            raw_data_dir=Path(args.raw_data_path or args.outputs_path),
            loop=loop,
            controller=controller,
        )
    )
    return controller


def _load_task(args: argparse.Namespace) -> tuple[Any, Any]:
    """Unpack the bundle, put `--dest` first on `sys.path`, load the task: (task, code bundle)."""
    from flyte_models import CodeBundle

    dest = os.path.abspath(args.dest or ".")
    bundle = None
    if args.tgz or args.pkl:
        bundle = CodeBundle(
            tgz=args.tgz,
            pkl=args.pkl,
            destination=args.dest or ".",
            computed_version=args.version or "unknown",
        )
    if args.tgz:
        from flyte_runtime._bundle import fetch_and_extract

        fetch_and_extract(args.tgz, dest)
    if dest not in sys.path[:1]:
        sys.path.insert(0, dest)
    if args.pkl:
        from flyte_runtime._bundle import load_pkl

        return load_pkl(args.pkl), bundle
    if not args.resolver:
        raise RuntimeSystemError(
            "MalformedCommand", "a0 needs --resolver <path> <loader args...> or a --pkl bundle"
        )
    path, *loader_args = args.resolver
    if path in _OUR_RESOLVER_PATHS:
        from flyte_runtime._resolver import DefaultTaskResolver

        resolver: Any = DefaultTaskResolver()
    else:
        import importlib

        module_name, _, cls_name = path.rpartition(".")
        try:
            resolver = getattr(importlib.import_module(module_name), cls_name)()
        except Exception as e:
            raise RuntimeSystemError(
                "ResolverLoadError", f"cannot load task resolver {path!r}: {type(e).__name__}: {e}"
            ) from e
    return resolver.load_task(loader_args), bundle


def _context(
    args: argparse.Namespace, task: Any, bundle: Any, custom: dict[str, str]
) -> TaskContext:
    from flyte_models import ActionID, CheckpointPaths, RawDataPath, TaskContext

    report = None
    if getattr(task, "report", False):
        from flyte_runtime._report import Report

        report = Report(args.name)
    checkpoints = None
    if not _placeholder(args.checkpoint_path) or not _placeholder(args.prev_checkpoint):
        checkpoints = CheckpointPaths(
            prev_checkpoint_path=(
                None if _placeholder(args.prev_checkpoint) else args.prev_checkpoint
            ),
            checkpoint_path=None if _placeholder(args.checkpoint_path) else args.checkpoint_path,
        )
    raw = (
        args.raw_data_path
        if not _placeholder(args.raw_data_path)
        else _join(args.outputs_path, "raw")
    )
    return TaskContext(
        action=ActionID(
            name=args.name,
            run_name=args.run_name,
            project=args.project or None,
            domain=args.domain or None,
            org=args.org or None,
        ),
        version=args.version or "",
        raw_data_path=RawDataPath(path=raw),
        input_path=args.inputs,
        output_path=args.outputs_path,
        run_base_dir=args.run_base_dir,
        report=report,
        checkpoint_paths=checkpoints,
        data=_checkpoint_data(checkpoints),
        code_bundle=bundle,
        compiled_image_cache=args.image_cache,
        mode="remote",
        interactive_mode=str(args.interactive_mode).lower() in ("1", "true", "yes"),
        custom_context=custom,
        run_start_time=_parse_start_time(args.run_start_time),
    )


def _checkpoint_data(checkpoints: Any) -> dict[str, Any]:
    if checkpoints is None or checkpoints.checkpoint_path is None:
        return {}  # no import of the checkpoint module for tasks that have no checkpoint
    from flyte_runtime._checkpoint import checkpoint_data

    return checkpoint_data(checkpoints)


async def _read_inputs(path: str | None, task: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The task's keyword arguments and the custom context carried by `inputs.pb`."""

    try:
        from flyte_types import load_inputs, read_inputs

        if _placeholder(path) or (
            not _is_remote(str(path))
            and not os.path.exists(str(path))
            and not task.interface.inputs
        ):
            return {}, {}  # a task without inputs may get no inputs.pb
        message = await load_inputs(str(path))
        custom = {kv.key: kv.value for kv in message.context}
        return await read_inputs(message, task.interface), custom
    except Exception as e:
        raise RuntimeSystemError(
            type(e).__name__, f"cannot read the task inputs {path}: {e}"
        ) from e


async def _run(args: argparse.Namespace, task: Any, bundle: Any) -> None:
    import inspect

    from flyte_models import use_task_context
    from flyte_types import build_outputs, write_outputs

    kwargs, custom = await _read_inputs(args.inputs, task)
    ctx = _context(args, task, bundle, custom)
    controller = _install_controller(args)
    try:
        with use_task_context(ctx):
            value = task.execute(**kwargs)
            if inspect.isawaitable(value):
                value = await value
        outputs = await build_outputs(task.interface, value)
    finally:
        await _write_report(ctx)
        await controller.close()
    await write_outputs(outputs, _join(args.outputs_path, _OUTPUTS_FILE))


async def _write_report(ctx: TaskContext) -> None:
    report = ctx.report
    if report is None:
        return
    try:
        if report.has_content():
            _write_blob(_join(ctx.output_path, "report.html"), report.get_final_report().encode())
    except Exception as e:  # a report must not fail the task
        print(f"a0: could not write the report: {e}", file=sys.stderr)


def _error_document(error: BaseException) -> bytes:
    """`core.ErrorDocument` for an exception (user errors: code = class name, RECOVERABLE)."""
    from flyte_runtime._remote_controller import _error_document as document

    return document(error)


def _check_identity(args: argparse.Namespace) -> None:
    if _placeholder(args.name):
        args.name = os.environ.get("ACTION_NAME", "")
    if _placeholder(args.run_name):
        args.run_name = os.environ.get("RUN_NAME", "")
    missing = [
        flag
        for flag, value in (
            ("--name/ACTION_NAME", args.name),
            ("--run-name/RUN_NAME", args.run_name),
            ("--run-base-dir/_U_RUN_BASE", args.run_base_dir),
        )
        if not value
    ]
    if missing:
        raise RuntimeSystemError("MalformedCommand", f"a0 is missing {', '.join(missing)}")


def main(argv: list[str] | None = None) -> int:
    """Run one action; the `a0` console script.

    Args:
        argv: The arguments (without the program name); `sys.argv[1:]` when `None`.

    Returns:
        0 when outputs.pb or error.pb was written, non-zero when neither could be.
    """
    args, unknown = _parser().parse_known_args(argv)
    if unknown:
        print(f"a0: ignoring unknown arguments {unknown}", file=sys.stderr)
    if not args.outputs_path:
        print("a0: error: --outputs-path is required", file=sys.stderr)
        return 2
    try:
        _check_identity(args)
        task, bundle = _load_task(args)
        import asyncio

        asyncio.run(_run(args, task, bundle))
        return 0
    except (Exception, SystemExit) as e:
        import traceback

        traceback.print_exc()
        error_path = _join(args.outputs_path, _ERROR_FILE)
        try:
            _write_blob(error_path, _error_document(e))
        except Exception as w:
            print(
                f"a0: cannot write {error_path} ({type(w).__name__}: {w}) after "
                f"{type(e).__name__}: {e}",
                file=sys.stderr,
            )
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
