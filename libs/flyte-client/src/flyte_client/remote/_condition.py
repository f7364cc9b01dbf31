"""`Condition`: a condition a running task waits on (`flyte.new_condition`), and its signal.

A condition is a *condition action* of the run: a child action of the task that created it,
PAUSED until someone signals it with a value (`SignalEvent`), which the waiting task receives.
There is no condition-specific RPC to read them: they are the run's actions of type
`ACTION_TYPE_CONDITION` (`ListActions` filtered on `action_type`).

```python
import flyte.remote as remote

for c in remote.Condition.listall(run_name="r1"):
    print(c.name, c.phase, c.expected_type)
remote.Condition.get("approval", run_name="r1").signal(True)
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Union

from flyteidl2.common import list_pb2, phase_pb2
from flyteidl2.core import types_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte_client.remote import _client
from flyte_client.remote._action import action_identifier
from flyte_client.remote._errors import translate
from flyte_models import syncify

__all__ = ["Condition", "ConditionPayload"]

#: What a condition can be signalled with.
ConditionPayload = Union[bool, int, float, str]

_PY_TYPES: dict[int, type] = {
    types_pb2.BOOLEAN: bool,
    types_pb2.INTEGER: int,
    types_pb2.FLOAT: float,
    types_pb2.STRING: str,
}


@dataclass
class Condition:
    """A condition action of a run (wraps its `flyteidl2.workflow.Action`)."""

    pb2: run_definition_pb2.Action

    @property
    def name(self) -> str:
        """The name the task gave the condition (`flyte.new_condition(name, ...)`)."""
        md = self.pb2.metadata
        return md.condition.name if md.HasField("condition") else self.pb2.id.name

    @property
    def action_name(self) -> str:
        """The name of the condition action (what `flyte signal condition` takes)."""
        return self.pb2.id.name

    @property
    def run_name(self) -> str:
        """The run the condition belongs to."""
        return self.pb2.id.run.name

    @property
    def parent(self) -> str:
        """The action (task) that waits on the condition."""
        return self.pb2.metadata.parent

    @property
    def phase(self) -> str:
        """The condition action's phase name, e.g. `ACTION_PHASE_PAUSED` while it waits."""
        return phase_pb2.ActionPhase.Name(self.pb2.status.phase)  # type: ignore[arg-type]

    @property
    def expected_type(self) -> type | None:
        """The Python type of the payload the condition expects (bool, int, float or str), or
        None when the backend does not say."""
        md = self.pb2.metadata
        if not md.HasField("condition") or not md.condition.HasField("type"):
            return None
        lt = md.condition.type
        return _PY_TYPES.get(lt.simple) if lt.HasField("simple") else None

    def __repr__(self) -> str:
        return (
            f"Condition(name={self.name!r}, action={self.action_name!r}, run={self.run_name!r}, "
            f"phase={self.phase!r})"
        )

    @syncify
    @classmethod
    async def listall(
        cls, /, run_name: str, action_name: str | None = None, limit: int = 100
    ) -> AsyncIterator[Condition]:
        """Yield the conditions of run `run_name` (of the configured project/domain), or only
        those created by its action `action_name`; `limit` is the page size."""
        run_id = action_identifier(run_name, "a0").run
        filters = [
            list_pb2.Filter(
                function=list_pb2.Filter.EQUAL,
                field="action_type",
                values=[str(int(run_definition_pb2.ACTION_TYPE_CONDITION))],
            )
        ]
        if action_name is not None:
            filters.append(
                list_pb2.Filter(
                    function=list_pb2.Filter.EQUAL, field="parent_name", values=[action_name]
                )
            )
        token = ""
        while True:
            req = run_service_pb2.ListActionsRequest(
                run_id=run_id,
                request=list_pb2.ListRequest(limit=limit, token=token, filters=filters),
            )
            try:
                resp = await _client._clients().run_service.ListActions(req)
            except Exception as exc:
                raise translate(exc, f"list the conditions of run {run_name!r}") from exc
            for action in resp.actions:
                yield cls(pb2=action)
            token = resp.token
            if not token:
                return

    @syncify
    @classmethod
    async def get(
        cls, name: str, /, run_name: str, action_name: str | None = None
    ) -> Condition | None:
        """The condition called `name` in run `run_name` (created by `action_name`, if given),
        or None."""
        async for cond in cls.listall.aio(run_name=run_name, action_name=action_name):
            if cond.name == name:
                return cond  # type: ignore[no-any-return]
        return None

    @syncify
    async def signal(self, payload: ConditionPayload) -> None:
        """Resolve the condition with `payload`; the waiting task resumes with it.

        Raises:
            TypeError: If `payload` is not a bool, int, float or str.
        """
        event = _payload(payload)
        req = run_service_pb2.SignalEventRequest(
            action_id=self.pb2.id, parent_action_name=self.parent, payload=event
        )
        try:
            await _client._clients().run_service.SignalEvent(req)
        except Exception as exc:
            raise translate(
                exc, f"signal condition {self.name!r} of run {self.run_name!r}"
            ) from exc


def _payload(value: Any) -> run_service_pb2.EventPayload:
    # bool first: it is an int too.
    if isinstance(value, bool):
        return run_service_pb2.EventPayload(bool_value=value)
    if isinstance(value, int):
        return run_service_pb2.EventPayload(int_value=value)
    if isinstance(value, float):
        return run_service_pb2.EventPayload(float_value=value)
    if isinstance(value, str):
        return run_service_pb2.EventPayload(string_value=value)
    raise TypeError(
        f"a condition is signalled with a bool, int, float or str, got {type(value).__name__}"
    )
