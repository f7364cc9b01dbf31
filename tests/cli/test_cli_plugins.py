"""CLI plugins: a third-party package, defined only here, adds `flyte` commands and hooks.

The package is written into `tmp_path` with `*.dist-info/entry_points.txt`, as pip would install
it, and put on the child's PYTHONPATH; nothing else tells the CLI about it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

PKG = "thirdparty_flyte_cli"

FILES = {
    f"{PKG}/__init__.py": "",
    # Printing on import shows which plugin modules a command loads.
    f"{PKG}/commands.py": """
        import sys
        import click

        print("IMPORTED commands", file=sys.stderr)

        @click.command()
        @click.option("--name", default="world")
        def my_cmd(name):
            '''Say hello from a plugin.'''
            click.echo(f"plugin says hello to {name}")
    """,
    f"{PKG}/get_cmds.py": """
        import click

        @click.command()
        @click.argument("which", required=False, default="all")
        def my_thing(which):
            '''Show my things.'''
            click.echo(f"my thing: {which}")
    """,
    f"{PKG}/hooks.py": """
        import click

        def _wrap(cmd, label):
            original = cmd.invoke

            def invoke(ctx):
                click.echo(f"HOOK before {label}", err=True)
                rv = original(ctx)
                click.echo(f"HOOK after {label}", err=True)
                return rv

            cmd.invoke = invoke
            return cmd

        def wrap_run(cmd):
            return _wrap(cmd, "run")

        def wrap_get_config(cmd):
            return _wrap(cmd, "get config")

        def broken_hook(cmd):
            raise RuntimeError("hook exploded")

        NOT_A_COMMAND = 42
    """,
    f"{PKG}-1.0.dist-info/METADATA": f"""
        Metadata-Version: 2.1
        Name: {PKG}
        Version: 1.0
    """,
    f"{PKG}-1.0.dist-info/entry_points.txt": f"""
        [flyte.plugins.cli.commands]
        my-cmd = {PKG}.commands:my_cmd
        get.my-thing = {PKG}.get_cmds:my_thing

        [flyte.plugins.cli.hooks]
        run = {PKG}.hooks:wrap_run
        get.config = {PKG}.hooks:wrap_get_config

        [console_scripts]
        unrelated = {PKG}.commands:my_cmd
    """,
}

BROKEN = {
    "broken_flyte_cli-0.1.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: broken-flyte-cli
        Version: 0.1
    """,
    "broken_flyte_cli-0.1.dist-info/entry_points.txt": f"""
        [flyte.plugins.cli.commands]
        broken = no_such_module_xyz:cmd
        not-a-command = {PKG}.hooks:NOT_A_COMMAND

        [flyte.plugins.cli.hooks]
        deploy = {PKG}.hooks:broken_hook
    """,
}

HELLO = """
import flyte

env = flyte.TaskEnvironment(name="plug")


@env.task
async def main(n: int = 2) -> int:
    return n * 10
"""


def _install(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture
def plugin_env(tmp_path: Path, child_env: dict[str, str]) -> dict[str, str]:
    root = tmp_path / "site"
    _install(root, FILES)
    return {"PYTHONPATH": f"{root}:{child_env['PYTHONPATH']}"}


@pytest.fixture
def broken_env(tmp_path: Path, plugin_env: dict[str, str]) -> dict[str, str]:
    root = tmp_path / "broken-site"
    _install(root, BROKEN)
    return {"PYTHONPATH": f"{root}:{plugin_env['PYTHONPATH']}"}


def test_plugin_top_level_command(flyte_cmd: Callable, plugin_env: dict[str, str]) -> None:
    r = flyte_cmd("my-cmd", "--name", "flyte", env=plugin_env)
    assert r.code == 0, r
    assert r.out.strip() == "plugin says hello to flyte"
    r = flyte_cmd("--help", env=plugin_env)
    assert r.code == 0, r
    assert "my-cmd" in r.out and "Say hello from a plugin." in r.out
    assert "  run " in r.out  # the built-in verbs are still listed


def test_plugin_subcommand_of_an_existing_group(
    flyte_cmd: Callable, plugin_env: dict[str, str]
) -> None:
    r = flyte_cmd("get", "my-thing", "blue", env=plugin_env)
    assert r.code == 0, r
    assert r.out.strip() == "my thing: blue"
    assert "IMPORTED commands" not in r.err  # `flyte get` does not load other plugin commands
    r = flyte_cmd("get", "--help", env=plugin_env)
    assert r.code == 0 and "my-thing" in r.out and "Show my things." in r.out


def test_hooks_wrap_a_verb_and_a_subcommand(
    flyte_cmd: Callable, plugin_env: dict[str, str], project_dir: Path
) -> None:
    (project_dir / "hello.py").write_text(HELLO)
    r = flyte_cmd("run", "--local", "hello.py", "main", "--n", "4", env=plugin_env)
    assert r.code == 0, r
    assert "40" in r.out
    before, after = r.err.index("HOOK before run"), r.err.index("HOOK after run")
    assert before < after
    assert "IMPORTED commands" not in r.err
    r = flyte_cmd("get", "config", env=plugin_env)
    assert r.code == 0, r
    assert "HOOK before get config" in r.err and "HOOK after get config" in r.err
    # without the plugin on the path, no hook runs
    r = flyte_cmd("get", "config")
    assert r.code == 0 and "HOOK" not in r.err


def test_broken_plugins_are_one_line_each_and_do_not_break_the_cli(
    flyte_cmd: Callable, broken_env: dict[str, str]
) -> None:
    r = flyte_cmd("--help", env=broken_env)
    assert r.code == 0, r
    assert "my-cmd" in r.out and "  get " in r.out
    lines = [ln for ln in r.err.splitlines() if ln.startswith("Warning: skipped the CLI plugin")]
    assert len(lines) == 2, r.err
    assert any("'broken'" in ln and "no_such_module_xyz" in ln for ln in lines)
    assert any("'not-a-command'" in ln and "not a click command" in ln for ln in lines)
    assert "Traceback" not in r.err
    r = flyte_cmd("broken", env=broken_env)
    assert r.code == 2 and "No such command 'broken'" in r.err, r
    r = flyte_cmd("deploy", "--help", env=broken_env)  # the broken hook is skipped
    assert r.code == 0, r
    assert "hook exploded" in r.err and "Usage" in r.out


def test_discovery_reads_the_groups_the_runtime_declares(tmp_path: Path) -> None:
    import flyte_cli._plugins as cli_plugins
    import flyte_runtime._plugins as rt

    assert cli_plugins.COMMANDS_GROUP == rt.CLI_COMMANDS_GROUP
    assert cli_plugins.HOOKS_GROUP == rt.CLI_HOOKS_GROUP
    root = tmp_path / "site"
    _install(root, FILES)
    code = (
        "import flyte_cli._plugins as p, flyte_runtime._plugins as rt\n"
        "ours = sorted((e.group, e.name, e.value) for e in p.entry_points())\n"
        "ref = sorted((g, e.name, e.value) for g in (rt.CLI_COMMANDS_GROUP, rt.CLI_HOOKS_GROUP)"
        " for e in rt.plugin_entry_points(g))\n"
        "assert ours == ref, (ours, ref)\nprint(len(ours))\n"
    )
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "4", out.stdout + out.stderr
