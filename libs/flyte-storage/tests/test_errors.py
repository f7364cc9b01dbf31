"""The error boundary: the mapping from backend exceptions to `flyte_storage.errors` is total."""

from __future__ import annotations

import asyncio
import errno
import importlib
import inspect
import pickle
import sys
from typing import Any

import pytest

from flyte_storage import _errors, errors
from flyte_storage._errors import boundary, error_for_status, translate
from flyte_storage.errors import (
    AccessDenied,
    IntegrityError,
    InvalidURI,
    MissingExtraError,
    ObjectExists,
    ObjectNotFound,
    ServiceUnavailable,
    StorageError,
    TransferError,
)

# Every module whose exceptions can come out of a backend we use. All are installed in the dev
# environment (s3fs, gcsfs, adlfs, httpx are requirements of the repo).
BACKEND_EXCEPTION_MODULES = [
    "botocore.exceptions",
    "azure.core.exceptions",
    "gcsfs.retry",
    "google.auth.exceptions",
    "google.api_core.exceptions",
    "aiohttp.client_exceptions",
    "requests.exceptions",
    "urllib3.exceptions",
    "httpx",
    "fsspec.exceptions",
]


def _exception_classes(module_name: str) -> list[type[BaseException]]:
    module = importlib.import_module(module_name)
    found: list[type[BaseException]] = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if (
            issubclass(obj, Exception)
            and not issubclass(obj, Warning)
            and obj.__module__.split(".")[0] == module_name.split(".")[0]
        ):
            found.append(obj)
    return found


def _instantiate(cls: type[BaseException]) -> BaseException:
    """Make an instance of any exception class, whatever its constructor wants."""
    attempts: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {}),
        (("boom",), {}),
        (({"Error": {"Code": "X", "Message": "m"}}, "Op"), {}),
        ((None, "boom"), {}),
        ((None, None, "boom"), {}),
        (("boom", [ValueError("inner")]), {}),  # exception groups
    ]
    for args, kwargs in attempts:
        try:
            return cls(*args, **kwargs)
        except Exception:  # - try the next signature
            continue
    # Constructors with required keyword arguments (botocore's `fmt` messages): bypass them.
    exc = cls.__new__(cls)
    Exception.__init__(exc, "boom")
    return exc


ALL_BACKEND_CLASSES = [
    pytest.param(cls, id=f"{cls.__module__}.{cls.__qualname__}")
    for name in BACKEND_EXCEPTION_MODULES
    for cls in _exception_classes(name)
]


@pytest.mark.parametrize("cls", ALL_BACKEND_CLASSES)
def test_every_backend_exception_translates_to_a_storage_error(cls: type[BaseException]) -> None:
    exc = _instantiate(cls)
    out = translate(exc, path="s3://b/k", action="get")
    assert isinstance(out, StorageError)
    assert type(out) is not StorageError  # always a specific class, never the bare root
    assert out.cause is exc
    assert out.path == "s3://b/k"
    assert "get s3://b/k failed" in str(out)


def test_the_backend_exception_list_is_not_empty() -> None:
    # Guards the parametrisation above against silently enumerating nothing.
    assert len(ALL_BACKEND_CLASSES) > 200


@pytest.mark.parametrize(
    "builtin",
    [
        pytest.param(cls, id=cls.__name__)
        for cls in vars(__import__("builtins")).values()
        if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning)
    ],
)
def test_every_builtin_exception_translates(builtin: type[Exception]) -> None:
    out = translate(_instantiate(builtin))
    assert isinstance(out, StorageError) and type(out) is not StorageError


@pytest.mark.parametrize("module_name,class_name,target", _errors._TYPE_RULES)
def test_every_rule_names_a_real_class(module_name: str, class_name: str, target: Any) -> None:
    # An upstream rename would otherwise make a rule silently dead.
    module = importlib.import_module(module_name)
    cls = getattr(module, class_name)
    assert isinstance(cls, type) and issubclass(cls, BaseException)


def test_rules_are_ordered_subclass_first() -> None:
    resolved = [
        getattr(importlib.import_module(m), c) for m, c, _ in _errors._TYPE_RULES
    ]  # type: ignore[misc]
    for i, earlier in enumerate(resolved):
        for later in resolved[i + 1 :]:
            assert not (
                issubclass(later, earlier) and later is not earlier
            ), f"{later.__name__} can never match: {earlier.__name__} comes first"


@pytest.mark.parametrize("status", range(100, 600))
def test_every_http_status_maps_to_a_specific_class(status: int) -> None:
    cls = error_for_status(status)
    assert issubclass(cls, StorageError) and cls is not StorageError


@pytest.mark.parametrize(
    "status,expected",
    [
        (400, TransferError),
        (401, AccessDenied),
        (403, AccessDenied),
        (404, ObjectNotFound),
        (408, ServiceUnavailable),
        (409, TransferError),
        (410, ObjectNotFound),
        (429, ServiceUnavailable),
        (500, ServiceUnavailable),
        (503, ServiceUnavailable),
        (None, TransferError),
    ],
)
def test_status_mapping(status: int | None, expected: type[StorageError]) -> None:
    assert error_for_status(status) is expected


def test_service_codes_beat_the_status() -> None:
    assert error_for_status(400, "BadDigest") is IntegrityError
    assert error_for_status(403, "SignatureDoesNotMatch") is AccessDenied
    assert error_for_status(409, "BlobAlreadyExists") is ObjectExists
    assert error_for_status(404, "NoSuchBucket") is ObjectNotFound


