"""The global options of `flyte` and how a command turns them into an initialized SDK."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class CLIContext:
    """What `flyte [OPTIONS]` was given; every subcommand reads it from `ctx.obj`."""

    endpoint: str | None = None
    insecure: bool | None = None
    config_file: str | None = None
    org: str | None = None
    project: str | None = None
    domain: str | None = None
    image_builder: str | None = None
    auth_type: str | None = None
    verbose: int = 0
    output_format: str = "table"
    no_progress: bool = False

    def __post_init__(self) -> None:
        if self.verbose:
            import logging  # only now: `flyte --help` should not pay for it

            level = logging.INFO if self.verbose == 1 else logging.DEBUG
            logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")

    # -- configuration ------------------------------------------------------------------------

    def config(self) -> Any:
        """The `flyte_client.Config` the command works with (file, then environment)."""
        from flyte_client import Config

        return Config.auto(self.config_file)

    def remote_endpoint(self) -> str | None:
        """The control plane this invocation talks to: `--endpoint`, else the config's."""
        if self.endpoint:
            return self.endpoint
        return self.config().platform.endpoint  # type: ignore[no-any-return]

    def scope(self, project: str | None, domain: str | None) -> tuple[str | None, str | None]:
        """Project and domain: the subcommand's option, else the global one, else the config's."""
        return project or self.project, domain or self.domain

    def init_remote(
        self,
        project: str | None = None,
        domain: str | None = None,
        root_dir: Path | None = None,
        **kwargs: Any,
    ) -> None:
        """`flyte.init_from_config(...)` with the global options over the config file.

        Raises:
            click.UsageError: No control plane is configured anywhere.
        """
        import flyte

        if not self.remote_endpoint():
            raise click.UsageError(
                "no control plane configured. Fix: pass --endpoint (e.g. `flyte --endpoint "
                "dns:///127.0.0.1:8090 --insecure ...`), or write a config with `flyte create "
                "config`, or start one with `flyte start devbox --write-config`."
            )
        project, domain = self.scope(project, domain)
        extra: dict[str, Any] = {"endpoint": self.endpoint, "insecure": self.insecure}
        if self.auth_type:
            extra["auth_type"] = self.auth_type
        flyte.init_from_config(
            self.config_file,
            root_dir=root_dir,
            org=self.org,
            project=project,
            domain=domain,
            image_builder=self.image_builder,
            **extra,
            **kwargs,
        )

    # -- output -------------------------------------------------------------------------------

    @property
    def interactive(self) -> bool:
        """Live views and spinners only on a terminal, and not with --no-progress."""
        return not self.no_progress and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def get_context(ctx: click.Context) -> CLIContext:
    """The `CLIContext` of this invocation (a default one when a command runs on its own)."""
    obj = ctx.find_object(CLIContext)
    if obj is None:
        obj = ctx.ensure_object(CLIContext)
    return obj
