"""Flyte configuration (owned by flyte-client): `flyte.config.auto()` loads config.yaml + env.

```python
import flyte.config

cfg = flyte.config.auto()            # ./config.yaml, ./.flyte/config.yaml, ... + FLYTE_* vars
cfg.platform.endpoint, cfg.task.project, cfg.image.builder
```
"""

from flyte_client import (
    Config,
    ConfigFile,
    ImageConfig,
    LocalConfig,
    PlatformConfig,
    TaskConfig,
    auto,
    get_config_file,
    set_if_exists,
)

__all__ = [
    "Config",
    "ConfigFile",
    "ImageConfig",
    "LocalConfig",
    "PlatformConfig",
    "TaskConfig",
    "auto",
    "get_config_file",
    "set_if_exists",
]
