"""Fixtures for remote runs: a devbox running our `a0`, and a source root of task modules.

The devbox runs in this process on a free 127.0.0.1 port; every action is a subprocess
`python -m flyte_runtime._entrypoint` with this interpreter's `sys.path`. Task modules are
written into a fresh source root, imported from there (as a user's script would), and
`flyte.init(endpoint=..., root_dir=<that root>)` makes `flyte.run` bundle and submit them.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import flyte
from flyte_devbox import Devbox, DevboxConfig

PROJECT, DOMAIN = "flytesnacks", "development"
EXAMPLES = Path(os.environ.get("FLYTE_REF_EXAMPLES", "/opt/ref/sdk/examples"))


def devbox_config(state_dir: Path, **changes: object) -> DevboxConfig:
    """A devbox whose actions run our a0 with this interpreter's import path."""
    child_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    return DevboxConfig(
        port=0,
        state_dir=state_dir,
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        env={"PYTHONPATH": child_path},
        max_concurrent_actions=4,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture
def make_devbox_config() -> Callable[..., DevboxConfig]:
    """`devbox_config` as a fixture (test modules cannot import the conftest)."""
    return devbox_config


@pytest.fixture(scope="module")
def devbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devbox]:
    box = Devbox(devbox_config(tmp_path_factory.mktemp("devbox"))).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def src_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty source root on sys.path; modules imported from it are forgotten afterwards."""
    root = tmp_path / "src"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        mod = sys.modules.get(name)
        if getattr(mod, "__file__", "") and str(root) in str(getattr(mod, "__file__", "")):
            sys.modules.pop(name, None)


@pytest.fixture
def load(src_root: Path) -> Callable[..., ModuleType]:
    """`load(name, source=None, example=None)`: write a module (or copy a reference example)
    into the source root and import it."""

    def _load(name: str, source: str | None = None, example: str | None = None) -> ModuleType:
        if example is not None:
            path = EXAMPLES / example
            if not path.is_file():
                pytest.skip(f"reference example {path} is not available")
            shutil.copy(path, src_root / f"{name}.py")
        else:
            assert source is not None
            (src_root / f"{name}.py").write_text(source)
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    return _load


@pytest.fixture
def remote(devbox: Devbox, src_root: Path) -> Iterator[Devbox]:
    """`flyte.init` pointed at the devbox with the test's source root; local mode afterwards."""
    flyte.init(
        endpoint=devbox.endpoint,
        insecure=True,
        project=PROJECT,
        domain=DOMAIN,
        root_dir=src_root,
    )
    try:
        yield devbox
    finally:
        flyte.init()
