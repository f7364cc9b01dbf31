"""An embedded Flyte 2 control plane on 127.0.0.1: no Docker, no Kubernetes.

```python
from flyte_devbox import Devbox, DevboxConfig

with Devbox(DevboxConfig(port=0)) as dbx:
    print(dbx.endpoint)         # point a Flyte client here (insecure)
    print(dbx.client_config())  # or give it this config.yaml
```

`import flyte_devbox` is cheap: the server (hypercorn, connectrpc, the flyteidl2 services) is
imported when a devbox starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte_devbox._config import DevboxConfig
from flyte_devbox._version import __version__

if TYPE_CHECKING:
    from flyte_devbox._server import Devbox, DevboxStartError

__all__ = [
    "Devbox",
    "DevboxConfig",
    "DevboxStartError",
    "__version__",
]

_LAZY = {"Devbox": "flyte_devbox._server", "DevboxStartError": "flyte_devbox._server"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte_devbox' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
