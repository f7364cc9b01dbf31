"""Fixtures shared by the flyte-models unit tests: a clean environment and reset hooks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte_models

_CLEARED_PREFIXES = ("FLYTE_", "_U_", "_F_")
_CLEARED_NAMES = (
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "NODE_RANK",
    "NNODES",
    "MASTER_ADDR",
    "MASTER_PORT",
    "JOBSET_RESTART_ATTEMPT",
)


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Drop FLYTE_* and distributed-training variables; point local wheels at an empty dir."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)
    missing = tmp_path_factory.getbasetemp() / "no-wheels-here"
    monkeypatch.setenv("FLYTE_LOCAL_WHEELS_DIR", str(missing))


@pytest.fixture(autouse=True)
def reset_hooks() -> Iterator[None]:
    """Make sure no test leaks a call handler or default resolver into the next."""
    handler = flyte_models.set_task_call_handler(None)
    resolver = flyte_models.set_default_task_resolver(None)
    yield
    flyte_models.set_task_call_handler(handler)
    flyte_models.set_default_task_resolver(resolver)


@pytest.fixture
def wheels_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local wheel directory with one fake wheel, used by `with_local_v2`."""
    d = tmp_path / "dist"
    d.mkdir()
    (d / "flyte_runtime-1-py3-none-any.whl").write_bytes(b"wheel-bytes")
    monkeypatch.setenv("FLYTE_LOCAL_WHEELS_DIR", str(d))
    return d