def test_every_public_error_is_reachable() -> None:
    """Each class of `flyte_storage.errors` is produced by the boundary or raised directly."""
    produced = set(_errors._CODE_TO_ERROR.values())
    produced |= {t for _, _, t in _errors._TYPE_RULES if isinstance(t, type)}
    produced |= {e for _, e in _errors._BUILTIN_RULES}
    produced |= set(_errors._ERRNO_TO_ERROR.values())
    produced |= {error_for_status(s) for s in range(100, 600)}
    raised_directly = {MissingExtraError, errors.InvalidConfig, StorageError}
    public = {getattr(errors, n) for n in errors.__all__}
    assert public - produced - raised_directly == set()


def _client_error(code: str, status: int) -> Exception:
    # botocore arrives with the s3 extra; imported by name like the library does.
    client_error = importlib.import_module("botocore.exceptions").ClientError
    error: Exception = client_error(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )
    return error


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda: _client_error("NoSuchKey", 404), ObjectNotFound),
        (lambda: _client_error("AccessDenied", 403), AccessDenied),
        (lambda: _client_error("SignatureDoesNotMatch", 403), AccessDenied),
        (lambda: _client_error("SlowDown", 503), ServiceUnavailable),
        (lambda: _client_error("BadDigest", 400), IntegrityError),
        (lambda: _client_error("WhoKnows", 400), TransferError),
        (lambda: __import__("botocore.exceptions").exceptions.NoCredentialsError(), AccessDenied),
        (
            lambda: __import__("botocore.exceptions").exceptions.EndpointConnectionError(
                endpoint_url="http://x"
            ),
            ServiceUnavailable,
        ),
        (
            lambda: __import__("azure.core.exceptions").core.exceptions.ResourceNotFoundError("m"),
            ObjectNotFound,
        ),
        (
            lambda: __import__("azure.core.exceptions").core.exceptions.ServiceRequestError("m"),
            ServiceUnavailable,
        ),
        (
            lambda: __import__("azure.core.exceptions").core.exceptions.ClientAuthenticationError(
                "m"
            ),
            AccessDenied,
        ),
        (lambda: __import__("gcsfs.retry").retry.HttpError({"code": 403}), AccessDenied),
        (lambda: __import__("gcsfs.retry").retry.HttpError({"code": 502}), ServiceUnavailable),
        (lambda: OSError("Forbidden: b/o\nmissing permission"), AccessDenied),  # gcsfs 403
        (lambda: FileNotFoundError("x"), ObjectNotFound),
        (lambda: PermissionError("x"), AccessDenied),
        (lambda: FileExistsError("x"), ObjectExists),
        (lambda: IsADirectoryError("x"), InvalidURI),
        (lambda: ConnectionRefusedError("x"), ServiceUnavailable),
        (lambda: asyncio.TimeoutError(), ServiceUnavailable),
        (lambda: OSError(errno.EREMOTEIO, "InternalError"), ServiceUnavailable),  # s3fs 500
        (lambda: OSError(errno.EBUSY, "SlowDown"), ServiceUnavailable),  # s3fs 503
        (lambda: OSError(errno.EINVAL, "BadDigest: md5"), IntegrityError),
        (lambda: ValueError("something odd"), TransferError),
        (lambda: RuntimeError("something odd"), TransferError),
    ],
)
def test_specific_translations(make: Any, expected: type[StorageError]) -> None:
    assert type(translate(make())) is expected


def test_translation_does_not_import_backends() -> None:
    before = set(sys.modules)
    translate(RuntimeError("x"))
    assert set(sys.modules) == before


def test_boundary_chains_and_keeps_storage_errors() -> None:
    with pytest.raises(ObjectNotFound) as info, boundary("get", "gs://b/k"):
        raise FileNotFoundError("gone")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert info.value.path == "gs://b/k"

    original = AccessDenied("no", path=None)
    with pytest.raises(AccessDenied) as info2, boundary("get", "gs://b/k"):
        raise original
    assert info2.value is original and original.path == "gs://b/k"


def test_boundary_lets_cancellation_through() -> None:
    with pytest.raises(asyncio.CancelledError), boundary("get"):
        raise asyncio.CancelledError()
    with pytest.raises(KeyboardInterrupt), boundary("get"):
        raise KeyboardInterrupt()


@pytest.mark.parametrize(
    "cls,builtin",
    [
        (ObjectNotFound, FileNotFoundError),
        (ObjectExists, FileExistsError),
        (AccessDenied, PermissionError),
        (InvalidURI, ValueError),
        (errors.InvalidConfig, ValueError),
        (ServiceUnavailable, ConnectionError),
    ],
)
def test_errors_are_also_builtins(cls: type[StorageError], builtin: type[Exception]) -> None:
    err = cls("msg", path="p")
    assert isinstance(err, builtin) and isinstance(err, StorageError)
    assert str(err) == "msg"


@pytest.mark.parametrize("name", errors.__all__)
def test_errors_pickle(name: str) -> None:
    cls = getattr(errors, name)
    err = cls("msg", extra="s3") if cls is MissingExtraError else cls("msg", path="s3://b/k")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == "msg"
    if cls is not MissingExtraError:
        assert back.path == "s3://b/k"
    else:
        assert back.extra == "s3"


def test_transfer_error_keeps_status() -> None:
    out = translate(_client_error("WhoKnows", 400))
    assert isinstance(out, TransferError) and out.status == 400


def test_retryable_flag() -> None:
    assert ServiceUnavailable("x").retryable
    assert not ObjectNotFound("x").retryable
