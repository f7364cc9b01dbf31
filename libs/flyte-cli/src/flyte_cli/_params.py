"""Command-line options from a task's signature: one `--name` per parameter, parsed by type.

| Python type                     | on the command line                                     |
|---------------------------------|---------------------------------------------------------|
| `int`, `float`, `str`           | `--n 5`, `--rate 0.5`, `--name flyte`                   |
| `bool`                          | `--flag` / `--no-flag` (or `--flag true`)               |
| `datetime` / `date`             | ISO 8601 (`2024-05-01`, `2024-05-01T10:00:00+00:00`), `now`, `today` |
| `timedelta`                     | `90` (seconds), `1h30m`, `2d`, `PT5M` (ISO 8601), `0:05:00`  |
| `list[...]`, `dict[...]`, `tuple` | JSON (`'[1, 2]'`, `'{"a": 1}'`)                       |
| `Enum`, `Literal[...]`          | one of the names / values (a choice)                    |
| dataclass, pydantic model       | JSON, or the path of a .json / .yaml file holding it    |
| `flyte.io.File` / `Dir`         | a local path (or a remote URI such as `s3://...`)       |
| `Optional[T]`                   | as `T`; leaving it out passes `None`                    |

Values are validated here, before anything runs: a bad value is a usage error naming the option.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import click

_NONE_TYPE = type(None)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """`(T, True)` for `Optional[T]` / `T | None`, else `(tp, False)`."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not _NONE_TYPE]
        if len(args) < len(typing.get_args(tp)):
            if len(args) == 1:
                return args[0], True
            return typing.Union[tuple(args)], True  # - built at run time
    return tp, False


def _strip_annotated(tp: Any) -> Any:
    if typing.get_origin(tp) is typing.Annotated:
        return typing.get_args(tp)[0]
    return tp


def _type_label(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


# -- parameter types ---------------------------------------------------------------------------


class DateTimeType(click.ParamType):
    """ISO 8601 date/time, `now` or `today`; naive values are taken as UTC."""

    name = "datetime"

    def __init__(self, date_only: bool = False) -> None:
        self.date_only = date_only

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            return value
        text = str(value).strip()
        if text.lower() == "now":
            parsed = dt.datetime.now(dt.timezone.utc)
        elif text.lower() == "today":
            parsed = dt.datetime.now(dt.timezone.utc).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
        else:
            try:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                self.fail(
                    f"{value!r} is not a date/time. Use ISO 8601, e.g. 2024-05-01 or "
                    "2024-05-01T10:30:00+00:00, or 'now'.",
                    param,
                    ctx,
                )
        if self.date_only:
            return parsed.date()
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed


_ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_SHORT_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|us|w|d|h|m|s)", re.IGNORECASE)
_SHORT_UNITS = {
    "w": "weeks",
    "d": "days",
    "h": "hours",
    "m": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
}


def parse_duration(text: str) -> dt.timedelta:
    """`90` (seconds), `1h30m`, `2d`, `500ms`, `PT5M`, `P1DT2H` or `H:MM:SS` to a timedelta.

    Raises:
        ValueError: The text is none of those forms.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty duration")
    try:
        return dt.timedelta(seconds=float(s))
    except ValueError:
        pass
    m = _ISO_DURATION.match(s)
    if m and s.upper() not in ("P", "PT"):
        return dt.timedelta(**{k: float(v) for k, v in m.groupdict().items() if v})
    if re.fullmatch(r"(?:(\d+) days?, )?\d+:\d{1,2}:\d{1,2}(?:\.\d+)?", s):
        days = 0
        if "day" in s:
            d, _, s = s.partition(",")
            days = int(d.split()[0])
            s = s.strip()
        h, mi, sec = s.split(":")
        return dt.timedelta(days=days, hours=int(h), minutes=int(mi), seconds=float(sec))
    parts = _SHORT_DURATION.findall(s)
    if parts and re.fullmatch(r"(?:\s*\d+(?:\.\d+)?\s*(?:ms|us|w|d|h|m|s)\s*)+", s, re.I):
        return dt.timedelta(**{_SHORT_UNITS[u.lower()]: float(n) for n, u in parts})
    raise ValueError(f"cannot read {text!r} as a duration")


class DurationType(click.ParamType):
    """A timedelta: seconds, `1h30m`, ISO 8601 `PT5M`, or `H:MM:SS`."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not a duration. Use seconds (90), 1h30m, 2d, PT5M or 0:05:00.",
                param,
                ctx,
            )


