"""Sandboxed orchestrators: the control flow runs in pydantic-monty, the work in ordinary tasks.

Needs the sandbox extra: `pip install 'flyte-runtime[sandbox]'`.
Run: `python examples/sandbox_example.py`.
"""

import flyte
import flyte.sandbox

env = flyte.TaskEnvironment(name="sandbox_example")

SCORES = {1: 42, 2: 87, 3: 15}


@env.task
def fetch_score(player_id: int) -> int:
    """A worker task: a real one would query a database (the sandbox cannot)."""
    return SCORES.get(player_id, 0)


@env.task
def add(x: int, y: int) -> int:
    return x + y


@env.task
async def multiply(x: int, y: int) -> int:
    return x * y


# The body runs in the sandbox: no imports of I/O modules, no files, no network, and limits on
# time, memory and recursion. Each task call pauses it, runs the task as a child action of the
# run, and resumes it with the result.
@env.sandbox.orchestrator(timeout_ms=2_000)
async def leaderboard(player_ids: list[int]) -> dict[str, int]:
    total = 0
    best = 0
    for pid in player_ids:
        score = fetch_score(pid)
        total = add(total, score)
        best = max(best, score)
    bonus = await multiply(best, 2)
    return {"total": total, "best": best, "bonus": bonus}


# The same from a string, e.g. code an LLM wrote: only the tasks listed can be called.
pipeline = flyte.sandbox.orchestrator_from_str(
    """
    partial = add(x, y)
    await multiply(partial, scale)
    """,
    inputs={"x": int, "y": int, "scale": int},
    output=int,
    tasks=[add, multiply],
    name="pipeline",
)

snoop = flyte.sandbox.orchestrator_from_str(
    "open('/etc/passwd').read()", inputs={}, output=str, name="snoop"
)


def main() -> list[str]:
    lines = [
        f"leaderboard: {sorted(flyte.run(leaderboard, player_ids=[1, 2, 3]).outputs()[0].items())}",
        f"pipeline: {flyte.run(pipeline, x=2, y=3, scale=4).outputs()[0]}",
    ]
    try:
        flyte.run(snoop)
    except flyte.sandbox.SandboxError as e:
        lines.append(f"refused: {type(e).__name__}")
    return lines


if __name__ == "__main__":
    for line in main():
        print(line)
