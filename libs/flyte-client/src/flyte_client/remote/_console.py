"""What `wait()` shows while it waits: a live rich line on a terminal, plain lines elsewhere.

rich is optional: it is imported only when the output is a terminal and it is installed. With
`NO_COLOR` set the live view is drawn without colour; when the output is not a terminal (CI logs,
pipes, files) one plain line is printed per phase change.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_client.remote._action import ActionDetails

__all__ = ["WaitView"]


def _fmt_secs(details: ActionDetails) -> str:
    return f"{details.runtime.total_seconds():.0f}s"


def _use_rich(stream: IO[str]) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    try:
        # rich is optional (the CLI brings it; a worker image does not): no wheel dependency.
        import rich  # noqa: F401 # pants: no-infer-dep
    except ImportError:
        return False
    return True


class WaitView:
    """Progress output for waiting on one run (or action).

    Args:
        label: What is waited on, e.g. "Run 'r123'".
        quiet: Print nothing.
        stream: Where to write (stderr by default).
    """

    def __init__(self, label: str, *, quiet: bool = False, stream: IO[str] | None = None) -> None:
        self.label = label
        self.quiet = quiet
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self._last: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._console: Any = None

    def __enter__(self) -> WaitView:
        if self.quiet:
            return self
        if _use_rich(self.stream):
            import rich.console  # pants: no-infer-dep
            import rich.progress as rp  # pants: no-infer-dep

            self._console = rich.console.Console(
                file=self.stream, no_color=bool(os.environ.get("NO_COLOR"))
            )
            self._progress = rp.Progress(
                rp.SpinnerColumn(),
                rp.TextColumn("{task.description}"),
                rp.TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(f"Waiting for {self.label}...")
        else:
            self._line(f"Waiting for {self.label}...")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def update(self, details: ActionDetails) -> None:
        """Show the latest state (a plain line only when the phase changed)."""
        if self.quiet:
            return
        phase = details.phase_or_none
        text = (
            f"{self.label}: {phase.value if phase else 'pending'} "
            f"({_fmt_secs(details)}, attempt {details.attempts})"
        )
        if self._progress is not None:
            self._progress.update(self._task, description=text)
        elif phase != self._last:
            self._line(text)
        self._last = phase

    def finish(self, details: ActionDetails) -> None:
        """Report the outcome of a terminal `details`."""
        if self.quiet:
            return
        phase = details.phase_or_none
        ok = phase is not None and phase.is_success
        if ok:
            text = f"{self.label} completed successfully in {_fmt_secs(details)}"
        else:
            err = details.error_info
            reason = ""
            if err is not None and err.message:
                reason = f": {err.message}"
            elif details.abort_info is not None and details.abort_info.reason:
                reason = f": {details.abort_info.reason}"
            text = f"{self.label} ended in phase {phase.value if phase else '?'}{reason}"
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None
            style = "bold green" if ok else "bold red"
            self._console.print(text, style=style, markup=False, highlight=False)
        else:
            self._line(text)
