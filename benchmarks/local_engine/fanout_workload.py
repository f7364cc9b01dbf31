"""Workload run under either SDK: a parent fanning out N trivial async children.

Prints one JSON line: elapsed seconds of `flyte.run`, peak RSS (KiB) and the result check.
Only the public API is used, so the reference SDK runs it unchanged.
"""

import asyncio
import json
import resource
import sys
import time

import flyte

env = flyte.TaskEnvironment(name="bench_fanout")


@env.task
async def child(x: int) -> int:
    return x + 1


@env.task
async def parent(n: int) -> int:
    values = await asyncio.gather(*(child(i) for i in range(n)))
    return sum(values)


if __name__ == "__main__":
    n = int(sys.argv[1])
    flyte.init_from_config()
    # Warm-up: a one-child run loads the engine and type machinery, so the timed run measures the
    # per-child cost of each SDK rather than its one-off start-up (measured by the import bench).
    flyte.run(parent, n=1)
    t0 = time.perf_counter()
    run = flyte.run(parent, n=n)
    total = run.outputs()[0]
    elapsed = time.perf_counter() - t0
    assert total == n * (n + 1) // 2, total
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "seconds": elapsed, "peak_kib": peak_kib}))
