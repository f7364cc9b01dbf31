"""The public surface of flyte_devbox: names, lazy loading, docstrings (STYLE C3/C4)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import flyte_devbox

EXPECTED = ["Devbox", "DevboxConfig", "DevboxStartError", "__version__"]


def test_all() -> None:
    assert flyte_devbox.__all__ == sorted(flyte_devbox.__all__) == EXPECTED
    for name in flyte_devbox.__all__:
        assert getattr(flyte_devbox, name) is not None
    assert sorted(dir(flyte_devbox)) == EXPECTED


def test_server_is_loaded_lazily() -> None:
    code = (
        "import sys, flyte_devbox; "
        "assert 'hypercorn' not in sys.modules and 'flyteidl2' not in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith(('hypercorn', 'flyteidl2'))); "
        "flyte_devbox.Devbox; assert 'flyte_devbox._server' in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_documented() -> None:
    for name in ("Devbox", "DevboxConfig", "DevboxStartError"):
        assert inspect.getdoc(getattr(flyte_devbox, name)), name
    for member in (
        "start",
        "stop",
        "serve",
        "request_stop",
        "client_config",
        "write_client_config",
        "stats",
    ):
        assert inspect.getdoc(getattr(flyte_devbox.Devbox, member)), member


def test_unknown_attribute() -> None:
    try:
        flyte_devbox.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("expected AttributeError")
