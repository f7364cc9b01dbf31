"""Triggers: named launch configurations of a task, optionally fired by a schedule or an artifact.

A `Trigger` binds default inputs, environment variables, queue and the like to a task and may carry
an *automation*: a `Cron` schedule, a `FixedRate` interval, or `OnArtifact` (a new version of an
artifact). Bind the scheduled time to an input with the `TriggerTime` sentinel, the triggering
artifact with `TriggeredArtifact`, and one of its partitions with `TriggeredPartition(key)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

__all__ = [
    "Cron",
    "FixedRate",
    "OnArtifact",
    "Timezone",
    "Trigger",
    "TriggerTime",
    "TriggeredArtifact",
    "TriggeredPartition",
]

Timezone = str
"""An IANA time zone name such as `"UTC"`, `"US/Eastern"` or `"Europe/London"`."""

_CRON_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)


class _TriggerTime:
    """Sentinel: bind the scheduled time of a `Cron`/`FixedRate` trigger to a task input."""

    def __repr__(self) -> str:
        return "TriggerTime"

    def __reduce__(self) -> str:
        return "TriggerTime"


class _TriggeredArtifact:
    """Sentinel: bind the triggering artifact of an `OnArtifact` trigger to a task input."""

    def __repr__(self) -> str:
        return "TriggeredArtifact"

    def __reduce__(self) -> str:
        return "TriggeredArtifact"


TriggerTime = _TriggerTime()
"""Use as a trigger input value to receive the scheduled time (`datetime`) of the firing."""

TriggeredArtifact = _TriggeredArtifact()
"""Use as a trigger input value to receive the artifact that fired an `OnArtifact` trigger."""


@dataclass(frozen=True)
class TriggeredPartition:
    """Bind one partition value of the triggering artifact version to a task input.

    Args:
        key: The partition key, e.g. `"date"`.
    """

    key: str

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"TriggeredPartition.key must be a non-empty str, got {self.key!r}")


def _validate_cron(expression: str) -> None:
    text = expression.strip()
    if text.lower() in _CRON_ALIASES:
        return
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            "Cron.expression must have five fields (minute hour day-of-month month day-of-week) "
            f"or be one of {sorted(_CRON_ALIASES)}, got {expression!r}"
        )
    try:
        # Deferred (`import flyte_models` stays stdlib-only) and optional: the CLI, the devbox and
        # `pip install flyte` bring croniter (extra `flyte-models[cron]`); a worker image, where
        # the task module was already validated when it was deployed, does not.
        from croniter import croniter  # pants: no-infer-dep
    except ImportError:
        return
    if not croniter.is_valid(text):
        raise ValueError(f"Cron.expression is not a valid cron expression, got {expression!r}")


def _validate_timezone(tz: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        if isinstance(e, zoneinfo.ZoneInfoNotFoundError) and not zoneinfo.available_timezones():
            return  # no time-zone database here (a slim image): nothing to check against
        raise ValueError(f"Cron.timezone must be an IANA time zone name, got {tz!r}") from e


@dataclass(frozen=True)
class Cron:
    """A cron schedule (five fields: minute, hour, day of month, month, day of week).

    The expression is validated with `croniter`; the time zone with the IANA database.

    Args:
        expression: The schedule, e.g. `"0 * * * *"` (hourly) or `"*/5 * * * *"`.
        timezone: The time zone the schedule is read in.

    Example:
        ```python
        Trigger(name="nightly", automation=Cron("0 2 * * *", timezone="Europe/London"))
        ```
    """

    expression: str
    timezone: Timezone = "UTC"

    def __post_init__(self) -> None:
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise ValueError(f"Cron.expression must be a non-empty str, got {self.expression!r}")
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError(f"Cron.timezone must be a non-empty str, got {self.timezone!r}")
        _validate_cron(self.expression)
        _validate_timezone(self.timezone)

    @property
    def timezone_expression(self) -> str:
        """The schedule with its zone, as `CRON_TZ=<zone> <expression>`."""
        return f"CRON_TZ={self.timezone} {self.expression}"

    def __str__(self) -> str:
        return f"Cron Trigger: {self.timezone_expression}"


@dataclass(frozen=True)
class FixedRate:
    """A fixed-interval schedule.

    Args:
        interval_minutes: Minutes between firings (at least 1).
        start_time: When the first firing happens; one interval after activation when `None`.
    """

    interval_minutes: int
    start_time: datetime | None = None

    def __post_init__(self) -> None:
        if isinstance(self.interval_minutes, bool) or not isinstance(self.interval_minutes, int):
            raise TypeError(
                f"FixedRate.interval_minutes must be an int, got {self.interval_minutes!r}"
            )
        if self.interval_minutes < 1:
            raise ValueError(
                f"FixedRate.interval_minutes must be at least 1, got {self.interval_minutes!r}"
            )
        if self.start_time is not None and not isinstance(self.start_time, datetime):
            raise TypeError(
                f"FixedRate.start_time must be a datetime or None, got {self.start_time!r}"
            )

    def __str__(self) -> str:
        return f"FixedRate Trigger: every {self.interval_minutes} minutes"


@dataclass(frozen=True, init=False)
class OnArtifact:
    """Fire whenever a new version of an artifact is created.

    Args:
        name: The artifact name (in the task's project and domain).
        version: Fire only for exactly this version.
        partitions: Fire only for versions with these string partition values; may also be
            given as keyword arguments (`OnArtifact("events", region="us")`).
        **partition_kwargs: More partition values.
    """

    name: str
    version: str | None
    partitions: Mapping[str, str] | None

    def __init__(
        self,
        name: str,
        version: str | None = None,
        partitions: Mapping[str, str] | None = None,
        **partition_kwargs: str,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"OnArtifact.name must be a non-empty str, got {name!r}")
        if version is not None and not isinstance(version, str):
            raise TypeError(f"OnArtifact.version must be a str or None, got {version!r}")
        merged: dict[str, str] = {**(partitions or {}), **partition_kwargs}
        for key, value in merged.items():
            if not isinstance(value, str):
                raise TypeError(f"OnArtifact partition {key!r} must be a str value, got {value!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "partitions", merged or None)

    def __hash__(self) -> int:
        return hash((self.name, self.version, tuple(sorted((self.partitions or {}).items()))))

    def __str__(self) -> str:
        version = f"@{self.version}" if self.version else ""
        parts = ""
        if self.partitions:
            parts = " [" + ", ".join(f"{k}={v}" for k, v in self.partitions.items()) + "]"
        return f"Artifact Trigger: on new version of {self.name}{version}{parts}"


def _truncate(text: str, limit: int = 255) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 8] + "...(tr.)"


Automation = Union[Cron, FixedRate, OnArtifact]


@dataclass(frozen=True)
class Trigger:
    """A named launch configuration of a task, optionally fired automatically.

    Attach triggers with `@env.task(triggers=...)`; the same trigger may serve several tasks.

    Args:
        name: The trigger name (required).
        automation: `Cron`, `FixedRate` or `OnArtifact`; `None` fires only on demand.
        description: Free text; longer than 255 characters is truncated.
        auto_activate: Activate the trigger when it is deployed.
        inputs: Default inputs of the triggered runs (may use the `TriggerTime`,
            `TriggeredArtifact` and `TriggeredPartition` sentinels).
        env_vars: Environment variables of the triggered runs.
        interruptible: Run on interruptible nodes; `None` keeps the task's setting.
        overwrite_cache: Recompute instead of reading cached results.
        queue: The queue of the triggered runs.
        max_action_concurrency: Concurrent actions per run: 0 (platform default) or at least 2.
        labels: Labels of the triggered runs.
        annotations: Annotations of the triggered runs.
        notifications: Notification rules of the triggered runs (flyte.notify objects).
        custom_context: Context propagated to every action of the triggered runs.

    Example:
        ```python
        Trigger.hourly("start")  # fires every hour, passing the scheduled time as input "start"
        ```
    """

    name: str
    automation: Automation | None = None
    description: str = ""
    auto_activate: bool = True
    inputs: dict[str, Any] | None = None
    env_vars: dict[str, str] | None = None
    interruptible: bool | None = None
    overwrite_cache: bool = False
    queue: str | None = None
    max_action_concurrency: int | None = None
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    notifications: Any = None
    custom_context: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Trigger.name must be a non-empty str, got {self.name!r}")
        if self.automation is not None and not isinstance(
            self.automation, Cron | FixedRate | OnArtifact
        ):
            raise TypeError(
                f"Trigger.automation must be a Cron, FixedRate, OnArtifact or None, got {self.automation!r}"
            )
        if self.inputs:
            artifact_args = sorted(k for k, v in self.inputs.items() if v is TriggeredArtifact)
            if len(artifact_args) > 1:
                raise ValueError(
                    f"Trigger.inputs binds TriggeredArtifact to several inputs {artifact_args} of "
                    f"trigger {self.name!r}; at most one may receive it"
                )
            partition_args = [
                k for k, v in self.inputs.items() if isinstance(v, TriggeredPartition)
            ]
            if (artifact_args or partition_args) and not isinstance(self.automation, OnArtifact):
                raise ValueError(
                    f"Trigger.inputs of trigger {self.name!r} binds "
                    f"{(artifact_args or partition_args)[0]!r} to the triggering artifact, but its "
                    f"automation is {self.automation!r}, not OnArtifact"
                )
            time_args = [k for k, v in self.inputs.items() if v is TriggerTime]
            if time_args and not isinstance(self.automation, Cron | FixedRate):
                raise ValueError(
                    f"Trigger.inputs of trigger {self.name!r} binds TriggerTime to {time_args[0]!r}, "
                    f"which needs a Cron or FixedRate automation, got {self.automation!r}"
                )
        mac = self.max_action_concurrency
        if mac is not None and (
            isinstance(mac, bool) or not isinstance(mac, int) or mac < 0 or mac == 1
        ):
            raise ValueError(
                "Trigger.max_action_concurrency must be 0 (platform default) or at least 2 "
                f"(1 would deadlock a parent waiting on its children), got {mac!r}"
            )
        if not isinstance(self.description, str):
            raise TypeError(f"Trigger.description must be a str, got {self.description!r}")
        if len(self.description) > 255:
            object.__setattr__(self, "description", _truncate(self.description))

    def __hash__(self) -> int:
        return hash((type(self), self.name, self.automation))

    @classmethod
    def _scheduled(
        cls,
        expression: str,
        trigger_time_input_key: str | None,
        inputs: dict[str, Any] | None,
        **kwargs: Any,
    ) -> Trigger:
        final_inputs: dict[str, Any] = {}
        if trigger_time_input_key is not None:
            final_inputs[trigger_time_input_key] = TriggerTime
        if inputs:
            final_inputs.update(inputs)
        return cls(automation=Cron(expression), inputs=final_inputs, **kwargs)

    @classmethod
    def minutely(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "minutely",
        description: str = "A trigger that runs every minute",
        auto_activate: bool = True,
        inputs: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        queue: str | None = None,
        max_action_concurrency: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Trigger:
        """Return a trigger firing every minute (`* * * * *`).

        Args:
            trigger_time_input_key: Input that receives the scheduled time, if any.
            name: The trigger name.
            description: The description.
            auto_activate: Activate on deploy.
            inputs: Default inputs.
            env_vars: Environment variables.
            interruptible: Interruptible override.
            overwrite_cache: Recompute cached results.
            queue: The queue.
            max_action_concurrency: Concurrent actions per run.
            labels: Run labels.
            annotations: Run annotations.
            custom_context: Propagated context.

        Returns:
            The trigger.
        """
        return cls._scheduled(
            "* * * * *",
            trigger_time_input_key,
            inputs,
            name=name,
            description=description,
            auto_activate=auto_activate,
            env_vars=env_vars,
            interruptible=interruptible,
            overwrite_cache=overwrite_cache,
            queue=queue,
            max_action_concurrency=max_action_concurrency,
            labels=labels,
            annotations=annotations,
            custom_context=custom_context,
        )

    @classmethod
    def hourly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "hourly",
        description: str = "A trigger that runs every hour",
        auto_activate: bool = True,
        inputs: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        queue: str | None = None,
        max_action_concurrency: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Trigger:
        """Return a trigger firing every hour on the hour (`0 * * * *`).

        Args:
            trigger_time_input_key: Input that receives the scheduled time, if any.
            name: The trigger name.
            description: The description.
            auto_activate: Activate on deploy.
            inputs: Default inputs.
            env_vars: Environment variables.
            interruptible: Interruptible override.
            overwrite_cache: Recompute cached results.
            queue: The queue.
            max_action_concurrency: Concurrent actions per run.
            labels: Run labels.
            annotations: Run annotations.
            custom_context: Propagated context.

        Returns:
            The trigger.
        """
        return cls._scheduled(
            "0 * * * *",
            trigger_time_input_key,
            inputs,
            name=name,
            description=description,
            auto_activate=auto_activate,
            env_vars=env_vars,
            interruptible=interruptible,
            overwrite_cache=overwrite_cache,
            queue=queue,
            max_action_concurrency=max_action_concurrency,
            labels=labels,
            annotations=annotations,
            custom_context=custom_context,
        )

    @classmethod
    def daily(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "daily",
        description: str = "A trigger that runs daily at midnight",
        auto_activate: bool = True,
        inputs: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        queue: str | None = None,
        max_action_concurrency: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Trigger:
        """Return a trigger firing daily at midnight UTC (`0 0 * * *`).

        Args:
            trigger_time_input_key: Input that receives the scheduled time, if any.
            name: The trigger name.
            description: The description.
            auto_activate: Activate on deploy.
            inputs: Default inputs.
            env_vars: Environment variables.
            interruptible: Interruptible override.
            overwrite_cache: Recompute cached results.
            queue: The queue.
            max_action_concurrency: Concurrent actions per run.
            labels: Run labels.
            annotations: Run annotations.
            custom_context: Propagated context.

        Returns:
            The trigger.
        """
        return cls._scheduled(
            "0 0 * * *",
            trigger_time_input_key,
            inputs,
            name=name,
            description=description,
            auto_activate=auto_activate,
            env_vars=env_vars,
            interruptible=interruptible,
            overwrite_cache=overwrite_cache,
            queue=queue,
            max_action_concurrency=max_action_concurrency,
            labels=labels,
            annotations=annotations,
            custom_context=custom_context,
        )

    @classmethod
    def weekly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "weekly",
        description: str = "A trigger that runs weekly on Sundays at midnight",
        auto_activate: bool = True,
        inputs: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        queue: str | None = None,
        max_action_concurrency: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Trigger:
        """Return a trigger firing on Sundays at midnight UTC (`0 0 * * 0`).

        Args:
            trigger_time_input_key: Input that receives the scheduled time, if any.
            name: The trigger name.
            description: The description.
            auto_activate: Activate on deploy.
            inputs: Default inputs.
            env_vars: Environment variables.
            interruptible: Interruptible override.
            overwrite_cache: Recompute cached results.
            queue: The queue.
            max_action_concurrency: Concurrent actions per run.
            labels: Run labels.
            annotations: Run annotations.
            custom_context: Propagated context.

        Returns:
            The trigger.
        """
        return cls._scheduled(
            "0 0 * * 0",
            trigger_time_input_key,
            inputs,
            name=name,
            description=description,
            auto_activate=auto_activate,
            env_vars=env_vars,
            interruptible=interruptible,
            overwrite_cache=overwrite_cache,
            queue=queue,
            max_action_concurrency=max_action_concurrency,
            labels=labels,
            annotations=annotations,
            custom_context=custom_context,
        )

    @classmethod
    def monthly(
        cls,
        trigger_time_input_key: str | None = None,
        *,
        name: str = "monthly",
        description: str = "A trigger that runs monthly on the 1st at midnight",
        auto_activate: bool = True,
        inputs: dict[str, Any] | None = None,
        env_vars: dict[str, str] | None = None,
        interruptible: bool | None = None,
        overwrite_cache: bool = False,
        queue: str | None = None,
        max_action_concurrency: int | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Trigger:
        """Return a trigger firing on the 1st of each month at midnight UTC (`0 0 1 * *`).

        Args:
            trigger_time_input_key: Input that receives the scheduled time, if any.
            name: The trigger name.
            description: The description.
            auto_activate: Activate on deploy.
            inputs: Default inputs.
            env_vars: Environment variables.
            interruptible: Interruptible override.
            overwrite_cache: Recompute cached results.
            queue: The queue.
            max_action_concurrency: Concurrent actions per run.
            labels: Run labels.
            annotations: Run annotations.
            custom_context: Propagated context.

        Returns:
            The trigger.
        """
        return cls._scheduled(
            "0 0 1 * *",
            trigger_time_input_key,
            inputs,
            name=name,
            description=description,
            auto_activate=auto_activate,
            env_vars=env_vars,
            interruptible=interruptible,
            overwrite_cache=overwrite_cache,
            queue=queue,
            max_action_concurrency=max_action_concurrency,
            labels=labels,
            annotations=annotations,
            custom_context=custom_context,
        )
