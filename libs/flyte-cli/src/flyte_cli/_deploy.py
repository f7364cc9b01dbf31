"""`flyte deploy FILE [ENV]` and `flyte build FILE [NAME]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flyte_cli._common import CONTEXT_SETTINGS, scope_options
from flyte_cli._context import get_context
from flyte_cli._output import print_table, progress


def _pick_envs(file: str, env_name: str | None, root_dir: Path) -> list[Any]:
    from flyte_cli._load import environments_in, load_file

    envs = environments_in(load_file(file, root_dir))
    if not envs:
        raise click.UsageError(f"{file} defines no environment (flyte.TaskEnvironment)")
    if env_name is None:
        return list(envs.values())
    if env_name not in envs:
        known = ", ".join(sorted(envs))
        raise click.UsageError(f"no environment {env_name!r} in {file} (environments: {known})")
    return [envs[env_name]]


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("env", required=False)
@scope_options
@click.option("--version", help="Version of the tasks (default: the code bundle's hash).")
@click.option(
    "--dry-run", "--dryrun", "dry_run", is_flag=True, help="Build specs; register nothing."
)
@click.option(
    "--copy-style",
    type=click.Choice(["loaded_modules", "all", "none"]),
    default="loaded_modules",
    show_default=True,
    help="What code goes into the bundle.",
)
@click.option("--root-dir", help="Source root of the bundle (default: the current directory).")
@click.pass_context
def deploy(
    ctx: click.Context,
    file: str,
    env: str | None,
    project: str | None,
    domain: str | None,
    version: str | None,
    dry_run: bool,
    copy_style: str,
    root_dir: str | None,
) -> None:
    """Deploy the environments of FILE (or only ENV) with their tasks and triggers."""
    import flyte

    cli = get_context(ctx)
    root = Path(root_dir).expanduser().resolve() if root_dir else Path.cwd()
    if not Path(file).exists():
        raise click.UsageError(f"file not found: {file}")
    envs = _pick_envs(file, env, root)
    if dry_run and not cli.remote_endpoint():
        flyte.init(root_dir=root)
    else:
        cli.init_remote(project, domain, root_dir=root)
    names = ", ".join(e.name for e in envs)
    verb = "Planning" if dry_run else "Deploying"
    with progress(f"{verb} {names}...", cli.interactive):
        deployments = flyte.deploy(*envs, dry_run=dry_run, version=version, copy_style=copy_style)
    rows = []
    for d in deployments:
        for t in d.tasks:
            triggers = ",".join(tr.name for tr in t.deployed_triggers)
            rows.append((t.get_name(), t.version, triggers))
    title = "Would deploy (dry run)" if dry_run else "Deployed"
    print_table(title, ["task", "version", "triggers"], rows, cli.output_format)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("name", required=False)
@click.option("--dry-run", is_flag=True, help="Only print the Dockerfile.")
@click.option("--force", is_flag=True, help="Build even if the image exists.")
@click.pass_context
def build(ctx: click.Context, file: str, name: str | None, dry_run: bool, force: bool) -> None:
    """Build images: of the environment NAME of FILE, of a `flyte.Image` variable NAME, or of
    every environment in FILE."""
    import flyte
    from flyte_cli._load import environments_in, load_file
    from flyte_models import Image

    cli = get_context(ctx)
    if not Path(file).exists():
        raise click.UsageError(f"file not found: {file}")
    module = load_file(file, Path.cwd())
    images: dict[str, Any] = {}
    envs = environments_in(module)
    variable = getattr(module, name, None) if name else None
    if isinstance(variable, Image):
        images[name or "image"] = variable
    elif name is not None and name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise click.UsageError(
            f"{name!r} is neither an environment nor a flyte.Image in {file} (environments: {known})"
        )
    else:
        for env_name, env in envs.items():
            if name is None or env_name == name:
                images[env_name] = env.image
    rows = []
    for label, image in images.items():
        if isinstance(image, str) or image is None:
            rows.append((label, str(image or "(default image)"), "not built (a fixed reference)"))
            continue
        with progress(f"Building the image of {label}...", cli.interactive):
            result = flyte.build(image, dry_run=dry_run, force=force, builder=cli.image_builder)
        if dry_run and getattr(result, "dockerfile", None):
            click.echo(result.dockerfile)
        state = (
            "exists" if getattr(result, "skipped", False) else ("dry run" if dry_run else "built")
        )
        rows.append((label, str(getattr(result, "uri", "") or ""), state))
    print_table("Images", ["environment", "image", "state"], rows, cli.output_format)
