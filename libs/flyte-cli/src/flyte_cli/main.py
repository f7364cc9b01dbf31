"""`flyte`: the command line of the Flyte SDK (verb-noun: `flyte run`, `flyte get run`, ...).

Start-up time is a feature here: this module imports only click. Every verb lives in its own
module and is imported when it is invoked (`_LazyGroup`), so `flyte --help` never loads the
runtime, gRPC, protobuf or rich.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from flyte_cli._context import CLIContext
from flyte_cli._lazy import LazyGroup
from flyte_cli._version import __version__

# verb -> ("module:attribute", one-line help shown by `flyte --help` without importing it)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("flyte_cli._run:run", "Run a task from a Python file, or a deployed task."),
    "deploy": ("flyte_cli._deploy:deploy", "Deploy the environments of a Python file."),
    "build": ("flyte_cli._deploy:build", "Build the images of the environments in a file."),
    "get": ("flyte_cli._get:get", "Show runs, actions, tasks, projects, triggers, secrets, ..."),
    "abort": ("flyte_cli._abort:abort", "Abort a run or an action."),
    "create": ("flyte_cli._create:create", "Create a config file, project, secret or trigger."),
    "delete": ("flyte_cli._delete:delete", "Delete a secret or a trigger."),
    "update": ("flyte_cli._update:update", "Update a trigger (activate / deactivate)."),
    "rerun": ("flyte_cli._rerun:rerun", "Run an earlier run again (same code and inputs)."),
    "signal": ("flyte_cli._signal:signal", "Signal a paused condition action."),
    "whoami": ("flyte_cli._whoami:whoami", "Show the user the control plane knows you as."),
    "start": ("flyte_cli._start:start", "Start local services (the devbox)."),
    "stop": ("flyte_cli._stop:stop", "Stop local services (the devbox)."),
}

_CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}


def _show_completion(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """`--show-completion [bash|zsh|fish]`: print the script that enables tab completion."""
    if not value or ctx.resilient_parsing:
        return
    from click.shell_completion import get_completion_class

    shell = value if value != "auto" else os.path.basename(os.environ.get("SHELL", "bash"))
    cls = get_completion_class(shell)
    if cls is None:
        raise click.BadParameter(f"unsupported shell {shell!r}; use bash, zsh or fish")
    comp = cls(ctx.command, {}, "flyte", "_FLYTE_COMPLETE")
    click.echo(comp.source())
    ctx.exit(0)


@click.group(cls=LazyGroup, commands=COMMANDS, context_settings=_CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", message="flyte %(version)s")
@click.option(
    "--endpoint", help="The control plane, e.g. dns:///127.0.0.1:8090 (overrides config)."
)
@click.option("--insecure", is_flag=True, default=None, help="Plain-text connection (no TLS).")
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Config file (default: ./config.yaml, ./.flyte/config.yaml, ~/.flyte/config.yaml, ...).",
)
@click.option("--org", help="The organization.")
@click.option("-p", "--project", help="Default project for every command.")
@click.option("-d", "--domain", help="Default domain for every command.")
@click.option(
    "--image-builder",
    "--builder",
    "image_builder",
    help="Image builder: local, local-podman, remote (overrides image.builder).",
)
@click.option(
    "--auth-type",
    type=click.Choice(
        ["pkce", "client-secret", "external-command", "device-flow", "headless"],
        case_sensitive=False,
    ),
    help="How to authenticate (default: the config's, else pkce).",
)
@click.option(
    "-v", "--verbose", count=True, help="More logs; show tracebacks of errors (-vv, -vvv: more)."
)
@click.option(
    "-of",
    "--output-format",
    type=click.Choice(["table", "json", "table-simple", "json-raw"]),
    default="table",
    show_default=True,
    help="Output of `get` commands.",
)
@click.option("--no-progress", is_flag=True, help="No spinners or live views (plain lines).")
@click.option(
    "--show-completion",
    type=click.Choice(["bash", "zsh", "fish", "auto"]),
    expose_value=False,
    is_eager=True,
    callback=_show_completion,
    help="Print the shell completion script (eval it in your shell's rc file).",
)
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """The Flyte command line: run and deploy tasks, inspect runs, manage a control plane.

    Commands are verb-noun: `flyte run FILE TASK`, `flyte get run NAME`, `flyte create config`.

    \b
    Examples:
      flyte run --local hello.py main --n 5
      flyte --endpoint dns:///127.0.0.1:8090 --insecure get run
      flyte -v get logs RUN_NAME
    """
    ctx.obj = CLIContext(**options)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn errors into one readable line."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _count_verbose(args)
    try:
        rv = cli.main(
            args=args, prog_name="flyte", standalone_mode=False, terminal_width=_terminal_width()
        )
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as e:  # one clear line; the traceback only with -v
        from flyte_cli._errors import explain

        if verbose:
            import traceback

            traceback.print_exc()
        click.echo(f"Error: {explain(e)}", err=True)
        if not verbose:
            click.echo("(run with -v for the traceback)", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def _terminal_width() -> int:
    """The help width click would compute (`min(columns, 100) - 2`, at least 50), found without
    `shutil.get_terminal_size` (importing shutil costs ~3 ms of a ~60 ms `flyte --help`)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, _CONTEXT_SETTINGS["max_content_width"]) - 2, 50)


def _count_verbose(args: Sequence[str]) -> int:
    """How many -v flags precede the verb (read before click parses, for error reporting)."""
    n = 0
    for a in args:
        if a == "--verbose":
            n += 1
        elif a.startswith("-v") and set(a[1:]) == {"v"}:
            n += len(a) - 1
        elif not a.startswith("-"):
            break
    return n


if __name__ == "__main__":
    main()
