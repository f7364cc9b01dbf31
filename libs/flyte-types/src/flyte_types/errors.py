"""Errors raised by `flyte_types`.

```
TypeTransformerError (flyte_types root)
├── TypeTransformerFailedError (+ TypeError, AssertionError, ValueError)
│   │                                a value does not match the declared type, or a type
│   │                                cannot be converted at all
│   └── LiteralDecodeError           a literal (or inputs.pb / outputs.pb) is corrupt or does
│                                    not have the shape the declared type needs
├── InlineSizeExceededError (+ flyte_models.errors.InlineIOMaxBytesBreached)
│                                    inputs or outputs are larger than the inline limit
└── RestrictedTypeError (+ flyte_models.errors.RestrictedTypeError)
                                     the type was registered as restricted: it may not cross a
                                     task boundary
```

`TypeTransformerFailedError` inherits `TypeError`, `AssertionError` and `ValueError` exactly like
the reference SDK's class of the same name, so `except TypeError:` written against the reference
keeps working. The last two inherit the runtime error classes of `flyte_models.errors`, so the
runtime reports them with the reference's error codes (`InlineIOMaxBytesBreached`,
`RestrictedTypeError`) and kind `user`.

Example:
    ```python
    from flyte_types import TypeEngine
    from flyte_types.errors import TypeTransformerFailedError

    try:
        TypeEngine.to_literal_sync("seven", int)
    except TypeTransformerFailedError as e:
        print(e)  # Expected a value of type int, got str ('seven')
    ```
"""

from __future__ import annotations

from typing import Any

from flyte_models import errors as _model_errors

__all__ = [
    "InlineSizeExceededError",
    "LiteralDecodeError",
    "RestrictedTypeError",
    "TypeTransformerError",
    "TypeTransformerFailedError",
]


class TypeTransformerError(_model_errors.FlyteError):
    """Root of the errors raised by `flyte_types`. Do not subclass in user code."""


class TypeTransformerFailedError(TypeTransformerError, TypeError, AssertionError, ValueError):
    """A Python value or type could not be converted to or from a literal.

    Raised when a value does not match its declared type (the message names the expected type and
    the type of the value received, and the parameter when the conversion was for a named input or
    output), or when a type has no usable literal representation.
    """


class LiteralDecodeError(TypeTransformerFailedError):
    """A literal is corrupt, or its shape does not fit the Python type it is decoded to."""


class InlineSizeExceededError(TypeTransformerError, _model_errors.InlineIOMaxBytesBreached):
    """Serialized inputs or outputs are larger than the inline limit (10 MiB by default).

    Attributes:
        size: The serialized size in bytes.
        limit: The limit in bytes.
    """

    def __init__(self, message: str, *, size: int = -1, limit: int = -1) -> None:
        _model_errors.InlineIOMaxBytesBreached.__init__(self, message)
        self.size = size
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_inline, (str(self.args[0]) if self.args else "", self.size, self.limit))


class RestrictedTypeError(TypeTransformerError, _model_errors.RestrictedTypeError):
    """The type was registered with `TypeEngine.register_restricted_type`: it cannot be converted."""

    def __init__(self, message: str) -> None:
        _model_errors.RestrictedTypeError.__init__(self, message)


def _rebuild_inline(message: str, size: int, limit: int) -> InlineSizeExceededError:
    return InlineSizeExceededError(message, size=size, limit=limit)
