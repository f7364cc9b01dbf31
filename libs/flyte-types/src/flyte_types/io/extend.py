"""Extension API for dataframe libraries: encoders and decoders of `flyte_types.io.DataFrame`.

```python
from flyte_types.io.extend import DataFrameDecoder, DataFrameEncoder, DataFrameTransformerEngine

class PolarsToParquet(DataFrameEncoder):
    def __init__(self) -> None:
        super().__init__(pl.DataFrame, None, "parquet")

    async def encode(self, dataframe, structured_dataset_type):
        ...

DataFrameTransformerEngine.register(PolarsToParquet(), default_format_for_type=True)
```
"""

from flyte_types.io._dataframe import (
    DataFrameDecoder,
    DataFrameEncoder,
    DataFrameTransformerEngine,
    DuplicateHandlerError,
)

__all__ = [
    "DataFrameDecoder",
    "DataFrameEncoder",
    "DataFrameTransformerEngine",
    "DuplicateHandlerError",
]
