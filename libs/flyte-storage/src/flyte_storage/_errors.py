"""The one boundary where backend exceptions become `flyte_storage.errors`.

Every public function of this library runs its body inside `boundary()` (applied by the
`_public` decorators in `_api.py` / `_signed.py`); nothing else in the library catches backend
exceptions to re-raise them as ours. `translate()` classifies an exception in this order:

1. Already a `StorageError`: returned unchanged.
2. A known third-party exception type (botocore, azure-core, gcsfs, google-auth, google-api-core,
   aiohttp, requests, httpx, fsspec), matched by `isinstance` against `_TYPE_RULES`. The classes
   are looked up in `sys.modules` only: if a backend was never imported, none of its exceptions
   can exist, so classification never imports a cloud SDK.
3. A builtin (`FileNotFoundError`, `PermissionError`, `ConnectionError`, ... and `OSError` by
   errno), which is what fsspec backends translate most service errors into.
4. Anything else becomes a `TransferError`: the mapping is total by construction, and
   `tests/test_errors.py` enumerates every exception class of every backend to prove it.

`BaseException`s that are not `Exception`s (cancellation, `KeyboardInterrupt`) pass through.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from flyte_storage.errors import (
    AccessDenied,
    IntegrityError,
    InvalidURI,
    ObjectExists,
    ObjectNotFound,
    ServiceUnavailable,
    StorageError,
    TransferError,
)

# A rule's target is either an error class or a function that picks one from the exception (HTTP
# status, service error code). Functions return the class; the message is built in one place.
_Picker = Callable[[BaseException], type[StorageError]]
_Target = type[StorageError] | _Picker

#: S3/Azure/GCS service error codes that decide the class better than the HTTP status does.
_CODE_TO_ERROR: dict[str, type[StorageError]] = {
    # S3
    "NoSuchKey": ObjectNotFound,
    "NoSuchBucket": ObjectNotFound,
    "NoSuchUpload": ObjectNotFound,
    "NoSuchVersion": ObjectNotFound,
    "NotFound": ObjectNotFound,
    "AccessDenied": AccessDenied,
    "AllAccessDisabled": AccessDenied,
    "InvalidAccessKeyId": AccessDenied,
    "SignatureDoesNotMatch": AccessDenied,
    "ExpiredToken": AccessDenied,
    "InvalidToken": AccessDenied,
    "RequestTimeTooSkewed": AccessDenied,
    "AuthorizationQueryParametersError": AccessDenied,
    "BucketAlreadyExists": ObjectExists,
    "BucketAlreadyOwnedByYou": ObjectExists,
    "BadDigest": IntegrityError,
    "InvalidDigest": IntegrityError,
    "XAmzContentSHA256Mismatch": IntegrityError,
    "IncompleteBody": IntegrityError,
    "InternalError": ServiceUnavailable,
    "ServiceUnavailable": ServiceUnavailable,
    "SlowDown": ServiceUnavailable,
    "RequestTimeout": ServiceUnavailable,
    "InvalidBucketName": InvalidURI,
    "KeyTooLongError": InvalidURI,
    # Azure Blob
    "BlobNotFound": ObjectNotFound,
    "ContainerNotFound": ObjectNotFound,
    "ResourceNotFound": ObjectNotFound,
    "AuthenticationFailed": AccessDenied,
    "AuthorizationFailure": AccessDenied,
    "AuthorizationPermissionMismatch": AccessDenied,
    "InsufficientAccountPermissions": AccessDenied,
    "BlobAlreadyExists": ObjectExists,
    "ContainerAlreadyExists": ObjectExists,
    "Md5Mismatch": IntegrityError,
    "InvalidMd5": IntegrityError,
    "ServerBusy": ServiceUnavailable,
    "OperationTimedOut": ServiceUnavailable,
    "InvalidResourceName": InvalidURI,
    "InvalidUri": InvalidURI,
}


def error_for_status(status: int | None, code: str | None = None) -> type[StorageError]:
    """Pick the error class for an HTTP status and optional service error code.

    Args:
        status: The HTTP status code, if known.
        code: The service's error code (S3 `Error.Code`, Azure `x-ms-error-code`), if known.

    Returns:
        The `StorageError` subclass to raise; never the root class itself.
    """
    if code and code in _CODE_TO_ERROR:
        return _CODE_TO_ERROR[code]
    if status is None:
        return TransferError
    if status in (404, 410):
        return ObjectNotFound
    if status in (401, 403):
        return AccessDenied
    if status in (408, 429) or 500 <= status <= 599:
        return ServiceUnavailable
    return TransferError


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an exception, whatever library it comes from."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if isinstance(status, int) else None
    for attr in ("status_code", "status", "code"):
        with warnings.catch_warnings():  # aiohttp deprecates `.code`; reading it is harmless
            warnings.simplefilter("ignore")
            value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    if response is not None:  # httpx.HTTPStatusError, requests.HTTPError
        value = getattr(response, "status_code", None)
        if isinstance(value, int):
            return value
    return None


def _code_of(exc: BaseException) -> str | None:
    """The service error code carried by an exception (S3 `Code`, Azure `error_code`)."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    return None


