"""Hello, Flyte: a task that fans out to other tasks, run locally with `python hello.py`.

`main` squares every number with `flyte.map` (one child action per number, results in input
order) and, at the same time, builds a greeting with two tasks started by `asyncio.gather`.
With no config file, `flyte.init_from_config()` sets up a local run; with one that names a control
plane, the same script runs there.
"""

import asyncio

import flyte

env = flyte.TaskEnvironment(name="hello")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def shout(word: str) -> str:
    return word.upper() + "!"


@env.task
async def main(n: int, name: str) -> tuple[list[int], str]:
    squares = [s async for s in flyte.map.aio(square, range(n))]
    hello, who = await asyncio.gather(shout("hello"), shout(name))
    return squares, f"{hello} {who}"


if __name__ == "__main__":
    flyte.init_from_config()
    run = flyte.run(main, n=5, name="flyte")
    print(run.name, run.url)
    print(run.outputs())
