"""Reusable ("warm") containers: keep a pool of replicas alive and run many task calls in them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Union

__all__ = ["ReusePolicy"]

logger = logging.getLogger("flyte_models")

_MIN_TTL = timedelta(seconds=30)


def _ttl(name: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | timedelta):
        raise ValueError(
            f"ReusePolicy.{name} must be an int (seconds) or a timedelta, got {value!r}"
        )
    delta = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if delta < _MIN_TTL:
        raise ValueError(f"ReusePolicy.{name} must be at least 30 seconds, got {value!r}")
    return delta


@dataclass(frozen=True)
class ReusePolicy:
    """How the containers of a reusable environment are pooled.

    Total capacity is `max_replicas * concurrency` concurrent task calls. After construction,
    `replicas` is always a `(min, max)` pair and the TTLs are `timedelta`s.

    Args:
        replicas: A fixed count, or a `(min, max)` autoscaling range. At least 2 is advisable, so
            a parent task holding one replica cannot starve its children.
        idle_ttl: Shut the whole pool down after it was idle this long (seconds or timedelta,
            at least 30 s).
        concurrency: Task calls one replica runs at once (more than 1 only for async tasks).
        scaledown_ttl: Remove an individual idle replica after this long (at least 30 s).
        scope: `"global"` shares the pool across runs; `"run"` gives each run its own.
    """

    replicas: Union[int, tuple[int, int]] = 2
    idle_ttl: Union[int, timedelta] = 30
    concurrency: int = 1
    scaledown_ttl: Union[int, timedelta] = 30
    scope: Literal["global", "run"] = "global"

    def __post_init__(self) -> None:
        if self.scope not in ("global", "run"):
            raise ValueError(f"ReusePolicy.scope must be 'global' or 'run', got {self.scope!r}")
        replicas = self.replicas
        if isinstance(replicas, int) and not isinstance(replicas, bool):
            replicas = (replicas, replicas)
        if not isinstance(replicas, tuple) or len(replicas) != 2:
            raise ValueError(
                f"ReusePolicy.replicas must be an int or a (min, max) tuple of ints, got {self.replicas!r}"
            )
        for label, value in zip(("min", "max"), replicas, strict=False):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"ReusePolicy.replicas {label} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"ReusePolicy.replicas {label} must be >= 0, got {value!r}")
        if replicas[0] > replicas[1]:
            raise ValueError(f"ReusePolicy.replicas min must be <= max, got {self.replicas!r}")
        object.__setattr__(self, "replicas", replicas)
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int):
            raise ValueError(f"ReusePolicy.concurrency must be an int, got {self.concurrency!r}")
        if self.concurrency < 1:
            raise ValueError(
                f"ReusePolicy.concurrency must be at least 1, got {self.concurrency!r}"
            )
        object.__setattr__(self, "idle_ttl", _ttl("idle_ttl", self.idle_ttl))
        object.__setattr__(self, "scaledown_ttl", _ttl("scaledown_ttl", self.scaledown_ttl))
        if replicas[1] == 1 and self.concurrency == 1:
            logger.warning(
                "ReusePolicy with one replica and concurrency 1 can starve: a parent task holding "
                "the replica leaves none for its children. Use at least 2 replicas or a higher "
                "concurrency."
            )

    @property
    def min_replicas(self) -> int:
        """The minimum number of replicas."""
        return self.replicas[0] if isinstance(self.replicas, tuple) else self.replicas

    @property
    def max_replicas(self) -> int:
        """The maximum number of replicas."""
        return self.replicas[1] if isinstance(self.replicas, tuple) else self.replicas

    def get_scaledown_ttl(self) -> timedelta | None:
        """Return the per-replica scale-down delay as a `timedelta`."""
        ttl = self.scaledown_ttl
        return ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)

    def get_idle_ttl(self) -> timedelta:
        """Return the pool idle timeout as a `timedelta`."""
        ttl = self.idle_ttl
        return ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
