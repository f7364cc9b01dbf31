"""Every test runs its local runs in its own root, cache and HOME (no config file on the machine
turns a local run into a remote one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import flyte_runtime._run as runmod


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("FLYTE_", "UCTL_", "FLYTECTL_", "_U_", "_F_", "DASK_")):
            monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("FLYTE_LOCAL_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(runmod, "_CONFIG", runmod._Config())
