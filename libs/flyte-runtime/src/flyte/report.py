"""Task reports: `log`, `replace`, `flush`, `get_tab`, `current_report` (with `report=True`)."""

from flyte_runtime._report import Report, Tab, current_report, flush, get_tab, log, replace

__all__ = ["Report", "Tab", "current_report", "flush", "get_tab", "log", "replace"]
