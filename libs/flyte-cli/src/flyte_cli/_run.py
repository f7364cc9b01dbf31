"""`flyte run [OPTIONS] FILE TASK --param value ...` and `flyte run deployed-task NAME ...`.

`FILE` and `TASK` are resolved lazily: `flyte run FILE --help` lists the file's tasks and
`flyte run FILE TASK --help` the task's parameters, typed from its signature (`_params`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from flyte_cli._context import CLIContext, get_context
from flyte_cli._params import options_for

_RUN_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class RunOptions:
    """The options of `flyte run` itself (before FILE)."""

    project: str | None = None
    domain: str | None = None
    local: bool = False
    copy_style: str = "loaded_modules"
    version: str | None = None
    root_dir: str | None = None
    raw_data_path: str | None = None
    service_account: str | None = None
    name: str | None = None
    follow: bool = False
    image: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    label: tuple[str, ...] = ()
    queue: str | None = None
    max_action_concurrency: int | None = None

    def root(self) -> Path:
        return Path(self.root_dir).expanduser().resolve() if self.root_dir else Path.cwd()


_META_KEY = "flyte_cli.run_options"


def _opts(ctx: click.Context) -> RunOptions:
    """The `flyte run` options (ctx.meta is shared by every context of one invocation)."""
    opts = ctx.meta.get(_META_KEY)
    return opts if isinstance(opts, RunOptions) else RunOptions()


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k:
            raise click.BadParameter(f"expected KEY=VALUE, got {v!r}", param_hint=what)
        out[k] = val
    return out


def _is_remote(cli: CLIContext, opts: RunOptions) -> bool:
    if opts.local:
        return False
    if cli.remote_endpoint():
        return True
    click.echo(
        "No control plane configured (no --endpoint, no config file): running locally. "
        "Pass --local to say so, or `flyte create config` to run remotely.",
        err=True,
    )
    return False


def _execute(ctx: click.Context, task: Any, kwargs: dict[str, Any], file: str | None) -> None:
    """Run `task(**kwargs)` locally or remotely per the options, and report the result."""
    import flyte

    cli = get_context(ctx)
    opts: RunOptions = _opts(ctx)
    env_vars = _pairs(opts.env, "--env")
    labels = _pairs(opts.label, "--label")
    if not _is_remote(cli, opts):
        started = time.monotonic()
        runner = flyte.with_runcontext(
            mode="local",
            name=opts.name,
            env_vars=env_vars or None,
            labels=labels or None,
            raw_data_path=opts.raw_data_path,
        )
        run = runner.run(task, **kwargs)
        took = time.monotonic() - started
        click.echo(f"Run {run.name} succeeded locally in {took:.2f}s")
        from flyte_cli._output import print_outputs

        print_outputs(run.outputs())
        return

    from flyte_cli._output import progress

    project, domain = cli.scope(opts.project, opts.domain)
    cli.init_remote(project, domain, root_dir=opts.root(), images=opts.image or None)
    runner = flyte.with_runcontext(
        mode="remote",
        name=opts.name,
        version=opts.version,
        copy_style=opts.copy_style,  # type: ignore[arg-type]
        service_account=opts.service_account,
        raw_data_path=opts.raw_data_path,
        project=project,
        domain=domain,
        env_vars=env_vars or None,
        labels=labels or None,
        queue=opts.queue,
        max_action_concurrency=opts.max_action_concurrency,
    )
    what = f"{file} " if file else ""
    with progress(f"Bundling {what}and starting the run...", cli.interactive):
        run = runner.run(task, **kwargs)
    click.echo(f"Created run {run.name}")
    click.echo(f"URL: {run.url}")
    if opts.follow:
        from flyte_cli._watch import follow

        sys.exit(follow(run, cli.interactive))


class TaskCommand(click.Command):
    """One task as a command: its parameters are options."""

    def __init__(self, task: Any, file: str | None, **kwargs: Any) -> None:
        self.task = task
        self.file = file
        func = getattr(task, "func", None)
        params: list[click.Parameter] = options_for(func) if func is not None else []
        doc = (getattr(func, "__doc__", None) or "").strip()
        super().__init__(
            params=params,
            help=doc or f"Run the task {getattr(task, 'name', '')}.",
            context_settings=_RUN_CONTEXT,
            **kwargs,
        )

    def invoke(self, ctx: click.Context) -> Any:
        given = {k: v for k, v in ctx.params.items() if v is not None}
        return _execute(ctx, self.task, given, self.file)


class FileGroup(click.Group):
    """`flyte run FILE`: the tasks of FILE are its subcommands (imported on first use)."""

    def __init__(self, file: str, **kwargs: Any) -> None:
        super().__init__(context_settings=_RUN_CONTEXT, **kwargs)
        self.file = file

    def _module(self, ctx: click.Context) -> Any:
        from flyte_cli._load import load_file

        opts = _opts(ctx)
        return load_file(self.file, opts.root())

    def list_commands(self, ctx: click.Context) -> list[str]:
        from flyte_cli._load import tasks_in

        return sorted(tasks_in(self._module(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from flyte_cli._load import find_task

        task = find_task(self._module(ctx), self.file, cmd_name)
        return TaskCommand(task, self.file, name=cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from flyte_cli._load import tasks_in

        rows = []
        for name, t in sorted(tasks_in(self._module(ctx)).items()):
            doc = (getattr(getattr(t, "func", None), "__doc__", None) or "").strip()
            rows.append((name, doc.splitlines()[0] if doc else ""))
        with formatter.section("Tasks"):
            formatter.write_dl(rows or [("(none)", "this file defines no tasks")])


class DeployedTaskGroup(click.Group):
    """`flyte run deployed-task NAME[:VERSION] --param value`: run a registered task."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        import flyte.remote

        cli = get_context(ctx)
        opts = _opts(ctx)
        project, domain = cli.scope(opts.project, opts.domain)
        cli.init_remote(project, domain)
        name, _, version = cmd_name.partition(":")
        if version:
            lazy = flyte.remote.Task.get(name, version=version)
        else:
            lazy = flyte.remote.Task.get(name, auto_version="latest")
        task = lazy.fetch() if hasattr(lazy, "fetch") else lazy
        func = _signature_stub(task)
        cmd = TaskCommand(lazy, None, name=cmd_name)
        if func is not None:
            cmd.params = options_for(func)
        return cmd

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []


