"""The export surface of flyte_client is pinned: every lazy name resolves, nothing is stale."""

from __future__ import annotations

import flyte_client
from flyte_client import errors

EXPECTED = {
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
}


def test_core_names_are_exported_and_resolve() -> None:
    assert set(flyte_client.__all__) >= EXPECTED
    assert flyte_client.__all__ == sorted(flyte_client.__all__)
    assert sorted(dir(flyte_client)) == sorted(flyte_client.__all__)
    for name in flyte_client.__all__:
        assert getattr(flyte_client, name) is not None, name


def test_errors_module_exports() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name), name
