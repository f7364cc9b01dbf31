"""`DataFrame`: tabular data passed between tasks by reference, and its encoder/decoder registry.

Wire format (identical to the reference SDK): `LiteralType(structured_dataset_type{columns,
format})` (with `structure.tag = "<module>.<qualname>"` for concrete dataframe classes such as
`pandas.DataFrame`); `Literal(scalar.structured_dataset{uri, metadata.structured_dataset_type
{format}}, hash)`. The URI is a directory; the built-in Parquet writers put one file named `00000`
in it (CSV: `data.csv`).

pandas and pyarrow are optional (`pip install 'flyte-types[dataframe]'`) and imported with
`importlib` only when a value of theirs is converted. Other dataframe libraries plug in through
`flyte_types.io.extend` (`DataFrameEncoder`, `DataFrameDecoder`, `DataFrameTransformerEngine`).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import importlib
import os
import sys
import threading
import typing
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar

from flyteidl2.core.literals_pb2 import (
    Literal,
    Scalar,
    StructuredDataset,
    StructuredDatasetMetadata,
)
from flyteidl2.core.types_pb2 import LiteralType, SimpleType, StructuredDatasetType, TypeStructure
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_serializer, model_validator

from flyte_types import _storage
from flyte_types._transformer import TypeTransformer
from flyte_types._typing import is_class, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.io._hashing import HashMethod

__all__ = [
    "CSV",
    "DataFrame",
    "DataFrameDecoder",
    "DataFrameEncoder",
    "DataFrameTransformerEngine",
    "DuplicateHandlerError",
    "GENERIC_FORMAT",
    "PARQUET",
    "ensure_handlers",
]

T = TypeVar("T")
DF = TypeVar("DF")

PARQUET = "parquet"
CSV = "csv"
GENERIC_FORMAT = ""
GENERIC_PROTOCOL = "fsspec"
"""Pseudo-protocol under which handlers that work for every storage protocol are registered."""

_hash_cache: dict[int, tuple[weakref.ref[Any], str]] = {}


def _protocol_of(path: str) -> str:
    if "://" not in path:
        return "file"
    return path.split("://", 1)[0].lower()


class DataFrame(BaseModel):
    """A reference to a dataframe stored as files (Parquet by default), or a wrapped local one.

    Return `DataFrame.wrap_df(pandas_df)` (or a `pandas.DataFrame` directly, with a `DataFrame`
    or `pandas.DataFrame` annotation) and the engine writes it; accept a `DataFrame` and call
    `await df.open(pandas.DataFrame).all()` to read it.

    Args:
        uri: Where the dataframe is stored (a directory).
        format: The storage format (`"parquet"`, `"csv"`, ...).
        hash: Content hash used in cache keys instead of the URI.
    """

    uri: str | None = Field(default=None)
    format: str | None = Field(default=GENERIC_FORMAT)
    hash: str | None = Field(default=None)

    model_config: ClassVar[ConfigDict] = ConfigDict(
        arbitrary_types_allowed=True,
        json_schema_extra={
            "description": "A tabular data reference backed by a remote file.",
            "x-flyte-type": "dataframe",
        },
    )

    _raw_df: Any = PrivateAttr(default=None)
    _metadata: StructuredDatasetMetadata | None = PrivateAttr(default=None)
    _literal_sd: StructuredDataset | None = PrivateAttr(default=None)
    _dataframe_type: Any = PrivateAttr(default=None)
    _already_uploaded: bool = PrivateAttr(default=False)
    _hash_method: HashMethod | None = PrivateAttr(default=None)
    _lazy_uploader: Callable[[], Awaitable[Any]] | None = PrivateAttr(default=None)

    def _serialize(self) -> dict[str, Any]:
        """The map a `DataFrame` is inside dataclasses (`{uri, format}`), writing it if needed."""
        if self.uri is None:
            from flyte_types._engine import TypeEngine

            lit = TypeEngine.to_literal_sync(self, DataFrame)
            self.uri = lit.scalar.structured_dataset.uri
            self.format = lit.scalar.structured_dataset.metadata.structured_dataset_type.format
        return {"uri": self.uri, "format": self.format}

    @model_serializer
    def serialize_dataframe(self) -> dict[str, Any]:
        """Serialize as `{uri, format}` (writing a wrapped dataframe first)."""
        return self._serialize()

    @model_validator(mode="after")
    def deserialize_dataframe(self, info: Any) -> DataFrame:
        """When validated from a literal's data, remember the literal it came from."""
        context = getattr(info, "context", None)
        if isinstance(context, dict) and context.get("deserialize") is True and self.uri:
            self._literal_sd = StructuredDataset(
                uri=self.uri,
                metadata=StructuredDatasetMetadata(
                    structured_dataset_type=StructuredDatasetType(format=self.format or "")
                ),
            )
            self._metadata = self._literal_sd.metadata
            self._already_uploaded = _storage.is_remote(self.uri)
        return self

    @classmethod
    def schema_match(cls, incoming: Any) -> bool:
        """Whether a JSON schema describes a `DataFrame`."""
        if not isinstance(incoming, dict):
            return False
        mine = cls.model_json_schema()
        props = incoming.get("properties", {})
        return bool(
            incoming.get("title") == mine.get("title")
            and incoming.get("type") == mine.get("type")
            and "uri" in props
            and "format" in props
        )

    @classmethod
    def columns(cls) -> dict[str, type]:
        """Declared columns (none for the base class)."""
        return {}

    @classmethod
    def column_names(cls) -> list[str]:
        """Names of the declared columns."""
        return list(cls.columns())

    @property
    def lazy_uploader(self) -> Callable[[], Awaitable[Any]] | None:
        """An async callable run when the dataframe is converted, if set."""
        return self._lazy_uploader

    @lazy_uploader.setter
    def lazy_uploader(self, uploader: Callable[[], Awaitable[Any]] | None) -> None:
        self._lazy_uploader = uploader

    @property
    def val(self) -> Any:
        """The wrapped in-memory dataframe, if any."""
        return self._raw_df

    @property
    def metadata(self) -> StructuredDatasetMetadata | None:
        """The structured dataset metadata (format, columns), once known."""
        return self._metadata

    @property
    def literal(self) -> StructuredDataset | None:
        """The structured dataset literal, once written or read."""
        return self._literal_sd

    # -- construction ---------------------------------------------------------------------- #

    @classmethod
    def wrap_df(cls, val: Any = None, uri: str | None = None) -> DataFrame:
        """Wrap an in-memory dataframe (written when converted; to `uri` if given)."""
        instance = cls(uri=uri)
        instance._raw_df = val
        return instance

    @classmethod
    def from_df(cls, val: Any = None, uri: str | None = None) -> DataFrame:
        """Deprecated alias of `wrap_df` (removal: the first release after the reference drops it)."""
        return cls.wrap_df(val, uri=uri)

    @classmethod
    def from_existing_remote(
        cls, remote_path: str, format: str | None = None, **kwargs: Any
    ) -> DataFrame:
        """Reference an existing stored dataframe (no I/O)."""
        fdf = cls(uri=remote_path, format=format or GENERIC_FORMAT, **kwargs)
        fdf._already_uploaded = True
        return fdf

    @classmethod
    def _prepare_local(
        cls,
        df: Any,
        columns: typing.OrderedDict[str, type] | None,
        remote_destination: str | None,
        hash_method: HashMethod | str | None,
    ) -> DataFrame:
        sdt = _engine().get_structured_dataset_type(column_map=columns)
        hash_value = hash_method if isinstance(hash_method, str) else None
        method = hash_method if not isinstance(hash_method, str) else None
        if method is not None:
            method.update(df)
            hash_value = method.result()
        fdf = cls.wrap_df(df, uri=remote_destination)
        fdf._metadata = StructuredDatasetMetadata(structured_dataset_type=sdt)
        fdf.hash = hash_value
        fdf._hash_method = method
        return fdf

    @classmethod
    async def from_local(
        cls,
        df: Any,
        columns: typing.OrderedDict[str, type] | None = None,
        remote_destination: str | None = None,
        hash_method: HashMethod | str | None = None,
    ) -> DataFrame:
        """Write an in-memory dataframe now and return a reference to it.

        Args:
            df: The dataframe (e.g. a `pandas.DataFrame`).
            columns: Column types to record in the metadata.
            remote_destination: Where to write it (the raw data path, or local scratch, by default).
            hash_method: A `HashMethod` applied to `df`, or a precomputed hash string.
        """
        fdf = cls._prepare_local(df, columns, remote_destination, hash_method)
        lit = await _engine().to_literal(
            fdf,
            DataFrame,
            LiteralType(
                structured_dataset_type=fdf._metadata.structured_dataset_type  # type: ignore[union-attr]
            ),
        )
        out = cls.from_existing_remote(lit.scalar.structured_dataset.uri,
                                       format=lit.scalar.structured_dataset.metadata.structured_dataset_type.format)  # fmt: skip
        out._literal_sd = lit.scalar.structured_dataset
        out._metadata = lit.scalar.structured_dataset.metadata
        out._already_uploaded = True
        out._raw_df = df
        out.hash = fdf.hash
        return out

    @classmethod
    def from_local_sync(
        cls,
        df: Any,
        columns: typing.OrderedDict[str, type] | None = None,
        remote_destination: str | None = None,
        hash_method: HashMethod | str | None = None,
    ) -> DataFrame:
        """Blocking twin of `from_local`."""
        from flyte_types._engine import run_sync

        return run_sync(cls.from_local(df, columns, remote_destination, hash_method))

    # -- reading --------------------------------------------------------------------------- #

    def open(self, dataframe_type: type[DF]) -> DataFrame:
        """Choose the in-memory type to read into (`await df.open(pd.DataFrame).all()`)."""
        ensure_handlers()
        self._dataframe_type = dataframe_type
        return self

    async def all(self) -> Any:
        """Read the whole dataframe as the type chosen with `open`."""
        if self._dataframe_type is None:
            raise ValueError(
                "No dataframe type set. Use open() to set the local dataframe type you want to use."
            )
        if self._raw_df is not None and isinstance(self._raw_df, self._dataframe_type):
            return self._raw_df
        sd = self._ensure_literal()
        return await _engine().open_as(sd, self._dataframe_type, self._metadata or sd.metadata)

    def all_sync(self) -> Any:
        """Blocking twin of `all`."""
        from flyte_types._engine import run_sync

        return run_sync(self.all())

    async def iter(self) -> AsyncIterator[Any]:
        """Read the dataframe in pieces (as many as the decoder yields)."""
        if self._dataframe_type is None:
            raise ValueError(
                "No dataframe type set. Use open() to set the local dataframe type you want to use."
            )
        sd = self._ensure_literal()
        return await _engine().iter_as(sd, self._dataframe_type, self._metadata or sd.metadata)

    def _ensure_literal(self) -> StructuredDataset:
        if self._literal_sd is None:
            if not self.uri:
                raise ValueError(
                    "This DataFrame has neither a stored literal nor a uri to read from"
                )
            self._literal_sd = StructuredDataset(
                uri=self.uri,
                metadata=StructuredDatasetMetadata(
                    structured_dataset_type=StructuredDatasetType(format=self.format or "")
                ),
            )
        if self._metadata is None:
            self._metadata = self._literal_sd.metadata
        return self._literal_sd

    async def set_literal(self, expected: LiteralType) -> None:
        """Write the dataframe (if needed) and remember its literal."""
        lit = await _engine().to_literal(self, DataFrame, expected)
        self._literal_sd = lit.scalar.structured_dataset
        if self._metadata is None:
            self._metadata = self._literal_sd.metadata


