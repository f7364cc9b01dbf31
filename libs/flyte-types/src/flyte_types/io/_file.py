"""`File`: a reference to one file, local or in object storage, passed between tasks by URI.

Wire format (identical to the reference SDK): `LiteralType(blob{dimensionality: SINGLE})`;
`Literal(scalar.blob{uri, metadata.type{format, SINGLE}}, hash)`. Inside dataclasses and pydantic
models a `File` is the map `{path, name, format, hash}`.

Conversion never moves data: a `File` already points at where its bytes are. `File.from_local`
uploads under the running task's raw data path; outside a task (local mode) it keeps the local
path, like the reference.
"""

from __future__ import annotations

import builtins
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from flyteidl2.core.literals_pb2 import Blob, BlobMetadata, Literal, Scalar
from flyteidl2.core.types_pb2 import BlobType, LiteralType
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.json_schema import SkipJsonSchema

from flyte_types import _storage
from flyte_types._transformer import TypeTransformer, mismatch
from flyte_types._typing import is_class, strip_annotated
from flyte_types.errors import LiteralDecodeError
from flyte_types.io._hashing import HashingWriter, HashMethod, PrecomputedValue
from flyte_types.io._paths import AsyncLocalFile

__all__ = [
    "File",
    "FileTransformer",
    "blob_literal",
]

if TYPE_CHECKING:  # PEP 696 default: a bare `File(...)` / `Dir(...)` is `[Any]` for type checkers
    from typing_extensions import TypeVar as _DefaultedTypeVar

    T = _DefaultedTypeVar("T", default=Any)
else:
    T = TypeVar("T")

LazyUploader = Callable[[], Awaitable[tuple[str | None, str]]]

_CHUNK = 8 * 1024 * 1024


def _hash_local_file(path: str, method: HashMethod) -> str:
    with builtins.open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            method.update(memoryview(chunk))
    return method.result()


