"""The extension API of the type engine: write and register your own transformers.

A transformer subclasses `TypeTransformer` and is registered with `register_transformer` (the
same as `TypeEngine.register`). To make a transformer available without an explicit import,
publish it through the `flyte.plugins.types` entry point group (the reference SDK's group, so a
plugin package works with both SDKs). The entry point may name a transformer instance, a
transformer class, or a callable that registers transformers itself; it is loaded the first time
the engine looks a type up.

```toml
# pyproject.toml of a plugin package
[project.entry-points."flyte.plugins.types"]
point = "my_plugin.types:register"
```

```python
# my_plugin/types.py
from flyte_types.extend import TypeTransformer, register_transformer

def register() -> None:
    register_transformer(PointTransformer())
```

Transformers whose conversions do no I/O may implement `make_filler` / `make_reader` (see
`Filler`, `Reader`) so containers of their type convert without `await` per element.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flyte_types._builtins import SimpleTransformer
from flyte_types._engine import ENTRY_POINT_GROUP, TypeEngine
from flyte_types._transformer import (
    MESSAGEPACK,
    Filler,
    Reader,
    RestrictedTypeTransformer,
    TypeTransformer,
    describe_value,
    mismatch,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Filler",
    "MESSAGEPACK",
    "Reader",
    "RestrictedTypeTransformer",
    "SimpleTransformer",
    "TypeTransformer",
    "describe_value",
    "load_plugins",
    "mismatch",
    "register_transformer",
]

logger = logging.getLogger("flyte_types")

_loaded: set[str] = set()


def register_transformer(
    transformer: TypeTransformer[Any], additional_types: Sequence[Any] | None = None
) -> None:
    """Register a transformer with the `TypeEngine` (see `TypeEngine.register`).

    Raises:
        ValueError: If one of its types already has a transformer.
    """
    TypeEngine.register(transformer, additional_types)


def load_plugins(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Load the transformers published under an entry point group (each entry point once).

    Failures are logged, not raised: a broken plugin must not break unrelated conversions.

    Returns:
        The names of the entry points loaded by this call.
    """
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group=group):
        key = f"{group}:{ep.name}={ep.value}"
        if key in _loaded:
            continue
        _loaded.add(key)
        try:
            obj = ep.load()
            if isinstance(obj, TypeTransformer):
                register_transformer(obj)
            elif isinstance(obj, type) and issubclass(obj, TypeTransformer):
                register_transformer(obj())  # type: ignore[call-arg]
            elif callable(obj):
                obj()
            loaded.append(ep.name)
            logger.debug("Loaded type transformer plugin %s", ep.name)
        except Exception as e:
            logger.warning("Failed to load type transformer plugin %s: %s", ep.name, e)
    return loaded