def _by_status(exc: BaseException) -> type[StorageError]:
    return error_for_status(_status_of(exc), _code_of(exc))


# (module to look up in sys.modules, class name, target). Order matters: first isinstance match
# wins, so subclasses come before their bases. Modules are the ones that define (or, for httpx,
# re-export) the class; `tests/test_errors.py` checks every entry still resolves.
_TYPE_RULES: tuple[tuple[str, str, _Target], ...] = (
    # botocore (s3fs)
    ("botocore.exceptions", "ClientError", _by_status),
    ("botocore.exceptions", "NoCredentialsError", AccessDenied),
    ("botocore.exceptions", "PartialCredentialsError", AccessDenied),
    ("botocore.exceptions", "CredentialRetrievalError", AccessDenied),
    ("botocore.exceptions", "NoAuthTokenError", AccessDenied),
    ("botocore.exceptions", "TokenRetrievalError", AccessDenied),
    ("botocore.exceptions", "SSOError", AccessDenied),
    ("botocore.exceptions", "ParamValidationError", InvalidURI),
    ("botocore.exceptions", "InvalidDNSNameError", InvalidURI),
    ("botocore.exceptions", "ChecksumError", IntegrityError),
    ("botocore.exceptions", "FlexibleChecksumError", IntegrityError),
    ("botocore.exceptions", "IncompleteReadError", ServiceUnavailable),
    ("botocore.exceptions", "ResponseStreamingError", ServiceUnavailable),
    ("botocore.exceptions", "ConnectionError", ServiceUnavailable),
    ("botocore.exceptions", "HTTPClientError", ServiceUnavailable),
    ("botocore.exceptions", "CapacityNotAvailableError", ServiceUnavailable),
    ("botocore.exceptions", "BotoCoreError", TransferError),
    # azure-core (adlfs)
    ("azure.core.exceptions", "ResourceNotFoundError", ObjectNotFound),
    ("azure.core.exceptions", "ResourceExistsError", ObjectExists),
    ("azure.core.exceptions", "ClientAuthenticationError", AccessDenied),
    ("azure.core.exceptions", "IncompleteReadError", ServiceUnavailable),
    ("azure.core.exceptions", "HttpResponseError", _by_status),
    ("azure.core.exceptions", "ServiceRequestError", ServiceUnavailable),
    ("azure.core.exceptions", "ServiceResponseError", ServiceUnavailable),
    ("azure.core.exceptions", "AzureError", TransferError),
    # gcsfs and Google client libraries
    ("gcsfs.retry", "ChecksumError", IntegrityError),
    ("gcsfs.retry", "HttpError", _by_status),
    ("google.auth.exceptions", "TransportError", ServiceUnavailable),
    ("google.auth.exceptions", "TimeoutError", ServiceUnavailable),
    ("google.auth.exceptions", "GoogleAuthError", AccessDenied),
    ("google.api_core.exceptions", "RetryError", ServiceUnavailable),
    ("google.api_core.exceptions", "DeadlineExceeded", ServiceUnavailable),
    ("google.api_core.exceptions", "AlreadyExists", ObjectExists),
    ("google.api_core.exceptions", "DataLoss", IntegrityError),
    ("google.api_core.exceptions", "GoogleAPICallError", _by_status),
    ("google.api_core.exceptions", "GoogleAPIError", TransferError),
    # aiohttp (transport of s3fs, gcsfs, adlfs)
    ("aiohttp.client_exceptions", "ClientResponseError", _by_status),
    ("aiohttp.client_exceptions", "InvalidURL", InvalidURI),
    ("aiohttp.client_exceptions", "ClientConnectionError", ServiceUnavailable),
    ("aiohttp.client_exceptions", "ClientPayloadError", ServiceUnavailable),
    ("aiohttp.client_exceptions", "ClientError", TransferError),
    # requests (gcsfs raises its ProxyError on 502; google-auth uses requests)
    ("requests.exceptions", "HTTPError", _by_status),
    ("requests.exceptions", "InvalidURL", InvalidURI),
    ("requests.exceptions", "InvalidSchema", InvalidURI),
    ("requests.exceptions", "MissingSchema", InvalidURI),
    ("requests.exceptions", "ConnectionError", ServiceUnavailable),
    ("requests.exceptions", "Timeout", ServiceUnavailable),
    ("requests.exceptions", "ChunkedEncodingError", ServiceUnavailable),
    ("requests.exceptions", "RequestException", TransferError),
    # urllib3 (under botocore and requests)
    ("urllib3.exceptions", "LocationValueError", InvalidURI),
    ("urllib3.exceptions", "HTTPError", ServiceUnavailable),
    # httpx (signed URLs)
    ("httpx", "HTTPStatusError", _by_status),
    ("httpx", "UnsupportedProtocol", InvalidURI),
    ("httpx", "InvalidURL", InvalidURI),
    ("httpx", "TransportError", ServiceUnavailable),
    ("httpx", "HTTPError", TransferError),
    ("httpx", "StreamError", TransferError),
    # fsspec
    ("fsspec.exceptions", "FSTimeoutError", ServiceUnavailable),
)

