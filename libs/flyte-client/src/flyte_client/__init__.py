"""Config, auth and a grpc.aio ClientSet for a Flyte 2 control plane; the remote objects.

```python
import flyte_client

cfg = flyte_client.auto()                 # config.yaml lookup + FLYTE_* environment overrides
flyte_client.init_session(cfg)            # or a PlatformConfig(endpoint=..., insecure=True)

async def main():
    clients = flyte_client.get_client()   # one ClientSet per running event loop
    ...
```

Inside a task a backend started, `flyte_client.create_in_cluster_client_set()` connects to the
control plane the backend names (`_U_EP_OVERRIDE`, ...), and `flyte_client.remote` does so by itself
when nothing else is configured.

`import flyte_client` is cheap: grpc, PyYAML and keyring are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte_client._version import __version__

if TYPE_CHECKING:
    from flyte_client._auth import Authenticator, Credentials, TokenStore, decode_api_key
    from flyte_client._clientset import ClientSet, normalize_endpoint
    from flyte_client._config import (
        Config,
        ConfigFile,
        ImageConfig,
        LocalConfig,
        OAuthEndpoints,
        PlatformConfig,
        TaskConfig,
        auto,
        get_config_file,
        resolve_config_path,
        set_if_exists,
    )
    from flyte_client._incluster import (
        InClusterEnv,
        create_in_cluster_client_set,
        in_cluster_platform,
    )
    from flyte_client._session import (
        create_client_set,
        current_config,
        get_client,
        init_session,
        is_initialized,
        reset_session,
    )
    from flyte_client.errors import ConfigError, translate_rpc_error

__all__ = [
    "Authenticator",
    "ClientSet",
    "Config",
    "ConfigError",
    "ConfigFile",
    "Credentials",
    "ImageConfig",
    "InClusterEnv",
    "LocalConfig",
    "OAuthEndpoints",
    "PlatformConfig",
    "TaskConfig",
    "TokenStore",
    "__version__",
    "auto",
    "create_client_set",
    "create_in_cluster_client_set",
    "current_config",
    "decode_api_key",
    "get_client",
    "get_config_file",
    "in_cluster_platform",
    "init_session",
    "is_initialized",
    "normalize_endpoint",
    "reset_session",
    "resolve_config_path",
    "set_if_exists",
    "translate_rpc_error",
]

_LAZY: dict[str, str] = {
    "Authenticator": "flyte_client._auth",
    "Credentials": "flyte_client._auth",
    "TokenStore": "flyte_client._auth",
    "decode_api_key": "flyte_client._auth",
    "ClientSet": "flyte_client._clientset",
    "normalize_endpoint": "flyte_client._clientset",
    "Config": "flyte_client._config",
    "ConfigFile": "flyte_client._config",
    "ImageConfig": "flyte_client._config",
    "LocalConfig": "flyte_client._config",
    "OAuthEndpoints": "flyte_client._config",
    "PlatformConfig": "flyte_client._config",
    "TaskConfig": "flyte_client._config",
    "auto": "flyte_client._config",
    "get_config_file": "flyte_client._config",
    "resolve_config_path": "flyte_client._config",
    "set_if_exists": "flyte_client._config",
    "create_client_set": "flyte_client._session",
    "current_config": "flyte_client._session",
    "get_client": "flyte_client._session",
    "init_session": "flyte_client._session",
    "is_initialized": "flyte_client._session",
    "reset_session": "flyte_client._session",
    "InClusterEnv": "flyte_client._incluster",
    "create_in_cluster_client_set": "flyte_client._incluster",
    "in_cluster_platform": "flyte_client._incluster",
    "ConfigError": "flyte_client.errors",
    "translate_rpc_error": "flyte_client.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte_client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
