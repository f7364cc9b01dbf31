"""flyte-devbox: actions completed per second for a fan-out, and start-up time.

Scenarios:

* `startup`: `python -m flyte_devbox --port 0` as a fresh process, from spawn until `/healthz`
  answers (interpreter start and imports included); and `Devbox.start()` in a warm process.
  Goal: under 2 s.
* `fanout`: one parent (the reference SDK's `a0`, its in-task controller over Queue/State)
  fans out N trivial children and waits for all of them. The rate is N divided by the time from
  the first child's creation to the last child's end, read from the devbox's records. Goal: at
  least 100 children/s for N=500 on 2 cores.
  * `--children noop` (default): a trivial child is a no-op process (`/bin/true`, selected
    through `DevboxConfig.image_a0_commands` by the children's image), so the number measures
    the control plane: enqueue, scheduling, process start/exit, phase bookkeeping, the watch
    stream, and the reference controller on the other end.
  * `--children a0`: every child runs the reference runtime's real `a0` (import the SDK, fetch
    the bundle, read inputs, run, write outputs).

  `--launcher` picks how the devbox starts processes (`spawner`, the default; `fork-server`;
  `direct`), see the flyte-devbox README.

The reference SDK runs in its own virtualenv (`--ref-venv`, default `$FLYTE_TEST_REF_VENV`),
as a subprocess, unchanged.

Usage:
    PYTHONPATH=libs/flyte-models/src:libs/flyte-storage/src:libs/flyte-types/src:libs/flyte-devbox/src \
      python benchmarks/devbox/bench_devbox.py [--scenario all|startup|fanout] [-n 500] \
        [--children noop|a0] [--launcher spawner|fork-server|direct] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from flyte_devbox import Devbox, DevboxConfig

NOOP_IMAGE = "localhost/devbox-bench-noop:latest"

WORKFLOW = f"""
import asyncio

import flyte

children = flyte.TaskEnvironment(name="bench_child", image="{NOOP_IMAGE}")
real_children = flyte.TaskEnvironment(name="bench_real_child")
parents = flyte.TaskEnvironment(name="bench_parent", depends_on=[children, real_children])


@children.task
async def noop(i: int) -> None:
    return None


@real_children.task
async def square(i: int) -> int:
    return i * i


@parents.task
async def fan_noop(n: int) -> int:
    await asyncio.gather(*(noop(i) for i in range(n)))
    return n


@parents.task
async def fan_real(n: int) -> int:
    return sum(await asyncio.gather(*(square(i) for i in range(n))))
