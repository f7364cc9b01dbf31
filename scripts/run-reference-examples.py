#!/usr/bin/env python3
"""Run the reference SDK's example scripts against our `flyte` and report pass/fail.

The examples of `flyteorg/flyte-sdk` are code no one here wrote; each listed script must exit 0
with no config present and print what the reference prints (loosely: ids, timestamps, paths,
addresses and dict order are normalised away). Nothing is copied into this project: point the
script at a checkout of that repository's `examples/` folder.

Usage:
    scripts/run-reference-examples.py EXAMPLES_DIR --python OUR_PYTHON [--ref-python REF_PYTHON]
        [--list FILE] [--timeout SECONDS] [names ...]

Without `--ref-python` only the exit status is checked. The default list is the acceptance list
of issue 5 (below); `--list` reads one relative path per line (`#` comments allowed).

Remote mode (`--config FILE`): the scripts run against a Flyte 2 backend (e.g. our devbox,
`python -m flyte_devbox --port 38411 --state-dir /tmp/sweep --write-config cfg.yaml`, with
`--a0 "/opt/ours-python -m flyte_runtime._entrypoint"` to run actions with this checkout's
runtime) as a reference user runs them:
HOME stays a scratch directory, `FLYTECTL_CONFIG=FILE` points `flyte.init_from_config()` at the
backend, and the working directory is the script's own folder (the code bundle root) in a
scratch copy of EXAMPLES_DIR (scripts write files next to themselves). A script
can exit 0 although its run failed (`run.wait()` does not raise), so after each script the runs
it created are listed through `--python`'s `flyte.remote` and their phases reported; runs still
going after the script ends are aborted. With `--ref-python` the reference SDK runs the same
script against the same backend (no output comparison: both columns are reported), and
`--json OUT` saves every result:

    scripts/run-reference-examples.py /opt/ref/sdk/examples --python /opt/ours-python \
        --ref-python /opt/ref/venv/bin/python --config cfg.yaml --timeout 120 \
        --list benchmarks/compat/remote_examples.txt --json /tmp/remote.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCEPTANCE = [
    "basics/hello.py",
    "basics/map.py",
    "basics/from_scratch.py",
    "basics/determinism.py",
    "basics/pydantic_models.py",
    "basics/file_local.py",
    "basics/file.py",
    "basics/report_example.py",
    "basics/types/simple_types.py",
    "basics/types/map_types.py",
    "basics/types/tuple_types.py",
    "basics/types/enum_types.py",
    "basics/types/typeddict_types.py",
    "advanced/custom_context.py",
    "advanced/forward_tasks.py",
    "advanced/side_effect_traces.py",
    "caching/conditional_map_caching.py",
    "reuse/reusable.py",
    "streaming/basic_as_completed.py",
    "accelerators/gpu.py",
]

_NOISE = [
    (re.compile(r"0x[0-9a-f]+"), "0xADDR"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"), "TIMESTAMP"),
    (re.compile(r"(/tmp|/var)/[^\s'\",)]+"), "PATH"),
    (re.compile(r"\b\d+\.\d{3,}\b"), "FLOAT"),
    (re.compile(r"\b[a-z0-9]{20,}\b"), "ID"),
    # The reference names every local run "dry-run"; ours get a real run name (an ID above).
    (re.compile(r"^dry-run$"), "ID"),
]


_LOG_RECORD = re.compile(r"^\d\d:\d\d:\d\d\.\d+ +(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def normalise(text: str) -> list[str]:
    lines = []
    in_record = False
    for line in text.splitlines():
        line = line.rstrip()
        # Log records (rich-formatted, with indented continuation lines) are not program output.
        if _LOG_RECORD.match(line):
            in_record = True
            continue
        if in_record and line.startswith(" " * 20):
            continue
        in_record = False
        if not line or "Warning" in line or "warn" in line.lower():
            continue
        for pattern, repl in _NOISE:
            line = pattern.sub(repl, line)
        lines.append(line)
    return sorted(lines)


def run(
    python: str, script: Path, timeout: float, config: Path | None = None
) -> tuple[int, str, float]:
    with tempfile.TemporaryDirectory(prefix="flyte-example-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE_", "UCTL_"))}
        env["HOME"] = home  # no ~/.flyte/config.yaml: local mode, as the issue demands
        env["PYTHONPATH"] = str(script.parent)
        cwd = home
        if config is not None:  # remote mode: the backend comes from $FLYTECTL_CONFIG
            env["FLYTECTL_CONFIG"] = str(config.resolve())
            cwd = str(script.parent)  # the code bundle root, as for a user in that folder
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [python, str(script)],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as e:
            partial = e.stdout or b""
            partial = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            return 124, f"{partial}timed out after {timeout}s", timeout
        # Compare what the script prints (stdout); logs on stderr differ by design.
        out = proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr
        return proc.returncode, out, time.perf_counter() - t0


_RUNS_PROBE = """
import json, sys, flyte, flyte.remote as remote
flyte.init_from_config(sys.argv[1])
seen = set(json.loads(sys.argv[2]))
out = {}
for r in remote.Run.listall(limit=500):
    if r.name in seen:
        continue
    phase = r.phase
    if not phase.is_terminal and sys.argv[3] == "abort":
        try:
            r.abort("left running by the sweep's script")
        except Exception as e:  # noqa: BLE001
            phase = f"{phase.value}, abort failed: {e}"
    out[r.name] = getattr(phase, "value", str(phase))
