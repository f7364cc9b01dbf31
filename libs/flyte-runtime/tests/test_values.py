"""Values passed between tasks travel as Flyte literals and come back as the same Python types."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
from pathlib import Path

import pydantic

import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="test_values")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Shape:
    name: str
    corners: list[Point]


class Settings(pydantic.BaseModel):
    name: str
    weights: dict[str, float]
    color: Color = Color.RED


class MinMax(typing.NamedTuple):
    low: int
    high: int


@env.task
async def move(shape: Shape, dx: int) -> Shape:
    return Shape(
        name=shape.name, corners=[Point(p.x + dx, p.y, [*p.tags, "moved"]) for p in shape.corners]
    )


@env.task
async def tune(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"weights": {k: v * 2 for k, v in settings.weights.items()}, "color": Color.GREEN}
    )


@env.task
async def invert(color: Color) -> Color:
    return Color.GREEN if color is Color.RED else Color.RED


@env.task
async def containers(items: list[int], table: dict[str, list[int]]) -> dict[str, int]:
    return {"items": sum(items), **{k: sum(v) for k, v in table.items()}}


@env.task
async def optional(x: int | None = None) -> str | None:
    return None if x is None else str(x)


@env.task
async def split(text: str) -> tuple[str, int]:
    return text.upper(), len(text)


@env.task
async def bounds(values: list[int]) -> MinMax:
    return MinMax(min(values), max(values))


@env.task
async def shift(when: datetime.datetime, by: datetime.timedelta) -> datetime.datetime:
    return when + by


@env.task
async def write_file(text: str) -> File:
    path = Path(flyte.ctx().raw_data_path.path) / "greeting.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return await File.from_local(str(path))


@env.task
async def read_file(f: File) -> str:
    async with f.open("rb") as fh:
        data = await fh.read()
    return bytes(data).decode()


@env.task
async def main() -> dict[str, str]:
    """Call each task from a task, so every value crosses a child action's boundary both ways."""
    shape = await move(Shape("tri", [Point(0, 0.5), Point(1, 1.5, ["a"])]), dx=10)
    settings = await tune(Settings(name="s", weights={"a": 1.5}))
    color = await invert(Color.RED)
    total = await containers([1, 2, 3], {"b": [4, 5]})
    upper, length = await split("flyte")
    low_high = await bounds([3, 1, 2])
    moved = await shift(
        datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), datetime.timedelta(hours=1)
    )
    text = await read_file(await write_file("hello file"))
    return {
        "shape": repr(shape),
        "shape_type": type(shape.corners[0]).__name__,
        "settings": repr(settings),
        "settings_type": type(settings).__name__,
        "color": repr(color),
        "containers": repr(sorted(total.items())),
        "split": repr((upper, length)),
        "bounds": repr(low_high),
        "bounds_type": type(low_high).__name__,
        "moved": moved.isoformat(),
        "file": text,
        "optional": repr((await optional(), await optional(4))),
    }


def test_values_round_trip_between_tasks() -> None:
    got = flyte.run(main).outputs()[0]
    assert got["shape"] == repr(
        Shape("tri", [Point(10, 0.5, ["moved"]), Point(11, 1.5, ["a", "moved"])])
    )
    assert got["shape_type"] == "Point"
    assert got["settings"] == repr(Settings(name="s", weights={"a": 3.0}, color=Color.GREEN))
    assert got["settings_type"] == "Settings"
    assert got["color"] == repr(Color.GREEN)
    assert got["containers"] == repr([("b", 9), ("items", 6)])  # key order is not kept
    assert got["split"] == repr(("FLYTE", 5))
    # A nested call gets a plain tuple back, as with the reference SDK.
    assert got["bounds"] == repr((1, 3))
    assert got["bounds_type"] == "tuple"
    assert got["moved"] == "2024-01-01T01:00:00+00:00"
    assert got["file"] == "hello file"
    assert got["optional"] == repr((None, "4"))


def test_root_inputs_and_outputs_round_trip() -> None:
    shape = Shape("sq", [Point(1, 2.0)])
    assert flyte.run(move, shape, 1).outputs()[0] == Shape("sq", [Point(2, 2.0, ["moved"])])
    assert flyte.run(invert, Color.GREEN).outputs()[0] is Color.RED
    settings = flyte.run(tune, Settings(name="n", weights={"w": 0.25})).outputs()[0]
    assert isinstance(settings, Settings)
    assert settings.weights == {"w": 0.5} and settings.color is Color.GREEN


def test_a_file_passed_between_tasks_keeps_its_content(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("from the outside")
    f = File.from_local_sync(str(src))
    assert flyte.run(read_file, f).outputs()[0] == "from the outside"
    produced = flyte.run(write_file, "round trip").outputs()[0]
    assert isinstance(produced, File)
    assert Path(produced.download_sync(str(tmp_path / "out.txt"))).read_text() == "round trip"
