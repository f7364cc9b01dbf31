"""`flyte stop devbox`: stop the devbox that `flyte start devbox` runs (from another shell)."""

from __future__ import annotations

import os
import signal
import time

import click

from flyte_cli._common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def stop() -> None:
    """Stop local services."""


@stop.command("devbox", context_settings=CONTEXT_SETTINGS)
@click.option("--timeout", type=float, default=30, show_default=True, help="Seconds to wait.")
def stop_devbox(timeout: float) -> None:
    """Stop the devbox started with `flyte start devbox` (its state directory is kept: the next
    `flyte start devbox` with the same --state-dir resumes it)."""
    from flyte_cli import _devbox_state as state

    data = state.read()
    if data is None or not state.alive(data["pid"]):
        if data is not None:
            state.forget(data["pid"])
        click.echo("No devbox is running (none was started with `flyte start devbox`).")
        return
    pid = data["pid"]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while state.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if state.alive(pid):
        raise click.ClickException(
            f"the devbox (pid {pid}) did not stop within {timeout:g}s. Fix: stop it with Ctrl-C "
            f"in its shell, or `kill {pid}`."
        )
    state.forget(pid)
    click.echo(f"Stopped the devbox at {data['endpoint']} (pid {pid}).")
