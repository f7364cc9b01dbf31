"""Command-line options from task signatures: types, defaults, and the errors of bad values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from pathlib import Path
from typing import Any, Literal, Optional

import click
import pydantic
import pytest
from click.testing import CliRunner

from flyte.io import Dir, File
from flyte_cli._params import click_type, options_for, parse_duration


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Inner:
    v: int


@dataclasses.dataclass
class Outer:
    name: str
    inner: Inner
    tags: list[str] = dataclasses.field(default_factory=list)


class Model(pydantic.BaseModel):
    a: int
    when: dt.datetime


def _invoke(func: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    """Parse `args` with the options of `func`; returns (exit code, parsed values, output)."""
    seen: dict[str, Any] = {}

    @click.command(params=options_for(func))
    def cmd(**kwargs: Any) -> None:
        seen.update({k: v for k, v in kwargs.items() if v is not None})

    result = CliRunner().invoke(cmd, list(args))
    return result.exit_code, seen, result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", dt.timedelta(seconds=90)),
        ("1.5", dt.timedelta(seconds=1.5)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("2d", dt.timedelta(days=2)),
        ("500ms", dt.timedelta(milliseconds=500)),
        ("PT5M", dt.timedelta(minutes=5)),
        ("P1DT2H", dt.timedelta(days=1, hours=2)),
        ("0:05:00", dt.timedelta(minutes=5)),
        ("1 day, 2:00:00", dt.timedelta(days=1, hours=2)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "P", "5 parsecs", "1h junk"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_scalars_required_and_defaults() -> None:
    def f(n: int, rate: float = 0.5, name: str = "x", loud: bool = False, on: bool = True) -> None:
        ...

    code, seen, out = _invoke(f, "--n", "3", "--rate", "2")
    assert code == 0, out
    assert seen == {"n": 3, "rate": 2.0, "loud": False, "on": True}
    code, seen, _ = _invoke(f, "--n", "1", "--loud", "--no-on", "--name", "y")
    assert seen == {"n": 1, "loud": True, "on": False, "name": "y"}
    code, _, out = _invoke(f)
    assert code == 2 and "Missing option '--n'" in out
    code, _, out = _invoke(f, "--n", "x")
    assert code == 2 and "'x' is not a valid integer" in out


def test_help_shows_defaults() -> None:
    def f(
        n: int,
        xs: list[int] = [1, 2],  # noqa: B006 - a task default, as users write them
        c: Color = Color.BLUE,
        d: dt.timedelta = dt.timedelta(seconds=3),
    ) -> None:
        ...

    code, _, out = _invoke(f, "--help")
    assert code == 0
    assert "[required]" in out
    assert "[default: [1, 2]]" in out
    assert "[default: BLUE]" in out
    assert "[default: 0:00:03]" in out
    assert "[RED|BLUE]" in out


def test_datetime_and_date() -> None:
    def f(when: dt.datetime, day: dt.date) -> None:
        ...

    code, seen, out = _invoke(f, "--when", "2024-05-01T10:30:00Z", "--day", "2024-05-02")
    assert code == 0, out
    assert seen["when"] == dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.timezone.utc)
    assert seen["day"] == dt.date(2024, 5, 2)
    code, seen, _ = _invoke(f, "--when", "now", "--day", "today")
    assert abs((dt.datetime.now(dt.timezone.utc) - seen["when"]).total_seconds()) < 60
    code, _, out = _invoke(f, "--when", "yesterday-ish", "--day", "2024-01-01")
    assert code == 2 and "not a date/time" in out


def test_enum_by_name_or_value_and_literal() -> None:
    def f(c: Color, mode: Literal["fast", "slow"] = "fast") -> None:
        ...

    assert _invoke(f, "--c", "BLUE")[1]["c"] is Color.BLUE
    assert _invoke(f, "--c", "blue")[1]["c"] is Color.BLUE
    assert _invoke(f, "--c", "red", "--mode", "slow")[1]["mode"] == "slow"
    code, _, out = _invoke(f, "--c", "green")
    assert code == 2 and "green" in out and "RED, BLUE" in out
    code, _, out = _invoke(f, "--c", "red", "--mode", "medium")
    assert code == 2


def test_json_containers_are_validated_against_the_hint() -> None:
    def f(xs: list[int], m: dict[str, float], t: tuple[int, str] = (1, "a")) -> None:
        ...

    code, seen, out = _invoke(f, "--xs", "[1, 2]", "--m", '{"a": 1}', "--t", '[2, "b"]')
    assert code == 0, out
    assert seen == {"xs": [1, 2], "m": {"a": 1.0}, "t": (2, "b")}
    code, _, out = _invoke(f, "--xs", '["x"]', "--m", "{}")
    assert code == 2 and "does not fit" in out
    code, _, out = _invoke(f, "--xs", "[1", "--m", "{}")
    assert code == 2 and "not valid JSON" in out


def test_dataclass_and_pydantic_from_json_or_file(tmp_path: Path) -> None:
    def f(o: Outer, m: Optional[Model] = None) -> None:
        ...

    payload = {"name": "n", "inner": {"v": 3}, "tags": ["a"]}
    code, seen, out = _invoke(f, "--o", json.dumps(payload))
    assert code == 0, out
    assert seen["o"] == Outer("n", Inner(3), ["a"])
    (tmp_path / "o.yaml").write_text("name: y\ninner:\n  v: 9\n")
    (tmp_path / "m.json").write_text(json.dumps({"a": 1, "when": "2024-01-01T00:00:00Z"}))
    code, seen, out = _invoke(f, "--o", str(tmp_path / "o.yaml"), "--m", str(tmp_path / "m.json"))
    assert code == 0, out
    assert seen["o"] == Outer("y", Inner(9))
    assert seen["m"].a == 1 and seen["m"].when.year == 2024
    code, _, out = _invoke(f, "--o", '{"name": "n"}')
    assert code == 2 and "does not fit Outer" in out


def test_optional_is_not_required() -> None:
    def f(x: int | None, y: Optional[str] = None) -> None:
        ...

    code, seen, out = _invoke(f)
    assert code == 0, out
    assert seen == {}
    assert _invoke(f, "--x", "4")[1] == {"x": 4}


def test_union_tries_each_member() -> None:
    def f(v: int | dt.datetime) -> None:
        ...

    assert _invoke(f, "--v", "5")[1]["v"] == 5
    assert _invoke(f, "--v", "2024-01-01")[1]["v"].year == 2024
    code, _, out = _invoke(f, "--v", "nope")
    assert code == 2 and "fits none of" in out


def test_file_and_dir_from_local_paths(tmp_path: Path) -> None:
    def f(a: File, b: Dir, c: File | None = None) -> None:
        ...

    (tmp_path / "x.txt").write_text("x")
    code, seen, out = _invoke(f, "--a", str(tmp_path / "x.txt"), "--b", str(tmp_path))
    assert code == 0, out
    assert isinstance(seen["a"], File) and seen["a"].path == str(tmp_path / "x.txt")
    assert isinstance(seen["b"], Dir) and seen["b"].path == str(tmp_path)
    code, _, out = _invoke(f, "--a", str(tmp_path / "missing.txt"), "--b", str(tmp_path))
    assert code == 2 and "does not exist" in out
    code, _, out = _invoke(f, "--a", str(tmp_path), "--b", str(tmp_path))
    assert code == 2 and "is not a file" in out
    code, seen, out = _invoke(f, "--a", "s3://bucket/k.txt", "--b", str(tmp_path))
    assert code == 0, out
    assert seen["a"].path == "s3://bucket/k.txt"


def test_underscored_names_accept_dashes() -> None:
    def f(max_items: int) -> None:
        ...

    assert _invoke(f, "--max-items", "3")[1] == {"max_items": 3}
    assert _invoke(f, "--max_items", "4")[1] == {"max_items": 4}


def test_click_type_of_any_is_text() -> None:
    assert click_type(Any) is click.STRING