class JsonType(click.ParamType):
    """JSON text (or a .json/.yaml file path for structured types), validated against `tp`."""

    def __init__(self, tp: Any, label: str, allow_file: bool) -> None:
        self.tp = tp
        self.name = label
        self.allow_file = allow_file

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return _validate(self.tp, value)
        raw: Any
        text = value
        if self.allow_file and not value.lstrip().startswith(("{", "[")) and os.path.isfile(value):
            text = Path(value).read_text(encoding="utf-8")
            if value.endswith((".yaml", ".yml")):
                import yaml

                raw = yaml.safe_load(text)
                return self._check(raw, value, param, ctx)
        import json

        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            hint = " or the path of a .json/.yaml file" if self.allow_file else ""
            self.fail(f"{value!r} is not valid JSON ({e.msg}); pass {self.name}{hint}.", param, ctx)
        return self._check(raw, value, param, ctx)

    def _check(
        self, raw: Any, value: str, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        try:
            return _validate(self.tp, raw)
        except Exception as e:  # pydantic.ValidationError or TypeError: say what is wrong
            first = str(e).strip().splitlines()
            detail = "; ".join(line.strip() for line in first[:4])
            self.fail(f"{value!r} does not fit {_type_label(self.tp)}: {detail}", param, ctx)


def _validate(tp: Any, raw: Any) -> Any:
    """Turn parsed JSON into a `tp` (nested dataclasses, models, enums, dates, ...)."""
    from pydantic import TypeAdapter

    return TypeAdapter(tp).validate_python(raw)


class EnumType(click.Choice):
    """An Enum member by name or value (case-insensitive)."""

    def __init__(self, enum_cls: type[enum.Enum]) -> None:
        self.enum_cls = enum_cls
        super().__init__([m.name for m in enum_cls])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.enum_cls):
            return value
        for m in self.enum_cls:
            if str(value).lower() in (m.name.lower(), str(m.value).lower()):
                return m
        names = ", ".join(m.name for m in self.enum_cls)
        self.fail(f"{value!r} is not one of {names}.", param, ctx)


