"""Fixtures: a devbox on a free loopback port that runs actions with `devbox_fake_a0.py`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devbox_fake_a0  # noqa: F401 - a file the devbox executes; imported so Pants ships it
from devbox_helpers import FAKE_A0, fake_env

from flyte_devbox import Devbox, DevboxConfig


@pytest.fixture
def make_devbox(tmp_path: Path) -> Iterator[Callable[..., Devbox]]:
    """Start devboxes (stopped at the end of the test); keyword arguments go to DevboxConfig."""
    started: list[Devbox] = []

    def make(**overrides: Any) -> Devbox:
        kwargs: dict[str, Any] = {
            "port": 0,
            "state_dir": tmp_path / "state",
            "a0_command": (sys.executable, FAKE_A0),
            "env": fake_env(),
            "max_concurrent_actions": 4,
        }
        kwargs.update(overrides)
        dbx = Devbox(DevboxConfig(**kwargs)).start()
        started.append(dbx)
        return dbx

    yield make
    for dbx in started:
        dbx.stop()


@pytest.fixture
def devbox(make_devbox: Callable[..., Devbox]) -> Devbox:
    return make_devbox()
