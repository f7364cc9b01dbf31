"""images/build.sh: the slim worker image and the full image build and pass their smoke tests."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import Docker

ROOT = Path(__file__).resolve().parents[2]


def test_slim_and_full_images_build_and_pass_smoke_tests(docker: Docker) -> None:
    if not list((ROOT / "dist").glob("flyte_runtime-*.whl")):
        pytest.skip("no wheels in dist/: run ./pants package :: first")
    proc = subprocess.run(
        [str(ROOT / "images" / "build.sh"), "--compare"],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "absent: click, rich, docker, flyte_imagebuild" in proc.stdout
    assert "a0 --help ok" in proc.stderr
    ratio = float(re.search(r"slim/reference venv size: ([0-9.]+)", proc.stdout).group(1))  # type: ignore[union-attr]
    assert ratio <= 0.5
    print(proc.stdout)
