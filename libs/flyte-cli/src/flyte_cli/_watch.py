"""`flyte run --follow`: watch a remote run until it ends.

On a terminal a live rich table shows every action of the run with its phase and duration; off
a terminal (or with `--no-progress`) one plain line is printed per phase change.
"""

from __future__ import annotations

import time
from typing import Any

import click

from flyte_cli._output import console, phase_name, print_outputs

_POLL_SECONDS = 0.5
_ROOT = "a0"


def _actions(run_name: str) -> list[Any]:
    import flyte.remote

    try:
        return list(flyte.remote.Action.listall(for_run_name=run_name))
    except Exception:  # a listing hiccup must not end the watch; the next poll retries
        return []


def _elapsed(action: Any) -> str:
    try:
        start = action.start_time
    except Exception:
        return ""
    if start is None or not getattr(start, "timestamp", None):
        return ""
    secs = max(0.0, time.time() - start.timestamp())
    return f"{secs:.1f}s" if not action.done() else ""


def _table(run: Any, actions: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"Run {run.name}", header_style="bold", expand=False)
    for col in ("action", "task", "phase", "running for"):
        table.add_column(col)
    for a in actions:
        table.add_row(a.name, a.task_name or "", phase_name(a.phase), _elapsed(a))
    return table


def follow(run: Any, interactive: bool) -> int:
    """Watch `run` to the end; print its outputs or error. Returns the exit code (0 = success)."""
    seen: dict[str, str] = {}
    if interactive:
        from rich.live import Live

        with Live(
            _table(run, []), console=console(), refresh_per_second=4, transient=False
        ) as live:
            while True:
                run.sync()
                actions = _actions(run.name)
                live.update(_table(run, actions))
                if run.done():
                    break
                time.sleep(_POLL_SECONDS)
    else:
        while True:
            run.sync()
            changed = []
            for a in _actions(run.name):
                ph = phase_name(a.phase)
                if seen.get(a.name) != ph:
                    seen[a.name] = ph
                    changed.append((a, ph))
            # A parent ends after its children: within one poll, print the children's changes
            # first, so the root's final phase is the last action line and never precedes them.
            changed.sort(key=lambda c: c[0].name == _ROOT)
            for a, ph in changed:
                click.echo(f"{a.name} ({a.task_name or ''}): {ph}")
            if run.done():
                break
            time.sleep(_POLL_SECONDS)
    final = phase_name(run.phase)
    click.echo(f"Run {run.name} {final}")
    if final in ("SUCCEEDED", "RECOVERED"):
        try:
            print_outputs(run.outputs())
        except Exception as e:  # outputs are a courtesy: the run itself succeeded
            click.echo(f"(outputs unavailable: {e})", err=True)
        return 0
    try:
        msg = run.details().action_details.error_message or ""
    except Exception:  # the phase is what matters; the message is a courtesy
        msg = ""
    if msg:
        click.echo(f"Error: {msg}", err=True)
    return 1
