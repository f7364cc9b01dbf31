"""Traces, groups, custom context and the task context.

`@flyte.trace` marks helper functions whose calls are recorded as steps of the task that makes
them (on a cluster they are replayed, not re-run, when a run recovers). `flyte.group` gathers child
actions under a name. A run's custom context reaches every action in it.
"""

import asyncio

import flyte

env = flyte.TaskEnvironment(name="traces_and_groups")


@flyte.trace
def tokenize(text: str) -> list[str]:
    return text.lower().split()


@flyte.trace
def count_long(words: list[str], min_len: int) -> int:
    return sum(1 for w in words if len(w) >= min_len)


@flyte.trace
async def describe(label: str) -> str:
    ctx = flyte.ctx()
    return f"{label} in {ctx.mode} mode for {flyte.get_custom_context().get('team', '?')}"


@env.task
def word_stats(text: str) -> dict[str, int]:
    words = tokenize(text)
    return {"words": len(words), "long": count_long(words, 5)}


@env.task
async def tagged(label: str) -> str:
    return await describe(label)


@env.task
async def main(texts: list[str]) -> tuple[list[dict[str, int]], list[str]]:
    with flyte.group("stats"):
        stats = await asyncio.gather(*(word_stats.aio(t) for t in texts))
    with flyte.group("tags"), flyte.custom_context(stage="tagging"):
        tags = [await tagged(f"text-{i}") for i in range(len(texts))]
    return list(stats), tags


if __name__ == "__main__":
    flyte.init_from_config()
    run = flyte.with_runcontext(custom_context={"team": "search"}).run(
        main, texts=["The quick brown fox", "Jumps over the lazy sleeping dog"]
    )
    stats, tags = run.outputs()
    print(stats)
    print(tags)
