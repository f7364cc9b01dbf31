"""`flyte rerun RUN_NAME`: run an earlier remote run (or one of its actions) again."""

from __future__ import annotations

import sys

import click

from flyte_cli._common import CONTEXT_SETTINGS, scope_options
from flyte_cli._context import get_context


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        k, sep, val = v.partition("=")
        if not sep or not k:
            raise click.BadParameter(f"expected KEY=VALUE, got {v!r}", param_hint=what)
        out[k] = val
    return out


@click.command("rerun", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@scope_options
@click.option("--name", help="Name of the new run (default: a generated one).")
@click.option(
    "-e", "--env", multiple=True, metavar="KEY=VALUE", help="Environment variable (repeatable)."
)
@click.option("--label", multiple=True, metavar="KEY=VALUE", help="Run label (repeatable).")
@click.option("-f", "--follow", is_flag=True, help="Watch the new run to the end.")
@click.option(
    "--action-name",
    default="a0",
    show_default=True,
    help="The action to rerun (a0: the whole run).",
)
@click.option("--recover", is_flag=True, help="Reuse the outputs of actions that succeeded.")
@click.option(
    "--force-rerun-action",
    multiple=True,
    metavar="ACTION",
    help="With --recover: run this action again anyway (repeatable).",
)
@click.option(
    "--allow-missing-outputs", is_flag=True, help="With --recover: tolerate missing outputs."
)
@click.pass_context
def rerun(
    ctx: click.Context,
    run_name: str,
    project: str | None,
    domain: str | None,
    name: str | None,
    env: tuple[str, ...],
    label: tuple[str, ...],
    follow: bool,
    action_name: str,
    recover: bool,
    force_rerun_action: tuple[str, ...],
    allow_missing_outputs: bool,
) -> None:
    """Run RUN_NAME again as a new run: the same task, code and inputs.

    \b
    Examples:
      flyte rerun r3k9...
      flyte rerun r3k9... --name again -e DEBUG=1 --follow
      flyte rerun r3k9... --action-name <action>   # one action of it, as a new run
    """
    import flyte
    from flyte_cli._output import progress

    if (force_rerun_action or allow_missing_outputs) and not recover:
        raise click.UsageError("--force-rerun-action and --allow-missing-outputs need --recover")
    cli = get_context(ctx)
    project, domain = cli.scope(project, domain)
    cli.init_remote(project, domain)
    env_vars, labels = _pairs(env, "--env"), _pairs(label, "--label")
    runner = flyte.with_runcontext(
        mode="remote",
        name=name,
        project=project,
        domain=domain,
        env_vars=env_vars or None,
        labels=labels or None,
    )
    with progress(f"Starting a rerun of {run_name}...", cli.interactive):
        run = runner.rerun(
            run_name,
            action_name,
            recover=recover,
            force_rerun_actions=list(force_rerun_action) or None,
            allow_missing_source_outputs=allow_missing_outputs,
        )
    click.echo(f"Created run {run.name} (a rerun of {run_name})")
    click.echo(f"URL: {run.url}")
    if follow:
        from flyte_cli._watch import follow as watch

        sys.exit(watch(run, cli.interactive))
