"""`flyte whoami`: who the control plane says the caller is."""

from __future__ import annotations

import json

import click

from flyte_cli._common import CONTEXT_SETTINGS, remote


@click.command("whoami", context_settings=CONTEXT_SETTINGS)
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """Show the user (or application) the control plane authenticates you as.

    `flyte -of json whoami` prints the fields as JSON.
    """
    import flyte.remote
    from flyte_cli._output import print_table

    cli = remote(ctx)
    info = flyte.remote.User.get().pb2
    fields = ("subject", "name", "preferred_username", "given_name", "family_name", "email")
    data = {f: getattr(info, f, "") for f in fields}
    data["endpoint"] = cli.remote_endpoint() or ""
    fmt = cli.output_format
    if fmt.startswith("json"):
        click.echo(json.dumps(data, indent=None if fmt == "json-raw" else 2))
        return
    print_table("User", ["field", "value"], [(k, v) for k, v in data.items() if v], fmt)