class _TextAdapter:
    """Text-mode view of a binary async file (remote files are opened in binary mode)."""

    def __init__(self, fh: Any, encoding: str = "utf-8") -> None:
        self._fh = fh
        self._encoding = encoding

    async def read(self, size: int = -1) -> str:
        data = await self._fh.read(size)
        return bytes(data).decode(self._encoding)

    async def readline(self, size: int = -1) -> str:
        line = await self._fh.readline(size)
        return bytes(line).decode(self._encoding)

    async def readlines(self, hint: int = -1) -> list[str]:
        return [bytes(line).decode(self._encoding) for line in await self._fh.readlines(hint)]

    async def write(self, data: str) -> int:
        await self._fh.write(data.encode(self._encoding))
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class _HashingAsyncWriter:
    def __init__(self, fh: Any, method: HashMethod) -> None:
        self._fh = fh
        self._method = method

    async def write(self, data: Any) -> Any:
        raw = data.encode() if isinstance(data, str) else data
        self._method.update(memoryview(raw))
        return await self._fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class File(BaseModel, Generic[T]):
    """A file, local or remote, with an optional format and content hash.

    Create one with a class method (`from_local`, `new_remote`, `from_existing_remote`,
    `named_remote`); the constructor is for references to files that already exist. Every I/O
    method is `async`, with a `_sync` twin.

    Args:
        path: Local path or URI (`s3://bucket/key`).
        name: File name (defaults to the last component of `path`).
        format: Free-form format label (e.g. `"csv"`), carried in the literal.
        hash: Content hash used in cache keys instead of the path.
        hash_method: Computes `hash` while the file is written or uploaded.

    Example:
        ```python
        @env.task
        async def write() -> File:
            f = File.new_remote()
            async with f.open("wb") as fh:
                await fh.write(b"hello")
            return f
        ```
    """

    path: str
    name: str | None = None
    format: str = ""
    hash: str | None = None
    hash_method: Annotated[
        HashMethod | None, Field(default=None, exclude=True), SkipJsonSchema()
    ] = None

    _lazy_uploader: LazyUploader | None = PrivateAttr(default=None)

    model_config: ClassVar[ConfigDict] = ConfigDict(
        arbitrary_types_allowed=True,
        json_schema_extra={
            "description": "A file reference with an optional format type.",
            "x-flyte-type": "file",
        },
    )

    @model_validator(mode="before")
    @classmethod
    def pre_init(cls, data: Any) -> Any:
        """Default `name` to the last component of `path`."""
        if (
            isinstance(data, dict)
            and data.get("name") is None
            and isinstance(data.get("path"), str)
        ):
            data = {**data, "name": Path(data["path"]).name}
        return data

    def _serialize(self) -> dict[str, Any]:
        """The map a `File` is inside dataclasses (`{path, name, format, hash}`)."""
        return self.model_dump()

    @classmethod
    def _deserialize(cls, value: dict[str, Any]) -> File[Any]:
        return cls.model_validate(value)

    @property
    def lazy_uploader(self) -> LazyUploader | None:
        """An async callable `() -> (hash, uri)` run when the file is converted, if set."""
        return self._lazy_uploader

    @lazy_uploader.setter
    def lazy_uploader(self, uploader: LazyUploader | None) -> None:
        self._lazy_uploader = uploader

    @classmethod
    def schema_match(cls, incoming: Any) -> bool:
        """Whether a JSON schema describes a `File`."""
        if not isinstance(incoming, dict):
            return False
        mine = cls.model_json_schema()
        return bool(
            incoming.get("type") == mine.get("type")
            and incoming.get("title") == mine.get("title")
            and incoming.get("required")
            and set(incoming.get("required", ())) == set(mine.get("required", ()))
        )

    # -- construction ---------------------------------------------------------------------- #

    @classmethod
    def new_remote(
        cls, file_name: str | None = None, hash_method: HashMethod | str | None = None
    ) -> File[Any]:
        """Reference a new file under the task's raw data path (local scratch outside a task).

        Args:
            file_name: The file name; a random one when omitted.
            hash_method: A `HashMethod` fed while writing through `open`, or a precomputed hash.
        """
        known = hash_method if isinstance(hash_method, str) else None
        method = hash_method if not isinstance(hash_method, str) else None
        return cls(path=_storage.new_path(file_name), hash=known, hash_method=method)

    @classmethod
    def named_remote(cls, name: str) -> File[Any]:
        """Reference a file whose path depends only on `name` and the running action.

        Retries of the same action get the same path, so an upload is not repeated.

        Raises:
            ValueError: Outside a task, or if `name` contains a path separator.
        """
        if "/" in name or os.sep in name:
            raise ValueError(f"name must be a plain file name, got {name!r}")
        from flyte_models import current_task_context

        tctx = current_task_context()
        if not tctx:
            raise ValueError("File.named_remote() requires an active task execution context.")
        node_id = None
        raw = tctx.raw_data_path.path.rstrip("/").rsplit("/", 1)[-1]
        prefix = f"{tctx.action.run_name}-"
        if raw.startswith(prefix):
            node, _, attempt = raw[len(prefix) :].rpartition("-")
            if node and attempt.isdigit():
                node_id = node
        base = tctx.run_base_dir
        if not _storage.is_remote(base):
            parent = Path(_storage.strip_file_scheme(base))
            parent = parent / node_id if node_id else parent
            parent.mkdir(parents=True, exist_ok=True)
            return cls(path=str((parent / name).absolute()))
        parts = [base.rstrip("/"), node_id, name] if node_id else [base.rstrip("/"), name]
        return cls(path="/".join(parts))

    @classmethod
    def from_existing_remote(cls, remote_path: str, file_cache_key: str | None = None) -> File[Any]:
        """Reference an existing file (no I/O); `file_cache_key` is its hash for cache keys."""
        return cls(path=remote_path, hash=file_cache_key)

    @classmethod
    def _target(cls, local_path: str, remote_destination: str | None) -> str | None:
        if not os.path.exists(local_path):
            raise ValueError(f"File not found: {local_path}")
        if remote_destination is not None:
            return remote_destination
        raw = _storage.current_raw_data_path()
        if raw is None:
            return None  # local mode: keep the local path
        target: str = raw.get_random_remote_path(Path(local_path).name)
        if not _storage.is_remote(target):
            # Local raw data: keep the path, unless the task's working directory is scratch.
            return _storage.local_target(target, local_path)
        return target

    @classmethod
    async def from_local(
        cls,
        local_path: str | Path,
        remote_destination: str | None = None,
        hash_method: HashMethod | str | None = None,
        chunk_size: int | None = None,
        max_concurrency: int | None = None,
    ) -> File[Any]:
        """Upload a local file (under the task's raw data path unless `remote_destination`).

        Outside a task, and when the raw data path is local, the local path is kept as is.

        Args:
            local_path: The file.
            remote_destination: Where to put it.
            hash_method: A `HashMethod` computed over the bytes, or a precomputed hash string.
            chunk_size: Accepted for compatibility; part sizes come from the storage config.
            max_concurrency: Accepted for compatibility; see `chunk_size`.

        Raises:
            ValueError: If the local file does not exist.
        """
        local = os.fspath(local_path)
        target = cls._target(local, remote_destination)
        hash_value, method = _split_hash(hash_method)
        if method is not None and not isinstance(method, PrecomputedValue):
            hash_value = _hash_local_file(local, method)
        elif method is not None:
            hash_value = method.result()
        if target is None:
            path = (
                local if _storage.current_raw_data_path() is None else str(Path(local).absolute())
            )
        elif _storage.is_remote(target):
            path = await _storage.storage().put(local, target)
        else:
            path = str(Path(_copy(local, target)).absolute())
        return cls(path=path, name=Path(local).name, hash=hash_value, hash_method=method)

    @classmethod
    def from_local_sync(
        cls,
        local_path: str | Path,
        remote_destination: str | None = None,
        hash_method: HashMethod | str | None = None,
        chunk_size: int | None = None,
        max_concurrency: int | None = None,
    ) -> File[Any]:
        """Blocking twin of `from_local`."""
        local = os.fspath(local_path)
        target = cls._target(local, remote_destination)
        hash_value, method = _split_hash(hash_method)
        if method is not None and not isinstance(method, PrecomputedValue):
            hash_value = _hash_local_file(local, method)
        elif method is not None:
            hash_value = method.result()
        if target is None:
            path = (
                local if _storage.current_raw_data_path() is None else str(Path(local).absolute())
            )
        elif _storage.is_remote(target):
            path = _storage.storage().put_sync(local, target)
        else:
            path = str(Path(_copy(local, target)).absolute())
        return cls(path=path, name=Path(local).name, hash=hash_value, hash_method=method)

    # -- I/O ------------------------------------------------------------------------------- #

    @asynccontextmanager
    async def open(
        self,
        mode: str = "rb",
        block_size: int | None = None,
        cache_type: str = "readahead",
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Open the file for async reads or writes (`async with f.open("rb") as fh: ...`).

        Writes feed `hash_method` (if set) and store its result in `hash` on close.
        """
        writing = any(c in mode for c in "wax")
        if not _storage.is_remote(self.path):
            local = _storage.strip_file_scheme(self.path)
            if writing:
                os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
            fh = builtins.open(local, mode)  # noqa: SIM115 - closed in the finally below
            target: Any = (
                HashingWriter(fh, self.hash_method) if writing and self.hash_method else fh
            )
            try:
                yield AsyncLocalFile(target)
            finally:
                fh.close()
                if writing and self.hash_method is not None:
                    self.hash = self.hash_method.result()
            return
        binary_mode = "wb" if writing else "rb"
        async with _storage.storage().open(self.path, binary_mode, block_size=block_size) as fh:
            handle: Any = fh
            if writing and self.hash_method is not None:
                handle = _HashingAsyncWriter(handle, self.hash_method)
            if "b" not in mode:
                handle = _TextAdapter(handle)
            yield handle
        if writing and self.hash_method is not None:
            self.hash = self.hash_method.result()

    @contextmanager
    def open_sync(
        self,
        mode: str = "rb",
        block_size: int | None = None,
        cache_type: str = "readahead",
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> Iterator[IO[Any]]:
        """Open the file for blocking reads or writes (`with f.open_sync("rb") as fh: ...`)."""
        writing = any(c in mode for c in "wax")
        if not _storage.is_remote(self.path):
            local = _storage.strip_file_scheme(self.path)
            if writing:
                os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
            with builtins.open(local, mode) as fh:
                if writing and self.hash_method is not None:
                    yield HashingWriter(fh, self.hash_method)  # type: ignore[misc]
                else:
                    yield fh
            if writing and self.hash_method is not None:
                self.hash = self.hash_method.result()
            return
        handle = _storage.storage().open_sync(
            self.path, "wb" if writing else "rb", block_size=block_size
        )
        with handle as fh:
            if writing and self.hash_method is not None:
                yield HashingWriter(fh, self.hash_method)  # type: ignore[misc]
            else:
                yield fh
        if writing and self.hash_method is not None:
            self.hash = self.hash_method.result()

    async def exists(self) -> bool:
        """Whether the file exists."""
        if not _storage.is_remote(self.path):
            return os.path.exists(_storage.strip_file_scheme(self.path))
        return bool(await _storage.storage().exists(self.path))

    def exists_sync(self) -> bool:
        """Blocking twin of `exists`."""
        if not _storage.is_remote(self.path):
            return os.path.exists(_storage.strip_file_scheme(self.path))
        return bool(_storage.storage().exists_sync(self.path))

    def _destination(self, local_path: str | Path | None) -> str | None:
        if not _storage.is_remote(self.path):
            src = Path(_storage.strip_file_scheme(self.path)).absolute()
            if local_path is None or Path(local_path).absolute() == src:
                return None  # already local: nothing to copy
        name = Path(self.path.rstrip("/")).name or "file"
        if local_path is None:
            return _storage.new_local_path(name)
        text = os.fspath(local_path)
        dest = Path(text).absolute()
        if text.endswith(os.sep) or dest.is_dir():
            return str(dest / name)
        return str(dest)

    async def download(self, local_path: str | Path | None = None) -> str:
        """Download to `local_path` (a fresh local path when omitted); return the local path.

        A file that is already local is not copied unless another path is requested.
        """
        dest = self._destination(local_path)
        if dest is None:
            return _storage.strip_file_scheme(self.path)
        if not _storage.is_remote(self.path):
            return _copy(self.path, dest)
        result: str = await _storage.storage().get(self.path, dest)
        return result or dest

    def download_sync(self, local_path: str | Path | None = None) -> str:
        """Blocking twin of `download`."""
        dest = self._destination(local_path)
        if dest is None:
            return _storage.strip_file_scheme(self.path)
        if not _storage.is_remote(self.path):
            return _copy(self.path, dest)
        result: str = _storage.storage().get_sync(self.path, dest)
        return result or dest


def _split_hash(hash_method: HashMethod | str | None) -> tuple[str | None, HashMethod | None]:
    if isinstance(hash_method, str):
        return hash_method, None
    return None, hash_method


def _copy(src: str, dest: str) -> str:
    src = _storage.strip_file_scheme(src)
    dest = _storage.strip_file_scheme(dest)
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    shutil.copy2(src, dest)
    return dest


async def blob_literal(value: Any, dimensionality: int) -> Literal:
    """The blob literal referencing a `File` or `Dir` (running its lazy uploader first, if any)."""
    uri = value.path
    hash_value = value.hash or None
    if value.lazy_uploader is not None:
        uploaded_hash, uri = await value.lazy_uploader()
        hash_value = uploaded_hash or hash_value
    lit = Literal(
        scalar=Scalar(
            blob=Blob(
                metadata=BlobMetadata(
                    type=BlobType(format=value.format, dimensionality=dimensionality)
                ),
                uri=uri,
            )
        )
    )
    if hash_value:
        lit.hash = hash_value
    return lit


class FileTransformer(TypeTransformer[File[Any]]):
    """`File` values as single-part blobs."""

    def __init__(self) -> None:
        super().__init__("File", File)

    def assert_type(self, t: Any, v: Any) -> None:
        """Checked in `to_literal`."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """A single-part blob of unspecified format."""
        return LiteralType(blob=BlobType(format="", dimensionality=BlobType.SINGLE))

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Reference the file's URI (running its lazy uploader first, if any)."""
        if not isinstance(python_val, File):
            raise mismatch(strip_annotated(python_type)[0], python_val)
        return await blob_literal(python_val, BlobType.SINGLE)

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Build a `File` (of the expected class) for the blob's URI."""
        if not lv.scalar.HasField("blob"):
            raise LiteralDecodeError(
                f"Expected a blob literal for a File, got {lv.WhichOneof('value')}"
            )
        blob = lv.scalar.blob
        if blob.metadata.type.dimensionality != BlobType.SINGLE:
            raise LiteralDecodeError("Expected a single-part blob for a File, got a multipart blob")
        cls, _ = strip_annotated(expected_python_type)
        if not (is_class(cls) and issubclass(cls, File)):
            cls = File
        return cls(
            path=blob.uri,
            name=Path(blob.uri).name,
            format=blob.metadata.type.format,
            hash=lv.hash or None,
        )

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Single-part blobs (except pickles) reverse to `File`."""
        if (
            literal_type.HasField("blob")
            and literal_type.blob.dimensionality == BlobType.SINGLE
            and literal_type.blob.format != "PythonPickle"
        ):
            return File
        raise ValueError(f"Cannot guess python type from {literal_type}")
