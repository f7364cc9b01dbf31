"""The three ways of starting action processes give the same results."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from devbox_helpers import TERMINAL, create_run_request, task_spec, watch_until
from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox
from flyte_devbox._forkserver import entry_point


def console_script(path: Path) -> Path:
    """An `a0`-like console script (what pip generates) that runs the fake runtime."""
    path.write_text(
        f"#!{sys.executable}\n"
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        "from devbox_fake_a0 import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_entry_point_detection(tmp_path: Path) -> None:
    script = console_script(tmp_path / "a0")
    assert entry_point([str(script)]) == (sys.executable, "devbox_fake_a0:main", 1)
    assert entry_point([sys.executable, "-m", "some.runtime"]) == (
        sys.executable,
        "-m some.runtime",
        3,
    )
    assert entry_point(["/bin/true"]) is None
    assert entry_point(["relative-a0"]) is None


async def _run(devbox: Devbox, mode: str = "square", x: int = 7) -> tuple[int, int]:
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(create_run_request(task_spec(mode=mode), x=x))
        aid = created.run.action.id
        w = await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda w: w.details.status.phase in TERMINAL,
        )
        if w.details.status.phase != phase_pb2.ACTION_PHASE_SUCCEEDED:
            return int(w.details.status.phase), -1
        data = await runs.get_action_data(run_service_pb2.GetActionDataRequest(action_id=aid))
        return int(w.details.status.phase), data.outputs.literals[0].value.scalar.primitive.integer


@pytest.mark.parametrize("launcher", ["spawner", "direct", "fork-server"])
async def test_launchers(make_devbox: Callable[..., Devbox], tmp_path: Path, launcher: str) -> None:
    script = console_script(tmp_path / "a0")
    devbox = make_devbox(launcher=launcher, a0_command=(str(script),))
    for x in (3, 4, 5):  # later runs use a warmed fork server
        assert await _run(devbox, x=x) == (phase_pb2.ACTION_PHASE_SUCCEEDED, x * x)
    phase, _ = await _run(devbox, mode="fail")
    assert phase == phase_pb2.ACTION_PHASE_FAILED
    if launcher == "fork-server":
        logs = list((devbox.config.state_dir / "forkserver").glob("*.log"))
        assert len(logs) == 2  # the spawner and the fork server of this a0


async def test_missing_command_fails_cleanly(
    make_devbox: Callable[..., Devbox], tmp_path: Path
) -> None:
    devbox = make_devbox(a0_command=(str(tmp_path / "no-such-a0"),))
    phase, _ = await _run(devbox)
    assert phase == phase_pb2.ACTION_PHASE_FAILED
    async with RunServiceClient(devbox.url) as runs:
        listed = await runs.list_runs(run_service_pb2.ListRunsRequest(org=""))
        run = listed.runs[0].action.id
        details = await runs.get_action_details(
            run_service_pb2.GetActionDetailsRequest(action_id=run)
        )
    assert "no-such-a0" in details.details.error_info.message
    assert os.path.exists(devbox.config.state_dir)
