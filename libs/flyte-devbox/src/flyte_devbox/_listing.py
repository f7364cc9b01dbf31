"""`common.ListRequest` (filters, sorting, page tokens) applied to lists of records.

A devbox holds at most some thousands of runs or tasks, so lists are filtered in Python over
a dict of each item's filterable fields; that keeps one set of semantics for every List RPC.
The page token is the offset of the next page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from flyteidl2.common import list_pb2, phase_pb2

from flyte_devbox._errors import InvalidArgument

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

F = list_pb2.Filter.Function


def _coerce(template: Any, raw: str) -> Any:
    """Interpret the string `raw` like the field value `template`."""
    if isinstance(template, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(template, float):  # timestamps are POSIX seconds
        try:
            return float(raw)
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgument(f"{raw!r} is not a timestamp") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    if isinstance(template, int):
        try:
            return int(raw)
        except ValueError:
            name = raw.upper()
            if not name.startswith("ACTION_PHASE_"):
                name = "ACTION_PHASE_" + name
            try:
                return int(phase_pb2.ActionPhase.Value(name))
            except ValueError:
                raise InvalidArgument(f"{raw!r} is not a number or a phase name") from None
    return raw


def _matches(f: list_pb2.Filter, fields: Mapping[str, Any]) -> bool:
    field = f.field
    present = field in fields and fields[field] is not None
    if f.function == F.EXISTS:
        return present
    if f.function == F.NOT_EXISTS:
        return not present
    if not present:
        return f.function in (F.NOT_EQUAL, F.VALUE_NOT_IN, F.NOT_ENDS_WITH)
    value = fields[field]
    values = [_coerce(value, v) for v in f.values]
    if not values:
        raise InvalidArgument(f"filter on {field!r} has no value")
    first = values[0]
    fn = f.function
    if fn == F.EQUAL:
        return bool(value == first)
    if fn == F.NOT_EQUAL:
        return bool(value != first)
    if fn == F.GREATER_THAN:
        return bool(value > first)
    if fn == F.GREATER_THAN_OR_EQUAL:
        return bool(value >= first)
    if fn == F.LESS_THAN:
        return bool(value < first)
    if fn == F.LESS_THAN_OR_EQUAL:
        return bool(value <= first)
    if fn == F.VALUE_IN:
        return value in values
    if fn == F.VALUE_NOT_IN:
        return value not in values
    if fn == F.CONTAINS:
        return str(first) in str(value)
    if fn == F.CONTAINS_CASE_INSENSITIVE:
        return str(first).lower() in str(value).lower()
    if fn == F.ENDS_WITH:
        return str(value).endswith(str(first))
    if fn == F.NOT_ENDS_WITH:
        return not str(value).endswith(str(first))
    raise InvalidArgument(f"filter function {F.Name(fn)} is not supported")


def page(
    items: Sequence[T],
    request: list_pb2.ListRequest,
    fields: Callable[[T], Mapping[str, Any]],
    *,
    filterable: Sequence[str],
    default_sort: tuple[str, bool] = ("created_at", True),
    extra_filters: Sequence[list_pb2.Filter] = (),
) -> tuple[list[T], str]:
    """Filter, sort and cut one page; returns the page and the next token ("" at the end).

    `filterable` lists the field names accepted in filters and sort keys; `labels.<key>`
    fields are accepted whenever `labels.` is listed. `default_sort` is (key, descending).
    """
    if request.raw_filters:
        raise InvalidArgument("ListRequest.raw_filters is not supported by flyte-devbox")
    filters = [*request.filters, *extra_filters]
    for f in filters:
        _check_field(f.field, filterable, "filter")
    sorts = list(request.sort_by_fields) or (
        [request.sort_by] if request.HasField("sort_by") and request.sort_by.key else []
    )
    for s in sorts:
        _check_field(s.key, filterable, "sort")
    rows = [(item, fields(item)) for item in items]
    if filters:
        rows = [(item, fs) for item, fs in rows if all(_matches(f, fs) for f in filters)]
    keys = [(s.key, s.direction == list_pb2.Sort.DESCENDING) for s in sorts] or [default_sort]
    for key, descending in reversed(keys):
        rows.sort(key=lambda r, k=key: _sort_key(r[1].get(k)), reverse=descending)  # type: ignore[misc]
    try:
        offset = int(request.token) if request.token else 0
    except ValueError:
        raise InvalidArgument(f"invalid page token {request.token!r}") from None
    limit = request.limit or DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    chunk = rows[offset : offset + limit]
    next_token = str(offset + limit) if offset + limit < len(rows) else ""
    return [item for item, _ in chunk], next_token


def _check_field(field: str, filterable: Sequence[str], what: str) -> None:
    if field in filterable:
        return
    if field.startswith("labels.") and "labels." in filterable:
        return
    raise InvalidArgument(
        f"unsupported {what} field {field!r}; flyte-devbox supports: "
        + ", ".join(f for f in filterable if f != "labels.")
        + (", labels.<key>" if "labels." in filterable else "")
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))
