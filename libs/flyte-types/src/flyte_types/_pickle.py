"""The pickle fallback, and `bytes` (which the reference SDK also carries pickled).

Wire format (identical to the reference SDK):

* `LiteralType`: `union_type` of `blob{format: "PythonPickle"}` and `simple: BINARY` (both tagged
  `FlytePickle`), with `metadata.python_class_name = str(type)`.
* A small value is `scalar.binary{value: cloudpickle.dumps(value)}` (no tag); a large one (pickled
  size over 10 KiB) is written to a blob and the literal is `scalar.blob{uri, metadata.type.format:
  "PythonPickle"}`. Sets carry a content hash (`Literal.hash`) that does not depend on their
  iteration order.

Pickles only work between the same Python (and library) versions, which is why every type that
falls back to it is reported once in the log. `bytes` is a supported type: it is pickled with the
standard library (the bytes are identical) and decoded with an unpickler that refuses anything but
plain bytes, so a `bytes` input never runs code from the payload.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
from typing import Any, ClassVar, Generic, TypeVar

from flyteidl2.core.literals_pb2 import Binary, Blob, BlobMetadata, Literal, Scalar
from flyteidl2.core.types_pb2 import BlobType, LiteralType, SimpleType, TypeStructure, UnionType

from flyte_types import _storage
from flyte_types._transformer import TypeTransformer, mismatch
from flyte_types._typing import type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "BytesTransformer",
    "FlytePickle",
    "FlytePickleTransformer",
    "warn_pickle_once",
]

T = TypeVar("T")

logger = logging.getLogger("flyte_types")

PYTHON_PICKLE_FORMAT = "PythonPickle"
PICKLE_TAG = "FlytePickle"
INLINE_PICKLE_LIMIT = 10 * 1024
"""Pickles larger than this many bytes are written to a blob instead of inline."""

_warned: set[str] = set()


def warn_pickle_once(python_type: Any) -> None:
    """Log (once per type) that values of `python_type` will be pickled."""
    key = str(python_type)
    if key in _warned:
        return
    _warned.add(key)
    logger.warning(
        "Unsupported Type %s found, Flyte will default to use PickleFile as the transport. "
        "Pickle can only be used to send objects between the exact same version of Python, and "
        "we strongly recommend to use python type that flyte support.",
        key,
    )


class FlytePickle(Generic[T]):
    """Marker type for values carried as pickles; `TypeEngine` guesses it for pickle literals."""

    __origin__: ClassVar[Any]

    @classmethod
    def python_type(cls) -> Any:
        """The Python type of the pickled values (`NoneType` when unknown)."""
        return type(None)

    def __class_getitem__(cls, python_type: Any) -> Any:  # type: ignore[override]
        if python_type is None:
            return cls

        class _SpecificFormatClass(FlytePickle):  # type: ignore[type-arg]
            __origin__ = FlytePickle

            @classmethod
            def python_type(cls) -> Any:
                return python_type

        return _SpecificFormatClass

    @classmethod
    async def to_pickle(cls, python_val: Any) -> str:
        """Pickle a value to a new blob and return its URI."""
        import cloudpickle

        data = cloudpickle.dumps(python_val)
        return await _storage.write_bytes(data, hashlib.md5(data).hexdigest())

    @classmethod
    async def from_pickle(cls, uri: str) -> Any:
        """Load a value pickled to a blob."""
        import cloudpickle

        return cloudpickle.loads(await _storage.read_bytes(uri))


def _pickle_literal_type(python_type: Any) -> LiteralType:
    lt = LiteralType(
        union_type=UnionType(
            variants=[
                LiteralType(
                    blob=BlobType(format=PYTHON_PICKLE_FORMAT, dimensionality=BlobType.SINGLE),
                    structure=TypeStructure(tag=PICKLE_TAG),
                ),
                LiteralType(simple=SimpleType.BINARY, structure=TypeStructure(tag=PICKLE_TAG)),
            ]
        )
    )
    lt.metadata.update({"python_class_name": str(python_type)})
    return lt


async def _pickle_to_literal(data: bytes) -> Literal:
    if len(data) > INLINE_PICKLE_LIMIT:
        uri = await _storage.write_bytes(data, hashlib.md5(data).hexdigest())
        meta = BlobMetadata(
            type=BlobType(format=PYTHON_PICKLE_FORMAT, dimensionality=BlobType.SINGLE)
        )
        return Literal(scalar=Scalar(blob=Blob(metadata=meta, uri=uri)))
    return Literal(scalar=Scalar(binary=Binary(value=data)))


async def _pickled_bytes(lv: Literal, expected: Any) -> bytes:
    scalar = lv.scalar
    if scalar.HasField("blob") and scalar.blob.uri:
        try:
            return await _storage.read_bytes(scalar.blob.uri)
        except OSError as e:
            raise LiteralDecodeError(f"Cannot read the pickle at {scalar.blob.uri}: {e}") from e
    if scalar.HasField("binary") and scalar.binary.value:
        return scalar.binary.value
    raise LiteralDecodeError(
        f"Cannot convert a {lv.WhichOneof('value') or 'empty'} literal to {type_name(expected)}: "
        "expected a pickle (binary or blob scalar)"
    )


def _set_hash(lit: Literal, python_val: Any) -> None:
    if isinstance(python_val, set | frozenset):
        import cloudpickle

        try:
            lit.hash = hashlib.md5(cloudpickle.dumps(sorted(python_val))).hexdigest()
        except Exception:  # unsortable members: no canonical form
            pass


class FlytePickleTransformer(TypeTransformer[FlytePickle]):  # type: ignore[type-arg]
    """Any Python object, via cloudpickle (the fallback for types nothing else handles)."""

    PYTHON_PICKLE_FORMAT = PYTHON_PICKLE_FORMAT

    def __init__(self) -> None:
        super().__init__(PICKLE_TAG, FlytePickle)

    def assert_type(self, t: Any, v: Any) -> None:
        """Every value can be pickled."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return the pickle union type, naming the Python class."""
        return _pickle_literal_type(t)

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Pickle the value (inline, or to a blob when large)."""
        if python_val is None:
            raise TypeTransformerFailedError(
                f"Cannot pickle None as a value of type {type_name(python_type)}; "
                "declare the type Optional to pass None"
            )
        import cloudpickle

        try:
            data = cloudpickle.dumps(python_val)
        except Exception as e:
            raise mismatch(python_type, python_val, f"cannot be pickled: {e}") from e
        lit = await _pickle_to_literal(data)
        _set_hash(lit, python_val)
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Unpickle the value."""
        import cloudpickle

        data = await _pickled_bytes(lv, expected_python_type)
        try:
            return cloudpickle.loads(data)
        except Exception as e:
            raise LiteralDecodeError(
                f"Cannot unpickle a {type_name(expected_python_type)}: {e}"
            ) from e

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Pickle blobs and BINARY types reverse to `FlytePickle`."""
        if (
            literal_type.HasField("blob")
            and literal_type.blob.dimensionality == BlobType.SINGLE
            and literal_type.blob.format == PYTHON_PICKLE_FORMAT
        ):
            return FlytePickle
        if literal_type.simple == SimpleType.BINARY:
            return FlytePickle
        if (
            literal_type.HasField("union_type")
            and all(v.structure.tag == PICKLE_TAG for v in literal_type.union_type.variants)
            and literal_type.union_type.variants
        ):
            return FlytePickle
        raise ValueError(f"Transformer {self.name} cannot reverse {literal_type}")


class _BytesOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a bytes payload may not reference {module}.{name}")


class BytesTransformer(TypeTransformer[bytes]):
    """`bytes`, carried like the reference's pickle fallback but never executing payload code."""

    def __init__(self) -> None:
        super().__init__(PICKLE_TAG, bytes)

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens in `to_literal`."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return the pickle union type of `bytes`."""
        return _pickle_literal_type(bytes)

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Pickle the bytes (protocol 5, exactly the bytes cloudpickle writes)."""
        if not isinstance(python_val, bytes | bytearray | memoryview):
            raise mismatch(bytes, python_val)
        return await _pickle_to_literal(pickle.dumps(bytes(python_val), protocol=5))

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Unpickle, accepting only a plain bytes payload."""
        data = await _pickled_bytes(lv, bytes)
        try:
            value = _BytesOnly(io.BytesIO(data)).load()
        except Exception as e:
            raise LiteralDecodeError(f"Cannot decode a bytes value: {e}") from e
        if isinstance(value, bytearray):
            value = bytes(value)
        if not isinstance(value, bytes):
            raise LiteralDecodeError(f"Expected pickled bytes, found {type_name(type(value))}")
        return value

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """Never claims a literal type: pickle types reverse to `FlytePickle`."""
        raise ValueError(f"{self.name} (bytes) cannot reverse {literal_type}")
