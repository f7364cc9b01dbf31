"""Retries with backoff, and the local cache.

`fetch_page` fails twice before it succeeds (a stand-in for a flaky service), so its retry
strategy lets the run finish. `expensive_score` is cached: the second run finds its outputs in the
local cache (`~/.flyte/local-cache`, or `$FLYTE_LOCAL_CACHE_DIR`) and does not call it again.
"""

from datetime import timedelta

import flyte
import flyte.errors

env = flyte.TaskEnvironment(name="retries_and_cache")

# Counters live in this process, which is where local runs execute their tasks; they show what
# ran. (On a cluster every attempt runs in a fresh container.)
attempts = {"fetch_page": 0}
computed: list[int] = []


@env.task(
    retries=flyte.RetryStrategy(
        count=3,
        backoff=flyte.Backoff(
            base=timedelta(milliseconds=50), factor=2.0, cap=timedelta(seconds=1)
        ),
    )
)
async def fetch_page(page: int) -> str:
    attempts["fetch_page"] += 1
    if attempts["fetch_page"] < 3:
        raise ConnectionError(f"service unavailable (attempt {attempts['fetch_page']})")
    return f"page {page} contents"


@env.task(cache="auto")
async def expensive_score(text: str) -> int:
    computed.append(len(text))
    return sum(ord(c) for c in text) % 1000


@env.task
async def refuse() -> int:
    raise flyte.errors.NonRecoverableError("bad request: retrying cannot help")


@env.task
async def main(page: int) -> int:
    return await expensive_score(await fetch_page(page))


if __name__ == "__main__":
    flyte.init_from_config()
    # overwrite_cache: recompute and refresh the entry, so this demo prints the same thing every time.
    first = flyte.with_runcontext(overwrite_cache=True).run(main, page=7)
    print("first run:", first.outputs()[0], "attempts:", attempts["fetch_page"])
    attempts["fetch_page"] = 0
    second = flyte.run(main, page=7)
    print("second run:", second.outputs()[0], "score computed", len(computed), "time(s)")
    try:
        flyte.run(refuse.override(retries=5))
    except flyte.errors.RuntimeUserError as e:
        print("not retried:", e.code)
