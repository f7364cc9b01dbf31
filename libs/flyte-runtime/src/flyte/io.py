"""Data passed by reference between tasks: `File`, `Dir`, `DataFrame` (owned by flyte-types)."""

from flyte_types.io import PARQUET, DataFrame, Dir, EmptyDir, File, HashFunction, HashMethod

__all__ = ["PARQUET", "DataFrame", "Dir", "EmptyDir", "File", "HashFunction", "HashMethod"]
