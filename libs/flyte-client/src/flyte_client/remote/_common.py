"""Shared pieces of the remote objects: list filters, sorting, paging and dual iterators."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from flyte_models import ActionPhase, syncify

if TYPE_CHECKING:
    from flyteidl2.common import list_pb2

__all__ = [
    "DualIterator",
    "TimeFilter",
    "dual_iterator",
    "paged",
    "phase_filter",
    "project_list",
    "sorting",
]

T = TypeVar("T")


@dataclass
class TimeFilter:
    """A time range for `listall(created_at=..., updated_at=...)`; either bound may be None."""

    after: datetime | None = None
    before: datetime | None = None


def sorting(
    sort_by: tuple[str, Literal["asc", "desc"]] | None, default: tuple[str, str] | None = None
) -> list_pb2.Sort | None:
    """A `list_pb2.Sort` for `(field, "asc"|"desc")`.

    Raises:
        ValueError: For a direction other than "asc"/"desc".
    """
    from flyteidl2.common import list_pb2

    chosen = sort_by or default
    if chosen is None:
        return None
    key, direction = chosen
    if direction not in ("asc", "desc"):
        raise ValueError(f"sort_by direction must be 'asc' or 'desc', got {direction!r}")
    return list_pb2.Sort(
        key=key,
        direction=list_pb2.Sort.ASCENDING if direction == "asc" else list_pb2.Sort.DESCENDING,
    )


def _phase_number(p: ActionPhase | str) -> str:
    if isinstance(p, ActionPhase):
        return str(p.to_protobuf_value())
    try:
        return str(ActionPhase.from_protobuf(p).to_protobuf_value())
    except (TypeError, ValueError) as exc:
        names = ", ".join(ph.value for ph in ActionPhase)
        raise ValueError(f"Unknown phase {p!r}; use one of: {names}") from exc


def phase_filter(in_phase: Any) -> list[list_pb2.Filter]:
    """Filters selecting any of the phases in `in_phase` (one phase or a tuple of phases)."""
    from flyteidl2.common import list_pb2

    if not in_phase:
        return []
    phases = in_phase if isinstance(in_phase, tuple | list | set) else (in_phase,)
    values = [_phase_number(p) for p in phases]
    if len(values) == 1:
        return [list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="phase", values=values)]
    return [list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=values)]


def eq_filter(field: str, value: str) -> list_pb2.Filter:
    from flyteidl2.common import list_pb2

    return list_pb2.Filter(function=list_pb2.Filter.EQUAL, field=field, values=[value])


def time_filters(field: str, tf: TimeFilter | None) -> list[list_pb2.Filter]:
    from flyteidl2.common import list_pb2

    if tf is None:
        return []
    out = []
    if tf.after is not None:
        out.append(
            list_pb2.Filter(
                function=list_pb2.Filter.GREATER_THAN_OR_EQUAL,
                field=field,
                values=[tf.after.isoformat()],
            )
        )
    if tf.before is not None:
        out.append(
            list_pb2.Filter(
                function=list_pb2.Filter.LESS_THAN_OR_EQUAL,
                field=field,
                values=[tf.before.isoformat()],
            )
        )
    return out


def project_list(
    size: int,
    token: str,
    sort_by: tuple[str, Literal["asc", "desc"]] | None,
    filters: list[list_pb2.Filter],
    org: str,
    project: str,
    domain: str,
) -> dict[str, Any]:
    """The paging, sorting (newest first by default) and project fields of a List*Request."""
    from flyteidl2.common import identifier_pb2, list_pb2

    return {
        "request": list_pb2.ListRequest(
            limit=size,
            token=token,
            sort_by=sorting(sort_by, ("created_at", "desc")),
            filters=filters,
        ),
        "org": org,
        "project_id": identifier_pb2.ProjectIdentifier(
            organization=org, name=project, domain=domain
        ),
    }


async def paged(
    limit: int, fetch: Callable[[int, str], Awaitable[tuple[Iterable[T], str]]]
) -> AsyncIterator[T]:
    """Up to `limit` items of a paged list RPC, in pages of at most 100.

    Args:
        limit: How many items to yield at most.
        fetch: `fetch(page_size, token)` returns one page's items and the next page's token
            ("" after the last page).
    """
    token, seen = "", 0
    while seen < limit:
        items, token = await fetch(min(100, limit - seen), token)
        for item in items:
            if seen >= limit:
                return
            seen += 1
            yield item
        if not token:
            return


class DualIterator(Generic[T]):
    """An async generator usable both ways: `for x in it` (on the SDK's background loop) and
    `async for x in it` (on the caller's loop)."""

    def __init__(self, make: Callable[[], AsyncIterator[T]]) -> None:
        self._make = make

    def __aiter__(self) -> AsyncIterator[T]:
        return self._make().__aiter__()

    def __iter__(self) -> Iterator[T]:
        return _drain(self._make)  # type: ignore[no-any-return]


@syncify
async def _drain(make: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
    async for item in make():
        yield item


def dual_iterator(fn: Callable[..., AsyncIterator[T]]) -> Any:
    """Decorate an async generator method so its result works with `for` and `async for`; the
    async form is also reachable as `.aio(...)` like the syncified APIs."""

    class _Bound:
        def __init__(self, instance: Any) -> None:
            self._instance = instance
            functools.update_wrapper(self, fn)

        def __call__(self, *args: Any, **kwargs: Any) -> DualIterator[T]:
            return DualIterator(lambda: fn(self._instance, *args, **kwargs))

        def aio(self, *args: Any, **kwargs: Any) -> AsyncIterator[T]:
            return fn(self._instance, *args, **kwargs)

    class _Descriptor:
        def __get__(self, instance: Any, owner: Any) -> Any:
            if instance is None:
                return fn
            return _Bound(instance)

    return _Descriptor()
