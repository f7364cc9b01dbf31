"""A click group whose subcommands are imported only when they are invoked (or completed).

The group also adds the CLI plugins (`flyte_cli._plugins`): a plugin's top-level command is
resolved like a built-in verb, and a verb resolved here gets its plugin subcommands and hooks.
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """Subcommands given as `name -> ("module:attribute", short help)`.

    `flyte --help` lists them from the short help without importing their modules; invoking one
    imports exactly that module (and the plugins that extend it). With `plugins=False` no
    entry points are read.
    """

    def __init__(
        self,
        *args: Any,
        commands: dict[str, tuple[str, str]] | None = None,
        plugins: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = dict(commands or {})
        self.plugins = plugins
        self._resolved: dict[str, click.Command | None] = {}

    def _plugin_names(self) -> list[str]:
        if not self.plugins:
            return []
        from flyte_cli import _plugins

        return [n for n, _ in _plugins.top_level() if n not in self.lazy and n not in self.commands]

    def list_commands(self, ctx: click.Context) -> list[str]:
        extra = {*super().list_commands(ctx), *self._plugin_names()} - set(self.lazy)
        return [*self.lazy, *sorted(extra)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._resolved:
            return self._resolved[cmd_name]
        cmd = self._resolve(cmd_name)
        if cmd is not None and self.plugins:
            from flyte_cli import _plugins

            cmd = _plugins.apply_hooks(cmd_name, cmd)
        self._resolved[cmd_name] = cmd
        return cmd

    def _resolve(self, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            target, _ = self.lazy[cmd_name]
            module, _, attr = target.partition(":")
            cmd = getattr(importlib.import_module(module), attr)
            if not isinstance(cmd, click.Command):  # pragma: no cover - a wiring mistake
                raise TypeError(f"{target} is not a click command")
            return cmd
        builtin = self.commands.get(cmd_name)
        if builtin is not None or not self.plugins:
            return builtin
        from flyte_cli import _plugins

        for _, ep in _plugins.top_level(cmd_name):
            return _plugins.load_command(ep)
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, short) in self.lazy.items()]
        limit = formatter.width - 6 - max((len(n) for n, _ in rows), default=0)
        for name in self.list_commands(ctx):
            if name in self.lazy:
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
