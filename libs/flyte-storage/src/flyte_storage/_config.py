"""Storage configuration: per-cloud settings (`S3`, `GCS`, `ABFS`) and the `StorageConfig` bundle.

Configuration comes from three layers, lowest first:

1. the defaults below;
2. the `storage` section of the config file, handed over as a plain dict by the client library
   (`StorageConfig.from_dict`, or `StorageConfig.auto(section)`);
3. environment variables, which beat the file for every key (`StorageConfig.auto`).

The active configuration is process-wide: `configure()` sets it, `get_config()` returns it (and
reads the environment on first use when nothing was configured). Filesystems are cached per
configuration value, so changing the configuration never reuses a client built for another one.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from flyte_storage.errors import InvalidConfig

__all__ = [
    "ABFS",
    "GCS",
    "S3",
    "Storage",
    "StorageConfig",
    "configure",
    "get_config",
]

_MiB = 2**20

#: The well-known Azurite development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT_NAME = "devstoreaccount1"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def _parse_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidConfig(f"{key}: expected a boolean (true/false/1/0), got {value!r}")


def _parse_int(value: Any, key: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise InvalidConfig(f"{key}: expected an integer, got {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidConfig(f"{key}: expected an integer, got {value!r}") from None
    if number < minimum:
        raise InvalidConfig(f"{key}: must be >= {minimum}, got {number}")
    return number


def _parse_seconds(value: Any, key: str) -> datetime.timedelta:
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    else:
        try:
            seconds = float(str(value).strip())
        except ValueError:
            raise InvalidConfig(f"{key}: expected a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidConfig(f"{key}: expected a non-negative number of seconds, got {value!r}")
    return datetime.timedelta(seconds=seconds)


def _parse_float(value: Any, key: str) -> float:
    return _parse_seconds(value, key).total_seconds()


def _parse_str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise InvalidConfig(f"{key}: expected a string, got {type(value).__name__}")
    return value


_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _normalize_key(key: str) -> str:
    """`accessKeyId`, `access-key-id` and `access_key_id` all mean `access_key_id`."""
    return _CAMEL.sub(r"_\1", key).replace("-", "_").lower()


_T = TypeVar("_T", bound="Storage")


@dataclass(frozen=True)
class Storage:
    """Settings shared by every cloud backend.

    Positional fields follow the reference SDK's `flyte.storage.Storage`; the fields after them
    are keyword-only.

    Attributes:
        retries: How many times a failed request is retried by the backend (env
            `FLYTE_STORAGE_RETRIES`).
        backoff: The first retry delay; later ones grow exponentially (env
            `FLYTE_STORAGE_BACKOFF_SECONDS`, in seconds).
        enable_debug: Log the backend's requests (env `FLYTE_STORAGE_DEBUG`).
        attach_execution_metadata: Accepted for compatibility with the reference SDK; the
            runtime decides whether to tag objects with execution metadata.
        anonymous: Do not sign requests (public buckets, emulators without auth).
        connect_timeout: Seconds to wait for a connection; `None` keeps the backend default.
        read_timeout: Seconds to wait for data on an open connection; `None` keeps the backend
            default.
    """

    retries: int = 3
    backoff: datetime.timedelta = datetime.timedelta(seconds=5)
    enable_debug: bool = False
    attach_execution_metadata: bool = True
    anonymous: bool = field(default=False, kw_only=True)
    connect_timeout: float | None = field(default=None, kw_only=True)
    read_timeout: float | None = field(default=None, kw_only=True)

    #: Fields read from the environment by `auto()`, and the variable each comes from.
    ENV_VARS: ClassVar[Mapping[str, str]] = {
        "retries": "FLYTE_STORAGE_RETRIES",
        "backoff": "FLYTE_STORAGE_BACKOFF_SECONDS",
        "enable_debug": "FLYTE_STORAGE_DEBUG",
    }

    def __post_init__(self) -> None:
        # Normalise and validate once, so a bad value fails at configuration time, not on the
        # first transfer. Frozen dataclass: assign through object.__setattr__.
        object.__setattr__(self, "retries", _parse_int(self.retries, "retries"))
        object.__setattr__(self, "backoff", _parse_seconds(self.backoff, "backoff"))
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _parse_float(value, name))

    @classmethod
    def _coerce(cls, key: str, value: Any) -> Any:
        """Convert a raw (string, YAML) value for `key` to the field's type."""
        if key == "retries":
            return _parse_int(value, key)
        if key == "backoff":
            return _parse_seconds(value, key)
        if key in ("enable_debug", "attach_execution_metadata", "anonymous"):
            return _parse_bool(value, key)
        if key in ("connect_timeout", "read_timeout"):
            return None if value is None else _parse_float(value, key)
        return None if value is None else _parse_str(value, key)

    @classmethod
    def _field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def _env_kwargs(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, var in cls.ENV_VARS.items():
            raw = environ.get(var)
            if raw is not None and raw != "":
                try:
                    out[name] = cls._coerce(name, raw)
                except InvalidConfig as e:
                    raise InvalidConfig(f"environment variable {var}: {e}") from None
        return out

    @classmethod
    def auto(cls: type[_T], environ: Mapping[str, str] | None = None) -> _T:
        """Build the settings from environment variables (see `ENV_VARS`).

        Args:
            environ: The environment to read; `os.environ` by default.

        Returns:
            A new instance; unset variables keep their defaults.

        Raises:
            InvalidConfig: If a variable holds a value of the wrong type.
        """
        return cls(**cls._env_kwargs(os.environ if environ is None else environ))

    @classmethod
    def from_dict(cls: type[_T], data: Mapping[str, Any]) -> _T:
        """Build the settings from one sub-section of the config file's `storage` section.

        Keys may be snake_case, kebab-case or camelCase. `backoff_seconds` is accepted for
        `backoff`.

        Args:
            data: The mapping, e.g. `{"endpoint": "http://127.0.0.1:9000", "anonymous": True}`.

        Returns:
            A new instance.

        Raises:
            InvalidConfig: On unknown keys or values of the wrong type.
        """
        return cls(**cls._dict_kwargs(data, cls.__name__.lower()))

    @classmethod
    def _dict_kwargs(cls, data: Mapping[str, Any], where: str) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise InvalidConfig(f"storage.{where}: expected a mapping, got {type(data).__name__}")
        names = cls._field_names()
        out: dict[str, Any] = {}
        for raw_key, value in data.items():
            key = _normalize_key(str(raw_key))
            if key == "backoff_seconds":
                key = "backoff"
            if key not in names:
                raise InvalidConfig(
                    f"storage.{where}: unknown key {raw_key!r}; known keys: {', '.join(sorted(names))}"
                )
            try:
                out[key] = cls._coerce(key, value)
            except InvalidConfig as e:
                raise InvalidConfig(f"storage.{where}.{e}") from None
        return out

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem these settings configure.

        Args:
            anonymous: Force anonymous/unsigned access.
            **kwargs: Extra arguments that override the computed ones.

        Returns:
            The keyword arguments (the cloud classes add their own).
        """
        return dict(kwargs)

    def replace(self: _T, **changes: Any) -> _T:
        """A copy with some fields changed (`dataclasses.replace`).

        Args:
            **changes: Field values to change.

        Returns:
            The new instance.
        """
        return dataclasses.replace(self, **changes)

    def _merged_with_env(self: _T, environ: Mapping[str, str]) -> _T:
        return dataclasses.replace(self, **self._env_kwargs(environ))


@dataclass(frozen=True)
class S3(Storage):
    """Amazon S3 and S3-compatible stores (MinIO, SeaweedFS, moto, ...), through s3fs.

    Credentials left unset fall back to the standard AWS chain (`AWS_ACCESS_KEY_ID`,
    `AWS_PROFILE`, instance roles, ...), which botocore resolves itself; so do `AWS_ENDPOINT_URL`
    and `AWS_DEFAULT_REGION`.

    Attributes:
        endpoint: Service URL for S3-compatible stores, e.g. `http://127.0.0.1:9000` (env
            `FLYTE_AWS_ENDPOINT`).
        access_key_id: Static access key (env `FLYTE_AWS_ACCESS_KEY_ID`).
        secret_access_key: Static secret key (env `FLYTE_AWS_SECRET_ACCESS_KEY`).
        region: Region name, e.g. `us-east-1`.
        addressing_style: `"path"`, `"virtual"` or `"auto"` (env `FLYTE_AWS_S3_ADDRESSING_STYLE`).
        session_token: Temporary session token, with temporary keys.

    Example:
        ```python
        flyte_storage.configure(flyte_storage.S3(endpoint="http://127.0.0.1:9000",
                                                 access_key_id="minio",
                                                 secret_access_key="miniostorage"))
        ```
    """

    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    region: str | None = None
    addressing_style: str | None = None
    session_token: str | None = field(default=None, repr=False, kw_only=True)

    ENV_VARS: ClassVar[Mapping[str, str]] = {
        **Storage.ENV_VARS,
        "endpoint": "FLYTE_AWS_ENDPOINT",
        "access_key_id": "FLYTE_AWS_ACCESS_KEY_ID",
        "secret_access_key": "FLYTE_AWS_SECRET_ACCESS_KEY",
        "addressing_style": "FLYTE_AWS_S3_ADDRESSING_STYLE",
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.addressing_style not in (None, "path", "virtual", "auto"):
            raise InvalidConfig(
                f"addressing_style: expected 'path', 'virtual' or 'auto', got {self.addressing_style!r}"
            )

    @classmethod
    def auto(cls, environ: Mapping[str, str] | None = None, *, region: str | None = None) -> S3:
        """Build S3 settings from the environment (see `ENV_VARS`).

        Args:
            environ: The environment to read; `os.environ` by default.
            region: Region to use; `None` lets botocore pick (`AWS_DEFAULT_REGION`, ...).

        Returns:
            The settings.
        """
        kwargs = cls._env_kwargs(os.environ if environ is None else environ)
        if region is not None:
            kwargs["region"] = region
        return cls(**kwargs)

    @classmethod
    def for_sandbox(
        cls,
        endpoint: str = "http://localhost:4566",
        access_key_id: str = "minio",
        secret_access_key: str = "miniostorage",
    ) -> S3:
        """Settings for a local S3-compatible sandbox store (path-style addressing).

        The defaults match the reference SDK's sandbox; pass your emulator's endpoint and keys
        to point elsewhere. `FLYTE_STORAGE_*` variables still apply.

        Args:
            endpoint: The store's URL.
            access_key_id: Its access key.
            secret_access_key: Its secret key.

        Returns:
            The settings.
        """
        return cls(
            **Storage._env_kwargs(os.environ),
            endpoint=endpoint,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            addressing_style="path",
        )

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for `s3fs.S3FileSystem` built from these settings.

        Args:
            anonymous: Force unsigned requests.
            **kwargs: Extra arguments that override the computed ones.

        Returns:
            The keyword arguments.
        """
        out: dict[str, Any] = {}
        if self.endpoint:
            out["endpoint_url"] = self.endpoint
        if self.access_key_id:
            out["key"] = self.access_key_id
        if self.secret_access_key:
            out["secret"] = self.secret_access_key
        if self.session_token:
            out["token"] = self.session_token
        if anonymous or self.anonymous:
            out["anon"] = True
        if self.region:
            out["client_kwargs"] = {"region_name": self.region}
        config: dict[str, Any] = {
            # botocore counts the first attempt; "standard" mode retries throttling, 5xx and
            # connection errors with jittered exponential backoff.
            "retries": {"max_attempts": self.retries + 1, "mode": "standard"},
        }
        if self.connect_timeout is not None:
            config["connect_timeout"] = self.connect_timeout
        if self.read_timeout is not None:
            config["read_timeout"] = self.read_timeout
        if self.addressing_style:
            config["s3"] = {"addressing_style": self.addressing_style}
        out["config_kwargs"] = config
        out.update(kwargs)
        return out


@dataclass(frozen=True)
class GCS(Storage):
    """Google Cloud Storage, through gcsfs.

    Credentials left unset fall back to Google's default chain
    (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud, metadata server).

    Attributes:
        endpoint: API endpoint for an emulator such as fake-gcs-server (env
            `STORAGE_EMULATOR_HOST`). With an endpoint and no `token`, requests are anonymous.
        project: Project for bucket-level operations (env `GOOGLE_CLOUD_PROJECT`).
        token: What gcsfs calls `token`: a path to a service-account JSON file, `"anon"`,
            `"google_default"`, `"cloud"` or `"browser"`.
    """

    endpoint: str | None = field(default=None, kw_only=True)
    project: str | None = field(default=None, kw_only=True)
    token: str | None = field(default=None, kw_only=True, repr=False)

    ENV_VARS: ClassVar[Mapping[str, str]] = {
        **Storage.ENV_VARS,
        "endpoint": "STORAGE_EMULATOR_HOST",
        "project": "GOOGLE_CLOUD_PROJECT",
    }

    @classmethod
    def for_emulator(cls, endpoint: str = "http://127.0.0.1:4443") -> GCS:
        """Settings for fake-gcs-server (or any GCS emulator) at `endpoint`, anonymous.

        Args:
            endpoint: The emulator's URL.

        Returns:
            The settings.
        """
        return cls(**Storage._env_kwargs(os.environ), endpoint=endpoint, anonymous=True)

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for `gcsfs.GCSFileSystem` built from these settings.

        Args:
            anonymous: Force unauthenticated requests.
            **kwargs: Extra arguments that override the computed ones.

        Returns:
            The keyword arguments.
        """
        out: dict[str, Any] = {}
        if self.endpoint:
            out["endpoint_url"] = self.endpoint
        if self.project:
            out["project"] = self.project
        if anonymous or self.anonymous or (self.endpoint and not self.token):
            out["token"] = "anon"
        elif self.token:
            out["token"] = self.token
        if self.read_timeout is not None:
            out["requests_timeout"] = self.read_timeout
        out.update(kwargs)
        return out


@dataclass(frozen=True)
class ABFS(Storage):
    """Azure Blob Storage / ADLS Gen2 (`abfs://`, `abfss://`), through adlfs.

    Attributes:
        account_name: Storage account (env `AZURE_STORAGE_ACCOUNT_NAME`).
        account_key: Shared key (env `AZURE_STORAGE_ACCOUNT_KEY`).
        tenant_id: Service principal tenant (env `AZURE_TENANT_ID`).
        client_id: Service principal client id (env `AZURE_CLIENT_ID`).
        client_secret: Service principal secret (env `AZURE_CLIENT_SECRET`).
        connection_string: A full connection string (env `AZURE_STORAGE_CONNECTION_STRING`);
            wins over the fields above.
        sas_token: A SAS token for the account (env `AZURE_STORAGE_SAS_TOKEN`).
        endpoint: Blob service URL for an emulator or a custom domain, e.g.
            `http://127.0.0.1:10000/devstoreaccount1`; combined with `account_name` and
            `account_key` into a connection string.
    """

    account_name: str | None = None
    account_key: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, kw_only=True, repr=False)
    sas_token: str | None = field(default=None, kw_only=True, repr=False)
    endpoint: str | None = field(default=None, kw_only=True)

    ENV_VARS: ClassVar[Mapping[str, str]] = {
        **Storage.ENV_VARS,
        "account_name": "AZURE_STORAGE_ACCOUNT_NAME",
        "account_key": "AZURE_STORAGE_ACCOUNT_KEY",
        "tenant_id": "AZURE_TENANT_ID",
        "client_id": "AZURE_CLIENT_ID",
        "client_secret": "AZURE_CLIENT_SECRET",
        "connection_string": "AZURE_STORAGE_CONNECTION_STRING",
        "sas_token": "AZURE_STORAGE_SAS_TOKEN",
    }

    @classmethod
    def for_azurite(cls, endpoint: str = "http://127.0.0.1:10000/devstoreaccount1") -> ABFS:
        """Settings for the Azurite emulator with its well-known development account.

        Args:
            endpoint: Azurite's blob endpoint, including the account path.

        Returns:
            The settings.
        """
        return cls(
            **Storage._env_kwargs(os.environ),
            account_name=AZURITE_ACCOUNT_NAME,
            account_key=AZURITE_ACCOUNT_KEY,
            endpoint=endpoint,
        )

    def effective_connection_string(self) -> str | None:
        """The connection string adlfs will use, if any (explicit, or built from `endpoint`).

        Returns:
            The connection string, or `None` when the account name/credential fields are used.
        """
        if self.connection_string:
            return self.connection_string
        if self.endpoint and self.account_name:
            scheme = self.endpoint.split("://", 1)[0] if "://" in self.endpoint else "https"
            parts = [
                f"DefaultEndpointsProtocol={scheme}",
                f"AccountName={self.account_name}",
            ]
            if self.account_key:
                parts.append(f"AccountKey={self.account_key}")
            if self.sas_token:
                parts.append(f"SharedAccessSignature={self.sas_token.lstrip('?')}")
            parts.append(f"BlobEndpoint={self.endpoint}")
            return ";".join(parts) + ";"
        return None

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for `adlfs.AzureBlobFileSystem` built from these settings.

        Args:
            anonymous: Force anonymous access (public containers).
            **kwargs: Extra arguments that override the computed ones.

        Returns:
            The keyword arguments.
        """
        out: dict[str, Any] = {}
        conn = self.effective_connection_string()
        if conn and not (anonymous or self.anonymous):
            out["connection_string"] = conn
        else:
            for name in ("account_name", "account_key", "tenant_id", "client_id", "client_secret"):
                value = getattr(self, name)
                if value:
                    out[name] = value
            if self.sas_token:
                out["sas_token"] = self.sas_token
        if anonymous or self.anonymous:
            out["anon"] = True
            out.pop("account_key", None)
        else:
            out["anon"] = False
        if self.connect_timeout is not None:
            out["connection_timeout"] = self.connect_timeout
        if self.read_timeout is not None:
            out["read_timeout"] = self.read_timeout
        out.update(kwargs)
        return out


_BACKEND_SECTIONS: Mapping[str, type[Storage]] = {"s3": S3, "gcs": GCS, "abfs": ABFS}
_SECTION_ALIASES = {"gs": "gcs", "azure": "abfs", "abfss": "abfs", "az": "abfs"}
_COMMON_KEYS = frozenset(Storage.ENV_VARS) | {
    "backoff_seconds",
    "anonymous",
    "connect_timeout",
    "read_timeout",
}


@dataclass(frozen=True)
class StorageConfig:
    """Everything `flyte_storage` can be configured with: per-cloud settings plus transfer tuning.

    Attributes:
        s3: Settings for `s3://` paths.
        gcs: Settings for `gs://` paths.
        abfs: Settings for `abfs://` and `abfss://` paths.
        batch_size: Files transferred at once by recursive `get`/`put` (env
            `FLYTE_IO_BATCH_SIZE`).
        chunk_size: Part size, in bytes, of parallel ranged downloads and of `get_stream` reads
            (env `FLYTE_IO_CHUNK_SIZE`).
        max_concurrency: Parts of one object downloaded at once (env `FLYTE_IO_MAX_CONCURRENCY`).
            Memory used by one download is at most `chunk_size * max_concurrency`.
        upload_chunk_size: Smallest multipart-upload part, in bytes; raised automatically for
            huge files to stay under the 10,000-part limit (env `FLYTE_IO_UPLOAD_CHUNK_SIZE`).
        upload_max_concurrency: Parts of one object uploaded at once (env
            `FLYTE_IO_UPLOAD_MAX_CONCURRENCY`).
        upload_timeout: Seconds one signed-URL request may take (env `FLYTE_UPLOAD_TIMEOUT`).

    Example:
        ```python
        cfg = flyte_storage.StorageConfig.from_dict(
            {"s3": {"endpoint": "http://127.0.0.1:9000", "access_key_id": "k",
                    "secret_access_key": "s"},
             "retries": 5}
        )
        flyte_storage.configure(cfg)
        ```
    """

    s3: S3 = field(default_factory=S3)
    gcs: GCS = field(default_factory=GCS)
    abfs: ABFS = field(default_factory=ABFS)
    batch_size: int = 32
    chunk_size: int = 8 * _MiB
    max_concurrency: int = 8
    upload_chunk_size: int = 8 * _MiB
    upload_max_concurrency: int = 8
    upload_timeout: float = 600.0

    ENV_VARS: ClassVar[Mapping[str, str]] = {
        "batch_size": "FLYTE_IO_BATCH_SIZE",
        "chunk_size": "FLYTE_IO_CHUNK_SIZE",
        "max_concurrency": "FLYTE_IO_MAX_CONCURRENCY",
        "upload_chunk_size": "FLYTE_IO_UPLOAD_CHUNK_SIZE",
        "upload_max_concurrency": "FLYTE_IO_UPLOAD_MAX_CONCURRENCY",
        "upload_timeout": "FLYTE_UPLOAD_TIMEOUT",
    }

    def __post_init__(self) -> None:
        for name in ("batch_size", "chunk_size", "max_concurrency", "upload_max_concurrency"):
            object.__setattr__(self, name, _parse_int(getattr(self, name), name, minimum=1))
        # S3 rejects multipart parts under 5 MiB (except the last one).
        upload_chunk = _parse_int(self.upload_chunk_size, "upload_chunk_size", minimum=5 * _MiB)
        object.__setattr__(self, "upload_chunk_size", upload_chunk)
        object.__setattr__(
            self, "upload_timeout", _parse_float(self.upload_timeout, "upload_timeout")
        )
        for name, cls in _BACKEND_SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise InvalidConfig(f"{name}: expected flyte_storage.{cls.__name__}")

    def for_protocol(self, protocol: str) -> Storage | None:
        """The cloud settings that apply to a protocol.

        Args:
            protocol: `"s3"`, `"gs"`, `"abfs"`, ...

        Returns:
            `self.s3`, `self.gcs` or `self.abfs`; `None` for other protocols.
        """
        if protocol in ("s3", "s3a"):
            return self.s3
        if protocol in ("gs", "gcs"):
            return self.gcs
        if protocol in ("abfs", "abfss", "az"):
            return self.abfs
        return None

    def with_backend(self, backend: Storage) -> StorageConfig:
        """A copy with one cloud's settings replaced.

        Args:
            backend: An `S3`, `GCS` or `ABFS` instance.

        Returns:
            The new configuration.

        Raises:
            InvalidConfig: If `backend` is not one of the three cloud classes.
        """
        for name, cls in _BACKEND_SECTIONS.items():
            if isinstance(backend, cls):
                changes: dict[str, Any] = {name: backend}
                return dataclasses.replace(self, **changes)
        raise InvalidConfig(f"not a cloud storage config: {backend!r} (use S3, GCS or ABFS)")

    @classmethod
    def from_dict(cls, section: Mapping[str, Any] | None) -> StorageConfig:
        """Build a configuration from the config file's `storage` section (environment ignored).

        Accepted shape (keys may also be kebab-case or camelCase):

        ```yaml
        storage:
          retries: 3                 # shared by all clouds; can be overridden per cloud
          backoff_seconds: 5
          enable_debug: false
          batch_size: 32
          chunk_size: 16777216
          max_concurrency: 8
          upload_chunk_size: 8388608
          upload_max_concurrency: 8
          upload_timeout: 600
          s3: {endpoint: "http://127.0.0.1:9000", access_key_id: ..., secret_access_key: ...,
               region: us-east-1, addressing_style: path, anonymous: false}
          gcs: {endpoint: "http://127.0.0.1:4443", project: ..., token: ..., anonymous: false}
          abfs: {account_name: ..., account_key: ..., connection_string: ..., endpoint: ...}
        ```

        `gs`/`azure` are accepted as section names for `gcs`/`abfs`. The flytekit-style
        `connection: {endpoint, access-key, secret-key}` block is read as S3 settings.

        Args:
            section: The mapping (`None` or empty gives the defaults).

        Returns:
            The configuration.

        Raises:
            InvalidConfig: On unknown keys or values of the wrong type.
        """
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise InvalidConfig(f"storage: expected a mapping, got {type(section).__name__}")
        common: dict[str, Any] = {}
        backends: dict[str, dict[str, Any]] = {name: {} for name in _BACKEND_SECTIONS}
        top: dict[str, Any] = {}
        own = {f.name for f in dataclasses.fields(cls)} - set(_BACKEND_SECTIONS)
        for raw_key, value in section.items():
            key = _normalize_key(str(raw_key))
            key = _SECTION_ALIASES.get(key, key)
            if key in _BACKEND_SECTIONS:
                if value is None:
                    continue
                backends[key].update(_BACKEND_SECTIONS[key]._dict_kwargs(value, key))
            elif key == "connection":  # flytekit's storage.connection block
                backends["s3"].update(_legacy_connection(value))
            elif key in _COMMON_KEYS:
                common.update(Storage._dict_kwargs({key: value}, "storage"))
            elif key in own:
                top[key] = value
            else:
                known = sorted(_COMMON_KEYS | own | set(_BACKEND_SECTIONS))
                raise InvalidConfig(
                    f"storage: unknown key {raw_key!r}; known keys: {', '.join(known)}"
                )
        built: dict[str, Any] = {
            name: backend_cls(**{**common, **backends[name]})
            for name, backend_cls in _BACKEND_SECTIONS.items()
        }
        try:
            return cls(**built, **top)
        except InvalidConfig as e:
            raise InvalidConfig(f"storage.{e}") from None

    @classmethod
    def auto(
        cls,
        section: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> StorageConfig:
        """Build a configuration from the `storage` section, then environment variables on top.

        Args:
            section: The config file's `storage` section, if any.
            environ: The environment to read; `os.environ` by default.

        Returns:
            The configuration: defaults, overridden by `section`, overridden by the environment.

        Raises:
            InvalidConfig: On bad keys or values, naming the variable or key.
        """
        env = os.environ if environ is None else environ
        base = cls.from_dict(section)
        top: dict[str, Any] = {}
        for name, var in cls.ENV_VARS.items():
            raw = env.get(var)
            if raw:
                top[name] = raw
        try:
            return dataclasses.replace(
                base,
                s3=base.s3._merged_with_env(env),
                gcs=base.gcs._merged_with_env(env),
                abfs=base.abfs._merged_with_env(env),
                **top,
            )
        except InvalidConfig as e:
            found = next((v for k, v in cls.ENV_VARS.items() if str(e).startswith(k)), None)
            raise InvalidConfig(f"environment variable {found}: {e}" if found else str(e)) from None


def _legacy_connection(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidConfig("storage.connection: expected a mapping")
    mapping = {
        "endpoint": "endpoint",
        "access_key": "access_key_id",
        "secret_key": "secret_access_key",
        "region": "region",
    }
    raw: dict[str, Any] = {}
    for k, v in value.items():
        key = _normalize_key(str(k))
        if key == "disable_ssl":
            continue  # the scheme of `endpoint` already says http or https
        if key not in mapping:
            raise InvalidConfig(f"storage.connection: unknown key {k!r}")
        raw[mapping[key]] = v
    return S3._dict_kwargs(raw, "connection")


_lock = threading.Lock()
_active: StorageConfig | None = None


def configure(
    config: StorageConfig | Storage | Mapping[str, Any] | None = None,
) -> StorageConfig:
    """Set the process-wide storage configuration.

    Args:
        config: One of:

            * a `StorageConfig`: used as is;
            * an `S3`, `GCS` or `ABFS`: replaces that cloud's settings in the current
              configuration;
            * a mapping: the config file's `storage` section, read with `StorageConfig.auto`
              (environment variables win over it);
            * `None`: forget any configuration; the environment is read again on next use.

    Returns:
        The configuration now in effect.

    Raises:
        InvalidConfig: If the value cannot be used.
    """
    global _active
    if config is None:
        with _lock:
            _active = None
        return StorageConfig.auto()  # what the next get_config() will read (not cached yet)
    if isinstance(config, StorageConfig):
        new = config
    elif isinstance(config, Storage):
        new = get_config().with_backend(config)
    elif isinstance(config, Mapping):
        new = StorageConfig.auto(config)
    else:
        raise InvalidConfig(
            f"configure() takes a StorageConfig, S3, GCS, ABFS, dict or None; got {type(config).__name__}"
        )
    with _lock:
        _active = new
    return new


def get_config() -> StorageConfig:
    """The storage configuration in effect.

    Returns:
        What `configure()` set, or else the configuration read from the environment (read once,
        then kept until `configure()` is called).
    """
    global _active
    current = _active
    if current is not None:
        return current
    with _lock:
        if _active is None:
            _active = StorageConfig.auto()
        return _active
