"""Blob storage over local disk, S3, GCS and Azure (owned by flyte-storage)."""

from flyte_storage import *  # noqa: F403
from flyte_storage import __all__  # noqa: F401
