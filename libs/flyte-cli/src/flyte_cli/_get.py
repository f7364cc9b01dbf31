"""`flyte get run|action|task|project|trigger|secret|config|logs`: tables, or JSON with
`flyte -of json get ...` (also `--output json` on each noun)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options
from flyte_cli._context import get_context
from flyte_cli._output import fmt_time, phase_name, print_table

_PHASES = [
    "queued",
    "waiting_for_resources",
    "initializing",
    "running",
    "succeeded",
    "failed",
    "aborted",
    "timed_out",
    "paused",
]


def output_option(f: Any) -> Any:
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Choice(["table", "json", "table-simple", "json-raw"]),
        help="Output format (default: the global --output-format, i.e. table).",
    )(f)


def _fmt(ctx: click.Context, output: str | None) -> str:
    return output or get_context(ctx).output_format


def _pb(obj: Any) -> Any:
    return getattr(obj, "pb2", obj)


def _cache_status(action: Any) -> str:
    """`hit`, `populated`, `miss`, ... for a cacheable action; empty when caching is off."""
    from flyteidl2.core import catalog_pb2

    value = _pb(action).status.cache_status
    if not value:  # CACHE_DISABLED
        return ""
    return (
        catalog_pb2.CatalogCacheStatus.Name(value).removeprefix("CACHE_").lower().replace("_", " ")
    )


@click.group(context_settings=CONTEXT_SETTINGS)
def get() -> None:
    """Show resources of a Flyte deployment (and the local config)."""


@get.command("config", context_settings=CONTEXT_SETTINGS)
@output_option
@click.pass_context
def get_config(ctx: click.Context, output: str | None) -> None:
    """Show the configuration this command line would use (file and overrides)."""
    cli = get_context(ctx)
    cfg = cli.config()
    project, domain = cli.scope(None, None)
    data = {
        "config_file": str(cfg.source) if cfg.source else None,
        "endpoint": cli.endpoint or cfg.platform.endpoint,
        "insecure": cli.insecure if cli.insecure is not None else cfg.platform.insecure,
        "auth_type": cli.auth_type or cfg.platform.auth_mode,
        "org": cli.org or cfg.task.org,
        "project": project or cfg.task.project,
        "domain": domain or cfg.task.domain,
        "image_builder": cli.image_builder or cfg.image.builder or "local",
        "image_registry": cfg.image.registry,
    }
    fmt = _fmt(ctx, output)
    if fmt.startswith("json"):
        click.echo(json.dumps(data, indent=None if fmt == "json-raw" else 2))
        return
    print_table(
        "Config", ["setting", "value"], [(k, "" if v is None else v) for k, v in data.items()], fmt
    )


@get.command("devbox", context_settings=CONTEXT_SETTINGS)
@click.option("--no-probes", is_flag=True, help="Do not check that its port answers.")
@output_option
@click.pass_context
def get_devbox(ctx: click.Context, no_probes: bool, output: str | None) -> None:
    """Show the devbox started with `flyte start devbox`: running or not, endpoint, state."""
    from flyte_cli import _devbox_state as state

    data = state.read()
    if data is None:
        status = "not running"
        data = {}
    elif not state.alive(data["pid"]):
        status = "not running (stale record)"
        state.forget(data["pid"])
        data = {}
    elif no_probes or state.listening(data["host"], data["port"]):
        status = "running"
    else:
        status = "starting (port not open yet)"
    fields = {"status": status, **{k: data.get(k) for k in ("endpoint", "pid", "state_dir")}}
    fields["started_at"] = data.get("started_at")
    fmt = _fmt(ctx, output)
    if fmt.startswith("json"):
        click.echo(json.dumps(fields, indent=None if fmt == "json-raw" else 2))
        return
    rows = [(k, "" if v is None else v) for k, v in fields.items() if v is not None]
    print_table("Devbox", ["field", "value"], rows, fmt)
    if not data:
        click.echo("Start one with `flyte start devbox`.", err=True)


@get.command("run", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many runs.")
@click.option("--in-phase", type=click.Choice(_PHASES), multiple=True, help="Only these phases.")
@click.option("--task-name", help="Only runs of this task.")
@scope_options
@output_option
@click.pass_context
def get_run(
    ctx: click.Context,
    name: str | None,
    limit: int,
    in_phase: tuple[str, ...],
    task_name: str | None,
    project: str | None,
    domain: str | None,
    output: str | None,
) -> None:
    """List runs, or show the run NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    fmt = _fmt(ctx, output)
    if name:
        runs = [flyte.remote.Run.get(name)]
    else:
        kw: dict[str, Any] = {"limit": limit}
        if in_phase:
            kw["in_phase"] = tuple(in_phase)
        if task_name:
            kw["task_name"] = task_name
        runs = list(flyte.remote.Run.listall(**kw))
    rows = [
        (
            r.name,
            r.action.task_name or "",
            phase_name(r.phase),
            fmt_time(r.action.start_time),
            r.url,
        )
        for r in runs
    ]
    print_table(
        "Runs", ["name", "task", "phase", "started", "url"], rows, fmt, [_pb(r) for r in runs]
    )