_ERRNO_TO_ERROR: dict[int, type[StorageError]] = {
    errno.ENOENT: ObjectNotFound,
    errno.EACCES: AccessDenied,
    errno.EPERM: AccessDenied,
    errno.EEXIST: ObjectExists,
    errno.EISDIR: InvalidURI,
    errno.ENOTDIR: InvalidURI,
    errno.ENAMETOOLONG: InvalidURI,
    errno.EBUSY: ServiceUnavailable,
    errno.ETIMEDOUT: ServiceUnavailable,
    errno.ECONNREFUSED: ServiceUnavailable,
    errno.ECONNRESET: ServiceUnavailable,
    errno.ECONNABORTED: ServiceUnavailable,
    errno.EPIPE: ServiceUnavailable,
    errno.EHOSTUNREACH: ServiceUnavailable,
    errno.ENETUNREACH: ServiceUnavailable,
    getattr(errno, "EREMOTEIO", errno.EIO): ServiceUnavailable,
}

_BUILTIN_RULES: tuple[tuple[type[BaseException], type[StorageError]], ...] = (
    (FileNotFoundError, ObjectNotFound),
    (FileExistsError, ObjectExists),
    (PermissionError, AccessDenied),
    (IsADirectoryError, InvalidURI),
    (NotADirectoryError, InvalidURI),
    (ConnectionError, ServiceUnavailable),
    (TimeoutError, ServiceUnavailable),
    (asyncio.TimeoutError, ServiceUnavailable),
)

# Messages of errors that fsspec backends raise without a usable type or errno: gcsfs raises a
# bare OSError("Forbidden: ...") for 403 and s3fs keeps the S3 code only in the message.
_MESSAGE_RULES: tuple[tuple[str, type[StorageError]], ...] = (
    ("Forbidden", AccessDenied),
    ("BadDigest", IntegrityError),
    ("InvalidDigest", IntegrityError),
    ("SignatureDoesNotMatch", AccessDenied),
)


def _classify(exc: BaseException) -> type[StorageError]:
    """Pick the class for an exception, looking through the exceptions it wraps.

    Backends wrap service errors in generic ones (adlfs raises `RuntimeError("Failed to upload
    block: ...") from` the Azure error), so the first specific answer along the `__cause__` /
    `__context__` chain wins, starting from the outermost exception.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        found = _classify_one(current)
        if found is not TransferError:
            return found
        current = current.__cause__ or current.__context__
    return TransferError


def _classify_one(exc: BaseException) -> type[StorageError]:
    """Pick the `StorageError` subclass for one exception (see the module docstring)."""
    for module_name, class_name, target in _TYPE_RULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        cls = getattr(module, class_name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            if isinstance(target, type):
                return target
            return target(exc)
    for builtin, error in _BUILTIN_RULES:
        if isinstance(exc, builtin):
            return error
    if isinstance(exc, OSError):
        text = _describe(exc)
        for needle, error in _MESSAGE_RULES:
            if needle in text:
                return error
        if exc.errno in _ERRNO_TO_ERROR:
            return _ERRNO_TO_ERROR[exc.errno]
    return TransferError


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc).strip().splitlines()
    except Exception:  # a broken __str__ must not break the boundary
        text = []
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def translate(exc: BaseException, *, path: str | None = None, action: str = "") -> StorageError:
    """Translate any exception into a `flyte_storage.errors.StorageError`.

    Args:
        exc: The exception raised by a backend (or by this library).
        path: The path or URL the operation was about, for the message and `StorageError.path`.
        action: A short verb phrase for the message, e.g. `"get"` or `"upload to signed URL"`.

    Returns:
        `exc` itself if it already is a `StorageError`, else a new instance of the matching
        subclass with `cause=exc`. The caller raises it `from exc`.
    """
    if isinstance(exc, StorageError):
        if exc.path is None and path is not None:
            exc.path = path
        return exc
    try:
        error = _classify(exc)
        status = _status_of(exc)
    except Exception:  # an exception whose attributes misbehave is still translated
        error, status = TransferError, None
    where = f" {path}" if path else ""
    what = f"{action}{where}".strip() or "storage operation"
    message = f"{what} failed: {_describe(exc)}"
    if error is TransferError or issubclass(error, TransferError):
        return error(message, path=path, cause=exc, status=status)
    return error(message, path=path, cause=exc)


@contextlib.contextmanager
def boundary(action: str, path: str | None = None) -> Iterator[None]:
    """Translate every `Exception` raised inside the block (see `translate`).

    Args:
        action: What is being done, for the message (`"get"`, `"put"`, ...).
        path: The path or URL concerned.

    Raises:
        StorageError: The translated error, chained to the original.
    """
    try:
        yield
    except StorageError as e:
        if e.path is None:
            e.path = path
        raise
    except Exception as e:
        raise translate(e, path=path, action=action) from e
