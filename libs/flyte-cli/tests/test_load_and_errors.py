"""Module naming for user files, the lazy command group, and the one-line error text."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flyte_cli._errors import explain
from flyte_cli._lazy import LazyGroup
from flyte_cli._load import load_file, module_name_for


def test_module_name_is_relative_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    f = tmp_path / "pkg" / "sub" / "wf.py"
    assert module_name_for(f, tmp_path) == ("pkg.sub.wf", tmp_path.resolve())
    # outside the root, or not importable as a dotted name: the stem, from its own directory
    assert module_name_for(f, tmp_path / "elsewhere") == ("wf", f.parent.resolve())
    (tmp_path / "my-dir").mkdir()
    g = tmp_path / "my-dir" / "wf2.py"
    assert module_name_for(g, tmp_path) == ("wf2", g.parent.resolve())


def test_load_file_errors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(click.UsageError, match="file not found"):
        load_file(str(tmp_path / "missing.py"), tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(click.UsageError, match="not a Python file"):
        load_file(str(tmp_path / "notes.txt"), tmp_path)
    (tmp_path / "broken_mod.py").write_text("def f(:\n")
    with pytest.raises(click.UsageError, match=r"broken_mod.py:1: syntax error"):
        load_file(str(tmp_path / "broken_mod.py"), tmp_path)
    (tmp_path / "needs_mod.py").write_text("import no_such_module_xyz\n")
    with pytest.raises(click.UsageError, match="no_such_module_xyz"):
        load_file(str(tmp_path / "needs_mod.py"), tmp_path)


def test_lazy_group_imports_a_verb_only_when_invoked() -> None:
    import sys

    @click.group(cls=LazyGroup, commands={"hello": ("_lazy_verb_mod:hello", "Say hello.")})
    def cli() -> None:
        ...

    runner = CliRunner()
    sys.modules.pop("_lazy_verb_mod", None)
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "hello  Say hello." in result.output
    assert "_lazy_verb_mod" not in sys.modules
    result = runner.invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command 'nope'" in result.output


def test_explain() -> None:
    assert explain(FileNotFoundError(2, "No such file", "x.py")) == "file not found: x.py"
    assert explain(ValueError("bad\n   value")) == "ValueError: bad value"

    class Unavailable(Exception):
        status = "UNAVAILABLE"

    text = explain(Unavailable("nothing at 127.0.0.1:9"))
    assert text.startswith("the control plane is unreachable: nothing at 127.0.0.1:9.")
    assert "Fix:" in text
    text = explain(Unavailable("down. Fix: start it"))
    assert text.count("Fix:") == 1

    class Unauthenticated(Exception):
        status = "UNAUTHENTICATED"

    assert explain(Unauthenticated("no token")).startswith("authentication failed: no token")