class LiteralType(click.Choice):
    """One of the values of a `Literal[...]`."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        super().__init__([str(v) for v in values])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        for v in self.values:
            if str(v) == str(value):
                return v
        self.fail(f"{value!r} is not one of {', '.join(map(str, self.values))}.", param, ctx)


class BlobType(click.ParamType):
    """A `flyte.io.File` / `Dir` from a local path (must exist) or a remote URI."""

    def __init__(self, cls: type, is_dir: bool) -> None:
        self.cls = cls
        self.is_dir = is_dir
        self.name = "directory" if is_dir else "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.cls):
            return value
        text = str(value)
        if "://" in text:
            return self.cls.from_existing_remote(text)  # type: ignore[attr-defined]
        path = Path(text).expanduser()
        if not path.exists():
            self.fail(f"{text!r} does not exist.", param, ctx)
        if self.is_dir != path.is_dir():
            kind = "a directory" if self.is_dir else "a file"
            self.fail(f"{text!r} is not {kind}.", param, ctx)
        return self.cls(path=str(path.resolve()))


class UnionType(click.ParamType):
    """The first member type of a union that accepts the value."""

    def __init__(self, members: list[click.ParamType], label: str) -> None:
        self.members = members
        self.name = label

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        errors = []
        for m in self.members:
            try:
                return m.convert(value, param, ctx)
            except click.BadParameter as e:
                errors.append(e.message)
        self.fail(f"{value!r} fits none of {self.name}: {'; '.join(errors)}", param, ctx)


class BoolType(click.ParamType):
    name = "boolean"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return click.BOOL.convert(value, param, ctx)


# -- type -> click ----------------------------------------------------------------------------


def _is_blob(tp: Any) -> tuple[bool, bool]:
    """(is File or Dir, is Dir) without importing flyte_types unless the module is loaded."""
    mod = getattr(tp, "__module__", "") or ""
    name = getattr(typing.get_origin(tp) or tp, "__name__", "")
    if not (mod.startswith(("flyte_types", "flyte.io", "flyte")) and name in ("File", "Dir")):
        return False, False
    return True, name == "Dir"


def click_type(tp: Any) -> click.ParamType:
    """The click parameter type that parses a value of Python type `tp`."""
    tp = _strip_annotated(tp)
    tp, _ = _unwrap_optional(tp)
    tp = _strip_annotated(tp)
    origin = typing.get_origin(tp)
    if tp is bool:
        return BoolType()
    if tp is int:
        return click.INT
    if tp is float:
        return click.FLOAT
    if tp is str:
        return click.STRING
    if tp is dt.datetime:
        return DateTimeType()
    if tp is dt.date:
        return DateTimeType(date_only=True)
    if tp is dt.timedelta:
        return DurationType()
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return EnumType(tp)
    if origin is typing.Literal:
        return LiteralType(typing.get_args(tp))
    blob, is_dir = _is_blob(origin or tp)
    if blob:
        return BlobType(origin or tp, is_dir)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        members = [click_type(a) for a in typing.get_args(tp)]
        return UnionType(members, " | ".join(_type_label(a) for a in typing.get_args(tp)))
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple):
        return JsonType(tp, "JSON list", allow_file=False)
    if origin is dict or tp is dict:
        return JsonType(tp, "JSON object", allow_file=False)
    if dataclasses.is_dataclass(tp) or _is_pydantic(tp):
        return JsonType(tp, f"JSON {_type_label(tp)}", allow_file=True)
    if tp is Any or tp is inspect.Parameter.empty:
        return click.STRING
    return JsonType(tp, f"JSON {_type_label(tp)}", allow_file=True)


def _is_pydantic(tp: Any) -> bool:
    return inspect.isclass(tp) and any(
        c.__module__.startswith("pydantic") and c.__name__ == "BaseModel" for c in tp.__mro__
    )


def _default_text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return value.name
    import json

    if isinstance(value, list | dict | tuple):
        try:
            return json.dumps(value)
        except TypeError:
            return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(dataclasses.asdict(value), default=str)
    return str(value)


def options_for(func: Any) -> list[click.Parameter]:
    """One click option per parameter of `func` (required when it has no default)."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = dict(getattr(func, "__annotations__", {}))
    opts: list[click.Parameter] = []
    for name, p in inspect.signature(func).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        tp = hints.get(name, p.annotation)
        inner, optional = _unwrap_optional(_strip_annotated(tp))
        has_default = p.default is not inspect.Parameter.empty
        flag = f"--{name}"
        dash = f"--{name.replace('_', '-')}"
        decls = [flag] if dash == flag else [flag, dash]
        # Parameters with a default get no click default: they are left out of the call when
        # not given, so the task's own default applies (and is never re-parsed).
        help_text = "optional" if optional and not has_default else ""
        if has_default and p.default is not None:
            help_text = f"[default: {_default_text(p.default)}]"
        kw: dict[str, Any] = {
            "required": not has_default and not optional,
            "help": help_text,
        }
        if _strip_annotated(inner) is bool:
            decls = [f"{d}/--no-{d[2:]}" for d in decls]
            if has_default and isinstance(p.default, bool):
                kw["default"] = p.default  # a flag always has a value; make it the task's
        else:
            kw["type"] = click_type(tp)
        opts.append(click.Option([*decls, name], **kw))
    return opts
