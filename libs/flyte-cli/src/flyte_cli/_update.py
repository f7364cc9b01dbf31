"""`flyte update trigger NAME TASK_NAME --activate/--deactivate`."""

from __future__ import annotations

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options


@click.group(context_settings=CONTEXT_SETTINGS)
def update() -> None:
    """Update a trigger."""


@update.command("trigger", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.argument("task_name")
@click.option(
    "--activate/--deactivate", required=True, default=None, help="Turn the trigger on or off."
)
@scope_options
@click.pass_context
def update_trigger(
    ctx: click.Context,
    name: str,
    task_name: str,
    activate: bool,
    project: str | None,
    domain: str | None,
) -> None:
    """Activate or deactivate the trigger NAME of task TASK_NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    flyte.remote.Trigger.update(name=name, task_name=task_name, active=activate)
    click.echo(f"Trigger {name} of task {task_name} {'activated' if activate else 'deactivated'}.")
