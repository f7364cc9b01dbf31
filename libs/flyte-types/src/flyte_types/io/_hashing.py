"""Hash methods: how a `File`, `Dir` or `DataFrame` gets the content hash used in cache keys.

A hash method receives data (`update`) and produces a string (`result`). `File.from_local` and
writable `File.open` feed it every byte as it is uploaded or written; `DataFrame.from_local` hands
it the dataframe itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "HashFunction",
    "HashMethod",
    "HashingWriter",
    "HashlibAccumulator",
    "PrecomputedValue",
]


@runtime_checkable
class HashMethod(Protocol):
    """Something that accumulates data and returns a hash string."""

    def update(self, data: Any, /) -> None:
        """Feed data (bytes-like for files, the dataframe for dataframes)."""
        ...

    def result(self) -> str:
        """Return the hash of everything fed so far."""
        ...


class HashFunction:
    """A hash method wrapping a function of the data (the last value fed is hashed).

    Example:
        ```python
        h = HashFunction.from_fn(lambda df: str(pd.util.hash_pandas_object(df).sum()))
        ```
    """

    def __init__(self, fn: Callable[[Any], str]) -> None:
        self._fn = fn
        self._value = ""

    def update(self, data: Any, /) -> None:
        """Compute the hash of `data` with the wrapped function."""
        self._value = self._fn(data)

    def result(self) -> str:
        """Return the last computed hash."""
        return self._value

    @classmethod
    def from_fn(cls, fn: Callable[[Any], str]) -> HashFunction:
        """Wrap a function returning a hash string."""
        return cls(fn)


class PrecomputedValue:
    """A hash method whose result is known in advance (data is ignored)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def update(self, data: Any, /) -> None:
        """Ignore the data."""

    def result(self) -> str:
        """Return the precomputed value."""
        return self._value


class HashlibAccumulator:
    """A hash method over a `hashlib` object (e.g. `HashlibAccumulator.from_hash_name("sha256")`)."""

    def __init__(self, h: Any) -> None:
        self._h = h

    def update(self, data: Any, /) -> None:
        """Feed bytes."""
        self._h.update(data)

    def result(self) -> str:
        """Return the hex digest."""
        return str(self._h.hexdigest())

    @classmethod
    def from_hash_name(cls, name: str) -> HashlibAccumulator:
        """Create an accumulator for a `hashlib` algorithm name."""
        return cls(hashlib.new(name))


class HashingWriter:
    """A file wrapper feeding every written byte to a hash method (`str` is hashed encoded)."""

    def __init__(self, fh: Any, accumulator: HashMethod, *, encoding: str | None = None) -> None:
        self._fh = fh
        self._acc = accumulator
        self._encoding = encoding or getattr(fh, "encoding", None) or "utf-8"

    def result(self) -> str:
        """Return the hash of everything written."""
        return self._acc.result()

    def write(self, data: Any) -> Any:
        """Hash and write."""
        raw = data.encode(self._encoding) if isinstance(data, str) else data
        self._acc.update(memoryview(raw))
        return self._fh.write(data)

    def writelines(self, lines: Iterable[Any]) -> None:
        """Hash and write each line."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)
