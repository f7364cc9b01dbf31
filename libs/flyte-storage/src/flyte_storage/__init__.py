"""One async blob API, with sync twins, over local disk, S3, GCS and Azure, plus signed-URL transfers.

Paths are URIs (`s3://bucket/key`, `gs://bucket/key`, `abfs://container/key`,
`abfss://container/key`) or local paths (`/tmp/x`, `file:///tmp/x`). Every operation is an
`async` function with a blocking twin named `<name>_sync`:

```python
import flyte_storage

uri = await flyte_storage.put("model.pt", "s3://bucket/models/")
local = flyte_storage.get_sync(uri)
async for chunk in flyte_storage.get_stream("gs://bucket/big.bin"):
    ...
```

Cloud backends are fsspec filesystems (s3fs, gcsfs, adlfs), each an optional extra of the
distribution (`pip install 'flyte-storage[s3]'`, `[gcs]`, `[azure]`, `[all]`). None of them is
imported until a path of its protocol is used; a missing one raises
`flyte_storage.errors.MissingExtraError` naming the extra.

Configuration (`S3`, `GCS`, `ABFS`, `StorageConfig`, `configure`) comes from the reference SDK's
environment variables (`FLYTE_AWS_ENDPOINT`, `FLYTE_STORAGE_RETRIES`, ...) and the config file's
`storage` section. Errors are `flyte_storage.errors.StorageError` subclasses, whatever the backend.

Public modules: `flyte_storage` (this API) and `flyte_storage.errors`.
"""

from flyte_storage._api import (
    exists,
    exists_sync,
    get,
    get_stream,
    get_stream_sync,
    get_sync,
    ls,
    ls_sync,
    open,
    open_sync,
    put,
    put_stream,
    put_stream_sync,
    put_sync,
    rm,
    rm_sync,
    size,
    size_sync,
    walk,
    walk_sync,
)
from flyte_storage._backends import get_filesystem, storage_options
from flyte_storage._config import (
    ABFS,
    GCS,
    S3,
    Storage,
    StorageConfig,
    configure,
    get_config,
)
from flyte_storage._files import AsyncFile, OpenContext, SyncFile
from flyte_storage._paths import (
    get_random_local_directory,
    get_random_local_path,
    is_remote,
    join,
)
from flyte_storage._signed import (
    ProgressCallback,
    download_signed,
    download_signed_stream,
    download_signed_stream_sync,
    download_signed_sync,
    redact_url,
    upload_signed,
    upload_signed_sync,
)
from flyte_storage._version import __version__

__all__ = [
    "ABFS",
    "AsyncFile",
    "GCS",
    "OpenContext",
    "ProgressCallback",
    "S3",
    "Storage",
    "StorageConfig",
    "SyncFile",
    "__version__",
    "configure",
    "download_signed",
    "download_signed_stream",
    "download_signed_stream_sync",
    "download_signed_sync",
    "exists",
    "exists_sync",
    "get",
    "get_config",
    "get_filesystem",
    "get_random_local_directory",
    "get_random_local_path",
    "get_stream",
    "get_stream_sync",
    "get_sync",
    "is_remote",
    "join",
    "ls",
    "ls_sync",
    "open",
    "open_sync",
    "put",
    "put_stream",
    "put_stream_sync",
    "put_sync",
    "redact_url",
    "rm",
    "rm_sync",
    "size",
    "size_sync",
    "storage_options",
    "upload_signed",
    "upload_signed_sync",
    "walk",
    "walk_sync",
]
