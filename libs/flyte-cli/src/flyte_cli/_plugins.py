"""CLI plugins: commands and hooks that installed packages declare through entry points.

The groups are the reference SDK's (and `flyte_runtime._plugins.CLI_COMMANDS_GROUP` /
`CLI_HOOKS_GROUP`), so one plugin package serves both SDKs:

```toml
[project.entry-points."flyte.plugins.cli.commands"]
my-cmd = "my_plugin.cli:my_cmd"          # flyte my-cmd
"get.thing" = "my_plugin.cli:get_thing"  # flyte get thing

[project.entry-points."flyte.plugins.cli.hooks"]
run = "my_plugin.cli:wrap_run"           # cmd = wrap_run(cmd), for `flyte run`
"get.run" = "my_plugin.cli:wrap_get_run"
```

Start-up matters here, so this module does not use `importlib.metadata` (importing it costs
about 45 ms, as much as the whole `flyte --help`): it reads the `entry_points.txt` of the
`*.dist-info` / `*.egg-info` directories on `sys.path` itself (about 2 ms for 150
distributions). Only a zip file on `sys.path` falls back to `importlib.metadata`. And it loads
only the plugins a command needs: `flyte run` loads the hooks of `run`, never the plugins' other
commands; `flyte --help` loads the top-level commands (to show their help).

A plugin that fails to load (or is not a click command, or whose hook raises) is reported in one
line on stderr and skipped; the rest of the CLI works.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import click

COMMANDS_GROUP = "flyte.plugins.cli.commands"
HOOKS_GROUP = "flyte.plugins.cli.hooks"

_SECTION = re.compile(r"^\[\s*([^\]]+?)\s*\]\s*$")


class EntryPoint(NamedTuple):
    """One declared entry point (not loaded)."""

    group: str
    name: str
    value: str
    distribution: str


def _dist_name(dirname: str) -> str:
    stem = dirname.rsplit(".", 1)[0]  # drop .dist-info / .egg-info
    return stem.split("-", 1)[0]


def _normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _parse(text: str, dist: str, groups: tuple[str, ...]) -> list[EntryPoint]:
    out: list[EntryPoint] = []
    group: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = _SECTION.match(line)
        if m:
            group = m.group(1)
            continue
        if group in groups and "=" in line:
            name, _, value = line.partition("=")
            out.append(EntryPoint(group, name.strip(), value.strip(), dist))
    return out


def _scan(groups: tuple[str, ...]) -> list[EntryPoint]:
    """The entry points of `groups` of the distributions on sys.path (first one of a name wins)."""
    found: list[EntryPoint] = []
    seen: set[str] = set()
    needle = "flyte.plugins.cli"
    for entry in sys.path:
        path = entry or "."
        if os.path.isfile(path):  # a zip on sys.path: let importlib.metadata read it
            found += [
                ep for ep in _scan_zip(path, groups) if _normalize(ep.distribution) not in seen
            ]
            continue
        try:
            names = sorted(os.listdir(path))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            dist = _dist_name(name)
            key = _normalize(dist)
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(os.path.join(path, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if needle in text:
                found += _parse(text, dist, groups)
    return found


def _scan_zip(path: str, groups: tuple[str, ...]) -> list[EntryPoint]:
    if not path.endswith((".zip", ".whl", ".egg", ".pex")) or "python3" in os.path.basename(path):
        return []
    from importlib.metadata import distributions

    out: list[EntryPoint] = []
    for d in distributions(path=[path]):
        for ep in d.entry_points:
            if ep.group in groups:
                out.append(EntryPoint(ep.group, ep.name, ep.value, d.metadata["Name"] or "?"))
    return out


_CACHE: list[EntryPoint] | None = None


def entry_points() -> list[EntryPoint]:
    """The CLI command and hook entry points declared on sys.path (read once per process)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = _scan((COMMANDS_GROUP, HOOKS_GROUP))
    return _CACHE


def _warn(ep: EntryPoint, what: str) -> None:
    kind = "command" if ep.group == COMMANDS_GROUP else "hook"
    click.echo(
        f"Warning: skipped the CLI plugin {kind} {ep.name!r} ({ep.value}, from {ep.distribution}):"
        f" {what}",
        err=True,
    )


def _load(ep: EntryPoint) -> Any:
    """Import `module:attr.sub` (extras `[x]` ignored); None after a one-line warning."""
    target = ep.value.split("[", 1)[0].strip()
    module, _, attrs = target.partition(":")
    try:
        obj: Any = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
    except Exception as e:  # a broken plugin must not break the CLI
        _warn(ep, f"{type(e).__name__}: {e}".splitlines()[0])
        return None
    return obj


def _bad_name(ep: EntryPoint) -> bool:
    if ep.name.count(".") > 1 or not ep.name.strip(".") or ep.name.startswith("."):
        _warn(
            ep, "use 'cmd' or 'group.cmd' as its name (register a whole group for deeper nesting)"
        )
        return True
    return False


def load_command(ep: EntryPoint) -> click.Command | None:
    """Load a command entry point; None (after a warning) unless it is a click command."""
    obj = _load(ep)
    if obj is None:
        return None
    if not isinstance(obj, click.Command):
        _warn(ep, f"it is a {type(obj).__name__}, not a click command")
        return None
    return obj


def top_level(name: str | None = None) -> list[tuple[str, EntryPoint]]:
    """Top-level plugin commands (`name` without a dot): all of them, or the one called `name`."""
    return [
        (ep.name, ep)
        for ep in entry_points()
        if ep.group == COMMANDS_GROUP and "." not in ep.name and (name is None or ep.name == name)
    ]


def apply_hooks(name: str, cmd: click.Command) -> click.Command:
    """Extend the command `name` just resolved by the CLI group.

    Adds the plugin subcommands `name.sub` (when `cmd` is a group), then applies the hooks of
    `name` (`cmd = hook(cmd)`) and of its subcommands `name.sub`, in discovery order.
    """
    eps = entry_points()
    if not eps:
        return cmd
    prefix = name + "."
    for ep in eps:
        if ep.group != COMMANDS_GROUP or not ep.name.startswith(prefix) or _bad_name(ep):
            continue
        if not isinstance(cmd, click.Group):
            _warn(ep, f"'flyte {name}' is not a group of commands")
            continue
        sub = load_command(ep)
        if sub is not None:
            cmd.add_command(sub, name=ep.name[len(prefix) :])
    for ep in eps:
        if ep.group != HOOKS_GROUP or _bad_name(ep):
            continue
        if ep.name == name:
            cmd = _hook(ep, cmd)
        elif ep.name.startswith(prefix):
            sub_name = ep.name[len(prefix) :]
            if not isinstance(cmd, click.Group) or sub_name not in cmd.commands:
                _warn(ep, f"'flyte {name} {sub_name}' does not exist")
                continue
            cmd.commands[sub_name] = _hook(ep, cmd.commands[sub_name])
    return cmd


def _hook(ep: EntryPoint, cmd: click.Command) -> click.Command:
    hook = _load(ep)
    if hook is None:
        return cmd
    if not callable(hook):
        _warn(ep, f"it is a {type(hook).__name__}, not a callable")
        return cmd
    fn: Callable[[click.Command], Any] = hook
    try:
        out = fn(cmd)
    except Exception as e:
        _warn(ep, f"the hook raised {type(e).__name__}: {e}".splitlines()[0])
        return cmd
    if not isinstance(out, click.Command):
        _warn(ep, f"the hook returned a {type(out).__name__}, not a click command")
        return cmd
    return out
