"""`flyte create config|project|secret|trigger`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote, scope_options
from flyte_cli._context import get_context

DEVBOX_ENDPOINT = "dns:///127.0.0.1:30080"


@click.group(context_settings=CONTEXT_SETTINGS)
def create() -> None:
    """Create a config file, a project, a secret or a trigger."""


def config_yaml(
    endpoint: str,
    insecure: bool,
    builder: str | None,
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    registry: str | None = None,
    auth_type: str | None = None,
) -> str:
    """The text of a client config.yaml (`admin`, `image`, `task` sections)."""
    import yaml

    admin: dict[str, Any] = {"endpoint": endpoint}
    if insecure:
        admin["insecure"] = True
    if auth_type:
        admin["authType"] = auth_type
    image: dict[str, Any] = {"builder": builder or "local"}
    if registry:
        image["registry"] = registry
    task = {k: v for k, v in (("org", org), ("project", project), ("domain", domain)) if v}
    doc: dict[str, Any] = {"admin": admin, "image": image}
    if task:
        doc["task"] = task
    return str(yaml.safe_dump(doc, sort_keys=False))


@create.command("config", context_settings=CONTEXT_SETTINGS)
@click.option("--devbox", is_flag=True, help=f"Point at a local devbox ({DEVBOX_ENDPOINT}).")
@click.option("--endpoint", help="The control plane (default: the global --endpoint).")
@click.option("--insecure", is_flag=True, default=None, help="Plain-text connection (no TLS).")
@click.option("--org", help="The organization.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".flyte") / "config.yaml",
    show_default=True,
    help="Where to write it.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--image-builder",
    "--builder",
    "builder",
    type=click.Choice(["local", "local-podman", "remote"]),
    default="local",
    show_default=True,
    help="How images are built.",
)
@click.option("--registry", help="Default registry of built images, e.g. ghcr.io/acme.")
@click.option("--auth-type", help="Authentication: Pkce, ClientSecret, ExternalCommand, ...")
@scope_options
@click.pass_context
def create_config(
    ctx: click.Context,
    devbox: bool,
    endpoint: str | None,
    insecure: bool | None,
    org: str | None,
    output: Path,
    force: bool,
    builder: str,
    registry: str | None,
    auth_type: str | None,
    project: str | None,
    domain: str | None,
) -> None:
    """Write a config file for this command line and the SDK (`flyte.init_from_config()`)."""
    cli = get_context(ctx)
    project, domain = cli.scope(project, domain)
    if devbox:
        endpoint = endpoint or DEVBOX_ENDPOINT
        insecure = True
        project = project or "flytesnacks"
        domain = domain or "development"
    endpoint = endpoint or cli.endpoint
    if not endpoint:
        raise click.UsageError("pass --endpoint (e.g. dns:///flyte.example.com) or --devbox")
    if insecure is None:
        insecure = bool(cli.insecure)
    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; pass --force to overwrite it")
    text = config_yaml(
        endpoint, insecure, builder, org or cli.org, project, domain, registry, auth_type
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}")


@create.command("project", context_settings=CONTEXT_SETTINGS)
@click.option("--id", "project_id", required=True, help="The project id (used in URLs).")
@click.option("--name", required=True, help="The display name.")
@click.option("--description", default="", help="A description.")
@click.option("-l", "--label", multiple=True, help="A label KEY=VALUE (repeatable).")
@click.pass_context
def create_project(
    ctx: click.Context, project_id: str, name: str, description: str, label: tuple[str, ...]
) -> None:
    """Create a project."""
    import flyte.remote
    from flyte_cli._run import _pairs

    labels = _pairs(label, "--label")
    remote(ctx)
    flyte.remote.Project.create(
        id=project_id, name=name, description=description, labels=labels or None
    )
    click.echo(f"Project {project_id} created.")


@create.command("secret", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@click.option("--value", help="The value (prompted for, hidden, when neither this nor a file).")
@click.option(
    "--from-file", type=click.Path(exists=True, dir_okay=False), help="Read the value from a file."
)
@click.option(
    "--type",
    "secret_type",
    type=click.Choice(["regular", "image_pull"]),
    default="regular",
    show_default=True,
)
@click.option("--cluster-pool", help="The cluster pool of the secret.")
@scope_options
@click.pass_context
def create_secret(
    ctx: click.Context,
    name: str,
    value: str | None,
    from_file: str | None,
    secret_type: str,
    cluster_pool: str | None,
    project: str | None,
    domain: str | None,
) -> None:
    """Create the secret NAME (its value: --value, --from-file, stdin, or a hidden prompt)."""
    import flyte.remote

    if value is not None and from_file:
        raise click.UsageError("pass either --value or --from-file, not both")
    data: str | bytes
    if from_file:
        data = Path(from_file).read_bytes()
    elif value is not None:
        data = value
    elif not sys.stdin.isatty():
        data = sys.stdin.read().rstrip("\n")
    else:
        data = click.prompt("Secret value", hide_input=True)
    remote(ctx, project, domain)
    flyte.remote.Secret.create(name, data, type=secret_type, cluster_pool=cluster_pool)  # type: ignore[arg-type]
    click.echo(f"Secret {name} created.")


@create.command("trigger", context_settings=CONTEXT_SETTINGS)
@click.argument("task_name")
@click.argument("name")
@click.option(
    "--schedule",
    required=True,
    help="A cron expression ('0 * * * *') or a fixed rate ('every 10m', '1h').",
)
@click.option("--description", default="", help="A description.")
@click.option(
    "--auto-activate/--no-auto-activate", default=True, show_default=True, help="Start active."
)
@click.option(
    "--trigger-time-var",
    default="trigger_time",
    show_default=True,
    help="The task input that receives the scheduled time (if the task has it).",
)
@scope_options
@click.pass_context
def create_trigger(
    ctx: click.Context,
    task_name: str,
    name: str,
    schedule: str,
    description: str,
    auto_activate: bool,
    trigger_time_var: str,
    project: str | None,
    domain: str | None,
) -> None:
    """Create the trigger NAME that runs the deployed task TASK_NAME on a schedule."""
    import flyte
    import flyte.remote
    from flyte_cli._params import parse_duration

    text = schedule.strip()
    automation: Any
    rate = text.removeprefix("every ").strip()
    if len(text.split()) == 5:
        automation = flyte.Cron(text)
    else:
        try:
            minutes = parse_duration(rate).total_seconds() / 60
        except ValueError:
            raise click.BadParameter(
                f"{schedule!r} is neither a cron expression (5 fields) nor a rate like 10m",
                param_hint="--schedule",
            ) from None
        if minutes < 1 or minutes != int(minutes):
            raise click.BadParameter(
                "a fixed rate is whole minutes (>= 1m)", param_hint="--schedule"
            )
        automation = flyte.FixedRate(int(minutes))
    remote(ctx, project, domain)
    inputs = _trigger_inputs(task_name, trigger_time_var)
    trigger = flyte.Trigger(
        name,
        automation,
        description=description,
        auto_activate=auto_activate,
        inputs=inputs,
    )
    flyte.remote.Trigger.create(trigger, task_name=task_name)
    click.echo(f"Trigger {name} created for task {task_name}.")


def _trigger_inputs(task_name: str, var: str) -> dict[str, Any] | None:
    """`{var: flyte.TriggerTime}` when the deployed task has an input named `var`."""
    import flyte
    import flyte.remote

    try:
        details = flyte.remote.Task.get(task_name, auto_version="latest").fetch()
        names = set(getattr(getattr(details, "interface", None), "inputs", {}) or {})
    except Exception:
        return None
    return {var: flyte.TriggerTime} if var in names else None
