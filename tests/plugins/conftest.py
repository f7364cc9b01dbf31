"""The `tests/` source root on `sys.path`, so `plugins.*` and `support.*` imports resolve as they
do under Pants; and a RunService client of each test module's `devbox` fixture."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
async def runs(devbox: Devbox) -> AsyncIterator[RunServiceClient]:
    """A RunService client of the test module's `devbox`."""
    async with RunServiceClient(devbox.url) as client:
        yield client
