"""The plugin interface: task plugins, task template hooks, type transformers, image builders.

A task plugin is a config class plus a task class: `TaskPluginRegistry.register(MyConfig,
MyTask)` makes `TaskEnvironment(plugin_config=MyConfig(...))` build its tasks as `MyTask`, a
subclass of `AsyncFunctionTaskTemplate` overriding the hooks it needs: `pre`, `execute`, `post`
(run), `custom_config`, `config`, `container_args`, `sql`, `data_loading_config` (serialise), and
`task_type` / `task_type_version`. Installed packages are found through entry points; see
`flyte_runtime._plugins` for the groups.
"""

from flyte_models import (
    PRIMARY_CONTAINER_DEFAULT_NAME,
    Architecture,
    AsyncFunctionTaskTemplate,
    RuntimeTaskTemplate,
    TaskPluginRegistry,
    TaskTemplate,
)
from flyte_runtime._images import ImageBuilder, ImageChecker, register_image_builder
from flyte_runtime._plugins import (
    cli_commands,
    cli_hooks,
    download_code_bundle,
    get_proto_resources,
    image_builders,
    is_initialized,
    lazy_module,
    load_task_plugins,
    load_type_plugins,
)
from flyte_types.extend import TypeTransformer, register_transformer

__all__ = [
    "PRIMARY_CONTAINER_DEFAULT_NAME",
    "Architecture",
    "AsyncFunctionTaskTemplate",
    "ImageBuilder",
    "ImageChecker",
    "RuntimeTaskTemplate",
    "TaskPluginRegistry",
    "TaskTemplate",
    "TypeTransformer",
    "cli_commands",
    "cli_hooks",
    "download_code_bundle",
    "get_proto_resources",
    "image_builders",
    "is_initialized",
    "lazy_module",
    "load_task_plugins",
    "load_type_plugins",
    "register_image_builder",
    "register_transformer",
]
