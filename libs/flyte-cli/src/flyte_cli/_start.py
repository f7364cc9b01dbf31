"""`flyte start devbox`: the embedded control plane, in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import os
import sys

import click

from flyte_cli import _devbox_state as _state
from flyte_cli._common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def start() -> None:
    """Start local services."""


@start.command("devbox", context_settings=CONTEXT_SETTINGS)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=30080, show_default=True, help="Port (0 = any free).")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Database, logs and blobs.")
@click.option("--storage", metavar="URI", help="Blob storage root, e.g. s3://bucket/prefix.")
@click.option(
    "--write-config",
    is_flag=False,
    flag_value=".flyte/config.yaml",
    default=None,
    metavar="[PATH]",
    help="Write the client config (default path: .flyte/config.yaml).",
)
@click.option("--project", default="flytesnacks", show_default=True, help="Default project.")
@click.option("--domain", default="development", show_default=True, help="Default domain.")
@click.option("--max-concurrent-actions", type=int, help="Action processes at once.")
@click.option("--token", envvar="FLYTE_DEVBOX_TOKEN", help="Require this bearer token.")
@click.option(
    "--a0",
    "a0_command",
    metavar="COMMAND",
    help="Command that runs an action (default: the `a0` next to this Python).",
)
@click.option(
    "-e", "--env", multiple=True, metavar="KEY=VALUE", help="Extra env var for every action."
)
@click.option("--log-level", default="INFO", show_default=True, help="DEBUG, INFO, WARNING, ...")
@click.option("--image", hidden=True, help="Accepted for compatibility; no containers are used.")
@click.option("--dev", is_flag=True, hidden=True)
@click.option("--gpu", is_flag=True, hidden=True)
@click.option("--apple-silicon", is_flag=True, hidden=True)
def start_devbox(
    host: str,
    port: int,
    state_dir: str | None,
    storage: str | None,
    write_config: str | None,
    project: str,
    domain: str,
    max_concurrent_actions: int | None,
    token: str | None,
    a0_command: str | None,
    env: tuple[str, ...],
    log_level: str,
    image: str | None,
    dev: bool,
    gpu: bool,
    apple_silicon: bool,
) -> None:
    """Run a Flyte 2 control plane on this machine (no Docker, no Kubernetes) until Ctrl-C.

    Actions run as local `a0` processes. With --write-config the client config is written so
    that `flyte run FILE TASK` (without --local) runs there. `flyte get devbox` shows it,
    `flyte stop devbox` (from another shell) stops it; its state directory is kept.
    """
    from flyte_devbox.__main__ import main as devbox_main

    if image or dev or gpu or apple_silicon:
        click.echo(
            "Note: --image/--dev/--gpu/--apple-silicon are ignored: this devbox runs actions as "
            "local processes, without containers.",
            err=True,
        )
    argv = ["--host", host, "--port", str(port), "--project", project, "--domain", domain]
    argv += ["--log-level", log_level]
    if state_dir:
        argv += ["--state-dir", state_dir]
    if storage:
        argv += ["--storage", storage]
    if write_config:
        argv += ["--write-config", write_config]
    if max_concurrent_actions is not None:
        argv += ["--max-concurrent-actions", str(max_concurrent_actions)]
    if token:
        argv += ["--token", token]
    if a0_command:
        argv += ["--a0", a0_command]
    for pair in env:
        argv += ["--env", pair]
    if port == 0:  # pick it here, so `flyte get devbox` can tell where it runs
        port = _state.free_port(host)
        argv[argv.index("--port") + 1] = str(port)
    _state.record(host, port, state_dir)
    try:
        code = devbox_main(argv)
    finally:
        _state.forget(os.getpid())
    sys.exit(code)