print(json.dumps(out))
"""


def backend_runs(python: str, config: Path, seen: set[str], abort: bool) -> dict[str, str]:
    """The runs on the backend not in `seen`, name -> phase (aborting unfinished ones)."""
    proc = subprocess.run(
        [
            python,
            "-c",
            _RUNS_PROBE,
            str(config.resolve()),
            json.dumps(sorted(seen)),
            "abort" if abort else "keep",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith(("FLYTE_", "UCTL_"))},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cannot list the backend's runs: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def run_remote(
    python: str,
    probe_python: str,
    script: Path,
    timeout: float,
    config: Path,
    seen: set[str],
    grace: float = 30,
) -> dict[str, object]:
    """Run one script against the backend; its exit status, time, output tail and runs."""
    rc, out, secs = run(python, script, timeout, config)
    new = backend_runs(probe_python, config, seen, abort=False)
    deadline = time.monotonic() + grace  # runs the script started but did not wait for
    while any(p not in _TERMINAL for p in new.values()) and time.monotonic() < deadline:
        time.sleep(2)
        new = backend_runs(probe_python, config, seen, abort=False)
    if any(p not in _TERMINAL for p in new.values()):
        new = backend_runs(probe_python, config, seen, abort=True)
    seen.update(new)
    return {"rc": rc, "secs": round(secs, 2), "runs": new, "tail": out.strip().splitlines()[-25:]}


_TERMINAL = {"succeeded", "failed", "aborted", "timed_out", "recovered"}


def summary(res: dict[str, object]) -> str:
    runs = res["runs"]
    assert isinstance(runs, dict)
    phases: dict[str, int] = {}
    for p in runs.values():
        phases[p] = phases.get(p, 0) + 1
    counts = ",".join(f"{n}x{p}" if n > 1 else p for p, n in sorted(phases.items())) or "no run"
    return f"exit {res['rc']} [{counts}]"


def main_remote(args: argparse.Namespace, names: list[str]) -> int:
    # Scripts run in their own folder and some write files there: use a scratch copy.
    scratch = Path(tempfile.mkdtemp(prefix="flyte-examples-")) / "examples"
    shutil.copytree(args.examples, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    args.examples = scratch
    try:
        return _sweep_remote(args, names)
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)


def _sweep_remote(args: argparse.Namespace, names: list[str]) -> int:
    seen = set(backend_runs(args.python, args.config, set(), abort=False))
    results: dict[str, dict[str, object]] = {}
    failures = 0
    print(f"{'example':45} {'ours':>30} {'ref':>30}")
    for name in names:
        script = args.examples / name
        if not script.exists():
            print(f"{name:45} MISSING")
            failures += 1
            continue
        res: dict[str, object] = {
            "ours": run_remote(
                args.python, args.python, script, args.timeout, args.config, seen, args.grace
            )
        }
        if args.ref_python:
            res["ref"] = run_remote(
                args.ref_python, args.python, script, args.timeout, args.config, seen, args.grace
            )
        results[name] = res
        ours = res["ours"]
        assert isinstance(ours, dict)
        ok = ours["rc"] == 0 and all(p == "succeeded" for p in ours["runs"].values())
        failures += not ok
        ref = summary(res["ref"]) if "ref" in res else "-"  # type: ignore[arg-type]
        print(f"{name:45} {summary(ours):>30} {ref:>30}", flush=True)
        if args.verbose and not ok:
            print("    " + "\n    ".join(ours["tail"][-15:]))  # type: ignore[index]
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    print(f"{len(names) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=Path)
    parser.add_argument("--python", required=True, help="interpreter with our flyte installed")
    parser.add_argument("--ref-python", help="interpreter with the reference flyte installed")
    parser.add_argument("--list", type=Path, help="file with one example path per line")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument(
        "--config", type=Path, help="remote mode: client config of the backend ($FLYTECTL_CONFIG)"
    )
    parser.add_argument("--json", type=Path, help="remote mode: write all results to this file")
    parser.add_argument(
        "--grace",
        type=float,
        default=30,
        help="remote mode: seconds to let runs a script left going finish before aborting them",
    )
    parser.add_argument("names", nargs="*", help="example paths (default: the acceptance list)")
    args = parser.parse_intermixed_args()
    names = args.names or (
        [
            ln.split("#")[0].strip()
            for ln in args.list.read_text().splitlines()
            if ln.split("#")[0].strip()
        ]
        if args.list
        else ACCEPTANCE
    )
    if args.config:
        return main_remote(args, names)
    failures = 0
    print(f"{'example':45} {'ours':>6} {'ref':>6}  result")
    for name in names:
        script = args.examples / name
        if not script.exists():
            print(f"{name:45} {'-':>6} {'-':>6}  MISSING")
            failures += 1
            continue
        rc, out, secs = run(args.python, script, args.timeout)
        verdict, ref_secs = "pass" if rc == 0 else f"FAIL (exit {rc})", float("nan")
        if rc == 0 and args.ref_python:
            ref_rc, ref_out, ref_secs = run(args.ref_python, script, args.timeout)
            if ref_rc != 0:
                verdict = f"pass (reference itself exits {ref_rc})"
            else:
                ours, theirs = normalise(out), normalise(ref_out)
                missing = [ln for ln in theirs if ln not in ours]
                if missing:
                    verdict = f"DIFF ({len(missing)} reference lines not printed)"
                    if args.verbose:
                        verdict += "\n    " + "\n    ".join(missing[:10])
        if not verdict.startswith("pass"):
            failures += 1
            if args.verbose and rc != 0:
                verdict += "\n    " + "\n    ".join(out.strip().splitlines()[-15:])
        print(f"{name:45} {secs:6.2f} {ref_secs:6.2f}  {verdict}")
    passed = len(names) - failures
    print(f"{passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
