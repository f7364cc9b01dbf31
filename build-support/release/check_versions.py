"""Check that every library's ``_version.py`` equals ``FLYTE_VERSION`` in build-support/macros.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    macro = re.search(
        r'^FLYTE_VERSION = "([^"]+)"', (root / "build-support/macros.py").read_text(), re.M
    )
    assert macro, "FLYTE_VERSION missing from build-support/macros.py"
    want = macro.group(1)
    bad = []
    files = sorted(root.glob("libs/*/src/**/_version.py"))
    for f in files:
        m = re.search(r'^__version__ = "([^"]+)"', f.read_text(), re.M)
        if not m or m.group(1) != want:
            bad.append(f"{f.relative_to(root)}: {m.group(1) if m else 'no __version__'} != {want}")
    for line in bad:
        print(f"version check: {line}", file=sys.stderr)
    print(f"version check: {len(files)} _version.py files, {len(bad)} mismatches (want {want})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
