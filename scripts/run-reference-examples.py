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
"""

from __future__ import annotations

import argparse
import os
import re
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


def run(python: str, script: Path, timeout: float) -> tuple[int, str, float]:
    with tempfile.TemporaryDirectory(prefix="flyte-example-") as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE_", "UCTL_"))}
        env["HOME"] = cwd  # no ~/.flyte/config.yaml: local mode, as the issue demands
        env["PYTHONPATH"] = str(script.parent)
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
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {timeout}s", timeout
        # Compare what the script prints (stdout); logs on stderr differ by design.
        out = proc.stdout if proc.returncode == 0 else proc.stdout + proc.stderr
        return proc.returncode, out, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=Path)
    parser.add_argument("--python", required=True, help="interpreter with our flyte installed")
    parser.add_argument("--ref-python", help="interpreter with the reference flyte installed")
    parser.add_argument("--list", type=Path, help="file with one example path per line")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--verbose", "-v", action="store_true")
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
