"""The Flyte error taxonomy (owned by flyte-models): `except flyte.errors.RuntimeUserError: ...`."""

from flyte_models.errors import *  # noqa: F403
from flyte_models.errors import __all__ as _models_all
from flyte_types.errors import TypeTransformerFailedError

__all__ = [*_models_all, "TypeTransformerFailedError"]
