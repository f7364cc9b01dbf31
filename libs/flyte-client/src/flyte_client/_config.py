"""Configuration: the flytectl-style YAML file, `FLYTE_<SECTION>_<KEY>` overrides, defaults.

A config file is YAML with sections (`admin`, `console`, `task`, `image`, `local`); the same
file works for the reference SDK and flytectl. Values resolve, highest first:

1. the environment (`FLYTE_ADMIN_ENDPOINT`, `FLYTE_TASK_PROJECT`, ...; see `ENTRIES`);
2. the config file (explicit path, else the first of the seven lookup places, see
   `resolve_config_path`);
3. the dataclass defaults.

Bad YAML, a non-mapping section or a value of the wrong type raise `ConfigError` naming the file,
the key and the fix; unknown keys are ignored (other tools share the file).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flyte_client.errors import ConfigError

__all__ = [
    "ENTRIES",
    "AuthType",
    "Config",
    "ConfigFile",
    "ImageConfig",
    "LocalConfig",
    "OAuthEndpoints",
    "PlatformConfig",
    "TaskConfig",
    "auto",
    "get_config_file",
    "resolve_config_path",
    "set_if_exists",
]

AuthType = Literal["Pkce", "ClientSecret", "ExternalCommand", "DeviceFlow", "Passthrough"]
"""The auth modes of `admin.authType` (aliases such as `clientSecret` are normalised)."""

UCTL_CONFIG_ENV_VAR = "UCTL_CONFIG"
FLYTECTL_CONFIG_ENV_VAR = "FLYTECTL_CONFIG"

_AUTH_ALIASES: dict[str, str] = {
    "pkce": "Pkce",
    "standard": "Pkce",
    "authorizationcode": "Pkce",
    "clientsecret": "ClientSecret",
    "client_credentials": "ClientSecret",
    "clientcredentials": "ClientSecret",
    "basic": "ClientSecret",
    "externalcommand": "ExternalCommand",
    "external_command": "ExternalCommand",
    "deviceflow": "DeviceFlow",
    "device_flow": "DeviceFlow",
    "devicecode": "DeviceFlow",
    "passthrough": "Passthrough",
}


def normalize_auth_type(value: str, *, where: str = "auth type") -> str:
    """Map `admin.authType` spellings (`Pkce`, `standard`, `clientSecret`, ...) to one AuthType.

    Raises:
        ConfigError: If the value names no known mode.
    """
    key = str(value).strip().replace("-", "_").lower()
    if key in _AUTH_ALIASES:
        return _AUTH_ALIASES[key]
    if key.replace("_", "") in _AUTH_ALIASES:
        return _AUTH_ALIASES[key.replace("_", "")]
    raise ConfigError(
        f"{where}: unknown auth type {value!r}. Fix: use one of Pkce, ClientSecret, "
        "ExternalCommand, DeviceFlow, Passthrough.",
        key="admin.authType",
    )


@dataclass(frozen=True)
class _Entry:
    """One config key: its dotted YAML path, value kind and environment variable(s)."""

    key: str
    kind: str  # "str" | "bool" | "int" | "list" | "dict"
    aliases: tuple[str, ...] = ()

    @property
    def env_name(self) -> str:
        return "FLYTE_" + self.key.upper().replace(".", "_")

    @property
    def env_names(self) -> tuple[str, ...]:
        # Aliases (e.g. FLYTE_AUTH_TYPE) take precedence over the generic name.
        return (*self.aliases, self.env_name)


ENTRIES: dict[str, _Entry] = {
    e.key: e
    for e in (
        _Entry("admin.endpoint", "str"),
        _Entry("admin.insecure", "bool"),
        _Entry("admin.insecureSkipVerify", "bool"),
        _Entry("admin.caCertFilePath", "str"),
        _Entry("admin.httpProxyURL", "str"),
        _Entry("admin.disableKeyring", "bool"),
        _Entry("admin.authType", "str", ("FLYTE_AUTH_TYPE",)),
        _Entry("admin.command", "list", ("FLYTE_AUTH_COMMAND",)),
        _Entry("admin.proxyCommand", "list", ("FLYTE_AUTH_PROXY_COMMAND",)),
        _Entry("admin.clientId", "str"),
        _Entry("admin.clientSecretLocation", "str"),
        _Entry("admin.clientSecretEnvVar", "str"),
        _Entry("admin.scopes", "list"),
        _Entry("admin.audience", "str"),
        _Entry("admin.rpcRetries", "int"),
        _Entry("admin.authorizationMetadataKey", "str"),
        _Entry("console.endpoint", "str"),
        _Entry("task.org", "str"),
        _Entry("task.project", "str"),
        _Entry("task.domain", "str"),
        _Entry("image.builder", "str"),
        _Entry("image.image_refs", "dict"),
        _Entry("image.registry", "str"),
        _Entry("local.persistence", "bool"),
        _Entry("local.tracked", "bool"),
        _Entry("local.tracked_strict", "bool"),
    )
}
"""Every key read, by dotted name. Environment: `FLYTE_` + key upper-cased with `.` -> `_`."""

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}

_FIX_BY_KIND = {
    "bool": "use true or false",
    "int": "use a whole number, e.g. 3",
    "str": "use a plain string",
    "list": 'use a YAML list, e.g. ["cmd", "--flag"]',
    "dict": "use a YAML mapping, e.g. {name: registry/image:tag}",
}


def _coerce(entry: _Entry, value: Any, *, source: str, from_env: bool) -> Any:
    """Check/convert one value; raise ConfigError naming `source`, the key and the fix."""
    kind = entry.kind

    def bad() -> ConfigError:
        return ConfigError(
            f"{source}: {entry.key} must be a {kind}, got {value!r} "
            f"({type(value).__name__}). Fix: {_FIX_BY_KIND[kind]}.",
            path=None if from_env else source,
            key=entry.key,
        )

    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise bad()
    if kind == "int":
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad() from None
        raise bad()
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise bad()
    if kind == "list":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    raise bad() from None
                value = parsed
            else:
                # `a,b` (e.g. scopes) or a shell-style command line.
                if "," in text and not any(c.isspace() for c in text):
                    return [part for part in text.split(",") if part]
                return shlex.split(text)
        if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
            return [str(v) for v in value]
        raise bad()
    if kind == "dict":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                # `name=ref,name2=ref2` in an environment variable.
                pairs = [p for p in value.split(",") if p.strip()]
                if all("=" in p for p in pairs):
                    return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}
                raise bad() from None
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            return {k: str(v) for k, v in value.items()}
        raise bad()
    raise AssertionError(kind)  # pragma: no cover


class ConfigFile:
    """A loaded YAML config file.

    Raises:
        ConfigError: If the file is missing, unreadable, not YAML, or not a mapping of sections.
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self._location = str(location)
        self._yaml_config = self._read(self._location)

    @property
    def path(self) -> pathlib.Path:
        """The file's path."""
        return pathlib.Path(self._location)

    @property
    def yaml_config(self) -> dict[str, Any]:
        """The parsed YAML (a dict of sections)."""
        return self._yaml_config

    @staticmethod
    def _read(location: str) -> dict[str, Any]:
        import yaml  # deferred: only when a file is actually read

        try:
            text = pathlib.Path(location).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"config file {location} does not exist. Fix: create it (`flyte create config "
                "--endpoint <host:port>`) or point to an existing file.",
                path=location,
            ) from None
        except OSError as e:
            raise ConfigError(f"cannot read config file {location}: {e}", path=location) from e
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise ConfigError(
                f"config file {location} is not valid YAML{where}: {problem}. Fix: correct the "
                "YAML syntax (indentation, `key: value` pairs).",
                path=location,
            ) from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(
                f"config file {location} must be a mapping of sections (admin:, task:, image:), "
                f"got a {type(data).__name__}. Fix: e.g. `admin: {{endpoint: dns:///host:port}}`.",
                path=location,
            )
        for section, body in data.items():
            if section in {"admin", "console", "task", "image", "local"} and not (
                body is None or isinstance(body, dict)
            ):
                raise ConfigError(
                    f"config file {location}: section {section!r} must be a mapping, got "
                    f"{body!r}. Fix: indent its keys under `{section}:`.",
                    path=location,
                    key=str(section),
                )
        return data

    def get_raw(self, key: str) -> Any:
        """The raw value at the dotted `key`, or None."""
        node: Any = self._yaml_config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def get(self, key: str) -> Any:
        """The type-checked value at the dotted `key` (see `ENTRIES`), or None when unset."""
        raw = self.get_raw(key)
        if raw is None:
            return None
        entry = ENTRIES.get(key)
        if entry is None:
            return raw
        return _coerce(entry, raw, source=self._location, from_env=False)

    def __repr__(self) -> str:
        return f"ConfigFile({self._location!r})"


