#!/usr/bin/env python3
"""Local engine, side by side with the reference SDK (PyPI flyte==2.12.1) in one invocation.

Measures, for each SDK, in fresh processes with the same environment:

* `import flyte` time (median of repeated runs, minus the bare interpreter start-up);
* a parent fanning out N trivial async children with `asyncio.gather` (N = 200, 1000, 5000):
  wall time per child, peak RSS, and how many directories the run leaves behind.

Usage:
    benchmarks/local_engine/bench.py [--ours PY] [--ref PY] [--sizes 200,1000,5000] [--repeat 15]

`--ours` defaults to an interpreter that sees this checkout's libraries on PYTHONPATH (the dev
venv); `--ref` to the reference SDK's venv made by scripts/ref-venv.sh. Goals (issue 5): import
≤ 1/3 of the reference; per-child time ≥ 5x lower; peak memory at N=5000 ≤ 1/2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIBS = ["flyte-models", "flyte-storage", "flyte-types", "flyte-client", "flyte-runtime"]


def our_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLYTE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both SDKs get their .pyc files
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / "libs" / lib / "src") for lib in LIBS)
    return env


def ref_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLYTE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    return env


def timed(py: str, args: list[str], env: dict[str, str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([py, *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def import_time(py: str, env: dict[str, str], repeat: int, cwd: str) -> float:
    timed(py, ["-c", "import flyte"], env, cwd)  # warm the .pyc files and the page cache
    base = statistics.median(timed(py, ["-c", "pass"], env, cwd) for _ in range(repeat))
    full = statistics.median(timed(py, ["-c", "import flyte"], env, cwd) for _ in range(repeat))
    return max(full - base, 1e-6)


def count_dirs(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_dir())


_REF_ROOT = Path("/tmp/flyte")  # the reference writes here whatever TMPDIR says


def _ref_runs() -> set[Path]:
    meta = _REF_ROOT / "metadata"
    return set(meta.iterdir()) if meta.is_dir() else set()


def fanout(py: str, env: dict[str, str], n: int) -> dict[str, float]:
    before = _ref_runs()
    with tempfile.TemporaryDirectory(prefix="flyte-bench-") as tmp:
        run_env = dict(env, TMPDIR=tmp, HOME=tmp)
        proc = subprocess.run(
            [py, str(HERE / "fanout_workload.py"), str(n)],
            env=run_env,
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{py} failed at n={n}:\n{proc.stderr[-2000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        new_runs = _ref_runs() - before
        result["dirs"] = count_dirs(Path(tmp)) + sum(count_dirs(p) + 1 for p in new_runs)
        return result


def default_ref() -> str:
    out = subprocess.run(
        [str(ROOT / "scripts" / "ref-venv.sh")], capture_output=True, text=True, check=True
    )
    return str(Path(out.stdout.strip()) / "bin" / "python")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default=sys.executable)
    parser.add_argument("--ref")
    parser.add_argument("--sizes", default="200,1000,5000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ref = args.ref or default_ref()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as cwd:
        ours_imp = import_time(args.ours, our_env(), args.repeat, cwd)
        ref_imp = import_time(ref, ref_env(), args.repeat, cwd)
    print("## Local engine vs reference flyte==2.12.1 (same machine, same run)\n")
    print("| measure | ours | reference | ratio (ref/ours) | goal |")
    print("|---|---|---|---|---|")
    print(
        f"| `import flyte` | {ours_imp * 1e3:.1f} ms | {ref_imp * 1e3:.1f} ms "
        f"| {ref_imp / ours_imp:.1f}x | >= 3x |"
    )
    ok = ref_imp / ours_imp >= 3
    for n in sizes:
        o = fanout(args.ours, our_env(), n)
        r = fanout(ref, ref_env(), n)
        per_o, per_r = o["seconds"] / n * 1e3, r["seconds"] / n * 1e3
        print(
            f"| fan-out N={n}: time per child | {per_o:.3f} ms | {per_r:.3f} ms "
            f"| {per_r / per_o:.1f}x | >= 5x |"
        )
        print(
            f"| fan-out N={n}: peak RSS | {o['peak_kib'] / 1024:.0f} MiB "
            f"| {r['peak_kib'] / 1024:.0f} MiB | {r['peak_kib'] / o['peak_kib']:.1f}x "
            f"| {'>= 2x' if n == max(sizes) else '-'} |"
        )
        print(f"| fan-out N={n}: directories left | {o['dirs']} | {r['dirs']} | - | no per-action dirs |")
        ok = ok and per_r / per_o >= 5 and o["dirs"] < 20
        if n == max(sizes):
            ok = ok and r["peak_kib"] / o["peak_kib"] >= 2
    print(f"\ngoals met: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
