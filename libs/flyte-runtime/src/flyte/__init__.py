"""Flyte: write pipelines as plain Python tasks that call tasks; run them locally or on Flyte 2.

```python
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

from flyte_runtime._version import __version__

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
            "run",
            "with_runcontext",
        )
    },
    **{
        name: ("flyte_runtime._compose", name)
        for name in ("ctx", "custom_context", "get_custom_context", "group", "map", "trace")
    },
}

__all__ = sorted([*_LAZY, "__version__", "logger", "system_logger", "version"])

logger = logging.getLogger("flyte.user")
"""The logger for user code in tasks."""

system_logger = logging.getLogger("flyte")
"""The SDK's own logger."""


def version() -> str:
    """The version of the flyte-* libraries."""
    return __version__


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'flyte' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and Pants dependency inference
    from flyte_models import (  # noqa: F401
        AMD_GPU,
        APPLE_SILICON,
        GPU,
        HABANA_GAUDI,
        TPU,
        AsyncFunctionTaskTemplate,
        Backoff,
        Cache,
        CachePolicy,
        CacheRequest,
        Cron,
        Device,
        DeviceClass,
        Documentation,
        Environment,
        FixedRate,
        Image,
        Link,
        Neuron,
        OnArtifact,
        PodTemplate,
        Resources,
        RetryStrategy,
        ReusePolicy,
        Secret,
        SecretRequest,
        TaskEnvironment,
        TaskTemplate,
        Timeout,
        TimeoutType,
        Trigger,
        TriggeredArtifact,
        TriggeredPartition,
        TriggerTime,
    )
    from flyte_runtime._compose import (  # noqa: F401
        ctx,
        custom_context,
        get_custom_context,
        group,
        map,
        trace,
    )
    from flyte_runtime._run import (  # noqa: F401
        current_domain,
        current_project,
        init,
        init_from_config,
        run,
        with_runcontext,
    )
