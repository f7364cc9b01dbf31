"""`flyte abort run NAME` / `flyte abort action RUN_NAME ACTION_NAME`."""

from __future__ import annotations

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options

_REASON = "Aborted from the flyte command line"


@click.group(context_settings=CONTEXT_SETTINGS)
def abort() -> None:
    """Abort a run or an action."""


@abort.command("run", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.option("--reason", default=_REASON, show_default=True, help="Why (shown in the UI).")
@scope_options
@click.pass_context
def abort_run(
    ctx: click.Context, run_name: str, reason: str, project: str | None, domain: str | None
) -> None:
    """Abort the run RUN_NAME (and every action in it)."""
    import flyte.remote

    remote(ctx, project, domain)
    flyte.remote.Run.get(run_name).abort(reason=reason)
    click.echo(f"Run {run_name} aborted.")


@abort.command("action", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.argument("action_name")
@click.option("--reason", default=_REASON, show_default=True, help="Why (shown in the UI).")
@scope_options
@click.pass_context
def abort_action(
    ctx: click.Context,
    run_name: str,
    action_name: str,
    reason: str,
    project: str | None,
    domain: str | None,
) -> None:
    """Abort the action ACTION_NAME of run RUN_NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    flyte.remote.Action.get(run_name=run_name, name=action_name).abort(reason=reason)
    click.echo(f"Action {action_name} of run {run_name} aborted.")
