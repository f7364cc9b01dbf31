"""Conversion throughput of flyte_types vs the reference SDK (PyPI flyte==2.12.1), side by side.

    FLYTE_TEST_REF_VENV=/path/to/venv python benchmarks/types/bench_types.py [--scale 0.1] [--repeats 2]

Ours runs in this process; the reference runs the same workloads (`workloads.py`) in its own
virtualenv as a subprocess, in the same invocation. Prints a Markdown table of values per second
in both directions and the ratio ours / reference (the goal is >= 2x on every row).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

REF_SNIPPET = """
import asyncio, json, logging, sys
sys.path.insert(0, {here!r})
logging.disable(logging.WARNING)
import workloads
from flyte.types import TypeEngine
print(json.dumps(asyncio.run(workloads.measure(TypeEngine, {scale!r}, {repeats!r}))))
"""


def run_reference(python: str, scale: float, repeats: int) -> dict[str, dict[str, float]]:
    code = REF_SNIPPET.format(here=str(HERE), scale=scale, repeats=repeats)
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the reference benchmark failed:\n{proc.stderr[-4000:]}")
    result: dict[str, dict[str, float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_ours(scale: float, repeats: int) -> dict[str, dict[str, float]]:
    from flyte_types import TypeEngine

    return asyncio.run(workloads.measure(TypeEngine, scale, repeats))


def table(ours: dict[str, dict[str, float]], ref: dict[str, dict[str, float]]) -> str:
    lines = [
        "| workload | direction | flyte_types (values/s) | reference 2.12.1 (values/s) | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for name, dirs in ours.items():
        for direction in ("encode", "decode"):
            a = dirs[direction]
            b = ref.get(name, {}).get(direction)
            ratio = f"{a / b:.1f}x" if b else "n/a"
            ref_text = f"{b:,.0f}" if b else "n/a"
            lines.append(f"| {name} | {direction} | {a:,.0f} | {ref_text} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload size")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    parser.add_argument("--ref-venv", default=os.environ.get("FLYTE_TEST_REF_VENV", ""))
    args = parser.parse_args()
    ours = run_ours(args.scale, args.repeats)
    ref: dict[str, dict[str, float]] = {}
    if args.ref_venv:
        ref = run_reference(str(Path(args.ref_venv) / "bin" / "python"), args.scale, args.repeats)
    else:
        print(
            "FLYTE_TEST_REF_VENV / --ref-venv not set: reference column left empty", file=sys.stderr
        )
    print(table(ours, ref))


if __name__ == "__main__":
    main()
