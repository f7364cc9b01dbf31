"""Plugin discovery: the entry-point groups through which installed packages extend Flyte.

A plugin package declares entry points in its `pyproject.toml`; nothing needs to import it:

```toml
[project.entry-points."flyte.plugins.types"]        # type transformers (flyte-types loads them)
point = "my_plugin.types:register"

[project.entry-points."flyte.plugins.tasks"]        # task plugins, keyed by config class
"my_plugin.config.MyConfig" = "my_plugin.task:MyTask"

[project.entry-points."flyte.plugins.image_builders"]
my-builder = "my_plugin.builder:MyBuilder"

[project.entry-points."flyte.plugins.cli.commands"] # `flyte my-cmd`, or `flyte get thing`
my-cmd = "my_plugin.cli:my_cmd"
"get.thing" = "my_plugin.cli:get_thing"

[project.entry-points."flyte.plugins.cli.hooks"]    # a callable that receives the command
run = "my_plugin.cli:wrap_run"
```

The groups `flyte.plugins.types`, `flyte.plugins.image_builders`, `flyte.plugins.cli.commands`
and `flyte.plugins.cli.hooks` are the reference SDK's, so one plugin package serves both SDKs.
`flyte.plugins.tasks` is ours: the reference finds a task plugin only once its package has been
imported; here an environment whose `plugin_config` has no registered plugin looks the config
class up in this group (by its `module.QualName`) and loads the plugin class on demand.

Loading never raises for a broken plugin: the failure is logged and the other plugins load.
"""

from __future__ import annotations

import logging
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2

    from flyte_models import Resources

__all__ = [
    "CLI_COMMANDS_GROUP",
    "CLI_HOOKS_GROUP",
    "IMAGE_BUILDERS_GROUP",
    "TASKS_GROUP",
    "TYPES_GROUP",
    "LoadedPlugin",
    "cli_commands",
    "cli_hooks",
    "download_code_bundle",
    "get_proto_resources",
    "image_builders",
    "is_initialized",
    "lazy_module",
    "load_task_plugins",
    "load_type_plugins",
    "plugin_entry_points",
]

logger = logging.getLogger("flyte_runtime")

TYPES_GROUP = "flyte.plugins.types"
TASKS_GROUP = "flyte.plugins.tasks"
IMAGE_BUILDERS_GROUP = "flyte.plugins.image_builders"
CLI_COMMANDS_GROUP = "flyte.plugins.cli.commands"
CLI_HOOKS_GROUP = "flyte.plugins.cli.hooks"


@dataclass(frozen=True)
class LoadedPlugin:
    """One entry point, loaded.

    Attributes:
        name: The entry point's name (for CLI commands: `cmd`, or `group.cmd`).
        value: The entry point's target, `module:attribute`.
        obj: The loaded object.
        distribution: The name of the distribution that declares it, when known.
    """

    name: str
    value: str
    obj: Any
    distribution: Optional[str] = None


def plugin_entry_points(group: str) -> list[Any]:
    """Return the entry points of `group` declared by installed distributions (not loaded).

    Args:
        group: The entry-point group, e.g. `flyte.plugins.cli.commands`.
    """
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def _load_group(group: str) -> list[LoadedPlugin]:
    loaded: list[LoadedPlugin] = []
    for ep in plugin_entry_points(group):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not break the others
            logger.warning("Could not load the %s plugin %r (%s): %s", group, ep.name, ep.value, e)
            continue
        dist = getattr(getattr(ep, "dist", None), "name", None)
        loaded.append(LoadedPlugin(name=ep.name, value=ep.value, obj=obj, distribution=dist))
    return loaded


def cli_commands() -> list[LoadedPlugin]:
    """Load the CLI commands plugins declare under `flyte.plugins.cli.commands`.

    The CLI adds each one: a name without a dot is a top-level command (`flyte <name>`), a name
    `group.cmd` is a subcommand of an existing group (`flyte get cmd`). More than one dot is
    rejected (logged and skipped), as in the reference SDK. The objects are whatever the plugin
    exports (click commands); the CLI checks their type, since this layer never imports click.

    Returns:
        The loaded commands, in discovery order.
    """
    out = []
    for plugin in _load_group(CLI_COMMANDS_GROUP):
        if plugin.name.count(".") > 1:
            logger.warning(
                "CLI plugin %r has more than one dot in its name; use 'cmd' or 'group.cmd' "
                "(register a whole group as a top-level command for deeper nesting)",
                plugin.name,
            )
            continue
        out.append(plugin)
    return out


