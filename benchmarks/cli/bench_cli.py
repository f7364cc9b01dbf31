"""`flyte` start-up: `flyte --help` and `flyte run FILE TASK --help`, ours vs the reference.

* ours: a `flyte` console script as pip writes it (the same template as the reference's
  `bin/flyte`, calling `flyte_cli.main:main`), PYTHONPATH set to this checkout's libraries;
  `--module` measures `python -m flyte_cli` instead (runpy adds ~5 ms that users of the
  installed command do not pay);
* reference: `$REF_VENV/bin/flyte` (PyPI `flyte` 2.12.1). REF_VENV is --ref-venv, else
  $FLYTE_TEST_REF_VENV, else ~/.cache/flyte-dev/ref-venv-2.12.1, else /opt/ref/venv.

Both sides get the same task file and the same clean environment (no FLYTE_* variables, no
config file: the working directory is a fresh temporary directory). `.pyc` files are allowed on
both sides (PYTHONDONTWRITEBYTECODE is removed) and one warm-up run per case is not counted; the
sides alternate run by run.
Goal: ours takes at most a third of the reference's time in each case.

Usage:
    python benchmarks/cli/bench_cli.py [--repeat 9] [--ref-venv PATH] [--module] [--json out.json]
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

REPO = Path(__file__).resolve().parents[2]
OUR_PYTHONPATH = os.pathsep.join(str(p) for p in sorted((REPO / "libs").glob("*/src")))

TASKS = """
import flyte

env = flyte.TaskEnvironment(name="bench")


@env.task
async def main(n: int, name: str = "flyte", ratio: float = 0.5, items: list[int] = []) -> str:
    return f"{n} {name} {ratio} {items}"
"""

# What pip writes for `[project.scripts] flyte = "flyte_cli.main:main"` (and wrote for the
# reference's `flyte = "flyte.cli.main:main"`).
CONSOLE_SCRIPT = """# -*- coding: utf-8 -*-
import re
import sys
from flyte_cli.main import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def ref_venv(explicit: str | None) -> Path:
    candidates = [
        explicit,
        os.environ.get("FLYTE_TEST_REF_VENV"),
        str(Path.home() / ".cache" / "flyte-dev" / "ref-venv-2.12.1"),
        "/opt/ref/venv",
    ]
    for c in candidates:
        if c and (Path(c) / "bin" / "flyte").exists():
            return Path(c)
    return Path(explicit or "/opt/ref/venv")


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - t0
    if proc.returncode != 0 or "Usage" not in proc.stdout:
        raise SystemExit(f"{cmd} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--ref-venv", default=None)
    ap.add_argument("--module", action="store_true", help="ours as `python -m flyte_cli`")
    ap.add_argument("--json", help="also write the results here")
    opts = ap.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for k in list(base_env):
        if k.startswith(("FLYTE_", "_U_", "_F_", "UCTL_")) or k == "PYTHONPATH":
            del base_env[k]
    base_env["COLUMNS"] = "100"
    ref = ref_venv(opts.ref_venv) / "bin" / "flyte"
    cases = {
        "flyte --help": ["--help"],
        "flyte run FILE TASK --help": ["run", "tasks.py", "main", "--help"],
    }
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as d:
        cwd = Path(d)
        (cwd / "tasks.py").write_text(TASKS)
        script = cwd / "bin" / "flyte"
        script.parent.mkdir()
        script.write_text(CONSOLE_SCRIPT)
        ours = [sys.executable, "-m", "flyte_cli"] if opts.module else [sys.executable, str(script)]
        sides = {
            "ours": (ours, {**base_env, "PYTHONPATH": OUR_PYTHONPATH}),
            "reference": ([str(ref)], base_env),
        }
        if not ref.exists():
            print(f"note: {ref} not found; measuring ours only", file=sys.stderr)
            del sides["reference"]
        for case, args in cases.items():
            # the sides alternate, so a burst of load on a shared machine hits both alike
            runs: dict[str, list[float]] = {side: [] for side in sides}
            for _ in range(opts.repeat + 1):
                for side, (cmd, env) in sides.items():
                    runs[side].append(timed([*cmd, *args], env, cwd))
            for side, times in runs.items():
                results.setdefault(case, {})[side] = statistics.median(times[1:])

    print(f"flyte CLI start-up, median of {opts.repeat} runs (after 1 warm-up)")
    print(f"{'case':<28} {'ours':>8} {'reference':>10} {'ratio':>7}")
    ok = True
    for case, r in results.items():
        ref_s = r.get("reference")
        ratio = r["ours"] / ref_s if ref_s else None
        if ratio is not None:
            r["ratio"] = ratio
            ok = ok and ratio <= 1 / 3
        ref_txt = f"{ref_s * 1000:>7.0f} ms" if ref_s else f"{'-':>10}"
        ratio_txt = f"{ratio:>7.2f}" if ratio is not None else f"{'-':>7}"
        print(f"{case:<28} {r['ours'] * 1000:>5.0f} ms {ref_txt} {ratio_txt}")
    if all("ratio" in r for r in results.values()):
        print(f"goal (ours <= 1/3 of the reference in every case): {'met' if ok else 'MISSED'}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
