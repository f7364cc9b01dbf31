"""`a0` start-up: time from process start to the first line of user code, ours vs the reference.

Both runtimes run the same leaf task from the same tgz code bundle, with the same inputs.pb and
the arguments and environment a backend gives them (PROTOCOL.md section 3.3), each run in a fresh
working directory (so the bundle is fetched and unpacked every time). The task writes
`time.time()` to a file as its first statement; "to user code" is that stamp minus the time just
before the process was spawned, and "total" is spawn to exit (outputs.pb written).

* ours: `python -m flyte_runtime._entrypoint`, with PYTHONPATH set to this checkout's libraries;
* reference: `$REF_VENV/bin/a0` (default /opt/ref/venv), the PyPI `flyte` runtime.

`.pyc` files are allowed on both sides (PYTHONDONTWRITEBYTECODE is removed); one warm-up run per
side is not counted. Goal: ours takes at most half the reference's time to user code.

Usage:
    python benchmarks/a0/bench_a0.py [--repeat 7] [--ref-venv /opt/ref/venv] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBS = ["flyte-models", "flyte-storage", "flyte-types", "flyte-client", "flyte-runtime"]
OUR_PYTHONPATH = os.pathsep.join(str(REPO / "libs" / lib / "src") for lib in LIBS)

TASK = """
import time as _time
import os as _os

import flyte

env = flyte.TaskEnvironment(name="bench")


@env.task
async def stamp(x: int) -> int:
    with open(_os.environ["A0_BENCH_STAMP"], "w") as f:
        f.write(repr(_time.time()))
    return x + 1
"""

# inputs.pb for x=41: flyteidl2.task.Inputs{literals[{name:"x", value{scalar{primitive{integer}}}}]}
INPUTS = bytes.fromhex("0a0b0a017812060a040a020829")


def make_bundle(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    (src / "bench_tasks.py").write_text(TASK)
    archive = root / "bundle.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src / "bench_tasks.py", arcname="bench_tasks.py")
    return archive


def a0_args(root: Path, run: int, archive: Path, inputs: Path) -> list[str]:
    out = root / "base" / f"a{run}" / "1"
    return [
        "--inputs",
        str(inputs),
        "--outputs-path",
        str(out),
        "--version",
        "v1",
        "--raw-data-path",
        str(root / "raw"),
        "--checkpoint-path",
        str(out / "_flytecheckpoints"),
        "--prev-checkpoint",
        "",
        "--run-name",
        "rbench",
        "--name",
        f"a{run}",
        "--run-start-time",
        "2024-05-01T10:00:00Z",
        "--tgz",
        str(archive),
        "--dest",
        ".",
        "--resolver",
        "flyte._internal.resolvers.default.DefaultTaskResolver",
        "mod",
        "bench_tasks",
        "instance",
        "stamp",
    ]


def one_run(
    side: str,
    cmd: list[str],
    base_env: dict[str, str],
    root: Path,
    run: int,
    archive: Path,
    inputs: Path,
) -> tuple[float, float]:
    work = root / f"work-{side}-{run}"
    work.mkdir()
    stamp = root / f"stamp-{side}-{run}"
    # A backend's object store needs no directories; on local disk the reference needs them.
    (root / "base" / f"a{run}" / "1").mkdir(parents=True)
    env = {
        **base_env,
        "A0_BENCH_STAMP": str(stamp),
        "_U_RUN_BASE": str(root / "base"),
        "ACTION_NAME": f"a{run}",
        "RUN_NAME": "rbench",
        "FLYTE_INTERNAL_EXECUTION_PROJECT": "flytesnacks",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": "development",
        "_U_ORG_NAME": "local",
    }
    t0 = time.time()
    proc = subprocess.run(
        [*cmd, *a0_args(root, run, archive, inputs)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    total = time.time() - t0
    out = root / "base" / f"a{run}" / "1"
    if proc.returncode != 0 or not (out / "outputs.pb").exists() or not stamp.exists():
        raise SystemExit(
            f"{side} a0 failed (exit {proc.returncode}); stderr tail:\n{proc.stderr[-3000:]}"
        )
    return float(stamp.read_text()) - t0, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--ref-venv", default=os.environ.get("REF_VENV", "/opt/ref/venv"))
    ap.add_argument("--json", help="also write the results here")
    opts = ap.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for k in list(base_env):
        if k.startswith(("FLYTE_", "_U_", "_F_", "UCTL_")) or k == "PYTHONPATH":
            del base_env[k]
    ref_a0 = Path(opts.ref_venv) / "bin" / "a0"
    sides = {
        "ours": (
            [sys.executable, "-m", "flyte_runtime._entrypoint"],
            {**base_env, "PYTHONPATH": OUR_PYTHONPATH},
        ),
        "reference": ([str(ref_a0)], base_env),
    }
    if not ref_a0.exists():
        print(f"note: {ref_a0} not found; measuring ours only", file=sys.stderr)
        del sides["reference"]

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-a0-") as d:
        root = Path(d)
        archive = make_bundle(root)
        inputs = root / "inputs.pb"
        inputs.write_bytes(INPUTS)
        run = 0
        for side, (cmd, env) in sides.items():
            to_user, totals = [], []
            for i in range(opts.repeat + 1):
                run += 1
                u, t = one_run(side, cmd, env, root, run, archive, inputs)
                if i:  # the first run warms the OS cache and writes .pyc files
                    to_user.append(u)
                    totals.append(t)
            results[side] = {
                "to_user_code_median_s": statistics.median(to_user),
                "to_user_code_min_s": min(to_user),
                "total_median_s": statistics.median(totals),
            }

    print(f"a0 start-up, median of {opts.repeat} runs (after 1 warm-up), leaf task from a tgz")
    print(f"{'side':<10} {'to user code':>13} {'(min)':>8} {'total':>8}")
    for side, r in results.items():
        print(
            f"{side:<10} {r['to_user_code_median_s'] * 1000:>10.0f} ms {r['to_user_code_min_s'] * 1000:>5.0f} ms"
            f" {r['total_median_s'] * 1000:>5.0f} ms"
        )
    if "reference" in results:
        ratio = (
            results["ours"]["to_user_code_median_s"] / results["reference"]["to_user_code_median_s"]
        )
        total_ratio = results["ours"]["total_median_s"] / results["reference"]["total_median_s"]
        results["ratio"] = {"to_user_code": ratio, "total": total_ratio}
        verdict = "meets" if ratio <= 0.5 else "misses"
        print(
            f"ratio ours/reference: to user code {ratio:.2f}, total {total_ratio:.2f} "
            f"({verdict} the goal of <= 0.50)"
        )
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
