"""The default task resolver: finds a task again in the worker as `<module>.<variable>`.

`loader_args` gives `["mod", <module>, "instance", <variable>]`, which `TaskTemplate.container_args`
appends to the `a0` command after `--resolver <import_path>`; in the worker `load_task` imports the
module (from the unpacked code bundle, which is first on `sys.path`) and returns the variable.

`import_path` is the reference SDK's path, `flyte._internal.resolvers.default.DefaultTaskResolver`,
so task specs written by either SDK name a resolver that both runtimes can load; in this package
that path is a compatibility alias of this class.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from flyte_models.errors import ModuleLoadError, RuntimeSystemError

__all__ = ["IMPORT_PATH", "DefaultTaskResolver", "install_default_resolver"]

IMPORT_PATH = "flyte._internal.resolvers.default.DefaultTaskResolver"


def _module_from_file(file: str, root_dir: Path) -> str:
    path = Path(file).resolve()
    try:
        rel = path.relative_to(Path(root_dir).resolve())
    except ValueError:
        raise RuntimeSystemError(
            "SerializationError",
            f"the task's source file {path} is not under the code bundle root {root_dir}",
        ) from None
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        raise RuntimeSystemError(
            "SerializationError", f"cannot name a module for {rel} (under {root_dir})"
        )
    return ".".join(parts)


class DefaultTaskResolver:
    """Loads tasks by module and module-level variable (`mod <module> instance <variable>`)."""

    @property
    def import_path(self) -> str:
        """The dotted path the worker loads this resolver from."""
        return IMPORT_PATH

    def loader_args(self, task: Any, root_dir: Any) -> list[str]:
        """Return `["mod", module, "instance", variable]` for a module-level task.

        A task defined in the script being run (`__main__`) is named by its file's path relative
        to `root_dir`, which is how the worker imports it from the code bundle.

        Args:
            task: The task (a function task: it has `func`).
            root_dir: The source root the code bundle is made from.

        Returns:
            The loader arguments.

        Raises:
            RuntimeSystemError: If the task is not a module-level function task.
        """
        func = getattr(task, "func", None)
        if func is None:
            raise RuntimeSystemError(
                "SerializationError",
                f"the default task resolver handles function tasks only, got {task!r}",
            )
        module_name = getattr(func, "__module__", None) or "__main__"
        module = sys.modules.get(module_name)
        if module_name == "__main__":
            file = getattr(module, "__file__", None) or getattr(task, "source_file", None)
            if not file:
                raise RuntimeSystemError(
                    "SerializationError",
                    f"task {getattr(task, 'name', task)!r} is defined interactively; the default "
                    "task resolver needs it in a module file",
                )
            module_name = _module_from_file(file, Path(root_dir))
        variable = getattr(func, "__name__", "")
        if module is not None and getattr(module, variable, None) is not task:
            # The variable holding the task has another name (e.g. `t = env.task(f)`).
            for name, value in vars(module).items():
                if value is task:
                    variable = name
                    break
        if not variable.isidentifier():
            raise RuntimeSystemError(
                "SerializationError",
                f"task {getattr(task, 'name', task)!r} is not a module-level variable of "
                f"{module_name!r}",
            )
        return ["mod", module_name, "instance", variable]

    def load_task(self, loader_args: list[str]) -> Any:
        """Import `<module>` and return its `<variable>`.

        Args:
            loader_args: `["mod", module, "instance", variable]`.

        Returns:
            The task.

        Raises:
            RuntimeSystemError: If the arguments are malformed (code `MalformedCommand`).
            ModuleLoadError: If the module cannot be imported or lacks the variable.
        """
        args = list(loader_args)
        if len(args) < 4 or args[0] != "mod" or args[2] != "instance":
            raise RuntimeSystemError(
                "MalformedCommand",
                f"the default task resolver expects 'mod <module> instance <variable>', got {args}",
            )
        module_name, variable = args[1], args[3]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            missing = e.name or module_name
            if module_name == missing or module_name.startswith(missing + "."):
                raise ModuleLoadError(
                    f"cannot load task {variable!r}: module {module_name!r} not found "
                    f"(working directory {os.getcwd()}, sys.path[0] {sys.path[0]!r})"
                ) from e
            raise ModuleLoadError(
                f"cannot load task {variable!r}: importing module {module_name!r} failed: "
                f"module {missing!r} not found"
            ) from e
        except (ImportError, SyntaxError) as e:
            raise ModuleLoadError(
                f"cannot load task {variable!r}: importing module {module_name!r} failed: "
                f"{type(e).__name__}: {e}"
            ) from e
        try:
            task = getattr(module, variable)
        except AttributeError:
            raise ModuleLoadError(
                f"cannot load task: module {module_name!r} has no attribute {variable!r}"
            ) from None
        if not callable(getattr(task, "execute", None)) or getattr(task, "interface", None) is None:
            raise ModuleLoadError(
                f"cannot load task: {module_name}.{variable} is not a task, got "
                f"{type(task).__name__}"
            )
        return task


def install_default_resolver() -> None:
    """Make `DefaultTaskResolver` the default resolver of `flyte_models`, unless one is set."""
    import flyte_models

    if flyte_models.get_default_task_resolver() is None:
        flyte_models.set_default_task_resolver(DefaultTaskResolver())
