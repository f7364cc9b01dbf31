"""Protocol -> fsspec filesystem, built lazily from the active configuration and cached.

Cloud backends are imported only here and only with `importlib.import_module`, on first use of a
path with their protocol: `import flyte_storage` never imports s3fs, gcsfs or adlfs (or their SDKs),
and Pants does not infer them as hard requirements of the wheel (they are extras).

All filesystems are created for fsspec's shared IO loop (`fsspec.asyn.get_loop()`), which is the
loop `_loop.py` runs our coroutines on; one instance serves both the async and the sync API.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyte_storage._config import ABFS, GCS, S3, Storage, StorageConfig, get_config
from flyte_storage._paths import protocol_of
from flyte_storage.errors import InvalidURI, MissingExtraError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

logger = logging.getLogger("flyte_storage")


@dataclass(frozen=True)
class _Cloud:
    module: str
    extra: str
    label: str


#: Cloud protocols and the optional extra that provides each backend.
CLOUDS: dict[str, _Cloud] = {
    "s3": _Cloud("s3fs", "s3", "S3"),
    "s3a": _Cloud("s3fs", "s3", "S3"),
    "gs": _Cloud("gcsfs", "gcs", "Google Cloud Storage"),
    "abfs": _Cloud("adlfs", "azure", "Azure Blob Storage"),
    "abfss": _Cloud("adlfs", "azure", "Azure Blob Storage"),
}

_cache: dict[tuple[Any, ...], AbstractFileSystem] = {}
_cache_lock = threading.Lock()


def import_backend(protocol: str) -> Any:
    """Import the fsspec backend module for a cloud protocol.

    Args:
        protocol: A key of `CLOUDS`.

    Returns:
        The imported module (`s3fs`, `gcsfs` or `adlfs`).

    Raises:
        MissingExtraError: If the module is not installed; the message names the extra.
    """
    cloud = CLOUDS[protocol]
    try:
        return importlib.import_module(cloud.module)
    except ImportError as e:
        raise MissingExtraError(
            f"{protocol}:// paths need {cloud.module}, which is not installed. "
            f"Install it with: pip install 'flyte-storage[{cloud.extra}]'",
            extra=cloud.extra,
            cause=e,
        ) from e


def get_filesystem(
    path_or_protocol: str, *, config: StorageConfig | None = None, anonymous: bool = False
) -> AbstractFileSystem:
    """The fsspec filesystem for a path or protocol, configured from the active configuration.

    Instances are cached per (protocol, settings, anonymous, process).

    Args:
        path_or_protocol: A path/URI (`s3://b/k`) or a bare protocol (`"s3"`).
        config: Use this configuration instead of the active one.
        anonymous: Build an unsigned/anonymous client (public buckets).

    Returns:
        The filesystem.

    Raises:
        MissingExtraError: If the backend's extra is not installed.
        InvalidURI: If fsspec knows no implementation for the protocol.
    """
    if "://" in path_or_protocol or "/" in path_or_protocol or os.sep in path_or_protocol:
        protocol = protocol_of(path_or_protocol)
    else:
        protocol = protocol_of(f"{path_or_protocol}://") if path_or_protocol else "file"
    cfg = config or get_config()
    settings = cfg.for_protocol(protocol)
    key = (protocol, settings, anonymous, cfg.upload_max_concurrency, os.getpid())
    fs = _cache.get(key)
    if fs is not None:
        return fs
    with _cache_lock:
        fs = _cache.get(key)
        if fs is None:
            fs = _build(protocol, settings, cfg, anonymous)
            _cache[key] = fs
    return fs


def clear_cache() -> None:
    """Forget every cached filesystem (tests, or after credentials rotate)."""
    with _cache_lock:
        _cache.clear()


def _build(
    protocol: str, settings: Storage | None, cfg: StorageConfig, anonymous: bool
) -> AbstractFileSystem:
    if isinstance(settings, S3):
        return _build_s3(settings, cfg, anonymous)
    if isinstance(settings, GCS):
        return _build_gcs(settings, anonymous)
    if isinstance(settings, ABFS):
        return _build_abfs(protocol, settings, cfg, anonymous)
    fsspec = importlib.import_module("fsspec")
    if protocol == "file":
        local = importlib.import_module("fsspec.implementations.local")
        fs: AbstractFileSystem = local.LocalFileSystem(auto_mkdir=True)
        return fs
    try:
        cls = fsspec.get_filesystem_class(protocol)
    except ValueError as e:
        raise InvalidURI(f"unknown storage protocol {protocol!r}: {e}") from e
    except ImportError as e:
        raise MissingExtraError(
            f"{protocol}:// paths need an fsspec backend that is not installed: {e}",
            extra=protocol,
            cause=e,
        ) from e
    fs = cls(skip_instance_cache=True)
    return fs


def _build_s3(settings: S3, cfg: StorageConfig, anonymous: bool) -> AbstractFileSystem:
    s3fs = import_backend("s3")
    kwargs = settings.get_fsspec_kwargs(anonymous=anonymous)
    fs: AbstractFileSystem = s3fs.S3FileSystem(
        skip_instance_cache=True,
        max_concurrency=cfg.upload_max_concurrency,
        default_block_size=cfg.upload_chunk_size,
        **kwargs,
    )
    # s3fs's own retry loop (on top of botocore's) reads this attribute; it counts attempts.
    fs.retries = settings.retries + 1  # type: ignore[attr-defined]
    _maybe_debug("s3fs", settings)
    return fs


def _build_gcs(settings: GCS, anonymous: bool) -> AbstractFileSystem:
    import_backend("gs")
    kwargs = settings.get_fsspec_kwargs(anonymous=anonymous)
    if settings.endpoint:
        # `gcsfs.GCSFileSystem` may be the "extended" class (GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT),
        # which probes each bucket over gRPC and retries for a minute against emulators. An
        # explicit endpoint means an emulator or proxy speaking the JSON API: use the core class.
        cls = importlib.import_module("gcsfs.core").GCSFileSystem
    else:
        cls = importlib.import_module("gcsfs").GCSFileSystem
    fs: AbstractFileSystem = _gcs_class(cls, settings.retries + 1)(
        skip_instance_cache=True, **kwargs
    )
    _maybe_debug("gcsfs", settings)
    return fs


_gcs_classes: dict[tuple[Any, int], Any] = {}


def _gcs_class(base: Any, attempts: int) -> Any:
    """gcsfs's filesystem with `attempts` tries per request instead of its fixed 6.

    gcsfs binds its retry count when the class is defined (`@retry_request(retries=6)`, with
    1-32 s sleeps), so a dead endpoint takes half a minute per request to be reported. The
    subclass re-wraps the same request functions with the configured count.
    """
    key = (base, attempts)
    if key in _gcs_classes:
        return _gcs_classes[key]
    retry_request = importlib.import_module("gcsfs.retry").retry_request
    namespace: dict[str, Any] = {}
    for name in ("_request", "_get_file_request"):
        original = getattr(base, name, None)
        raw = getattr(original, "__wrapped__", None)
        if raw is not None:
            namespace[name] = retry_request(retries=attempts)(raw)
    cls = type("GCSFileSystem", (base,), namespace)
    _gcs_classes[key] = cls
    return cls


def _build_abfs(
    protocol: str, settings: ABFS, cfg: StorageConfig, anonymous: bool
) -> AbstractFileSystem:
    adlfs = import_backend(protocol)
    kwargs = settings.get_fsspec_kwargs(anonymous=anonymous)
    cls = _azure_class(adlfs)
    fs: AbstractFileSystem = cls(
        skip_instance_cache=True,
        max_concurrency=cfg.upload_max_concurrency,
        _flyte_retry=(settings.retries, settings.backoff.total_seconds()),
        **kwargs,
    )
    _maybe_debug("azure", settings)
    return fs


_azure_cls: Any = None


def _azure_class(adlfs: Any) -> Any:
    """adlfs's filesystem, with our retry policy passed to the Azure SDK clients it creates.

    adlfs builds its `BlobServiceClient` without retry arguments, so the SDK default applies
    (3 retries starting at 15 s: over a minute before a dead endpoint is reported). The subclass
    forwards `retry_total`/`initial_backoff` from `ABFS.retries`/`ABFS.backoff`.
    """
    global _azure_cls
    if _azure_cls is not None:
        return _azure_cls
    aio = importlib.import_module("azure.storage.blob.aio")
    spec = importlib.import_module("adlfs.spec")

    class FlyteAzureBlobFileSystem(adlfs.AzureBlobFileSystem):  # type: ignore[misc,name-defined]
        def __init__(
            self, *args: Any, _flyte_retry: tuple[int, float] | None = None, **kw: Any
        ) -> None:
            self._flyte_retry = _flyte_retry
            super().__init__(*args, **kw)

        def do_connect(self) -> None:
            super().do_connect()
            if self._flyte_retry is None:
                return
            retries, backoff = self._flyte_retry
            policy = aio.ExponentialRetry(
                initial_backoff=backoff,
                increment_base=2,
                retry_total=retries,
                random_jitter_range=min(3.0, backoff),
            )
            conn = getattr(self, "connection_string", None)
            if conn:
                self.service_client = aio.BlobServiceClient.from_connection_string(
                    conn_str=conn, user_agent=spec._USER_AGENT, retry_policy=policy
                )
            elif getattr(self, "service_client", None) is not None:
                client = self.service_client
                self.service_client = aio.BlobServiceClient(
                    account_url=client.url,
                    credential=client.credential,
                    user_agent=spec._USER_AGENT,
                    retry_policy=policy,
                )

    FlyteAzureBlobFileSystem.__name__ = "AzureBlobFileSystem"
    _azure_cls = FlyteAzureBlobFileSystem
    return _azure_cls


def _maybe_debug(logger_name: str, settings: Storage) -> None:
    if settings.enable_debug:
        logging.getLogger(logger_name).setLevel(logging.DEBUG)
        for name in ("botocore", "aiobotocore", "azure.core.pipeline", "gcsfs"):
            if name.startswith(logger_name[:3]):
                logging.getLogger(name).setLevel(logging.DEBUG)


def is_async(fs: AbstractFileSystem) -> bool:
    """Whether `fs` implements fsspec's async API (`_info`, `_cat_file`, ...)."""
    return bool(getattr(fs, "async_impl", False))


def storage_options(path_or_protocol: str, *, anonymous: bool = False) -> dict[str, Any]:
    """The fsspec `storage_options` for a path under the active configuration.

    Useful for libraries that open paths through fsspec themselves (pandas, pyarrow, polars).

    Args:
        path_or_protocol: A path/URI or a bare protocol.
        anonymous: Options for anonymous access.

    Returns:
        The keyword arguments a fresh fsspec filesystem for that protocol needs.
    """
    protocol = protocol_of(
        path_or_protocol if "://" in path_or_protocol else f"{path_or_protocol}://"
    )
    settings = get_config().for_protocol(protocol)
    if settings is None:
        return {}
    return settings.get_fsspec_kwargs(anonymous=anonymous)
