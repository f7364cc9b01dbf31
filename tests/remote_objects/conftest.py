"""Fixtures: a devbox running our a0, the task module, and `flyte.remote` pointed at it."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The `tests/` source root, so `remote_objects.*` imports resolve as they do under Pants.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remote_objects.remote_helpers import (
    DOMAIN,
    MODULE,
    PROJECT,
    bundle_bytes,
    create_run,
    our_devbox_config,
    task_spec,
    upload,
    write_tasks,
)

import flyte_runtime._entrypoint  # noqa: F401 - the a0 the devbox runs (and a Pants dependency)
from flyte_client.remote import _client
from flyte_devbox import Devbox
from flyte_models import run_sync


@dataclass
class Env:
    """A devbox, the task module loaded from a bundle it has, and run helpers."""

    devbox: Devbox
    root: Path
    mod: Any
    bundle_url: str

    def spec(self, task_name: str, version: str = "v1") -> Any:
        return task_spec(getattr(self.mod, task_name), self.bundle_url, self.root, version)

    def start(self, task_name: str, **kwargs: Any) -> str:
        """Create a run of `task_name` with raw RunService calls; return its name."""
        task = getattr(self.mod, task_name)
        return run_sync(create_run(self.devbox, self.spec(task_name), task, **kwargs))


def point_remote_at(devbox: Devbox) -> None:
    _client.configure(devbox.endpoint, insecure=True, project=PROJECT, domain=DOMAIN)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("remote-objects")
    root = base / "src"
    write_tasks(root)
    sys.path.insert(0, str(root))
    sys.modules.pop(MODULE, None)
    mod = importlib.import_module(MODULE)
    devbox = Devbox(our_devbox_config(base / "state")).start()
    try:
        url = asyncio.run(upload(devbox, bundle_bytes(root)))
        point_remote_at(devbox)
        yield Env(devbox, root, mod, url)
    finally:
        _client.reset()
        devbox.stop()
        sys.modules.pop(MODULE, None)
        sys.path.remove(str(root))
