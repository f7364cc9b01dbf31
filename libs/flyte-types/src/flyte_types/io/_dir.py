"""`Dir`: a reference to a directory (or object-store prefix) passed between tasks by URI.

Wire format (identical to the reference SDK): `LiteralType(blob{dimensionality: MULTIPART})`;
`Literal(scalar.blob{uri, metadata.type{format, MULTIPART}}, hash)`. Inside dataclasses and
pydantic models a `Dir` is the map `{path, name, format, hash}`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import BlobType, LiteralType
from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from flyte_types import _storage
from flyte_types._transformer import TypeTransformer, mismatch
from flyte_types._typing import is_class, strip_annotated
from flyte_types.errors import LiteralDecodeError
from flyte_types.io._file import File, blob_literal
from flyte_types.io._paths import copy_local, list_local, list_remote

__all__ = [
    "Dir",
    "DirTransformer",
    "EmptyDir",
]

if TYPE_CHECKING:  # PEP 696 default: a bare `File(...)` / `Dir(...)` is `[Any]` for type checkers
    from typing_extensions import TypeVar as _DefaultedTypeVar

    T = _DefaultedTypeVar("T", default=Any)
else:
    T = TypeVar("T")

LazyUploader = Callable[[], Awaitable[tuple[str | None, str]]]

EMPTY_DIR_SENTINEL = "::flyte-empty-dir::"


class Dir(BaseModel, Generic[T]):
    """A directory, local or remote, with an optional format and content hash.

    Every I/O method is `async`, with a `_sync` twin.

    Args:
        path: Local directory or URI prefix (`s3://bucket/prefix/`).
        name: Directory name (defaults to the last component of `path`).
        format: Free-form format label of the files inside.
        hash: Content hash used in cache keys instead of the path.

    Example:
        ```python
        @env.task
        async def count(d: Dir) -> int:
            return len(await d.list_files())
        ```
    """

    path: str
    name: str | None = None
    format: str = ""
    hash: str | None = None

    _lazy_uploader: LazyUploader | None = PrivateAttr(default=None)

    model_config: ClassVar[ConfigDict] = ConfigDict(
        arbitrary_types_allowed=True,
        json_schema_extra={
            "description": "A directory reference with an optional format type.",
            "x-flyte-type": "dir",
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
        return self.model_dump()

    @classmethod
    def _deserialize(cls, value: dict[str, Any]) -> Dir[Any]:
        return cls.model_validate(value)

    @property
    def lazy_uploader(self) -> LazyUploader | None:
        """An async callable `() -> (hash, uri)` run when the directory is converted, if set."""
        return self._lazy_uploader

    @lazy_uploader.setter
    def lazy_uploader(self, uploader: LazyUploader | None) -> None:
        self._lazy_uploader = uploader

    @property
    def is_empty(self) -> bool:
        """Whether this is the `EmptyDir` sentinel ("no directory was produced")."""
        return self.path == EMPTY_DIR_SENTINEL

    @classmethod
    def empty(cls) -> Dir[Any]:
        """Return the `EmptyDir` sentinel."""
        return EmptyDir()

    @classmethod
    def schema_match(cls, incoming: Any) -> bool:
        """Whether a JSON schema describes a `Dir`."""
        if not isinstance(incoming, dict):
            return False
        mine = cls.model_json_schema()
        return bool(
            incoming.get("type") == mine.get("type")
            and incoming.get("title") == mine.get("title")
            and incoming.get("required")
            and set(incoming.get("required", ())) == set(mine.get("required", ()))
        )

    # -- listing --------------------------------------------------------------------------- #

    async def walk(
        self, recursive: bool = True, max_depth: int | None = None
    ) -> AsyncIterator[File[Any]]:
        """Yield a `File` for every file below the directory (top level only if not `recursive`)."""
        if not _storage.is_remote(self.path):
            for p in list_local(self.path, recursive=recursive, max_depth=max_depth):
                yield File(path=p)
            return
        for p in await list_remote(self.path, recursive=recursive, max_depth=max_depth):
            yield File(path=p)

    def walk_sync(
        self, recursive: bool = True, file_pattern: str = "*", max_depth: int | None = None
    ) -> Iterator[File[Any]]:
        """Blocking twin of `walk`, with a glob filter on file names."""
        if not _storage.is_remote(self.path):
            for p in list_local(
                self.path, recursive=recursive, max_depth=max_depth, pattern=file_pattern
            ):
                yield File(path=p)
            return
        from flyte_types._engine import run_sync

        paths = run_sync(
            list_remote(self.path, recursive=recursive, max_depth=max_depth, pattern=file_pattern)
        )
        for p in paths:
            yield File(path=p)

    async def list_files(self) -> list[File[Any]]:
        """Return the files at the top level of the directory."""
        return [f async for f in self.walk(recursive=False)]

    def list_files_sync(self) -> list[File[Any]]:
        """Blocking twin of `list_files`."""
        return list(self.walk_sync(recursive=False))

    def _child(self, file_name: str) -> str:
        if _storage.is_remote(self.path):
            return self.path.rstrip("/") + "/" + file_name
        return os.path.join(_storage.strip_file_scheme(self.path), file_name)

    async def get_file(self, file_name: str) -> File[Any] | None:
        """Return the `File` named `file_name` in the directory, or `None` if it does not exist."""
        f: File[Any] = File(path=self._child(file_name))
        return f if await f.exists() else None

    def get_file_sync(self, file_name: str) -> File[Any] | None:
        """Blocking twin of `get_file`."""
        f: File[Any] = File(path=self._child(file_name))
        return f if f.exists_sync() else None

    async def exists(self) -> bool:
        """Whether the directory exists."""
        if not _storage.is_remote(self.path):
            return os.path.isdir(_storage.strip_file_scheme(self.path))
        return bool(await _storage.storage().exists(self.path))

    def exists_sync(self) -> bool:
        """Blocking twin of `exists`."""
        if not _storage.is_remote(self.path):
            return os.path.isdir(_storage.strip_file_scheme(self.path))
        return bool(_storage.storage().exists_sync(self.path))

    # -- transfer -------------------------------------------------------------------------- #

    def _destination(self, local_path: str | Path | None) -> str | None:
        if not _storage.is_remote(self.path):
            src = Path(_storage.strip_file_scheme(self.path)).absolute()
            if local_path is None or Path(local_path).absolute() == src:
                return None
        if local_path is None:
            return _storage.new_local_path(Path(self.path.rstrip("/")).name or "dir")
        return str(Path(local_path).absolute())

    async def download(self, local_path: str | Path | None = None) -> str:
        """Download the tree to `local_path` (a fresh local directory when omitted)."""
        dest = self._destination(local_path)
        if dest is None:
            return _storage.strip_file_scheme(self.path)
        if not _storage.is_remote(self.path):
            return copy_local(self.path, dest)
        result: str = await _storage.storage().get(self.path, dest, recursive=True)
        return result or dest

    def download_sync(self, local_path: str | Path | None = None) -> str:
        """Blocking twin of `download`."""
        dest = self._destination(local_path)
        if dest is None:
            return _storage.strip_file_scheme(self.path)
        if not _storage.is_remote(self.path):
            return copy_local(self.path, dest)
        result: str = _storage.storage().get_sync(self.path, dest, recursive=True)
        return result or dest

    @classmethod
    def _target(cls, local_path: str, remote_destination: str | None) -> str | None:
        if not os.path.isdir(local_path):
            raise ValueError(f"Directory not found: {local_path}")
        if remote_destination is not None:
            return remote_destination
        raw = _storage.current_raw_data_path()
        if raw is None:
            return None
        target: str = raw.get_random_remote_path(os.path.basename(os.path.normpath(local_path)))
        if not _storage.is_remote(target):
            # Local raw data: keep the path, unless the task's working directory is scratch.
            return _storage.local_target(target, local_path)
        return target

    @classmethod
    async def from_local(
        cls,
        local_path: str | Path,
        remote_destination: str | None = None,
        dir_cache_key: str | None = None,
        batch_size: int | None = None,
        chunk_size: int | None = None,
        max_concurrency: int | None = None,
    ) -> Dir[Any]:
        """Upload a local directory (under the task's raw data path unless `remote_destination`).

        Outside a task, and when the raw data path is local, the local path is kept.

        Raises:
            ValueError: If the directory does not exist.
        """
        local = os.fspath(local_path)
        name = os.path.basename(os.path.normpath(local))
        target = cls._target(local, remote_destination)
        if target is None:
            path = (
                local if _storage.current_raw_data_path() is None else str(Path(local).absolute())
            )
        elif _storage.is_remote(target):
            path = await _storage.storage().put(local, target, recursive=True)
        else:
            path = str(Path(copy_local(local, target)).absolute())
        return cls(path=path, name=name, hash=dir_cache_key)

    @classmethod
    def from_local_sync(
        cls,
        local_path: str | Path,
        remote_destination: str | None = None,
        dir_cache_key: str | None = None,
        batch_size: int | None = None,
        chunk_size: int | None = None,
        max_concurrency: int | None = None,
    ) -> Dir[Any]:
        """Blocking twin of `from_local`."""
        local = os.fspath(local_path)
        name = os.path.basename(os.path.normpath(local))
        target = cls._target(local, remote_destination)
        if target is None:
            path = (
                local if _storage.current_raw_data_path() is None else str(Path(local).absolute())
            )
        elif _storage.is_remote(target):
            path = _storage.storage().put_sync(local, target, recursive=True)
        else:
            path = str(Path(copy_local(local, target)).absolute())
        return cls(path=path, name=name, hash=dir_cache_key)

    @classmethod
    def new_remote(cls, dir_name: str | None = None, hash: str | None = None) -> Dir[Any]:
        """Reference a new directory under the task's raw data path (local scratch outside a task)."""
        path = _storage.new_path(dir_name)
        return cls(path=path, name=dir_name or os.path.basename(path.rstrip("/")), hash=hash)

    @classmethod
    def from_existing_remote(cls, remote_path: str, dir_cache_key: str | None = None) -> Dir[Any]:
        """Reference an existing directory (no I/O); `dir_cache_key` is its hash for cache keys."""
        return cls(path=remote_path, hash=dir_cache_key)


class EmptyDir(Dir[Any]):
    """The sentinel `Dir` meaning "no directory was produced" (check `Dir.is_empty`)."""

    def __init__(self, **data: Any) -> None:
        data["path"] = EMPTY_DIR_SENTINEL
        data.setdefault("name", "")
        super().__init__(**data)


class DirTransformer(TypeTransformer[Dir[Any]]):
    """`Dir` values as multipart blobs."""

    def __init__(self) -> None:
        super().__init__("Dir", Dir)

    def assert_type(self, t: Any, v: Any) -> None:
        """Checked in `to_literal`."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """A multipart blob of unspecified format."""
        return LiteralType(blob=BlobType(format="", dimensionality=BlobType.MULTIPART))

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Reference the directory's URI (running its lazy uploader first, if any)."""
        if not isinstance(python_val, Dir):
            raise mismatch(strip_annotated(python_type)[0], python_val)
        return await blob_literal(python_val, BlobType.MULTIPART)

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Build a `Dir` (of the expected class) for the blob's URI."""
        if not lv.scalar.HasField("blob"):
            raise LiteralDecodeError(
                f"Expected a blob literal for a Dir, got {lv.WhichOneof('value')}"
            )
        blob = lv.scalar.blob
        if blob.metadata.type.dimensionality != BlobType.MULTIPART:
            raise LiteralDecodeError("Expected a multipart blob for a Dir, got a single-part blob")
        cls, _ = strip_annotated(expected_python_type)
        if not (is_class(cls) and issubclass(cls, Dir)) or cls is EmptyDir:
            cls = Dir
        return cls(
            path=blob.uri,
            name=Path(blob.uri).name,
            format=blob.metadata.type.format,
            hash=lv.hash or None,
        )

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Multipart blobs reverse to `Dir`."""
        if literal_type.HasField("blob") and literal_type.blob.dimensionality == BlobType.MULTIPART:
            return Dir
        raise ValueError(f"Cannot guess python type from {literal_type}")
