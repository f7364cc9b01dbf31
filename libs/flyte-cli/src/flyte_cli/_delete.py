"""`flyte delete secret NAME` / `flyte delete trigger NAME TASK_NAME`."""

from __future__ import annotations

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options


@click.group(context_settings=CONTEXT_SETTINGS)
def delete() -> None:
    """Delete a secret or a trigger."""


@delete.command("secret", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--cluster-pool", help="The cluster pool of the secret.")
@scope_options
@click.pass_context
def delete_secret(
    ctx: click.Context,
    name: str,
    cluster_pool: str | None,
    project: str | None,
    domain: str | None,
) -> None:
    """Delete the secret NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    flyte.remote.Secret.delete(name, cluster_pool=cluster_pool)
    click.echo(f"Secret {name} deleted.")


@delete.command("trigger", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.argument("task_name")
@scope_options
@click.pass_context
def delete_trigger(
    ctx: click.Context, name: str, task_name: str, project: str | None, domain: str | None
) -> None:
    """Delete the trigger NAME of task TASK_NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    flyte.remote.Trigger.delete(name=name, task_name=task_name)
    click.echo(f"Trigger {name} of task {task_name} deleted.")
