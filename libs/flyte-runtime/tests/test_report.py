"""Task reports: `report=True` tasks write `report.html` beside their outputs."""

from __future__ import annotations

from pathlib import Path

import flyte
import flyte.report

env = flyte.TaskEnvironment(name="test_report")


@env.task(report=True)
async def async_report(n: int) -> int:
    await flyte.report.log.aio("<h1>Squares</h1>")
    for i in range(n):
        await flyte.report.log.aio(f"<p>{i} squared is {i * i}</p>")
    flyte.report.get_tab("Details").log("<pre>details tab</pre>")
    return n


@env.task(report=True)
def sync_report() -> str:
    flyte.report.log("<p>first draft</p>")
    flyte.report.replace("<p>final text</p>")
    return "ok"


@env.task(report=True)
async def flushes_early() -> bool:
    await flyte.report.log.aio("<p>progress 50%</p>", do_flush=True)
    return (Path(flyte.ctx().output_path) / "report.html").is_file()


@env.task(report=True)
async def child_report() -> str:
    await flyte.report.log.aio("<p>from the child</p>")
    return flyte.ctx().action.name


@env.task
async def parent_of_report() -> str:
    return await child_report()


@env.task
async def no_report_flag() -> int:
    await flyte.report.log.aio("<p>ignored</p>")
    return 1


@env.task(report=True)
async def reports_nothing() -> int:
    return 1


def _report(run_url: str, action: str = "a0") -> str:
    return (Path(run_url) / action / "report.html").read_text()


def test_report_is_written_beside_the_root_outputs() -> None:
    run = flyte.run(async_report, 3)
    assert (Path(run.url) / "a0" / "outputs.pb").is_file()
    html = _report(run.url)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<h1>Squares</h1>" in html
    assert html.index("<p>0 squared is 0</p>") < html.index("<p>2 squared is 4</p>")
    assert "Details" in html and "<pre>details tab</pre>" in html


def test_sync_report_calls_and_replace() -> None:
    html = _report(flyte.run(sync_report).url)
    assert "<p>final text</p>" in html and "first draft" not in html


def test_flush_writes_the_report_while_the_task_runs() -> None:
    run = flyte.run(flushes_early)
    assert run.outputs()[0] is True
    assert "progress 50%" in _report(run.url)


def test_a_child_report_goes_to_the_child_action_dir() -> None:
    run = flyte.run(parent_of_report)
    child = run.outputs()[0]
    assert "<p>from the child</p>" in _report(run.url, child)
    assert not (Path(run.url) / "a0" / "report.html").exists()


def test_without_report_flag_logging_is_a_no_op() -> None:
    run = flyte.run(no_report_flag)
    assert run.outputs()[0] == 1
    assert not (Path(run.url) / "a0" / "report.html").exists()


def test_an_empty_report_writes_no_file() -> None:
    assert not (Path(flyte.run(reports_nothing).url) / "a0" / "report.html").exists()


def test_report_calls_outside_a_task_are_no_ops(local_root: Path) -> None:
    flyte.report.log("<p>nobody is listening</p>")
    flyte.report.replace("<p>still nobody</p>")
    flyte.report.flush()
    assert not local_root.exists()
