"""Task reports: HTML a task builds while it runs (`@env.task(report=True)` + `flyte.report.*`).

A report has named tabs; `flyte.report.log(html)` appends to the main tab, `replace` swaps its
content, `get_tab(name)` reaches the others. The runtime renders the report to `report.html`
beside the action's outputs when the action ends, and `flush()` writes it earlier (to watch a long
task). Outside a task, or in a task without `report=True`, the calls do nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from flyte_models import current_task_context, syncify

__all__ = ["Report", "Tab", "current_report", "flush", "get_tab", "log", "replace"]

MAIN_TAB = "main"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; }}
nav {{ display: flex; gap: .25rem; padding: .5rem; background: #f3f1f7; }}
nav button {{ border: 0; padding: .4rem .8rem; border-radius: .3rem; cursor: pointer; }}
nav button.active {{ background: #7652a2; color: white; }}
section {{ display: none; padding: 1rem; }}
section.active {{ display: block; }}
</style>
</head>
<body>
<nav>{nav}</nav>
{sections}
<script>
function show(i) {{
  document.querySelectorAll("nav button").forEach((b, j) => b.classList.toggle("active", i === j));
  document.querySelectorAll("section").forEach((s, j) => s.classList.toggle("active", i === j));
}}
show(0);
</script>
</body>
</html>
"""


@dataclass
class Tab:
    """One tab of a report: a list of HTML fragments shown in order."""

    name: str
    content: list[str] = field(default_factory=list)

    def log(self, content: str) -> None:
        """Append an HTML fragment (not a whole document) to this tab."""
        self.content.append(content)

    def replace(self, content: str) -> None:
        """Replace everything in this tab with one HTML fragment."""
        self.content = [content]

    def get_html(self) -> str:
        """The tab's HTML."""
        return "\n".join(self.content)


@dataclass
class Report:
    """The report of one action."""

    name: str
    tabs: dict[str, Tab] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tabs.setdefault(MAIN_TAB, Tab(MAIN_TAB))

    def get_tab(self, name: str, create_if_missing: bool = True) -> Tab:
        """Return the tab called `name`, creating it unless `create_if_missing` is False.

        Raises:
            ValueError: If the tab does not exist and may not be created.
        """
        if name not in self.tabs:
            if not create_if_missing:
                raise ValueError(f"Report {self.name!r} has no tab {name!r}")
            self.tabs[name] = Tab(name)
        return self.tabs[name]

    def has_content(self) -> bool:
        """Whether anything was logged to any tab."""
        return any(tab.content for tab in self.tabs.values())

    def get_final_report(self) -> str:
        """Render the whole report as one self-contained HTML page."""
        tabs = [t for t in self.tabs.values() if t.content or t.name != MAIN_TAB]
        nav = "".join(
            f'<button onclick="show({i})">{html.escape(t.name)}</button>'
            for i, t in enumerate(tabs)
        )
        # Fragments are the task's own HTML: inserted as given, like any report renderer.
        sections = "\n".join(f"<section>{t.get_html()}</section>" for t in tabs)
        return _PAGE.format(title=html.escape(self.name), nav=nav, sections=sections)


def current_report() -> Report:
    """The running task's report; a throwaway one outside tasks with `report=True`."""
    tctx = current_task_context()
    report = getattr(tctx, "report", None) if tctx is not None else None
    return report if isinstance(report, Report) else Report("detached")


def get_tab(name: str, /, create_if_missing: bool = True) -> Tab:
    """Return a tab of the running task's report (see `Report.get_tab`)."""
    return current_report().get_tab(name, create_if_missing=create_if_missing)


@syncify
async def log(content: str, do_flush: bool = False) -> None:
    """Append an HTML fragment to the main tab; write the report out if `do_flush`."""
    current_report().get_tab(MAIN_TAB).log(content)
    if do_flush:
        await flush.aio()


@syncify
async def replace(content: str, do_flush: bool = False) -> None:
    """Replace the main tab's content; write the report out if `do_flush`."""
    current_report().get_tab(MAIN_TAB).replace(content)
    if do_flush:
        await flush.aio()


@syncify
async def flush() -> None:
    """Write the running task's report to `report.html` beside its outputs now."""
    tctx = current_task_context()
    report = getattr(tctx, "report", None) if tctx is not None else None
    if not isinstance(report, Report) or tctx is None:
        return
    import flyte_storage

    target = flyte_storage.join(tctx.output_path, "report.html")
    await flyte_storage.put_stream(report.get_final_report().encode("utf-8"), target)
