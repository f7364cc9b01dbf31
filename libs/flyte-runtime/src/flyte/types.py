"""The type engine: Python values to Flyte literals and back (owned by flyte-types)."""

from flyte_types import (
    FlytePickle,
    Renderable,
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
    literal_string_repr,
)

__all__ = [
    "FlytePickle",
    "Renderable",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "literal_string_repr",
]
