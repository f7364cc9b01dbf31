"""The plugin interface: task plugins, task template hooks and type transformers."""

from flyte_models import (
    AsyncFunctionTaskTemplate,
    RuntimeTaskTemplate,
    TaskPluginRegistry,
    TaskTemplate,
)
from flyte_types.extend import TypeTransformer, register_transformer

__all__ = [
    "AsyncFunctionTaskTemplate",
    "RuntimeTaskTemplate",
    "TaskPluginRegistry",
    "TaskTemplate",
    "TypeTransformer",
    "register_transformer",
]