class DataFrameEncoder(ABC, Generic[T]):
    """Writes one in-memory dataframe type to storage in one format.

    Args:
        python_type: The dataframe class (e.g. `pandas.DataFrame`).
        protocol: The storage protocol handled (`"s3"`...), or `None` for every protocol.
        supported_format: The format written (e.g. `"parquet"`), `None` or `""` for generic.
    """

    def __init__(
        self, python_type: type[T], protocol: str | None = None, supported_format: str | None = None
    ) -> None:
        self._python_type = python_type
        self._protocol = protocol.replace("://", "") if protocol else None
        self._supported_format = supported_format or ""

    @property
    def python_type(self) -> type[T]:
        """The dataframe class."""
        return self._python_type

    @property
    def protocol(self) -> str | None:
        """The storage protocol (`None`: any)."""
        return self._protocol

    @property
    def supported_format(self) -> str:
        """The format written."""
        return self._supported_format

    @abstractmethod
    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: StructuredDatasetType
    ) -> StructuredDataset:
        """Write `dataframe.val` (to `dataframe.uri` if set, else a fresh path) and describe it."""
        raise NotImplementedError


class DataFrameDecoder(ABC, Generic[DF]):
    """Reads stored dataframes of one format into one in-memory type.

    Args:
        python_type: The dataframe class produced.
        protocol: The storage protocol handled, or `None` for every protocol.
        supported_format: The format read, `None` or `""` for generic.
        additional_protocols: More protocols to register the decoder for.
    """

    def __init__(
        self,
        python_type: type[DF],
        protocol: str | None = None,
        supported_format: str | None = None,
        additional_protocols: list[str] | None = None,
    ) -> None:
        self._python_type = python_type
        self._protocol = protocol.replace("://", "") if protocol else None
        self._supported_format = supported_format or ""
        self._additional_protocols = [p.replace("://", "") for p in additional_protocols or []]

    @property
    def python_type(self) -> type[DF]:
        """The dataframe class produced."""
        return self._python_type

    @property
    def protocol(self) -> str | None:
        """The storage protocol (`None`: any)."""
        return self._protocol

    @property
    def supported_format(self) -> str:
        """The format read."""
        return self._supported_format

    @abstractmethod
    async def decode(
        self, flyte_value: StructuredDataset, current_task_metadata: StructuredDatasetMetadata
    ) -> DF | AsyncIterator[DF]:
        """Read the stored dataframe (subset to the columns in `current_task_metadata`, if any)."""
        raise NotImplementedError


