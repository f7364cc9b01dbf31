"""Console output: rich where it helps, plain lines when not on a terminal, NO_COLOR honoured.

Rich is imported here only, and only by commands that print something richer than a line.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click


def console(stderr: bool = False) -> Any:
    """A rich Console: colour only on a terminal and without NO_COLOR; no wrapping off a TTY."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(
        file=stream,
        no_color=bool(os.environ.get("NO_COLOR")),
        force_terminal=None,
        soft_wrap=not tty,
        highlight=tty,
        emoji=False,
    )


@contextmanager
def progress(message: str, interactive: bool) -> Iterator[None]:
    """A spinner with `message` on a terminal; a plain line otherwise."""
    if not interactive:
        click.echo(f"{message}", err=True)
        yield
        return
    with console(stderr=True).status(message):
        yield


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for `value` (protobuf messages, dataclasses, pydantic, enums, dates)."""
    import dataclasses

    if hasattr(value, "DESCRIPTOR") and hasattr(value, "ListFields"):
        from google.protobuf.json_format import MessageToDict

        return MessageToDict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json"))
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def show_value(value: Any) -> str:
    """A short, readable rendering of an output value."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(to_jsonable(value))
    except (TypeError, ValueError):
        return repr(value)


def print_outputs(outputs: Any) -> None:
    """Print each output as `name: value` (one line each)."""
    named = getattr(outputs, "named_outputs", None)
    if named is None:
        named = {"o0": outputs} if outputs is not None else {}
    if not named:
        click.echo("Outputs: (none)")
        return
    click.echo("Outputs:")
    for k, v in named.items():
        click.echo(f"  {k}: {show_value(v)}")


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    records: Sequence[Any] | None = None,
) -> None:
    """Print rows as a rich table (`table`), tab-separated lines (`table-simple`), or JSON."""
    rows = [list(r) for r in rows]
    if fmt in ("json", "json-raw"):
        data = (
            [to_jsonable(r) for r in records]
            if records is not None
            else [dict(zip(columns, r, strict=False)) for r in rows]
        )
        click.echo(json.dumps(to_jsonable(data), indent=None if fmt == "json-raw" else 2))
        return
    if fmt == "table-simple" or not sys.stdout.isatty():
        click.echo("\t".join(columns))
        for r in rows:
            click.echo("\t".join("" if c is None else str(c) for c in r))
        return
    from rich.table import Table

    table = Table(title=title, header_style="bold", expand=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if c is None else str(c) for c in r))
    console().print(table)


def fmt_time(value: Any) -> str:
    """A timestamp (datetime or protobuf Timestamp) as `YYYY-MM-DD HH:MM:SS`."""
    if value is None:
        return ""
    if hasattr(value, "ToDatetime"):
        if not value.seconds and not value.nanos:
            return ""
        value = value.ToDatetime(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def fmt_duration(value: Any) -> str:
    if not isinstance(value, dt.timedelta):
        return "" if value is None else str(value)
    total = value.total_seconds()
    if total < 60:
        return f"{total:.1f}s"
    minutes, seconds = divmod(int(total), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def phase_name(phase: Any) -> str:
    """`SUCCEEDED` for `ActionPhase.SUCCEEDED` (or a raw value)."""
    value = getattr(phase, "value", phase)
    name = getattr(phase, "name", None) or str(value)
    return str(name).upper().removeprefix("ACTION_PHASE_")
