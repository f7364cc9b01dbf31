"""Fixtures for the flyte_types unit tests (hermetic: local disk and in-memory storage only)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte_models import ActionID, RawDataPath, TaskContext, use_task_context

_CLEARED_PREFIXES = ("FLYTE_", "AWS_", "GOOGLE_", "AZURE_", "HTTP_PROXY", "HTTPS_PROXY")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FLYTE_* / cloud credential / proxy variables leak in from the environment."""
    for key in list(os.environ):
        if key.upper().startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(key, raising=False)


def _task_context(raw: str, tmp_path: Path) -> TaskContext:
    return TaskContext(
        action=ActionID(name="a0", run_name="r1", project="p", domain="d", org="o"),
        version="v1",
        raw_data_path=RawDataPath(path=raw),
        output_path=str(tmp_path / "out"),
        run_base_dir=str(tmp_path / "run"),
    )


@pytest.fixture
def local_task(tmp_path: Path) -> Iterator[TaskContext]:
    """A running task whose raw data path is a local directory."""
    raw = tmp_path / "raw"
    raw.mkdir()
    with use_task_context(_task_context(str(raw), tmp_path)) as tctx:
        assert tctx is not None
        yield tctx


@pytest.fixture
def remote_task(tmp_path: Path) -> Iterator[TaskContext]:
    """A running task whose raw data path is remote (fsspec's in-memory store via flyte_storage)."""
    raw = f"memory://flyte-types-tests/{uuid.uuid4().hex}/raw"
    with use_task_context(_task_context(raw, tmp_path)) as tctx:
        assert tctx is not None
        yield tctx
