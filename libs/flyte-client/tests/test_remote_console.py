"""The wait view: plain lines on a non-terminal, a rich live line on a terminal (pty)."""

from __future__ import annotations

import io
import os
import pty

import pytest
from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_definition_pb2
from google.protobuf import timestamp_pb2

from flyte_client.remote._action import ActionDetails
from flyte_client.remote._console import WaitView


def details(phase: int, *, error: str = "", seconds: int = 3) -> ActionDetails:
    pb = run_definition_pb2.ActionDetails()
    pb.id.run.name = "r1"
    pb.id.name = "a0"
    pb.status.phase = phase  # type: ignore[assignment]
    pb.status.attempts = 1
    pb.status.start_time.CopyFrom(timestamp_pb2.Timestamp(seconds=1000))
    if phase in (phase_pb2.ACTION_PHASE_SUCCEEDED, phase_pb2.ACTION_PHASE_FAILED):
        pb.status.end_time.CopyFrom(timestamp_pb2.Timestamp(seconds=1000 + seconds))
    if error:
        pb.error_info.message = error
    return ActionDetails(pb)


def test_plain_lines_once_per_phase() -> None:
    out = io.StringIO()
    with WaitView("Run 'r1'", stream=out) as view:
        view.update(details(phase_pb2.ACTION_PHASE_QUEUED))
        view.update(details(phase_pb2.ACTION_PHASE_RUNNING))
        view.update(details(phase_pb2.ACTION_PHASE_RUNNING))
        view.finish(details(phase_pb2.ACTION_PHASE_SUCCEEDED))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Waiting for Run 'r1'..."
    assert lines[1].startswith("Run 'r1': queued (")
    assert lines[2].startswith("Run 'r1': running (") and lines[2].endswith("attempt 1)")
    assert lines[3] == "Run 'r1' completed successfully in 3s"
    assert len(lines) == 4


def test_failure_line_carries_the_error() -> None:
    out = io.StringIO()
    with WaitView("Run 'r1'", stream=out) as view:
        view.finish(details(phase_pb2.ACTION_PHASE_FAILED, error="boom"))
    assert out.getvalue().splitlines()[-1] == "Run 'r1' ended in phase failed: boom"


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    with WaitView("Run 'r1'", quiet=True, stream=out) as view:
        view.update(details(phase_pb2.ACTION_PHASE_RUNNING))
        view.finish(details(phase_pb2.ACTION_PHASE_SUCCEEDED))
    assert out.getvalue() == ""


@pytest.mark.parametrize("no_color", [False, True])
def test_terminal_gets_the_rich_view(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    pytest.importorskip("rich", reason="rich is optional; the live view needs it")
    monkeypatch.setenv("TERM", "xterm-256color")
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            with WaitView("Run 'r1'", stream=tty) as view:
                view.update(details(phase_pb2.ACTION_PHASE_RUNNING))
                view.finish(details(phase_pb2.ACTION_PHASE_SUCCEEDED))
            tty.flush()
        data = b""
        while True:
            import select

            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            data += os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)
    text = data.decode(errors="replace")
    assert "Run 'r1' completed successfully in 3s" in text
    assert "Waiting for Run 'r1'..." not in text.splitlines()  # no plain header line
    colored = "\x1b[1;32m" in text or "\x1b[32m" in text or "\x1b[1m\x1b[32m" in text
    assert colored is (not no_color)