def read_entry(key: str, cfg: ConfigFile | None) -> Any:
    """Resolve one key: environment first, then the file; None when neither sets it."""
    entry = ENTRIES[key]
    for env in entry.env_names:
        value = os.environ.get(env)
        if value is not None:
            return _coerce(entry, value, source=f"environment variable {env}", from_env=True)
    if cfg is not None:
        return cfg.get(key)
    return None


def _git_root(start: pathlib.Path) -> pathlib.Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def resolve_config_path() -> pathlib.Path | None:
    """The config file to use when none is given: the first that exists of

    1. `./config.yaml`
    2. `./.flyte/config.yaml`
    3. `<git root>/.flyte/config.yaml`
    4. `$UCTL_CONFIG`
    5. `$FLYTECTL_CONFIG`
    6. `~/.union/config.yaml`
    7. `~/.flyte/config.yaml`

    Returns:
        The path, or None when there is no config file anywhere.
    """
    cwd = pathlib.Path.cwd()
    for candidate in (cwd / "config.yaml", cwd / ".flyte" / "config.yaml"):
        if candidate.is_file():
            return candidate
    root = _git_root(cwd)
    if root is not None and (root / ".flyte" / "config.yaml").is_file():
        return root / ".flyte" / "config.yaml"
    for env in (UCTL_CONFIG_ENV_VAR, FLYTECTL_CONFIG_ENV_VAR):
        value = os.environ.get(env)
        if value:
            path = pathlib.Path(value).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"${env} points to {path}, which does not exist. Fix: unset {env} or "
                    "point it to a config file.",
                    path=str(path),
                )
            return path
    home = pathlib.Path.home()
    for candidate in (home / ".union" / "config.yaml", home / ".flyte" / "config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def get_config_file(c: str | os.PathLike[str] | ConfigFile | None) -> ConfigFile | None:
    """Load `c` (a path or an already loaded file); with None, the file `resolve_config_path` finds."""
    if isinstance(c, ConfigFile):
        return c
    if c is not None:
        return ConfigFile(os.fspath(pathlib.Path(os.fspath(c)).expanduser()))
    path = resolve_config_path()
    return ConfigFile(path) if path is not None else None


def set_if_exists(d: dict[str, Any], k: str, val: Any) -> dict[str, Any]:
    """Set `d[k] = val` when `val` is set (a bool, or a non-empty value); return `d`."""
    if isinstance(val, bool) or (val is not None and val != "" and val != [] and val != {}):
        d[k] = val
    return d


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where and how to get tokens (discovered from the control plane, or given).

    The reference SDK calls this `ClientConfig` (`flyte.init(auth_client_config=...)`).

    `redirect_uri`, `client_id`, `scopes`, `audience`, `header_key` come from
    `GetPublicClientConfig`; the three endpoints from `GetOAuth2Metadata`.
    """

    token_endpoint: str = ""
    authorization_endpoint: str = ""
    device_authorization_endpoint: str = ""
    client_id: str = ""
    redirect_uri: str = "http://localhost:53593/callback"
    scopes: tuple[str, ...] = ()
    audience: str = ""
    header_key: str = "authorization"


_SECRET_FIELDS = frozenset({"client_credentials_secret", "api_key"})


def _redacted_repr(obj: Any) -> str:
    parts = []
    for f in dataclasses.fields(obj):
        if not f.repr:
            continue
        value = getattr(obj, f.name)
        if f.name in _SECRET_FIELDS and value:
            parts.append(f"{f.name}='***'")
        else:
            parts.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


@dataclass(frozen=True)
class PlatformConfig:
    """How to reach and authenticate to a Flyte control plane.

    Args:
        endpoint: The control plane, e.g. `dns:///localhost:30080` or `flyte.example.com`.
        insecure: Plain-text HTTP/2 without TLS (a local devbox).
        insecure_skip_verify: TLS without verifying the server certificate (trust what it sends).
        ca_cert_file_path: A PEM CA bundle to verify the server with.
        console_endpoint: The UI's base URL, when it differs from `endpoint`.
        command: External command whose stdout is an access token (`ExternalCommand` auth).
        proxy_command: External command whose stdout is sent as `proxy-authorization`.
        client_id: OAuth2 client id (client credentials, or to override the server's public one).
        client_credentials_secret: OAuth2 client secret (`ClientSecret` auth).
        scopes: OAuth2 scopes to request; the server's defaults when empty.
        auth_mode: `Pkce` (default), `ClientSecret`, `ExternalCommand`, `DeviceFlow`, `Passthrough`.
        audience: OAuth2 audience, when the identity provider needs one.
        rpc_retries: Retries of a call that failed with UNAVAILABLE / INTERNAL (0 disables).
        http_proxy_url: HTTP proxy for the OAuth token calls.
        disable_keyring: Do not cache tokens in the system keyring (use the file cache only).
        api_key: An encoded API key (`FLYTE_API_KEY`); implies `ClientSecret`.
        authorization_metadata_key: The header carrying the token (default `authorization`).
        auth_endpoints: OAuth2 endpoints and client settings; discovered from the control
            plane's AuthMetadataService when None.
    """

    endpoint: str | None = None
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_cert_file_path: str | None = None
    console_endpoint: str | None = None
    command: list[str] | None = None
    proxy_command: list[str] | None = None
    client_id: str | None = None
    client_credentials_secret: str | None = None
    scopes: list[str] = field(default_factory=list)
    auth_mode: str = "Pkce"
    audience: str | None = None
    rpc_retries: int = 3
    http_proxy_url: str | None = None
    disable_keyring: bool = False
    api_key: str | None = None
    authorization_metadata_key: str | None = None
    auth_endpoints: OAuthEndpoints | None = None

    def __post_init__(self) -> None:
        if self.auth_mode:
            object.__setattr__(
                self, "auth_mode", normalize_auth_type(self.auth_mode, where="auth_mode")
            )
        if not isinstance(self.rpc_retries, int) or self.rpc_retries < 0:
            raise ConfigError(
                f"rpc_retries must be a whole number >= 0, got {self.rpc_retries!r}. Fix: e.g. 3.",
                key="admin.rpcRetries",
            )

    __repr__ = _redacted_repr

    @property
    def auth_type(self) -> str:
        """Alias of `auth_mode` (the name `flyte.init(auth_type=...)` uses)."""
        return self.auth_mode

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | ConfigFile | None = None) -> PlatformConfig:
        """Read the `admin`/`console` sections from the config file, then the environment."""
        cfg = get_config_file(config_file)
        kw: dict[str, Any] = {}
        set_if_exists(kw, "endpoint", read_entry("admin.endpoint", cfg))
        set_if_exists(kw, "insecure", read_entry("admin.insecure", cfg))
        set_if_exists(kw, "insecure_skip_verify", read_entry("admin.insecureSkipVerify", cfg))
        set_if_exists(kw, "ca_cert_file_path", read_entry("admin.caCertFilePath", cfg))
        set_if_exists(kw, "console_endpoint", read_entry("console.endpoint", cfg))
        set_if_exists(kw, "command", read_entry("admin.command", cfg))
        set_if_exists(kw, "proxy_command", read_entry("admin.proxyCommand", cfg))
        set_if_exists(kw, "client_id", read_entry("admin.clientId", cfg))
        set_if_exists(kw, "scopes", read_entry("admin.scopes", cfg))
        set_if_exists(kw, "audience", read_entry("admin.audience", cfg))
        set_if_exists(kw, "rpc_retries", read_entry("admin.rpcRetries", cfg))
        set_if_exists(kw, "http_proxy_url", read_entry("admin.httpProxyURL", cfg))
        set_if_exists(kw, "disable_keyring", read_entry("admin.disableKeyring", cfg))
        set_if_exists(
            kw, "authorization_metadata_key", read_entry("admin.authorizationMetadataKey", cfg)
        )
        auth = read_entry("admin.authType", cfg)
        if auth:
            kw["auth_mode"] = normalize_auth_type(
                auth, where=str(cfg.path) if cfg else "environment"
            )

        secret: str | None = None
        location = read_entry("admin.clientSecretLocation", cfg)
        if location:
            path = pathlib.Path(location).expanduser()
            try:
                secret = path.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"admin.clientSecretLocation points to {path}, which cannot be read ({e}). "
                    "Fix: mount the secret there or change the path.",
                    path=str(cfg.path) if cfg else None,
                    key="admin.clientSecretLocation",
                ) from e
        env_var = read_entry("admin.clientSecretEnvVar", cfg)
        if env_var and os.environ.get(env_var):
            secret = os.environ[env_var]
        if secret:
            kw["client_credentials_secret"] = secret
            kw["auth_mode"] = "ClientSecret"
        if kw.get("command") and not auth:
            kw["auth_mode"] = "ExternalCommand"
        return cls(**kw)

    def replace(self, **kwargs: Any) -> PlatformConfig:
        """A copy with the given fields changed."""
        return dataclasses.replace(self, **kwargs)

    @classmethod
    def for_endpoint(cls, endpoint: str, insecure: bool = False) -> PlatformConfig:
        """A config for `endpoint` with defaults for everything else."""
        return cls(endpoint=endpoint, insecure=insecure)


@dataclass(frozen=True)
class TaskConfig:
    """Where runs and tasks go by default: organization, project and domain."""

    org: str | None = None
    project: str | None = None
    domain: str | None = None

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | ConfigFile | None = None) -> TaskConfig:
        """Read the `task` section from the config file, then the environment."""
        cfg = get_config_file(config_file)
        kw: dict[str, Any] = {}
        for name in ("org", "project", "domain"):
            set_if_exists(kw, name, read_entry(f"task.{name}", cfg))
        return cls(**kw)


@dataclass(frozen=True)
class ImageConfig:
    """How images are built and named.

    Args:
        builder: `local`, `local-podman`, `remote`, or a plugin builder's name.
        image_refs: Named image references (`name -> registry/image:tag`) usable as `Image.from_ref_name`.
        registry: The default registry for built images, e.g. `ghcr.io/my-org`.
    """

    builder: str | None = None
    image_refs: dict[str, str] = field(default_factory=dict)
    registry: str | None = None

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | ConfigFile | None = None) -> ImageConfig:
        """Read the `image` section from the config file, then the environment."""
        cfg = get_config_file(config_file)
        kw: dict[str, Any] = {}
        set_if_exists(kw, "builder", read_entry("image.builder", cfg))
        set_if_exists(kw, "image_refs", read_entry("image.image_refs", cfg))
        set_if_exists(kw, "registry", read_entry("image.registry", cfg))
        return cls(**kw)


@dataclass(frozen=True)
class LocalConfig:
    """Local execution settings: persist local runs, mirror them as tracked runs."""

    persistence: bool = False
    tracked: bool = False
    tracked_strict: bool = False

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | ConfigFile | None = None) -> LocalConfig:
        """Read the `local` section from the config file, then the environment."""
        cfg = get_config_file(config_file)
        kw: dict[str, Any] = {}
        for name in ("persistence", "tracked", "tracked_strict"):
            set_if_exists(kw, name, read_entry(f"local.{name}", cfg))
        return cls(**kw)


@dataclass(frozen=True)
class Config:
    """All configuration: platform (connection/auth), task defaults, images, local execution.

    Build one with `Config.auto()` / `flyte_client.auto()` or by hand.
    """

    platform: PlatformConfig = field(default_factory=PlatformConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    source: pathlib.Path | None = None

    def with_params(
        self,
        platform: PlatformConfig | None = None,
        task: TaskConfig | None = None,
        image: ImageConfig | None = None,
    ) -> Config:
        """A copy with the given sections replaced."""
        return dataclasses.replace(
            self,
            platform=platform or self.platform,
            task=task or self.task,
            image=image or self.image,
        )

    @classmethod
    def auto(cls, config_file: str | os.PathLike[str] | ConfigFile | None = None) -> Config:
        """Load the config: `config_file` (or the first file found, see `resolve_config_path`),
        then `FLYTE_<SECTION>_<KEY>` environment variables over it, then defaults.

        Raises:
            ConfigError: Malformed file, wrong value types, or a missing explicit file.
        """
        cfg = get_config_file(config_file)
        return cls(
            platform=PlatformConfig.auto(cfg),
            task=TaskConfig.auto(cfg),
            image=ImageConfig.auto(cfg),
            local=LocalConfig.auto(cfg),
            source=cfg.path if cfg is not None else None,
        )


def auto(config_file: str | os.PathLike[str] | ConfigFile | None = None) -> Config:
    """Load the configuration (see `Config.auto`)."""
    return Config.auto(config_file)
