"""`flyte.new_condition`: pause a task until someone signals a value (an approval, a number, ...).

```python
@env.task
async def deploy(model: str) -> str:
    approval = await flyte.new_condition.aio("approve", prompt="Ship it?", data_type=bool)
    if await approval.wait.aio():
        return f"deployed {model}"
    return "rejected"
```

The run's controller does the work, through two methods it may offer (looked up with
`getattr`, like `run_trace`):

* `register_condition(condition)`: called by `new_condition` inside a task;
* `wait_for_condition(condition) -> value`: called by `wait()`; returns the signalled value
  converted to `data_type`, raises `flyte.errors.ConditionTimedoutError` after `timeout`.

On a control plane the condition is a *condition action* of the task (`ConditionAction`:
name, prompt, prompt type, description, payload `LiteralType`, timeout, webhook); it stays
PAUSED until `flyte.remote.Condition.signal(value)` (`SignalEvent`), and the waiting task gets
the value in the action's update. A controller without these methods makes `wait()` raise a
`RuntimeSystemError` that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from flyte_models import current_task_context, syncify
from flyte_models import errors as ferr

__all__ = ["ConditionWebhook", "PromptType", "new_condition", "parse_payload"]

PromptType = Literal["text", "markdown"]

_PAYLOAD_TYPES = (bool, int, float, str)


@dataclass
class ConditionWebhook:
    """Where the control plane POSTs when the condition is created.

    Args:
        url: The address to POST to.
        payload: The JSON body; the string `{callback_uri}` in any value is replaced by the URI
            that signals the condition.
    """

    url: str
    payload: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url:
            raise ValueError(f"ConditionWebhook.url must be a non-empty str, got {self.url!r}")


@dataclass
class _Condition:
    """A condition created by `flyte.new_condition` (await its value with `wait()`)."""

    name: str
    prompt: str = "Approve?"
    prompt_type: PromptType = "text"
    data_type: type = bool
    description: str = ""
    timeout: timedelta | int | float | None = None
    webhook: ConditionWebhook | None = None
    _timeout_seconds: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a condition needs a non-empty name, got {self.name!r}")
        if self.data_type not in _PAYLOAD_TYPES:
            raise TypeError(
                f"condition {self.name!r}: data_type must be bool, int, float or str, "
                f"got {self.data_type!r}"
            )
        if self.prompt_type not in ("text", "markdown"):
            raise ValueError(
                f"condition {self.name!r}: prompt_type must be 'text' or 'markdown', "
                f"got {self.prompt_type!r}"
            )
        if self.timeout is not None:
            seconds = (
                self.timeout.total_seconds()
                if isinstance(self.timeout, timedelta)
                else float(self.timeout)
            )
            if seconds <= 0:
                raise ValueError(f"condition {self.name!r}: timeout must be positive")
            self._timeout_seconds = seconds

    @property
    def timeout_seconds(self) -> float | None:
        """The timeout in seconds, or None."""
        return self._timeout_seconds

    @syncify
    async def wait(self) -> Any:
        """Wait until the condition is signalled; return the value, as `data_type`.

        Raises:
            RuntimeError: Outside a task.
            flyte.errors.ConditionTimedoutError: If `timeout` passes first.
            flyte.errors.RuntimeSystemError: If the run's controller cannot wait on conditions.
        """
        waiter = getattr(
            _controller(f"wait on condition {self.name!r}"), "wait_for_condition", None
        )
        if waiter is None:
            raise ferr.RuntimeSystemError(
                "ConditionsNotSupported",
                f"condition {self.name!r}: this run's controller cannot wait on conditions "
                "(flyte.new_condition needs a runtime with condition support)",
            )
        return await waiter(self)


_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def parse_payload(raw: str, data_type: type) -> Any:
    """Read a typed condition value from text (a console answer, a CLI argument).

    Raises:
        ValueError: If `raw` is not a `data_type` value.
    """
    text = raw.strip()
    if data_type is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not a bool (answer yes/no, true/false or 1/0)")
    if data_type is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not an int") from None
    if data_type is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{raw!r} is not a float") from None
    return raw


def _controller(what: str) -> Any:
    from flyte_runtime._state import current_run

    run = current_run()
    if current_task_context() is None or run is None:
        raise RuntimeError(f"Cannot {what} outside a task: conditions belong to a running task.")
    return run.controller


@syncify
async def new_condition(
    name: str,
    /,
    prompt: str = "Approve?",
    prompt_type: PromptType = "text",
    data_type: type = bool,
    description: str = "",
    timeout: timedelta | int | float | None = None,
    webhook: ConditionWebhook | None = None,
) -> _Condition:
    """Create a condition the running task can wait on (`await cond.wait.aio()`).

    Args:
        name: The condition's name (shown to whoever signals it).
        prompt: The question asked.
        prompt_type: `"text"` or `"markdown"`.
        data_type: The type of the value: `bool`, `int`, `float` or `str`.
        description: A longer explanation.
        timeout: How long `wait()` may wait (a `timedelta` or seconds) before it raises
            `flyte.errors.ConditionTimedoutError`.
        webhook: A `ConditionWebhook` the control plane calls when the condition is created.

    Raises:
        TypeError, ValueError: For a bad `data_type`, `prompt_type` or `timeout`.
    """
    condition = _Condition(
        name=name,
        prompt=prompt,
        prompt_type=prompt_type,
        data_type=data_type,
        description=description,
        timeout=timeout,
        webhook=webhook,
    )
    if current_task_context() is not None:
        register = getattr(_controller("create a condition"), "register_condition", None)
        if register is not None:
            await register(condition)
    return condition
