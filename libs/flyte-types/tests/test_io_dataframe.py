"""`DataFrame` with pandas and pyarrow (Parquet by default), and the handler registry."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import pytest

from flyte_models import TaskContext
from flyte_types import TypeEngine
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError
from flyte_types.io import PARQUET, DataFrame
from flyte_types.io.extend import DataFrameTransformerEngine, DuplicateHandlerError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")


@pytest.fixture
def df() -> Any:
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_pandas_roundtrip_outside_a_task(df: Any) -> None:
    lit = TypeEngine.to_literal_sync(df, pd.DataFrame)
    sd = lit.scalar.structured_dataset
    assert sd.metadata.structured_dataset_type.format == PARQUET
    assert (Path(sd.uri) / "00000").exists()
    assert TypeEngine.to_python_value_sync(lit, pd.DataFrame).equals(df)
    lt = TypeEngine.to_literal_type(pd.DataFrame)
    assert lt.structure.tag == f"{pd.DataFrame.__module__}.{pd.DataFrame.__qualname__}"


def test_written_under_the_raw_data_path(df: Any, local_task: TaskContext) -> None:
    lit = TypeEngine.to_literal_sync(df, pd.DataFrame)
    assert lit.scalar.structured_dataset.uri.startswith(local_task.raw_data_path.path)


def test_remote_storage(df: Any, remote_task: TaskContext) -> None:
    lit = TypeEngine.to_literal_sync(DataFrame.wrap_df(df), DataFrame)
    assert lit.scalar.structured_dataset.uri.startswith("memory://")
    back = TypeEngine.to_python_value_sync(lit, DataFrame)
    assert isinstance(back, DataFrame) and back.format == PARQUET
    assert back.open(pd.DataFrame).all_sync().equals(df)


def test_wrapped_and_reference_dataframes(df: Any) -> None:
    lit = TypeEngine.to_literal_sync(DataFrame.wrap_df(df), DataFrame)
    ref = TypeEngine.to_python_value_sync(lit, DataFrame)
    assert ref.uri == lit.scalar.structured_dataset.uri
    assert asyncio.run(ref.open(pd.DataFrame).all()).equals(df)
    table = TypeEngine.to_python_value_sync(lit, pa.Table)
    assert table.column("a").to_pylist() == [1, 2, 3]
    existing = DataFrame.from_existing_remote(ref.uri, format=PARQUET)
    again = TypeEngine.to_literal_sync(existing, DataFrame)
    assert again.scalar.structured_dataset.uri == ref.uri


def test_from_local_writes_now(df: Any) -> None:
    fdf = DataFrame.from_local_sync(df, hash_method="h1")
    assert fdf.uri and fdf.hash == "h1"
    lit = TypeEngine.to_literal_sync(fdf, DataFrame)
    assert lit.hash == "h1"
    assert asyncio.run(fdf.open(pd.DataFrame).all()).equals(df)


def test_column_subset_from_annotation(df: Any) -> None:
    lit = TypeEngine.to_literal_sync(df, pd.DataFrame)
    subset = TypeEngine.to_python_value_sync(lit, Annotated[pd.DataFrame, OrderedDict(b=str)])
    assert list(subset.columns) == ["b"]
    lt = TypeEngine.to_literal_type(Annotated[DataFrame, OrderedDict(a=int, b=str), "parquet"])
    assert [c.name for c in lt.structured_dataset_type.columns] == ["a", "b"]
    assert lt.structured_dataset_type.format == "parquet"


def test_arrow_roundtrip() -> None:
    table = pa.table({"x": [1.5, 2.5]})
    lit = TypeEngine.to_literal_sync(table, pa.Table)
    assert TypeEngine.to_python_value_sync(lit, pa.Table).equals(table)


def test_csv_format(df: Any) -> None:
    lit = TypeEngine.to_literal_sync(df, pd.DataFrame)
    assert lit.scalar.structured_dataset.metadata.structured_dataset_type.format == PARQUET
    csv = TypeEngine.to_literal_sync(DataFrame.wrap_df(df), Annotated[DataFrame, "csv"])
    assert csv.scalar.structured_dataset.metadata.structured_dataset_type.format == "csv"
    assert TypeEngine.to_python_value_sync(csv, pd.DataFrame).equals(df)


def test_in_a_dataclass(df: Any) -> None:
    @dataclasses.dataclass
    class Holder:
        data: DataFrame

    lit = TypeEngine.to_literal_sync(Holder(DataFrame.wrap_df(df)), Holder)
    back = TypeEngine.to_python_value_sync(lit, Holder)
    assert back.data.open(pd.DataFrame).all_sync().equals(df)


def test_errors(df: Any) -> None:
    with pytest.raises(TypeTransformerFailedError, match="wrap your dataframe"):
        TypeEngine.to_literal_sync(df, DataFrame)
    with pytest.raises(LiteralDecodeError):
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(1, int), DataFrame)
    with pytest.raises(DuplicateHandlerError):
        enc = DataFrameTransformerEngine.get_encoder(pd.DataFrame, "file", PARQUET)
        DataFrameTransformerEngine.register(enc)
    with pytest.raises(ValueError, match="open"):
        asyncio.run(DataFrame(uri="/x").all())


def test_html() -> None:
    html = TypeEngine.to_html(pd.DataFrame({"a": [1]}), pd.DataFrame)
    assert "<table" in html


def test_guess_interface_preserves_the_original_dataframe_class() -> None:
    from flyte_models import NativeInterface
    from flyte_types import guess_interface, translate_interface

    typed = translate_interface(NativeInterface.from_types({}, {"o0": pd.DataFrame}))
    assert guess_interface(typed).outputs["o0"] is DataFrame
    kept = guess_interface(typed, preserve_original_types=True)
    assert kept.outputs["o0"] is pd.DataFrame
    # An untagged (or unknown-tagged) structured dataset stays a DataFrame reference.
    untagged = translate_interface(NativeInterface.from_types({}, {"o0": DataFrame}))
    assert guess_interface(untagged, preserve_original_types=True).outputs["o0"] is DataFrame
    # The flag does not leak past the call.
    assert guess_interface(typed).outputs["o0"] is DataFrame
