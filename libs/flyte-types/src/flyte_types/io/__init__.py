"""Data types passed between tasks by reference: `File`, `Dir` and `DataFrame`.

Their values are small (a URI, a format, a hash); the data stays where it is. They are pydantic
models (importing this module imports pydantic; `import flyte_types` does not) with `async`
methods and `_sync` twins, and the same fields and wire format as the reference SDK's `flyte.io`,
which re-exports this module.

* `File`: one file (`from_local`, `new_remote`, `from_existing_remote`, `named_remote`, `open`,
  `download`, `exists`).
* `Dir`: a directory or prefix (`from_local`, `walk`, `list_files`, `get_file`, `download`,
  `new_remote`); `EmptyDir` is the "nothing produced" sentinel.
* `DataFrame`: a stored table (`wrap_df`, `from_local`, `from_existing_remote`,
  `open(pandas.DataFrame).all()`); pandas and pyarrow are optional (`flyte-types[dataframe]`),
  Parquet is the default format (`PARQUET`).
* `HashFunction`: a content hash for cache keys.

Custom dataframe types plug in through `flyte_types.io.extend`.
"""

from flyte_types.io._dataframe import PARQUET, DataFrame
from flyte_types.io._dir import Dir, EmptyDir
from flyte_types.io._file import File
from flyte_types.io._hashing import HashFunction, HashMethod

__all__ = [
    "DataFrame",
    "Dir",
    "EmptyDir",
    "File",
    "HashFunction",
    "HashMethod",
    "PARQUET",
]


def _register() -> None:
    from flyte_types._engine import TypeEngine
    from flyte_types.io._dataframe import flyte_dataset_transformer
    from flyte_types.io._dir import DirTransformer
    from flyte_types.io._file import FileTransformer

    for transformer in (FileTransformer(), DirTransformer(), flyte_dataset_transformer):
        if transformer.python_type not in TypeEngine.get_available_transformers():
            TypeEngine.register(transformer)


_register()
