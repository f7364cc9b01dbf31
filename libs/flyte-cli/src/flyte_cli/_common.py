"""Options and helpers shared by the remote verbs (`get`, `abort`, `create`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from flyte_cli._context import CLIContext, get_context

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def scope_options(f: F) -> F:
    """`-p/--project` and `-d/--domain` (default: the global option, then the config)."""
    f = click.option("-d", "--domain", help="Domain (default: the config's).")(f)
    f = click.option("-p", "--project", help="Project (default: the config's).")(f)
    return f


def remote(ctx: click.Context, project: str | None = None, domain: str | None = None) -> CLIContext:
    """Initialize the SDK for the control plane this invocation names; return the CLI context."""
    cli = get_context(ctx)
    cli.init_remote(project, domain)
    return cli
