"""The error taxonomy: hierarchy, runtime codes, and pickling (errors cross process boundaries)."""

from __future__ import annotations

import pickle

import pytest

from flyte_models import errors as model_errors
from flyte_types.errors import (
    InlineSizeExceededError,
    LiteralDecodeError,
    RestrictedTypeError,
    TypeTransformerError,
    TypeTransformerFailedError,
)


def test_hierarchy() -> None:
    assert issubclass(TypeTransformerError, model_errors.FlyteError)
    assert issubclass(LiteralDecodeError, TypeTransformerFailedError)
    assert issubclass(InlineSizeExceededError, model_errors.InlineIOMaxBytesBreached)
    assert issubclass(RestrictedTypeError, model_errors.RestrictedTypeError)
    for cls in (InlineSizeExceededError, RestrictedTypeError, TypeTransformerFailedError):
        assert issubclass(cls, TypeTransformerError)


def test_runtime_codes_and_kind() -> None:
    e = InlineSizeExceededError("too big", size=11, limit=10)
    assert (e.code, e.kind, e.size, e.limit) == ("InlineIOMaxBytesBreached", "user", 11, 10)
    assert RestrictedTypeError("no").kind == "user"


@pytest.mark.parametrize(
    "error",
    [
        TypeTransformerFailedError("a"),
        LiteralDecodeError("b"),
        InlineSizeExceededError("c", size=2, limit=1),
        RestrictedTypeError("d"),
    ],
)
def test_errors_pickle(error: Exception) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    if isinstance(error, InlineSizeExceededError):
        assert isinstance(back, InlineSizeExceededError) and back.limit == 1
