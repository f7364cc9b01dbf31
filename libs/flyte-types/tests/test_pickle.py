"""The cloudpickle fallback, and `bytes` (carried pickled, decoded without running code)."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.core.literals_pb2 import Literal

from flyte_models import TaskContext
from flyte_types import FlytePickle, TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.testing import assert_roundtrip


class Opaque:
    def __init__(self, v: Any) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.v == self.v


class _Evil:
    def __reduce__(self) -> Any:
        return (print, ("pwned",))


def test_unsupported_types_are_pickled_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    class Once:
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Once)

    with caplog.at_level(logging.WARNING, logger="flyte_types"):
        assert_roundtrip(Once(), Once)
        assert_roundtrip(Once(), Once)
    assert sum("PickleFile" in r.message for r in caplog.records) == 1


def test_literal_type_is_the_pickle_union() -> None:
    lt = TypeEngine.to_literal_type(Opaque)
    assert [v.structure.tag for v in lt.union_type.variants] == ["FlytePickle", "FlytePickle"]
    assert lt.metadata["python_class_name"] == str(Opaque)
    assert TypeEngine.guess_python_type(lt) is FlytePickle


def test_small_values_inline_large_values_offloaded(tmp_path: Path) -> None:
    small = TypeEngine.to_literal_sync(Opaque(1), Opaque)
    assert small.scalar.HasField("binary") and small.scalar.binary.tag == ""
    big = TypeEngine.to_literal_sync(Opaque("x" * 50_000), Opaque)
    assert big.scalar.blob.metadata.type.format == "PythonPickle"
    assert Path(big.scalar.blob.uri).exists()
    assert TypeEngine.to_python_value_sync(big, Opaque) == Opaque("x" * 50_000)


def test_offload_goes_under_the_raw_data_path(local_task: TaskContext) -> None:
    big = TypeEngine.to_literal_sync(b"y" * 20_000, bytes)
    assert big.scalar.blob.uri.startswith(local_task.raw_data_path.path)


def test_offload_to_remote_storage(remote_task: TaskContext) -> None:
    big = TypeEngine.to_literal_sync(Opaque("z" * 30_000), Opaque)
    assert big.scalar.blob.uri.startswith("memory://")
    assert TypeEngine.to_python_value_sync(big, Opaque) == Opaque("z" * 30_000)


def test_sets_get_an_order_independent_hash() -> None:
    a = TypeEngine.to_literal_sync({"b", "a", "c"}, set)
    b = TypeEngine.to_literal_sync({"c", "a", "b"}, set)
    assert a.hash and a.hash == b.hash


def test_none_is_not_pickled() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Optional"):
        TypeEngine.to_literal_sync(None, Opaque)


def test_bytes_are_pickled_exactly_like_cloudpickle() -> None:
    import cloudpickle

    lit = assert_roundtrip(b"\x00abc", bytes)
    assert lit.scalar.binary.value == cloudpickle.dumps(b"\x00abc")
    assert_roundtrip(b"q" * 30_000, bytes)


def test_bytes_decoding_never_runs_code() -> None:
    lit = Literal()
    lit.scalar.binary.value = pickle.dumps(_Evil())
    with pytest.raises(LiteralDecodeError, match="may not reference"):
        TypeEngine.to_python_value_sync(lit, bytes)


def test_bytes_type_is_checked() -> None:
    with pytest.raises(TypeTransformerFailedError):
        TypeEngine.to_literal_sync("text", bytes)


def test_corrupt_pickle() -> None:
    lit = Literal()
    lit.scalar.binary.value = b"not a pickle"
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(lit, Opaque)


def test_flyte_pickle_generic_and_helpers() -> None:
    import asyncio

    specific = FlytePickle[int]
    assert specific.python_type() is int
    assert TypeEngine.get_transformer(specific).name == "FlytePickle"
    uri = asyncio.run(FlytePickle.to_pickle({"a": 1}))
    assert asyncio.run(FlytePickle.from_pickle(uri)) == {"a": 1}