"""

DRIVER = """
import json, sys, time
import flyte
flyte.init_from_config(sys.argv[1])
import wf
task = getattr(wf, sys.argv[2])
t0 = time.time()
# The reference controller caps enqueues at _F_MAX_QPS (100/s by default): lift it, so the
# devbox is what is measured.
run = flyte.with_runcontext(env_vars={"_F_MAX_QPS": "5000"}).run(task, n=int(sys.argv[3]))
run.wait(quiet=True)
print(json.dumps({"run": run.name, "phase": str(run.phase), "wall": time.time() - t0,
                  "outputs": list(run.outputs())}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_startup(repeat: int) -> dict[str, Any]:
    cold: list[float] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as state:
            port = free_port()
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "flyte_devbox", "--port", str(port), "--state-dir", state],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            try:
                with httpx.Client() as http:
                    while True:
                        try:
                            if (
                                http.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                                == 200
                            ):
                                break
                        except httpx.HTTPError:
                            pass
                        if proc.poll() is not None:
                            raise RuntimeError("the devbox exited during start-up")
                        time.sleep(0.005)
                cold.append(time.perf_counter() - t0)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    warm: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as state:
            t0 = time.perf_counter()
            dbx = Devbox(DevboxConfig(port=0, state_dir=Path(state))).start()
            warm.append(time.perf_counter() - t0)
            dbx.stop()
    return {
        "cold_process_seconds": {"median": statistics.median(cold), "max": max(cold)},
        "in_process_seconds": {"median": statistics.median(warm), "max": max(warm)},
    }


def _child_window(devbox: Devbox, run: str) -> tuple[int, float, float]:
    """(children, first child created, last child ended) from the devbox's records."""
    import sqlite3

    db = sqlite3.connect(str(devbox.config.state_dir / "devbox.db"))
    try:
        row = db.execute(
            "SELECT COUNT(*), MIN(created_at), MAX(end_time) FROM actions "
            "WHERE run_name = ? AND name != 'a0' AND phase = 5",
            (run,),
        ).fetchone()
    finally:
        db.close()
    return int(row[0]), float(row[1]), float(row[2])


def bench_fanout(
    ref_venv: Path, n: int, children: str, launcher: str, repeat: int
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="devbox-bench-"))
    try:
        (work / "wf.py").write_text(WORKFLOW)
        (work / "driver.py").write_text(DRIVER)
        (work / "home").mkdir()
        true = shutil.which("true") or "/bin/true"
        config = DevboxConfig(
            port=0,
            state_dir=work / "state",
            a0_command=(str(ref_venv / "bin" / "a0"),),
            image_a0_commands={NOOP_IMAGE: (true,)},
            launcher=launcher,
            max_concurrent_actions=8,
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLYTE_", "PYTHON", "VIRTUAL_ENV", "_U_", "_F_"))
        }
        env["HOME"] = str(work / "home")
        task = "fan_noop" if children == "noop" else "fan_real"
        rates: list[float] = []
        walls: list[float] = []
        with Devbox(config) as devbox:
            devbox.write_client_config(work / "config.yaml")
            # One warm-up run: bundle upload, fork-server warming, page cache.
            runs = [_drive(ref_venv, work, env, task, min(n, 20))] if repeat else []
            for _ in range(repeat):
                result = _drive(ref_venv, work, env, task, n)
                count, first, last = _child_window(devbox, result["run"])
                if count != n:
                    raise RuntimeError(f"{count} of {n} children succeeded: {result}")
                rates.append(n / (last - first))
                walls.append(float(result["wall"]))
                runs.append(result)
        return {
            "children": n,
            "executor": children,
            "launcher": launcher,
            "children_per_second": {
                "median": statistics.median(rates),
                "best": max(rates),
                "all": rates,
            },
            "run_wall_seconds": {"median": statistics.median(walls), "all": walls},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _drive(ref_venv: Path, work: Path, env: dict[str, str], task: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [str(ref_venv / "bin" / "python"), "driver.py", "config.yaml", task, str(n)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"driver failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result = dict(json.loads(lines[-1]))
    if "SUCCEEDED" not in result["phase"]:
        raise RuntimeError(f"the run did not succeed: {result}")
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", choices=("all", "startup", "fanout"), default="all")
    p.add_argument("-n", "--children-count", type=int, default=500)
    p.add_argument("--children", choices=("noop", "a0"), default="noop")
    p.add_argument("--launcher", choices=("spawner", "fork-server", "direct"), default="spawner")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--ref-venv", type=Path, default=os.environ.get("FLYTE_TEST_REF_VENV"))
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if args.scenario in ("all", "startup"):
        results["startup"] = bench_startup(args.repeat)
        s = results["startup"]
        print(
            f"start-up: fresh process to /healthz {s['cold_process_seconds']['median']:.2f} s "
            f"(median of {args.repeat}), Devbox.start() in-process "
            f"{s['in_process_seconds']['median']:.2f} s",
            flush=True,
        )
    if args.scenario in ("all", "fanout"):
        if not args.ref_venv:
            p.error("--ref-venv (or $FLYTE_TEST_REF_VENV) is needed for the fan-out scenario")
        f = bench_fanout(
            Path(args.ref_venv), args.children_count, args.children, args.launcher, args.repeat
        )
        results["fanout"] = f
        print(
            f"fan-out: {f['children']} {f['executor']} children "
            f"(launcher: {f['launcher']}): "
            f"{f['children_per_second']['median']:.0f} children/s median, "
            f"{f['children_per_second']['best']:.0f} best; run wall time "
            f"{f['run_wall_seconds']['median']:.2f} s",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
