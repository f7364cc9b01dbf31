"""Per-run state of the engine, visible to every coroutine and worker thread of the run.

`flyte_models` holds the *task* context (`flyte.ctx()`); this module holds what the engine needs
beside it: the controller that executes child actions, the run's options and where its files
go. Both live in context variables, so concurrent runs in one process never see each other's
state, and `asyncio.to_thread` (sync tasks) carries them into worker threads.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

    from flyte_models import TaskTemplate

__all__ = ["Controller", "RunOptions", "RunState", "current_run", "in_trace", "local_root"]


class Controller(Protocol):
    """What executes the child actions of a run: the local engine's `LocalController`, or the
    remote controller in `a0` (`flyte_runtime._remote_controller.RemoteController`).

    Controllers may also offer (looked up with `getattr`, so they are not part of this protocol):

    * `run_trace(func, args, kwargs, call) -> Awaitable[Any]`: record a `@flyte.trace` call
      (`call()` runs it) as a step of the running task; without it a trace just runs.
    * `submit_task_ref(task_details, kwargs) -> Awaitable[Any]`: run a deployed task
      (`flyte.remote.Task.get(...)`) as a child action; without it such a call is refused.
    * `register_condition(condition) -> Awaitable[None]` and
      `wait_for_condition(condition) -> Awaitable[Any]`: create a `flyte.new_condition(...)` as a
      condition action and wait for its signalled value; without them (the local engine) the
      value is asked for on the console.
    """

    async def submit(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run `task(*args, **kwargs)` as a child action of the running task; return its result."""
        ...


def local_root() -> Path:
    """Where local runs keep their files: `$FLYTE_LOCAL_ROOT` or `<tmp>/flyte`."""
    return Path(os.environ.get("FLYTE_LOCAL_ROOT") or Path(tempfile.gettempdir()) / "flyte")


@dataclass(frozen=True)
class RunOptions:
    """The per-run settings of `flyte.with_runcontext(...)` that the local engine honours."""

    name: str | None = None
    project: str | None = None
    domain: str | None = None
    raw_data_path: str | None = None
    run_base_dir: str | None = None
    overwrite_cache: bool = False
    disable_run_cache: bool = False
    env_vars: dict[str, str] = field(default_factory=dict)
    custom_context: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    max_action_concurrency: int | None = None
    preserve_original_types: bool = False


@dataclass
class RunState:
    """What every action of one run shares."""

    run_name: str
    options: RunOptions
    metadata_dir: Path
    raw_data_dir: Path
    loop: asyncio.AbstractEventLoop
    controller: Controller
    extra: dict[str, Any] = field(default_factory=dict)


_RUN: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("flyte_run", default=None)
_IN_TRACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("flyte_trace", default=None)


def current_run() -> RunState | None:
    """The run executing in this context, or None outside runs."""
    return _RUN.get()


def in_trace() -> str | None:
    """The name of the `@flyte.trace` function being executed in this context, if any."""
    return _IN_TRACE.get()
