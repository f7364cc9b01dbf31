"""Flyte: write pipelines as plain Python tasks that call tasks; run them locally or on Flyte 2.

```python
import asyncio

import flyte

env = flyte.TaskEnvironment(name="hello")

@env.task
async def square(x: int) -> int:
    return x * x

@env.task
async def main(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))

print(flyte.run(main, n=5).outputs())
```

This package is a thin, lazy facade: each public name is imported from the library that owns it
(`flyte_models`, `flyte_types`, `flyte_runtime`, ...) the first time it is used, so `import flyte`
costs almost nothing.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from flyte_runtime._version import __version__ as __version__

# name -> (module, attribute). Every entry is resolved once by tests/test_facade.py.
_LAZY: dict[str, tuple[str, str]] = {
    **{
        name: ("flyte_models", name)
        for name in (
            "AMD_GPU",
            "APPLE_SILICON",
            "AsyncFunctionTaskTemplate",
            "Backoff",
            "Cache",
            "CachePolicy",
            "CacheRequest",
            "Cron",
            "Device",
            "DeviceClass",
            "Documentation",
            "Environment",
            "FixedRate",
            "GPU",
            "HABANA_GAUDI",
            "Image",
            "Link",
            "Neuron",
            "OnArtifact",
            "PodTemplate",
            "Resources",
            "RetryStrategy",
            "ReusePolicy",
            "Secret",
            "SecretRequest",
            "TPU",
            "TaskEnvironment",
            "TaskTemplate",
            "Timeout",
            "TimeoutType",
            "Trigger",
            "TriggerTime",
            "TriggeredArtifact",
            "TriggeredPartition",
        )
    },
    **{
        name: ("flyte_runtime._run", name)
        for name in (
            "current_domain",
            "current_project",
            "init",
            "init_from_config",
            "rerun",
            "run",
            "with_runcontext",
        )
    },
    "deploy": ("flyte_runtime._deploy", "deploy"),
    **{
        name: ("flyte_runtime._checkpoint", name)
        for name in ("BaseCheckpoint", "Checkpoint", "latest_checkpoint")
    },
    "new_condition": ("flyte_runtime._condition", "new_condition"),
    "ConditionWebhook": ("flyte_runtime._condition", "ConditionWebhook"),
    "build": ("flyte_runtime._images", "build"),
    "build_images": ("flyte_runtime._images", "build_images"),
    **{
        name: ("flyte_runtime._compose", name)
        for name in ("ctx", "custom_context", "get_custom_context", "group", "map", "trace")
    },
}

__all__ = sorted([*_LAZY, "__version__", "logger", "system_logger", "version"])

# Submodules reachable as attributes after a bare `import flyte` (imported on first access), so
# that `except flyte.errors.RuntimeUserError:` works without `import flyte.errors`, as it does
# with the reference SDK. They are not star-exported.
_SUBMODULES = frozenset(
    {
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
    }
)

logger = logging.getLogger("flyte.user")
"""The logger for user code in tasks."""

system_logger = logging.getLogger("flyte")
"""The SDK's own logger."""


def version() -> str:
    """The version of the flyte-* libraries."""
    return __version__


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'flyte' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and Pants dependency inference
    # `X as X`: an explicit re-export, so strict checkers (implicit_reexport=False) accept
    # `flyte.X` in user code; `__all__` above is computed, which checkers cannot read. The
    # submodules are listed too: checkers then know `flyte.errors` after a bare `import flyte`,
    # and Pants puts them in the sandbox of every target that imports `flyte`.
    from flyte import config as config
    from flyte import durable as durable
    from flyte import errors as errors
    from flyte import extend as extend
    from flyte import io as io
    from flyte import models as models
    from flyte import remote as remote
    from flyte import report as report
    from flyte import sandbox as sandbox
    from flyte import storage as storage
    from flyte import syncify as syncify
    from flyte import types as types
    from flyte_models import AMD_GPU as AMD_GPU
    from flyte_models import APPLE_SILICON as APPLE_SILICON
    from flyte_models import GPU as GPU
    from flyte_models import HABANA_GAUDI as HABANA_GAUDI
    from flyte_models import TPU as TPU
    from flyte_models import AsyncFunctionTaskTemplate as AsyncFunctionTaskTemplate
    from flyte_models import Backoff as Backoff
    from flyte_models import Cache as Cache
    from flyte_models import CachePolicy as CachePolicy
    from flyte_models import CacheRequest as CacheRequest
    from flyte_models import Cron as Cron
    from flyte_models import Device as Device
    from flyte_models import DeviceClass as DeviceClass
    from flyte_models import Documentation as Documentation
    from flyte_models import Environment as Environment
    from flyte_models import FixedRate as FixedRate
    from flyte_models import Image as Image
    from flyte_models import Link as Link
    from flyte_models import Neuron as Neuron
    from flyte_models import OnArtifact as OnArtifact
    from flyte_models import PodTemplate as PodTemplate
    from flyte_models import Resources as Resources
    from flyte_models import RetryStrategy as RetryStrategy
    from flyte_models import ReusePolicy as ReusePolicy
    from flyte_models import Secret as Secret
    from flyte_models import SecretRequest as SecretRequest
    from flyte_models import TaskEnvironment as TaskEnvironment
    from flyte_models import TaskTemplate as TaskTemplate
    from flyte_models import Timeout as Timeout
    from flyte_models import TimeoutType as TimeoutType
    from flyte_models import Trigger as Trigger
    from flyte_models import TriggeredArtifact as TriggeredArtifact
    from flyte_models import TriggeredPartition as TriggeredPartition
    from flyte_models import TriggerTime as TriggerTime
    from flyte_runtime._checkpoint import BaseCheckpoint as BaseCheckpoint
    from flyte_runtime._checkpoint import Checkpoint as Checkpoint
    from flyte_runtime._checkpoint import latest_checkpoint as latest_checkpoint
    from flyte_runtime._compose import ctx as ctx
    from flyte_runtime._compose import custom_context as custom_context
    from flyte_runtime._compose import get_custom_context as get_custom_context
    from flyte_runtime._compose import group as group
    from flyte_runtime._compose import map as map
    from flyte_runtime._compose import trace as trace
    from flyte_runtime._condition import ConditionWebhook as ConditionWebhook
    from flyte_runtime._condition import new_condition as new_condition
    from flyte_runtime._deploy import deploy as deploy
    from flyte_runtime._images import build as build
    from flyte_runtime._images import build_images as build_images
    from flyte_runtime._run import current_domain as current_domain
    from flyte_runtime._run import current_project as current_project
    from flyte_runtime._run import init as init
    from flyte_runtime._run import init_from_config as init_from_config
    from flyte_runtime._run import rerun as rerun
    from flyte_runtime._run import run as run
    from flyte_runtime._run import with_runcontext as with_runcontext
