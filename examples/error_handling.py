"""Plain Python control flow for failures: catch a child's error, or collect failures from a map."""

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="error_handling")


@env.task
async def parse(value: str) -> int:
    return int(value)


@env.task
async def parse_or_default(value: str, default: int) -> int:
    try:
        return await parse(value)
    except flyte.errors.RuntimeUserError as e:
        # The child's exception arrives as a user error named after the original exception.
        print(f"  {value!r} failed with {e.code}; using {default}")
        return default


@env.task
async def main(values: list[str]) -> tuple[list[int], list[str]]:
    parsed = [await parse_or_default(v, -1) for v in values]
    # flyte.map yields failures in place of results (return_exceptions=True is the default).
    results = [r async for r in flyte.map.aio(parse, values)]
    problems = [
        f"{v}: {r.code}"
        for v, r in zip(values, results, strict=True)
        if isinstance(r, flyte.errors.RuntimeUserError)
    ]
    return parsed, problems


if __name__ == "__main__":
    flyte.init_from_config()
    parsed, problems = flyte.run(main, values=["1", "two", "3", "4.5"]).outputs()
    print("parsed:", parsed)
    print("problems:", problems)
