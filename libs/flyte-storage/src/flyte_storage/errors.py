"""Errors raised by `flyte_storage`.

Every failure that comes out of a storage backend (local disk, fsspec, s3fs/botocore, gcsfs,
adlfs/azure-core, httpx for signed URLs) is translated at one boundary into one of the classes
below, with the original exception kept as `__cause__` (and as `StorageError.cause`). Callers
therefore catch `flyte_storage.errors.*` and never a cloud SDK's exception type.

Several classes also inherit the matching builtin, so code written against plain files keeps
working (`except FileNotFoundError` catches `ObjectNotFound`):

```
StorageError (Exception)
├── ObjectNotFound (+ FileNotFoundError)      the object, prefix or bucket does not exist
├── ObjectExists (+ FileExistsError)          the destination exists and may not be overwritten
├── AccessDenied (+ PermissionError)          missing/invalid credentials or permission; bad or expired signature
├── InvalidURI (+ ValueError)                 a path or URL that cannot be used (unknown protocol, dir vs file, ...)
├── InvalidConfig (+ ValueError)              a storage configuration value that cannot be used
├── MissingExtraError (+ ImportError)         the backend for a protocol is not installed: `pip install 'flyte-storage[s3]'`
├── ServiceUnavailable (+ ConnectionError)    cannot reach the service, or it kept failing (5xx, throttling, timeouts)
└── TransferError                             a transfer failed for another reason (rejected request, bad response)
    └── IntegrityError                        the bytes received or stored do not match their checksum or size
```

Example:
    ```python
    import flyte_storage
    from flyte_storage.errors import ObjectNotFound

    try:
        flyte_storage.get_sync("s3://bucket/missing.txt")
    except ObjectNotFound as e:
        print("no such object:", e.path)
    ```
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "IntegrityError",
    "InvalidConfig",
    "InvalidURI",
    "MissingExtraError",
    "ObjectExists",
    "ObjectNotFound",
    "ServiceUnavailable",
    "StorageError",
    "TransferError",
]


class StorageError(Exception):
    """Root of every error raised by `flyte_storage`.

    Attributes:
        path: The path or URL the failed operation was about, when known.
        cause: The backend exception this error was translated from, when there is one (also
            available as `__cause__`).
        retryable: Whether repeating the same operation later may succeed.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        """Create the error.

        Args:
            message: A human-readable explanation.
            path: The path or URL the failed operation was about.
            cause: The backend exception being translated.
        """
        super().__init__(message)
        self.message = message
        self.path = path
        self.cause = cause

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Builtin bases (OSError in particular) pickle their args, not our keyword-only fields;
        # errors cross process boundaries in the runtime, so keep them round-trippable.
        return (_rebuild, (type(self), self.message, self.path, None))


def _rebuild(
    cls: type[StorageError], message: str, path: str | None, cause: BaseException | None
) -> StorageError:
    return cls(message, path=path, cause=cause)


class ObjectNotFound(StorageError, FileNotFoundError):
    """The object, directory prefix, container or bucket does not exist."""


class ObjectExists(StorageError, FileExistsError):
    """The destination already exists and the operation may not overwrite it."""


class AccessDenied(StorageError, PermissionError):
    """The credentials are missing, invalid, or not allowed to do this.

    A signed URL whose signature does not match (tampered) or that has expired also lands here.
    """


class InvalidURI(StorageError, ValueError):
    """The path or URL cannot be used: unknown protocol, a directory where a file is needed, ..."""


class InvalidConfig(StorageError, ValueError):
    """A storage configuration value (environment variable or config-file entry) is invalid."""


class MissingExtraError(StorageError, ImportError):
    """The fsspec backend for a protocol is not installed.

    The message names the extra that installs it, e.g. `pip install 'flyte-storage[s3]'`.

    Attributes:
        extra: The name of the distribution extra that provides the backend (`s3`, `gcs`, `azure`).
    """

    def __init__(self, message: str, *, extra: str, cause: BaseException | None = None) -> None:
        """Create the error.

        Args:
            message: A human-readable explanation, including the install command.
            extra: The extra that provides the missing backend.
            cause: The original `ImportError`.
        """
        super().__init__(message, cause=cause)
        self.extra = extra
        # ImportError.name/.path are set by the import system; keep `name` meaningful here.
        self.name = extra

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_extra, (self.message, self.extra))


def _rebuild_extra(message: str, extra: str) -> MissingExtraError:
    return MissingExtraError(message, extra=extra)


class ServiceUnavailable(StorageError, ConnectionError):
    """The storage service could not be reached or kept failing.

    Raised for connection errors, timeouts, throttling and HTTP 5xx answers, after the configured
    retries were used up.
    """

    retryable = True


class TransferError(StorageError):
    """A transfer failed for a reason not covered by a more specific class.

    Examples: the service rejected the request as malformed (HTTP 400), a signed-URL server
    answered with an unexpected status, or the backend raised an error we do not classify.

    Attributes:
        status: The HTTP status code of the failed request, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        cause: BaseException | None = None,
        status: int | None = None,
    ) -> None:
        """Create the error.

        Args:
            message: A human-readable explanation.
            path: The path or URL of the failed transfer.
            cause: The backend exception being translated.
            status: The HTTP status code, when there was one.
        """
        super().__init__(message, path=path, cause=cause)
        self.status = status


class IntegrityError(TransferError):
    """The data does not match its checksum or expected size (e.g. a `Content-MD5` mismatch)."""