class DuplicateHandlerError(ValueError):
    """A handler is already registered for this type, protocol and format."""


Handler = DataFrameEncoder[Any] | DataFrameDecoder[Any]


def _supported_column_types() -> dict[Any, LiteralType]:
    return {
        int: LiteralType(simple=SimpleType.INTEGER),
        float: LiteralType(simple=SimpleType.FLOAT),
        str: LiteralType(simple=SimpleType.STRING),
        bool: LiteralType(simple=SimpleType.BOOLEAN),
        datetime.datetime: LiteralType(simple=SimpleType.DATETIME),
        datetime.timedelta: LiteralType(simple=SimpleType.DURATION),
        datetime.date: LiteralType(simple=SimpleType.DATETIME),
    }


def _flatten(columns: dict[str, Any], parent: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in columns.items():
        name = f"{parent}.{key}" if parent else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        elif dataclasses.is_dataclass(value):
            out.update(_flatten({f.name: f.type for f in dataclasses.fields(value)}, name))
        elif hasattr(value, "model_fields"):
            out.update(_flatten({k: v.annotation for k, v in value.model_fields.items()}, name))
        else:
            out[name] = value
    return out


def extract_cols_and_format(
    t: Any,
) -> tuple[Any, collections.OrderedDict[str, Any] | None, str, Any, HashMethod | None]:
    """Split `Annotated[df_type, columns, format, arrow_schema, hash_method]` into its parts."""
    fmt = ""
    cols: collections.OrderedDict[str, Any] | None = None
    pa_schema = None
    hash_method = None
    if typing.get_origin(t) is not typing.Annotated:
        return t, None, fmt, None, None
    base, *metadata = typing.get_args(t)
    for aa in metadata:
        if isinstance(aa, HashMethod) and not is_class(aa):
            if hash_method is not None:
                raise ValueError(f"A hash method was already found {hash_method}, cannot use {aa}")
            hash_method = aa
        elif isinstance(aa, collections.OrderedDict):
            if cols is not None:
                raise ValueError(f"Column information was already found {cols}, cannot use {aa}")
            cols = aa
        elif isinstance(aa, dict):
            cols = collections.OrderedDict(aa)
        elif isinstance(aa, str):
            if fmt:
                raise ValueError(f"A format was already specified {fmt}, cannot use {aa}")
            fmt = aa
        elif type(aa).__module__.startswith("pyarrow") and type(aa).__name__ == "Schema":
            pa_schema = aa
        elif hasattr(aa, "__annotations__"):
            cols = collections.OrderedDict(aa.__annotations__)
    return base, cols, fmt, pa_schema, hash_method


def _engine() -> DataFrameTransformerEngine:
    return flyte_dataset_transformer


class DataFrameTransformerEngine(TypeTransformer[DataFrame]):
    """The transformer of `DataFrame` and of every registered dataframe type.

    Dataframe libraries register an encoder and a decoder per (type, protocol, format) with
    `DataFrameTransformerEngine.register`; the type then converts like `DataFrame`.
    """

    ENCODERS: ClassVar[dict[Any, dict[str, dict[str, DataFrameEncoder[Any]]]]] = {}
    DECODERS: ClassVar[dict[Any, dict[str, dict[str, DataFrameDecoder[Any]]]]] = {}
    DEFAULT_PROTOCOLS: ClassVar[dict[Any, str]] = {}
    DEFAULT_FORMATS: ClassVar[dict[Any, str]] = {}
    Renderers: ClassVar[dict[Any, Any]] = {}

    def __init__(self) -> None:
        super().__init__("DataFrame Transformer", DataFrame, enable_type_assertions=False)

    # -- registry -------------------------------------------------------------------------- #

    @classmethod
    def _finder(cls, handler_map: dict[Any, Any], df_type: Any, protocol: str, fmt: str) -> Any:
        by_protocol = handler_map.get(df_type, {})
        default_format = cls.DEFAULT_FORMATS.get(df_type)
        for proto in (protocol, GENERIC_PROTOCOL):
            handlers = by_protocol.get(proto, {})
            if not handlers:
                continue
            if fmt in handlers:
                return handlers[fmt]
            if GENERIC_FORMAT in handlers:
                return handlers[GENERIC_FORMAT]
            if fmt == GENERIC_FORMAT and default_format in handlers:
                return handlers[default_format]
            if fmt == GENERIC_FORMAT and len(handlers) == 1:
                return next(iter(handlers.values()))
        raise ValueError(
            f"Failed to find a handler for {type_name(df_type)}, protocol [{protocol}], fmt ['{fmt}']"
        )

    @classmethod
    def get_encoder(cls, df_type: Any, protocol: str, format: str) -> DataFrameEncoder[Any]:
        """Return the encoder for a dataframe type, protocol and format."""
        return cls._finder(cls.ENCODERS, df_type, protocol, format)  # type: ignore[no-any-return]

    @classmethod
    def get_decoder(cls, df_type: Any, protocol: str, format: str) -> DataFrameDecoder[Any]:
        """Return the decoder for a dataframe type, protocol and format."""
        return cls._finder(cls.DECODERS, df_type, protocol, format)  # type: ignore[no-any-return]

    @classmethod
    def register_renderer(cls, python_type: Any, renderer: Any) -> None:
        """Register an HTML renderer for a dataframe type."""
        cls.Renderers[python_type] = renderer

    @classmethod
    def register(
        cls,
        h: Handler,
        default_for_type: bool = False,
        override: bool = False,
        default_format_for_type: bool = False,
        default_storage_for_type: bool = False,
    ) -> None:
        """Register an encoder or decoder (for every protocol when its `protocol` is `None`).

        Args:
            h: The handler.
            default_for_type: Use its protocol and format by default for its type.
            override: Replace an existing registration.
            default_format_for_type: Use its format by default for its type.
            default_storage_for_type: Use its protocol by default for its type.

        Raises:
            DuplicateHandlerError: If a handler exists for the same key and not `override`.
        """
        if not isinstance(h, DataFrameEncoder | DataFrameDecoder):
            raise TypeError(f"We don't support this type of handler {h}")
        if h.protocol is None:
            if default_for_type:
                raise ValueError(
                    f"Handler {h} for all protocols cannot be the default for its type"
                )
            cls.register_for_protocol(
                h,
                GENERIC_PROTOCOL,
                False,
                override,
                default_format_for_type,
                default_storage_for_type,
            )
        else:
            protocols = [h.protocol, *getattr(h, "_additional_protocols", [])]
            for p in protocols:
                cls.register_for_protocol(
                    h,
                    p,
                    default_for_type,
                    override,
                    default_format_for_type,
                    default_storage_for_type,
                )

    @classmethod
    def register_for_protocol(
        cls,
        h: Handler,
        protocol: str,
        default_for_type: bool,
        override: bool,
        default_format_for_type: bool,
        default_storage_for_type: bool,
    ) -> None:
        """Register a handler for one protocol (see `register`)."""
        if protocol == "/":
            protocol = "file"
        top = cls.ENCODERS if isinstance(h, DataFrameEncoder) else cls.DECODERS
        lowest = top.setdefault(h.python_type, {}).setdefault(protocol, {})
        if h.supported_format in lowest and not override:
            raise DuplicateHandlerError(
                f"Already registered a handler for {(h.python_type, protocol, h.supported_format)}"
            )
        lowest[h.supported_format] = h  # type: ignore[assignment]
        if (
            (default_format_for_type or default_for_type)
            and h.supported_format != GENERIC_FORMAT
            and (h.python_type not in cls.DEFAULT_FORMATS or override)
        ):
            cls.DEFAULT_FORMATS[h.python_type] = h.supported_format
        if (default_storage_for_type or default_for_type) and (
            h.python_type not in cls.DEFAULT_PROTOCOLS or override
        ):
            cls.DEFAULT_PROTOCOLS[h.python_type] = protocol
        from flyte_types._engine import TypeEngine

        TypeEngine.register_additional_type(flyte_dataset_transformer, h.python_type, override=True)

    # -- types ----------------------------------------------------------------------------- #

    def _column_type(self, t: Any) -> LiteralType:
        supported = _supported_column_types()
        if t in supported:
            return supported[t]
        origin = typing.get_origin(t)
        if origin is list:
            return LiteralType(collection_type=self._column_type(typing.get_args(t)[0]))
        if origin is dict:
            return LiteralType(map_value_type=self._column_type(typing.get_args(t)[1]))
        raise TypeTransformerFailedError(f"type {t} is currently not supported by DataFrame")

    def _columns(
        self, column_map: dict[str, Any] | None
    ) -> list[StructuredDatasetType.DatasetColumn]:
        if not column_map:
            return []
        return [
            StructuredDatasetType.DatasetColumn(name=k, literal_type=self._column_type(v))
            for k, v in _flatten(column_map).items()
        ]

    def get_structured_dataset_type(
        self,
        storage_format: str | None = None,
        pa_schema: Any = None,
        column_map: dict[str, Any] | None = None,
    ) -> StructuredDatasetType:
        """Build the `StructuredDatasetType` for columns, a format and an arrow schema."""
        sdt = StructuredDatasetType(columns=self._columns(column_map), format=storage_format or "")
        if pa_schema is not None:
            sdt.external_schema_type = "arrow"
            sdt.external_schema_bytes = pa_schema.to_string().encode()
        return sdt

    def get_literal_type(self, t: Any) -> LiteralType:
        """`structured_dataset_type` (tagged with the class name for concrete dataframe types)."""
        base, cols, fmt, pa_schema, _ = extract_cols_and_format(t)
        sdt = self.get_structured_dataset_type(fmt, pa_schema=pa_schema, column_map=cols)
        if is_class(base) and issubclass(base, DataFrame):
            return LiteralType(structured_dataset_type=sdt)
        tag = f"{base.__module__}.{base.__qualname__}"
        return LiteralType(structured_dataset_type=sdt, structure=TypeStructure(tag=tag))

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """`structured_dataset_type` reverses to `DataFrame`; when original types are preserved
        (`guess_interface(..., preserve_original_types=True)`), a type tagged with a dataframe
        class that has a registered decoder (e.g. `pandas.DataFrame`) reverses to that class."""
        if literal_type.HasField("structured_dataset_type"):
            from flyte_types._interface import PRESERVE_ORIGINAL_TYPES

            tag = literal_type.structure.tag if literal_type.HasField("structure") else ""
            if tag and PRESERVE_ORIGINAL_TYPES.get():
                ensure_handlers()
                for registered in self.DECODERS:
                    if f"{registered.__module__}.{registered.__qualname__}" == tag:
                        return registered
            return DataFrame
        raise ValueError(f"DataFrameTransformerEngine cannot reverse {literal_type}")

    def assert_type(self, t: Any, v: Any) -> None:
        """Checked in `to_literal`."""

    # -- values ---------------------------------------------------------------------------- #

    def _protocol(self, df_type: Any, uri: str | None) -> str:
        if df_type in self.DEFAULT_PROTOCOLS:
            return self.DEFAULT_PROTOCOLS[df_type]
        return _protocol_of(uri or _storage.new_path())

    async def to_literal(
        self, python_val: Any, python_type: Any, expected: LiteralType | None
    ) -> Literal:
        """Write (or reference) a dataframe and return its structured dataset literal."""
        ensure_handlers()
        base, _, _, _, annotation_hash = extract_cols_and_format(python_type)
        sdt = StructuredDatasetType(format=self.DEFAULT_FORMATS.get(base, GENERIC_FORMAT))
        if is_class(base) and issubclass(base, DataFrame) and not isinstance(python_val, DataFrame):
            raise TypeTransformerFailedError(
                f"Expected a DataFrame instance, but got {type_name(type(python_val))} instead. "
                "Did you forget to wrap your dataframe in a DataFrame instance?"
            )
        if expected is not None and expected.HasField("structured_dataset_type"):
            sdt.CopyFrom(expected.structured_dataset_type)
            if not sdt.format:
                sdt.format = self.DEFAULT_FORMATS.get(base, GENERIC_FORMAT)
        if isinstance(python_val, DataFrame):
            return await self._from_dataframe(python_val, sdt)
        if python_val is None:
            raise TypeTransformerFailedError(f"Expected a {type_name(base)}, got None")
        hash_value = None
        cached = _hash_cache.get(id(python_val))
        if cached is not None and cached[0]() is python_val:
            hash_value = cached[1]
        if hash_value is None and annotation_hash is not None:
            annotation_hash.update(python_val)
            hash_value = annotation_hash.result()
        fdf = DataFrame.wrap_df(python_val)
        fdf.hash = hash_value
        fmt = self.DEFAULT_FORMATS.get(type(python_val), sdt.format)
        return await self.encode(
            fdf, type(python_val), self._protocol(type(python_val), None), fmt, sdt
        )

    async def _from_dataframe(self, value: DataFrame, sdt: StructuredDatasetType) -> Literal:
        if value.lazy_uploader is not None:
            uploaded = await value.lazy_uploader()
            if isinstance(uploaded, DataFrame):
                value = uploaded
            else:
                value = DataFrame.wrap_df(uploaded)
        hash_value = value.hash
        if value._literal_sd is not None and (value._already_uploaded or value.val is None):
            lit = Literal(scalar=Scalar(structured_dataset=value._literal_sd))
            if hash_value:
                lit.hash = hash_value
            return lit
        if value.val is None:
            if not value.uri:
                raise TypeTransformerFailedError(
                    "A DataFrame needs either a dataframe (wrap_df) or a uri to be converted"
                )
            uri = value.uri
            raw = _storage.current_raw_data_path()
            if not _storage.is_remote(uri) and raw is not None and _storage.is_remote(raw.path):
                uri = await _storage.storage().put(
                    uri, raw.get_random_remote_path(), recursive=True
                )
            if sdt.format == GENERIC_FORMAT and value.format:
                sdt.format = value.format
            lit = Literal(
                scalar=Scalar(
                    structured_dataset=StructuredDataset(
                        uri=uri, metadata=StructuredDatasetMetadata(structured_dataset_type=sdt)
                    )
                )
            )
            if hash_value:
                lit.hash = hash_value
            return lit
        df_type = type(value.val)
        fmt = sdt.format or self.DEFAULT_FORMATS.get(df_type, GENERIC_FORMAT)
        return await self.encode(value, df_type, self._protocol(df_type, value.uri), fmt, sdt)

    async def encode(
        self,
        df: DataFrame,
        df_type: Any,
        protocol: str,
        format: str,
        structured_literal_type: StructuredDatasetType,
    ) -> Literal:
        """Write `df.val` with the registered encoder and return the literal."""
        ensure_handlers()
        handler = self.get_encoder(df_type, protocol, format)
        sd = await handler.encode(df, structured_literal_type)
        if not sd.HasField("metadata"):
            sd.metadata.structured_dataset_type.CopyFrom(structured_literal_type)
        sd.metadata.structured_dataset_type.format = handler.supported_format
        lit = Literal(scalar=Scalar(structured_dataset=sd))
        if df.hash:
            lit.hash = df.hash
        df._literal_sd = sd
        df._metadata = sd.metadata
        df._already_uploaded = True
        if df.uri is None:
            df.uri = sd.uri
            df.format = handler.supported_format
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Return a `DataFrame` reference, or read the data into the expected dataframe type."""
        if not lv.scalar.HasField("structured_dataset"):
            raise LiteralDecodeError(
                f"Expected a structured dataset literal, got {lv.WhichOneof('value') or 'an empty literal'}"
            )
        base, column_dict, _, _, _ = extract_cols_and_format(expected_python_type)
        sd = lv.scalar.structured_dataset
        incoming = sd.metadata.structured_dataset_type
        columns = self._columns(column_dict) if column_dict else list(incoming.columns)
        sdt = StructuredDatasetType(
            columns=columns,
            format=incoming.format,
            external_schema_type=incoming.external_schema_type,
            external_schema_bytes=incoming.external_schema_bytes,
        )
        metadata = StructuredDatasetMetadata(structured_dataset_type=sdt)
        hash_value = lv.hash or None
        if is_class(base) and issubclass(base, DataFrame):
            fdf = base(format=incoming.format, uri=sd.uri, hash=hash_value)
            fdf._already_uploaded = _storage.is_remote(sd.uri)
            fdf._literal_sd = sd
            fdf._metadata = metadata
            return fdf
        ensure_handlers()
        result = await self.open_as(sd, base, metadata)
        if hash_value is not None:
            try:
                _hash_cache[id(result)] = (weakref.ref(result), hash_value)
            except TypeError:
                pass
        return result

    async def open_as(
        self, sd: StructuredDataset, df_type: Any, updated_metadata: StructuredDatasetMetadata
    ) -> Any:
        """Read a stored dataframe into `df_type`."""
        decoder = self.get_decoder(
            df_type, _protocol_of(sd.uri), sd.metadata.structured_dataset_type.format
        )
        result = await decoder.decode(sd, updated_metadata)
        if hasattr(result, "__aiter__"):
            async for first in result:
                return first
        return result

    async def iter_as(
        self, sd: StructuredDataset, df_type: Any, updated_metadata: StructuredDatasetMetadata
    ) -> AsyncIterator[Any]:
        """Read a stored dataframe as an async iterator of `df_type` pieces."""
        decoder = self.get_decoder(
            df_type, _protocol_of(sd.uri), sd.metadata.structured_dataset_type.format
        )
        result = await decoder.decode(sd, updated_metadata)
        if hasattr(result, "__aiter__"):
            return result  # type: ignore[return-value]

        async def single() -> AsyncIterator[Any]:
            yield result

        return single()

    def to_html(self, python_val: Any, expected_python_type: Any) -> str:
        """Render with the registered renderer of the dataframe type."""
        df = python_val.val if isinstance(python_val, DataFrame) else python_val
        renderer = self.Renderers.get(type(df))
        if renderer is not None:
            return str(renderer.to_html(df))
        if hasattr(df, "to_html"):
            return str(df.to_html())
        return str(python_val)


flyte_dataset_transformer = DataFrameTransformerEngine()


# ---------------------------------------------------------------------------------------------- #
# Built-in handlers (pandas, pyarrow), registered only when those libraries are imported.


async def _stage_write(uri: str | None, write: Callable[[str], None]) -> str:
    """Run `write(local_dir)` and put the directory at `uri` (a fresh path when `None`)."""
    target = uri or _storage.new_path()
    if not _storage.is_remote(target):
        local = _storage.strip_file_scheme(target)
        os.makedirs(local, exist_ok=True)
        write(local)
        return target
    staging = _storage.new_local_path()
    write(staging)
    await _storage.storage().put(staging, target, recursive=True)
    return target


async def _stage_read(uri: str) -> str:
    if not _storage.is_remote(uri):
        return _storage.strip_file_scheme(uri)
    local: str = await _storage.storage().get(uri, _storage.new_local_path(), recursive=True)
    return local


def _selected_columns(metadata: StructuredDatasetMetadata) -> list[str] | None:
    cols = [c.name for c in metadata.structured_dataset_type.columns]
    return cols or None


class _PandasToParquet(DataFrameEncoder[Any]):
    def __init__(self, pd: Any) -> None:
        super().__init__(pd.DataFrame, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: StructuredDatasetType
    ) -> StructuredDataset:
        df = dataframe.val

        def write(directory: str) -> None:
            df.to_parquet(
                os.path.join(directory, f"{0:05}"),
                coerce_timestamps="us",
                allow_truncated_timestamps=False,
            )

        uri = await _stage_write(dataframe.uri, write)
        sdt = StructuredDatasetType()
        sdt.CopyFrom(structured_dataset_type)
        sdt.format = PARQUET
        return StructuredDataset(
            uri=uri, metadata=StructuredDatasetMetadata(structured_dataset_type=sdt)
        )


class _ParquetToPandas(DataFrameDecoder[Any]):
    def __init__(self, pd: Any) -> None:
        super().__init__(pd.DataFrame, None, PARQUET)
        self._pd = pd

    async def decode(
        self, flyte_value: StructuredDataset, current_task_metadata: StructuredDatasetMetadata
    ) -> Any:
        local = await _stage_read(flyte_value.uri)
        return self._pd.read_parquet(local, columns=_selected_columns(current_task_metadata))


class _PandasToCSV(DataFrameEncoder[Any]):
    def __init__(self, pd: Any) -> None:
        super().__init__(pd.DataFrame, None, CSV)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: StructuredDatasetType
    ) -> StructuredDataset:
        df = dataframe.val
        uri = await _stage_write(
            dataframe.uri, lambda d: df.to_csv(os.path.join(d, "data.csv"), index=False)
        )
        sdt = StructuredDatasetType()
        sdt.CopyFrom(structured_dataset_type)
        sdt.format = CSV
        return StructuredDataset(
            uri=uri, metadata=StructuredDatasetMetadata(structured_dataset_type=sdt)
        )


class _CSVToPandas(DataFrameDecoder[Any]):
    def __init__(self, pd: Any) -> None:
        super().__init__(pd.DataFrame, None, CSV)
        self._pd = pd

    async def decode(
        self, flyte_value: StructuredDataset, current_task_metadata: StructuredDatasetMetadata
    ) -> Any:
        local = await _stage_read(flyte_value.uri)
        path = local if local.endswith(".csv") else os.path.join(local, "data.csv")
        return self._pd.read_csv(path, usecols=_selected_columns(current_task_metadata))


class _ArrowToParquet(DataFrameEncoder[Any]):
    def __init__(self, pa: Any) -> None:
        super().__init__(pa.Table, None, PARQUET)

    async def encode(
        self, dataframe: DataFrame, structured_dataset_type: StructuredDatasetType
    ) -> StructuredDataset:
        pq = importlib.import_module("pyarrow.parquet")
        table = dataframe.val
        uri = await _stage_write(
            dataframe.uri, lambda d: pq.write_table(table, os.path.join(d, f"{0:05}"))
        )
        return StructuredDataset(
            uri=uri,
            metadata=StructuredDatasetMetadata(structured_dataset_type=structured_dataset_type),
        )


class _ParquetToArrow(DataFrameDecoder[Any]):
    def __init__(self, pa: Any) -> None:
        super().__init__(pa.Table, None, PARQUET)

    async def decode(
        self, flyte_value: StructuredDataset, current_task_metadata: StructuredDatasetMetadata
    ) -> Any:
        pq = importlib.import_module("pyarrow.parquet")
        local = await _stage_read(flyte_value.uri)
        return pq.read_table(local, columns=_selected_columns(current_task_metadata))


class _PandasRenderer:
    def to_html(self, df: Any) -> str:
        return str(df.to_html(max_rows=10, max_cols=100))


_handlers_lock = threading.Lock()


@functools.cache
def _register_pandas() -> None:
    pd = importlib.import_module("pandas")
    for h in (_PandasToParquet(pd), _ParquetToPandas(pd), _PandasToCSV(pd), _CSVToPandas(pd)):
        try:
            DataFrameTransformerEngine.register(h, default_format_for_type=True)
        except DuplicateHandlerError:
            pass
    DataFrameTransformerEngine.register_renderer(pd.DataFrame, _PandasRenderer())


@functools.cache
def _register_arrow() -> None:
    pa = importlib.import_module("pyarrow")
    for h in (_ArrowToParquet(pa), _ParquetToArrow(pa)):
        try:
            DataFrameTransformerEngine.register(h, default_format_for_type=True)
        except DuplicateHandlerError:
            pass


def ensure_handlers() -> None:
    """Register the pandas / pyarrow handlers for the libraries that are already imported."""
    with _handlers_lock:
        if "pandas" in sys.modules:
            _register_pandas()
        if "pyarrow" in sys.modules:
            _register_arrow()