def cli_hooks() -> list[LoadedPlugin]:
    """Load the CLI hooks plugins declare under `flyte.plugins.cli.hooks`.

    A hook is a callable that receives an existing command (`run`, or `group.cmd` for a
    subcommand) and returns the command to use. Non-callables are logged and skipped.

    Returns:
        The loaded hooks, in discovery order.
    """
    out = []
    for plugin in _load_group(CLI_HOOKS_GROUP):
        if not callable(plugin.obj):
            logger.warning("CLI hook plugin %r is not callable: %r", plugin.name, plugin.obj)
            continue
        if plugin.name.count(".") > 1:
            logger.warning("CLI hook plugin %r has more than one dot in its name", plugin.name)
            continue
        out.append(plugin)
    return out


def image_builders() -> list[LoadedPlugin]:
    """Load the image builders plugins declare under `flyte.plugins.image_builders`."""
    return _load_group(IMAGE_BUILDERS_GROUP)


def load_type_plugins() -> list[str]:
    """Load the type transformers declared under `flyte.plugins.types` (each entry point once).

    The type engine also does this by itself the first time it meets a type it has no
    transformer for; call it to load them eagerly.

    Returns:
        The names of the entry points loaded by this call.
    """
    from flyte_types.extend import load_plugins

    return load_plugins(TYPES_GROUP)


def load_task_plugins() -> list[str]:
    """Load and register every task plugin declared under `flyte.plugins.tasks`.

    Environments load the plugin for their `plugin_config` on demand; call this to load them
    all (for example to list them).

    Returns:
        The names (config class paths) of the plugins registered by this call.
    """
    from flyte_models._environment import load_task_plugin_entry_point

    names = []
    for ep in plugin_entry_points(TASKS_GROUP):
        if load_task_plugin_entry_point(ep):
            names.append(ep.name)
    return names


# ---------------------------------------------------------------------------------------------
# Serialisation helpers for plugin authors (`flyte.extend`)
# ---------------------------------------------------------------------------------------------


def get_proto_resources(resources: Resources | None) -> tasks_pb2.Resources | None:
    """The `flyteidl2.core.Resources` message of a `Resources` (requests and limits).

    A single value is a request; a `(request, limit)` pair sets both. GPUs are requested by
    count (the accelerator kind goes into the extended resources). Plugins use it to describe
    the pods they ask the backend for (e.g. Dask's scheduler and workers).

    Args:
        resources: The resources, or None.

    Returns:
        The message, or None when nothing is requested.
    """
    from flyte_client._spec import resources_to_proto

    return resources_to_proto(resources)


async def download_code_bundle(bundle: Any, dest: Optional[str] = None) -> str:
    """Fetch and unpack a task's tgz code bundle, and put it on `sys.path`.

    Plugins whose code runs in extra processes (Dask workers, Spark executors, ...) call it there
    so those processes can import the task's modules as the task's own container does.

    Args:
        bundle: The task's `CodeBundle` (`flyte.ctx().code_bundle`).
        dest: Where to unpack (default: the bundle's destination, else the working directory).

    Returns:
        The absolute directory the bundle was unpacked into.

    Raises:
        ValueError: If the bundle has no tgz archive (a pickled bundle has no files to unpack).
    """
    import asyncio
    import os
    import sys

    from flyte_runtime._bundle import fetch_and_extract

    tgz = getattr(bundle, "tgz", None)
    if not tgz:
        raise ValueError(f"the code bundle {bundle!r} has no tgz archive to download")
    target = dest or getattr(bundle, "destination", None) or "."
    path = await asyncio.to_thread(fetch_and_extract, tgz, target)
    if path not in sys.path:
        sys.path.insert(0, path)
    return os.path.abspath(path)


def is_initialized() -> bool:
    """Whether `flyte.init` (or `flyte.init_from_config`) has been called in this process."""
    import flyte_runtime._run as run

    return bool(run._CONFIG.initialized)


def lazy_module(fullname: str) -> types.ModuleType:
    """A module object that is imported on first attribute access.

    Plugins use it for heavy optional dependencies (`pd = lazy_module("pandas")`), so importing
    the plugin stays cheap. An already imported module is returned as is.

    Raises:
        ModuleNotFoundError: If the module cannot be found (checked now, without importing it).
    """
    import importlib.util
    import sys

    if fullname in sys.modules:
        return sys.modules[fullname]
    spec = importlib.util.find_spec(fullname)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    loader.exec_module(module)
    return module
