"""`flyte run hello`: a built-in first workflow, so a first run needs no file of one's own.

The example's source is written to a per-user scratch directory (rewritten on every call, so it
always matches the installed CLI) and run from there like any `flyte run FILE main`: that
directory is the code bundle's root, and the printed path is a file to copy and edit.
"""

from __future__ import annotations

import getpass
import tempfile
from pathlib import Path
from typing import Any

import click

SOURCE = '''"""A first Flyte 2 workflow (written by `flyte run hello`; copy it and make it yours).

`main` starts one `square` action per number, concurrently, and adds up what they return.

    flyte run --local hello.py main --n 5    # on this machine
    flyte run --follow hello.py main --n 5   # on the configured control plane
"""

import asyncio

import flyte

env = flyte.TaskEnvironment(name="hello")


@env.task
async def square(x: int) -> int:
    """x squared (each call is an action of its own)."""
    return x * x


@env.task
async def main(n: int = 5) -> int:
    """The sum of the squares of 0 .. n-1, one action per square."""
    squares = await asyncio.gather(*(square(i) for i in range(n)))
    return sum(squares)
'''


def scratch_dir() -> Path:
    """Where the example is written: `<tmp>/flyte-hello-<user>` (resolved, as bundles need)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (e.g. a bare container uid)
        user = "default"
    return Path(tempfile.gettempdir()).resolve() / f"flyte-hello-{user}"


def write_example(directory: Path | None = None) -> Path:
    """Write the example's `hello.py` and return its path."""
    d = (directory or scratch_dir()).resolve()
    d.mkdir(parents=True, exist_ok=True)
    path = d / "hello.py"
    if not path.exists() or path.read_text() != SOURCE:
        path.write_text(SOURCE)
    return path


def hello_command() -> click.Command:
    """The `main` task of the example, as the command `flyte run hello`."""
    from flyte_cli._load import find_task, load_file
    from flyte_cli._run import TaskCommand, _opts

    path = write_example()
    module = load_file(str(path), path.parent)
    task = find_task(module, str(path), "main")

    class HelloCommand(TaskCommand):
        def invoke(self, ctx: click.Context) -> Any:
            opts = _opts(ctx)
            if opts.root_dir is None:
                opts.root_dir = str(path.parent)
            click.echo(
                f"Running the built-in example {path} (copy it to start your own).", err=True
            )
            return super().invoke(ctx)

    cmd = HelloCommand(task, str(path), name="hello")
    cmd.help = (
        "Run a built-in first workflow: no file needed. The sum of the squares of 0..n-1, one "
        "action per square."
    )
    return cmd
