"""Fixtures shared by the flyte-runtime tests: every test runs in its own local root and cache.

Local runs write under `$FLYTE_LOCAL_ROOT` and cache under `$FLYTE_LOCAL_CACHE_DIR`; both point
into the test's `tmp_path`, so no test touches `/tmp/flyte` or `~/.flyte`, and no test sees
another's cache entries. HOME moves there too, so no config file in the user's home turns a local
run into a remote one. (The working directory stays: under Pants, `sys.path` holds paths relative
to it.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import flyte_runtime._run as runmod

_CLEARED_PREFIXES = ("FLYTE_", "UCTL_", "FLYTECTL_", "_U_", "_F_")

# Under Pants the sources reach `sys.path` only through the test runner, as paths relative to the
# sandbox root; child processes get them made absolute, so they work from any directory.
_CHILD_PYTHONPATH = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolate the test: clean FLYTE_* env, private local root, cache, HOME and SDK config."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("FLYTE_LOCAL_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # `flyte.init(...)` keeps its settings in a module global: give each test a fresh one.
    monkeypatch.setattr(runmod, "_CONFIG", runmod._Config())


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    """`$FLYTE_LOCAL_ROOT` of this test: runs write `metadata/<run>` and `raw_data/<run>` here."""
    return tmp_path / "root"


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """`$FLYTE_LOCAL_CACHE_DIR` of this test (holds `outputs.db`)."""
    return tmp_path / "cache"


@pytest.fixture
def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a child Python process that runs flyte scripts in this test's dirs."""
    return {
        **os.environ,
        "PYTHONPATH": _CHILD_PYTHONPATH,
        "FLYTE_LOCAL_ROOT": str(tmp_path / "root"),
        "FLYTE_LOCAL_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path / "home"),
    }