def _signature_stub(task: Any) -> Any:
    """A function whose signature is the remote task's interface (for typed options)."""
    import inspect

    iface = getattr(task, "interface", None) or getattr(task, "native_interface", None)
    inputs = getattr(iface, "inputs", None)
    if not inputs:
        return None
    params = []
    annotations: dict[str, Any] = {}
    for name, spec in inputs.items():
        tp, default = spec if isinstance(spec, tuple) else (spec, inspect.Parameter.empty)
        if default is not inspect.Parameter.empty and type(default).__name__ == "_NoDefault":
            default = inspect.Parameter.empty
        annotations[name] = tp
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))

    def stub(**kwargs: Any) -> None:
        ...

    stub.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    stub.__annotations__ = annotations
    return stub


class RunGroup(click.Group):
    """`flyte run`: FILE is any path; `deployed-task` is the one named subcommand."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "hello":
            from flyte_cli._hello import hello_command

            return hello_command()
        if cmd_name == "deployed-task":
            return DeployedTaskGroup(
                name="deployed-task", help="Run a task deployed to the control plane."
            )
        if cmd_name.endswith(".py") or Path(cmd_name).exists():
            if not Path(cmd_name).expanduser().exists():
                raise click.UsageError(f"file not found: {cmd_name}")
            return FileGroup(cmd_name, name=cmd_name, help=f"The tasks in {cmd_name}.")
        raise click.UsageError(
            f"{cmd_name!r} is neither a Python file nor `deployed-task`. "
            "Usage: flyte run [OPTIONS] FILE TASK [--param value ...]"
        )

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["deployed-task", "hello"]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    ("FILE TASK", "Run TASK defined in the Python file FILE."),
                    ("deployed-task NAME", "Run a deployed task (NAME or NAME:VERSION)."),
                    ("hello", "Run a built-in first workflow (no file needed)."),
                ]
            )


@click.group(cls=RunGroup, context_settings=_RUN_CONTEXT, subcommand_metavar="FILE TASK [ARGS]")
@click.option("-p", "--project", help="Project of the run (default: the config's).")
@click.option("-d", "--domain", help="Domain of the run (default: the config's).")
@click.option("--local", is_flag=True, help="Run on this machine with the local engine.")
@click.option(
    "--copy-style",
    type=click.Choice(["loaded_modules", "all", "none"]),
    default="loaded_modules",
    show_default=True,
    help="What code goes into the bundle: the loaded modules, every file, or a pickle.",
)
@click.option("--version", help="Version of the tasks (default: the code bundle's hash).")
@click.option("--root-dir", help="Source root of the bundle (default: the current directory).")
@click.option("--raw-data-path", help="Where large outputs (files, data frames) go.")
@click.option("--service-account", help="Kubernetes service account of the run's pods.")
@click.option("--name", help="Name of the run (default: generated).")
@click.option("-f", "--follow", is_flag=True, help="Watch the run until it ends.")
@click.option("--image", multiple=True, help="Image reference NAME=URI (repeatable).")
@click.option("-e", "--env", multiple=True, help="Environment variable KEY=VALUE (repeatable).")
@click.option("--label", multiple=True, help="Run label KEY=VALUE (repeatable).")
@click.option("--queue", help="Queue / cluster to run on.")
@click.option("--max-action-concurrency", type=click.IntRange(min=1), help="Actions at once.")
@click.pass_context
def run(ctx: click.Context, **kwargs: Any) -> None:
    """Run a task from a Python file (`flyte run FILE TASK --x 1`), or a deployed task.

    \b
    Examples:
      flyte run --local hello.py main --n 5 --name flyte
      flyte run --follow hello.py main --n 5
      flyte run hello.py main --help        (the task's parameters)
      flyte run deployed-task hello.main --n 5
      flyte run hello                       (a built-in first workflow)
    """
    get_context(ctx)
    ctx.meta[_META_KEY] = RunOptions(**kwargs)
