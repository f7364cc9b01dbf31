"""Load a user's Python file as a module (named relative to the code root) and find its tasks."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click


def module_name_for(path: Path, root_dir: Path) -> tuple[str, Path]:
    """The dotted module name of `path` and the directory to put on sys.path to import it.

    Under `root_dir` the name is relative to it (`examples/hello.py` -> `examples.hello`), which
    is how the worker imports the module from the code bundle; elsewhere it is the file's stem.
    """
    path = path.resolve()
    root = root_dir.resolve()
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.stem, path.parent
    parts = [*rel.parent.parts, path.stem]
    if all(p.isidentifier() for p in parts):
        return ".".join(parts), root
    return path.stem, path.parent


def load_file(file: str, root_dir: Path | None = None) -> ModuleType:
    """Import `file` (once per process); errors become one-line usage errors.

    Raises:
        click.UsageError: The file is missing, not Python, or fails to import.
    """
    path = Path(file).expanduser()
    if not path.exists():
        raise click.UsageError(f"file not found: {file}")
    if path.is_dir():
        raise click.UsageError(f"{file} is a directory; pass a .py file")
    if path.suffix != ".py":
        raise click.UsageError(f"{file} is not a Python file (.py)")
    name, sys_dir = module_name_for(path, root_dir or Path.cwd())
    if str(sys_dir) not in sys.path:
        sys.path.insert(0, str(sys_dir))
    if name in sys.modules:
        return sys.modules[name]
    try:
        return importlib.import_module(name)
    except SyntaxError as e:
        raise click.UsageError(f"{file}:{e.lineno}: syntax error: {e.msg}") from e
    except ImportError as e:
        raise click.UsageError(f"importing {file} failed: {e}") from e


def _task_types() -> tuple[type, ...]:
    from flyte_models import TaskTemplate

    return (TaskTemplate,)


def tasks_in(module: ModuleType) -> dict[str, Any]:
    """The tasks defined at the top level of `module`, by attribute name."""
    kinds = _task_types()
    return {k: v for k, v in vars(module).items() if isinstance(v, kinds)}


def environments_in(module: ModuleType) -> dict[str, Any]:
    """The `flyte.Environment`s at the top level of `module`, by environment name."""
    from flyte_models import Environment

    return {v.name: v for v in vars(module).values() if isinstance(v, Environment)}


def find_task(module: ModuleType, file: str, name: str) -> Any:
    """The task `name` in `module`.

    Raises:
        click.UsageError: No such task; lists the tasks the file does define.
    """
    tasks = tasks_in(module)
    if name in tasks:
        return tasks[name]
    for t in tasks.values():  # by task name (`env.task`'s short name) too
        if getattr(t, "short_name", None) == name or getattr(t, "name", "").endswith(f".{name}"):
            return t
    known = ", ".join(sorted(tasks)) or "none"
    raise click.UsageError(f"no task {name!r} in {file} (tasks there: {known})")
