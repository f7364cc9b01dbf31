"""Structured values and files passed between tasks.

`make_dataset` writes a CSV file and returns it as a `flyte.io.File` together with a dataclass
describing it; `summarize` opens the file in another task and returns a pydantic model. Every
value crosses the task boundary as a Flyte literal, exactly as it would on a cluster.
"""

import asyncio
import csv
import enum
import io
from dataclasses import dataclass

from pydantic import BaseModel

import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="dataclasses_and_files")


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@dataclass
class DatasetInfo:
    city: str
    unit: Unit
    columns: list[str]


class Summary(BaseModel):
    city: str
    readings: int
    mean: float
    extremes: dict[str, float]


@env.task
async def make_dataset(city: str, temps: list[float]) -> tuple[File, DatasetInfo]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["hour", "temp"])
    writer.writerows(enumerate(temps))
    # A new file under the run's raw data path (a bucket on a cluster, a local dir here).
    data = File.new_remote(f"{city}.csv")
    async with data.open("wb") as fh:
        await fh.write(buf.getvalue().encode())
    return data, DatasetInfo(city=city, unit=Unit.CELSIUS, columns=["hour", "temp"])


@env.task
async def summarize(data: File, info: DatasetInfo) -> Summary:
    async with data.open("rb") as fh:
        text = bytes(await fh.read()).decode()
    temps = [float(row["temp"]) for row in csv.DictReader(io.StringIO(text))]
    return Summary(
        city=info.city,
        readings=len(temps),
        mean=round(sum(temps) / len(temps), 2),
        extremes={"min": min(temps), "max": max(temps)},
    )


@env.task
async def main(cities: dict[str, list[float]]) -> list[Summary]:
    datasets = await asyncio.gather(*(make_dataset(c, t) for c, t in sorted(cities.items())))
    return list(await asyncio.gather(*(summarize(f, info) for f, info in datasets)))


if __name__ == "__main__":
    flyte.init_from_config()
    run = flyte.run(main, cities={"oslo": [-3.0, -1.5, 0.5, 2.0], "lima": [18.0, 19.5, 22.0, 21.5]})
    for summary in run.outputs()[0]:
        print(
            f"{summary.city}: {summary.readings} readings, mean {summary.mean}, {summary.extremes}"
        )
