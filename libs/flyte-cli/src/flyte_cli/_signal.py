"""`flyte signal condition RUN_NAME ACTION_NAME [VALUE]`: resolve a condition a task waits on."""

from __future__ import annotations

from typing import Any

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options


@click.group(context_settings=CONTEXT_SETTINGS)
def signal() -> None:
    """Signal a paused condition action."""


def _find(run_name: str, action_name: str) -> Any:
    import flyte.remote

    conditions = list(flyte.remote.Condition.listall(run_name=run_name))
    for cond in conditions:
        if action_name in (cond.action_name, cond.name):
            return cond
    known = ", ".join(f"{c.action_name} ({c.name})" for c in conditions) or "none"
    raise click.ClickException(
        f"run {run_name} has no condition {action_name!r} (its conditions: {known}); "
        f"`flyte get action {run_name}` lists its actions"
    )


def _prompt(run_name: str, cond: Any) -> str:
    """The question the task asked (kept in the condition action's spec)."""
    import flyte.remote

    details = flyte.remote.ActionDetails.get(run_name=run_name, name=cond.action_name)
    spec = details.pb2.condition if details.pb2.HasField("condition") else None
    return (spec.prompt if spec is not None else "") or f"Value for {cond.name}"


@signal.command("condition", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.argument("action_name")
@click.argument("value", required=False)
@scope_options
@click.pass_context
def signal_condition(
    ctx: click.Context,
    run_name: str,
    action_name: str,
    value: str | None,
    project: str | None,
    domain: str | None,
) -> None:
    """Resolve the condition ACTION_NAME of run RUN_NAME with VALUE.

    ACTION_NAME is the condition's action name (as `flyte get action` shows it) or the name the
    task gave it. VALUE is read as the type the condition expects: true/false (also yes/no, 1/0)
    for bool, a number for int and float, any text for str. Without VALUE the condition's prompt
    is shown and the value is asked for.
    """
    from flyte_runtime._condition import parse_payload

    remote(ctx, project, domain)
    cond = _find(run_name, action_name)
    if cond.phase != "ACTION_PHASE_PAUSED":
        phase = cond.phase.removeprefix("ACTION_PHASE_")
        raise click.ClickException(f"condition {cond.name!r} of run {run_name} is {phase}")
    expected = cond.expected_type or str
    if value is None:
        value = click.prompt(f"{_prompt(run_name, cond)} ({expected.__name__})")
    try:
        payload = parse_payload(value, expected)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="VALUE") from None
    cond.signal(payload)
    click.echo(
        f"Condition {cond.name!r} ({cond.action_name}) of run {run_name} signalled: {payload!r}"
    )
