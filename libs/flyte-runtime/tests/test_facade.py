"""The lazy `flyte` facade: its export list, `dir()`, and that every name and submodule resolves.

A stale entry in the lazy table (a renamed or removed name in the owning library) fails here in
CI rather than at a user's first attribute access.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

import flyte

EAGER = {"__version__", "logger", "system_logger", "version"}

SUBMODULES = [
    "config",
    "durable",
    "errors",
    "extend",
    "io",
    "models",
    "remote",
    "report",
    "sandbox",
    "storage",
    "syncify",
    "types",
]


def test_all_is_the_lazy_table_plus_the_eager_names() -> None:
    assert flyte.__all__ == sorted(flyte.__all__)
    assert set(flyte.__all__) == set(flyte._LAZY) | EAGER
    assert len(flyte.__all__) == len(set(flyte.__all__))


def test_dir_lists_every_exported_name() -> None:
    assert set(flyte.__all__) <= set(dir(flyte))


@pytest.mark.parametrize("name", sorted(flyte._LAZY))
def test_every_lazy_name_resolves_to_its_owner(name: str) -> None:
    module, attr = flyte._LAZY[name]
    value = getattr(flyte, name)
    assert value is getattr(importlib.import_module(module), attr)
    assert vars(flyte)[name] is value  # cached after the first access


def test_eager_names() -> None:
    assert flyte.version() == flyte.__version__
    assert flyte.logger.name.startswith("flyte")
    assert flyte.system_logger.name == "flyte"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = flyte.no_such_name  # type: ignore[attr-defined]


def test_every_public_submodule_is_reachable_lazily() -> None:
    package_dir = Path(flyte.__file__).parent
    public = {p.stem for p in package_dir.glob("*.py") if not p.name.startswith("_")}
    assert public == set(SUBMODULES) == set(flyte._SUBMODULES)


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodule_imports_and_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(f"flyte.{name}")
    assert isinstance(module, types.ModuleType)
    for exported in getattr(module, "__all__", []):
        assert hasattr(module, exported), f"flyte.{name}.{exported} is listed but missing"


def test_submodules_are_attributes_after_a_bare_import(subprocess_env: dict[str, str]) -> None:
    # `import flyte` then `except flyte.errors.RuntimeUserError:` works without
    # `import flyte.errors`, as with the reference SDK. A fresh process, because this one has
    # imported every submodule already.
    code = (
        "import sys, flyte\n"
        "assert 'flyte.errors' not in sys.modules\n"
        f"for name in {SUBMODULES!r}:\n"
        "    assert getattr(flyte, name).__name__ == 'flyte.' + name\n"
        "print(flyte.errors.RuntimeUserError.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "RuntimeUserError"


def test_compat_modules() -> None:
    import flyte._image  # a static import, so Pants puts the module in the sandbox

    assert flyte._image.Image is flyte.Image
    assert {"DIST_FOLDER", "PythonWheels"} <= set(flyte._image.__all__)
    assert isinstance(flyte.run(_noop), flyte.remote.Run)


env = flyte.TaskEnvironment(name="test_facade")


@env.task
async def _noop() -> None:
    return None
