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

Both run on the run's event loop (a sync task's `wait()`, which runs on another loop or
thread, is handed to it, like a sync task's task calls).

On a control plane (the remote controller in `a0`) the condition is a *condition action* of
the task (`ConditionAction`: name, prompt, prompt type, description, payload `LiteralType`,
timeout, webhook), named deterministically so a retried task finds it again; it stays PAUSED
until `flyte.remote.Condition.signal(value)` (`SignalEvent`), and the waiting task gets the
value as a `Literal` in the action's update (`payload_from_literal`). A condition that times
out raises `ConditionTimedoutError`, one that fails `ConditionFailedError`, one aborted
`ActionAbortedError`. A controller without these methods makes `wait()` raise a
`RuntimeSystemError` that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from flyte_models import current_task_context, syncify
from flyte_models import errors as ferr

__all__ = [
    "ConditionWebhook",
    "PromptType",
    "new_condition",
    "parse_payload",
    "payload_from_literal",
]

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
    # Set by a controller that created the condition as an action: (action id, parent name).
    _remote: Any = field(default=None, init=False, repr=False, compare=False)

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
            flyte.errors.ConditionFailedError: If the condition fails (or its value is not a
                `data_type` value).
            flyte.errors.ActionAbortedError: If the condition is aborted.
            flyte.errors.RuntimeSystemError: If the run's controller cannot wait on conditions.
        """
        run = _run(f"wait on condition {self.name!r}")
        waiter = getattr(run.controller, "wait_for_condition", None)
        if waiter is None:
            raise ferr.RuntimeSystemError(
                "ConditionsNotSupported",
                f"condition {self.name!r}: this run's controller cannot wait on conditions "
                "(flyte.new_condition needs a runtime with condition support)",
            )
        from flyte_runtime._compose import await_on_loop

        return await await_on_loop(run.loop, lambda: waiter(self))


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


def payload_from_literal(literal: Any, data_type: type, name: str = "") -> Any:
    """The value of a signalled condition (a flyteidl2 `Literal`), as `data_type`.

    A primitive of another kind is converted when that loses nothing (an integral float to
    `int`, an `int` to `float`, `0`/`1` to `bool`); a string is read with `parse_payload`.

    Raises:
        flyte.errors.ConditionFailedError: If the literal is not a `data_type` value.
    """
    what = f"condition {name!r}" if name else "condition"
    value: Any = None
    kind = None
    if literal.HasField("scalar") and literal.scalar.HasField("primitive"):
        prim = literal.scalar.primitive
        kind = prim.WhichOneof("value")
        value = getattr(prim, kind) if kind else None
    if kind is None:
        raise ferr.ConditionFailedError(
            f"{what}: the signalled value is not a bool, int, float or str literal: "
            f"{str(literal).strip() or 'empty'}"
        )
    try:
        if kind == "string_value":
            return parse_payload(value, data_type)
        if data_type is str:
            return str(value)
        if data_type is bool:
            if kind == "boolean":
                return bool(value)
            if kind == "integer" and value in (0, 1):
                return bool(value)
        elif data_type is int:
            if kind == "integer":
                return int(value)
            if kind == "float_value" and float(value).is_integer():
                return int(value)
        elif data_type is float and kind in ("integer", "float_value"):
            return float(value)
    except ValueError as e:
        raise ferr.ConditionFailedError(f"{what}: {e}") from None
    raise ferr.ConditionFailedError(
        f"{what}: expected a {data_type.__name__} value, but it was signalled with "
        f"{value!r} ({kind})"
    )


def _run(what: str) -> Any:
    from flyte_runtime._state import current_run

    run = current_run()
    if current_task_context() is None or run is None:
        raise RuntimeError(f"Cannot {what} outside a task: conditions belong to a running task.")
    return run


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
        run = _run("create a condition")
        register = getattr(run.controller, "register_condition", None)
        if register is not None:
            from flyte_runtime._compose import await_on_loop

            await await_on_loop(run.loop, lambda: register(condition))
    return condition