@get.command("action", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.argument("action_name", required=False)
@click.option("--in-phase", type=click.Choice(_PHASES), multiple=True, help="Only these phases.")
@scope_options
@output_option
@click.pass_context
def get_action(
    ctx: click.Context,
    run_name: str,
    action_name: str | None,
    in_phase: tuple[str, ...],
    project: str | None,
    domain: str | None,
    output: str | None,
) -> None:
    """List the actions of RUN_NAME, or show one action."""
    import flyte.remote

    remote(ctx, project, domain)
    if action_name:
        actions = [flyte.remote.Action.get(run_name=run_name, name=action_name)]
    else:
        kw: dict[str, Any] = {"for_run_name": run_name}
        if in_phase:
            kw["in_phase"] = tuple(in_phase)
        actions = list(flyte.remote.Action.listall(**kw))
    rows = [
        (
            a.name,
            a.parent_name or "",
            a.task_name or "",
            phase_name(a.phase),
            _cache_status(a),
            fmt_time(a.start_time),
        )
        for a in actions
    ]
    print_table(
        f"Actions of {run_name}",
        ["name", "parent", "task", "phase", "cache", "started"],
        rows,
        _fmt(ctx, output),
        [_pb(a) for a in actions],
    )


@get.command("task", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@click.argument("version", required=False)
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many.")
@scope_options
@output_option
@click.pass_context
def get_task(
    ctx: click.Context,
    name: str | None,
    version: str | None,
    limit: int,
    project: str | None,
    domain: str | None,
    output: str | None,
) -> None:
    """List deployed tasks, or show task NAME (its latest version, or VERSION)."""
    import flyte.remote

    remote(ctx, project, domain)
    fmt = _fmt(ctx, output)
    if name:
        lazy = (
            flyte.remote.Task.get(name, version=version)
            if version
            else flyte.remote.Task.get(name, auto_version="latest")
        )
        details = lazy.fetch()
        one: list[tuple[str, ...]] = [(details.name, details.version)]
        print_table("Task", ["name", "version"], one, fmt, [_pb(details)])
        return
    tasks = list(flyte.remote.Task.listall(limit=limit))
    rows = [(t.name, t.version, getattr(t, "url", "")) for t in tasks]
    print_table("Tasks", ["name", "version", "url"], rows, fmt, [_pb(t) for t in tasks])


@get.command("project", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@click.option("--archived", is_flag=True, help="List archived projects.")
@output_option
@click.pass_context
def get_project(ctx: click.Context, name: str | None, archived: bool, output: str | None) -> None:
    """List projects, or show project NAME."""
    import flyte.remote

    remote(ctx)
    if name:
        projects = [flyte.remote.Project.get(name)]
    else:
        projects = list(flyte.remote.Project.listall(archived=archived))
    rows = [(p.id, p.name, p.description, ", ".join(p.domains)) for p in projects]
    print_table(
        "Projects",
        ["id", "name", "description", "domains"],
        rows,
        _fmt(ctx, output),
        [_pb(p) for p in projects],
    )


@get.command("trigger", context_settings=CONTEXT_SETTINGS)
@click.argument("task_name", required=False)
@click.argument("name", required=False)
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many.")
@scope_options
@output_option
@click.pass_context
def get_trigger(
    ctx: click.Context,
    task_name: str | None,
    name: str | None,
    limit: int,
    project: str | None,
    domain: str | None,
    output: str | None,
) -> None:
    """List triggers (of TASK_NAME), or show trigger NAME of TASK_NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    fmt = _fmt(ctx, output)
    if task_name and name:
        d = flyte.remote.Trigger.get(name=name, task_name=task_name)
        rows = [(d.name, task_name, "")]
        print_table("Trigger", ["name", "task", "active"], rows, fmt, [_pb(d)])
        return
    triggers = list(flyte.remote.Trigger.listall(task_name=task_name, limit=limit))
    rows = [(t.name, t.task_name, "yes" if t.is_active else "no") for t in triggers]
    print_table("Triggers", ["name", "task", "active"], rows, fmt, [_pb(t) for t in triggers])


@get.command("secret", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@click.option("--cluster-pool", help="The cluster pool of the secret.")
@scope_options
@output_option
@click.pass_context
def get_secret(
    ctx: click.Context,
    name: str | None,
    cluster_pool: str | None,
    project: str | None,
    domain: str | None,
    output: str | None,
) -> None:
    """List secrets (names only, never values), or show secret NAME."""
    import flyte.remote

    remote(ctx, project, domain)
    if name:
        secrets = [flyte.remote.Secret.get(name, cluster_pool=cluster_pool)]
    else:
        secrets = list(flyte.remote.Secret.listall(limit=100, cluster_pool=cluster_pool))
    rows = [(s.name, getattr(s, "type", "")) for s in secrets]
    print_table("Secrets", ["name", "type"], rows, _fmt(ctx, output), [_pb(s) for s in secrets])


@get.command("logs", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.argument("action_name", required=False)
@click.option("-l", "--lines", type=int, default=30, show_default=True, help="The last N lines.")
@click.option("--show-ts", is_flag=True, help="Prefix each line with its timestamp.")
@click.option("-a", "--attempt", type=int, help="The attempt (default: the latest).")
@click.option("--filter-system", is_flag=True, help="Hide the runtime's own log lines.")
@click.option("--all", "all_lines", is_flag=True, help="Every line, not only the last N.")
@scope_options
@click.pass_context
def get_logs(
    ctx: click.Context,
    run_name: str,
    action_name: str | None,
    lines: int,
    show_ts: bool,
    attempt: int | None,
    filter_system: bool,
    all_lines: bool,
    project: str | None,
    domain: str | None,
) -> None:
    """Print the logs of RUN_NAME's root action (or of ACTION_NAME)."""
    import flyte.remote

    remote(ctx, project, domain)
    if action_name:
        target: Any = flyte.remote.Action.get(run_name=run_name, name=action_name)
    else:
        target = flyte.remote.Run.get(run_name)
    target.show_logs(
        attempt=attempt,
        max_lines=lines,
        show_ts=show_ts,
        raw=all_lines,
        filter_system=filter_system,
        stream=sys.stdout,
    )


@get.command("io", context_settings=CONTEXT_SETTINGS)
@click.argument("run_name")
@click.argument("action_name", required=False)
@click.option("-i", "--inputs-only", is_flag=True, help="Only the inputs.")
@click.option("-o", "--outputs-only", is_flag=True, help="Only the outputs.")
@scope_options
@click.pass_context
def get_io(
    ctx: click.Context,
    run_name: str,
    action_name: str | None,
    inputs_only: bool,
    outputs_only: bool,
    project: str | None,
    domain: str | None,
) -> None:
    """Show the inputs and outputs of RUN_NAME's root action (or of ACTION_NAME)."""
    import flyte.remote
    from flyte_cli._output import show_value, to_jsonable

    cli = remote(ctx, project, domain)
    details = flyte.remote.ActionDetails.get(run_name=run_name, name=action_name or "a0")
    data: dict[str, Any] = {}
    if not outputs_only:
        data["inputs"] = dict(details.inputs())
    if not inputs_only:
        data["outputs"] = dict(details.outputs().named_outputs) if details.done() else None
    if cli.output_format.startswith("json"):
        click.echo(
            json.dumps(to_jsonable(data), indent=None if cli.output_format == "json-raw" else 2)
        )
        return
    for section, values in data.items():
        if values is None:
            click.echo(f"{section}: (not finished: {phase_name(details.phase)})")
            continue
        click.echo(f"{section}:" + ("" if values else " (none)"))
        for k, v in values.items():
            click.echo(f"  {k}: {show_value(v)}")
