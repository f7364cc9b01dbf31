"""Output caching of a task.

A cached task reuses the outputs of an earlier call with the same task name, inputs and cache
version. The version is either given (`behavior="override"` with `version_override`) or computed by
cache policies (`behavior="auto"`; by default `FunctionBodyPolicy`, a digest of the function's
source, so editing the body invalidates the cache).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol, Union, runtime_checkable

__all__ = [
    "Cache",
    "CacheBehavior",
    "CachePolicy",
    "CacheRequest",
    "FunctionBodyPolicy",
    "VersionParameters",
    "cache_from_request",
    "get_default_policies",
]

CacheBehavior = Literal["auto", "override", "disable"]
"""`auto`: version from policies; `override`: version given; `disable`: no caching."""

_BEHAVIORS: tuple[str, ...] = ("auto", "override", "disable")

# Spellings people type for "on" and "off", mapped to a canonical behavior.
_BEHAVIOR_ALIASES: dict[str, str] = {
    "enable": "auto",
    "enabled": "auto",
    "on": "auto",
    "true": "auto",
    "yes": "auto",
    "off": "disable",
    "disabled": "disable",
    "false": "disable",
    "no": "disable",
    "none": "disable",
}


@dataclass(frozen=True)
class VersionParameters:
    """What a cache policy may look at to compute a version.

    Args:
        func: The task function, if any.
        image: The task image (an `Image` or a URI), if any.
        code_bundle: The code bundle the task ships in, if any.
    """

    func: Callable[..., Any] | None
    image: Any = None
    code_bundle: Any = None


@runtime_checkable
class CachePolicy(Protocol):
    """Computes a cache version; implement `get_version` for a custom strategy.

    Example:
        ```python
        class GitCommitPolicy:
            def get_version(self, salt: str, params: VersionParameters) -> str:
                return salt + subprocess.check_output(["git", "rev-parse", "HEAD"]).decode()
        ```
    """

    def get_version(self, salt: str, params: VersionParameters) -> str:
        """Return a version string for the task described by `params`.

        Args:
            salt: Caller-chosen salt to mix in.
            params: What is known about the task.

        Returns:
            The version.
        """
        ...


class FunctionBodyPolicy:
    """The default policy: a SHA-256 of the function's syntax tree (ignoring formatting) and the salt."""

    def get_version(self, salt: str, params: VersionParameters) -> str:
        """Return the digest of the function's source, or `""` when there is no function.

        Args:
            salt: Mixed into the digest.
            params: Must carry `func`.

        Returns:
            The hex digest.
        """
        if params.func is None:
            return ""
        source = textwrap.dedent(inspect.getsource(params.func))
        tree = ast.dump(ast.parse(source), include_attributes=False)
        return hashlib.sha256(tree.encode("utf-8") + salt.encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionBodyPolicy)

    def __hash__(self) -> int:
        return hash(FunctionBodyPolicy)

    def __repr__(self) -> str:
        return "FunctionBodyPolicy()"


def get_default_policies() -> list[CachePolicy]:
    """Return the policies `Cache(behavior="auto")` uses when none are given."""
    return [FunctionBodyPolicy()]


@dataclass(frozen=True)
class Cache:
    """The cache configuration of a task.

    After construction `behavior` is canonical (aliases such as `"enable"`, `"on"`, `"off"` are
    mapped), `ignored_inputs` is a tuple, `policies` is a tuple (defaulted for `auto`), and
    `max_age` is a `timedelta` or `None`.

    Args:
        behavior: `"auto"`, `"override"` or `"disable"`.
        version_override: The explicit cache version (used when set).
        serialize: Run concurrent identical calls one at a time, sharing the first result.
        ignored_inputs: Input names left out of the cache key.
        salt: Mixed into computed versions; change it to start a fresh cache.
        policies: Policies computing the version (default: `FunctionBodyPolicy`).
        max_age: Oldest cached result to reuse (timedelta or int seconds; 0 = no expiry).
    """

    behavior: CacheBehavior
    version_override: str | None = None
    serialize: bool = False
    ignored_inputs: Union[tuple[str, ...], str] = field(default_factory=tuple)
    salt: str = ""
    policies: Union[list[CachePolicy], tuple[CachePolicy, ...], CachePolicy, None] = None
    max_age: timedelta | int | None = None

    def __post_init__(self) -> None:
        behavior: Any = self.behavior
        if isinstance(behavior, str) and behavior not in _BEHAVIORS:
            behavior = _BEHAVIOR_ALIASES.get(behavior.strip().lower(), behavior)
        if behavior not in _BEHAVIORS:
            raise ValueError(
                f"Cache.behavior must be one of {list(_BEHAVIORS)} "
                f"(aliases: {sorted(_BEHAVIOR_ALIASES)}), got {self.behavior!r}"
            )
        object.__setattr__(self, "behavior", behavior)
        if self.version_override is not None and not isinstance(self.version_override, str):
            raise TypeError(
                f"Cache.version_override must be a str or None, got {self.version_override!r}"
            )
        if not isinstance(self.salt, str):
            raise TypeError(f"Cache.salt must be a str, got {self.salt!r}")
        ignored = self.ignored_inputs
        if isinstance(ignored, str):
            ignored = (ignored,)
        elif isinstance(ignored, list | tuple):
            ignored = tuple(ignored)
        else:
            raise TypeError(
                f"Cache.ignored_inputs must be a str or a tuple of str, got {ignored!r}"
            )
        object.__setattr__(self, "ignored_inputs", ignored)
        max_age = self.max_age
        if max_age is not None:
            if isinstance(max_age, bool) or not isinstance(max_age, int | timedelta):
                raise TypeError(
                    f"Cache.max_age must be an int (seconds), a timedelta or None, got {max_age!r}"
                )
            if isinstance(max_age, int):
                max_age = timedelta(seconds=max_age)
            if max_age < timedelta(0):
                raise ValueError(f"Cache.max_age must be >= 0, got {self.max_age!r}")
            object.__setattr__(self, "max_age", max_age)
        requested_policies = policies = self.policies
        if policies is None:
            policies = tuple(get_default_policies()) if behavior != "disable" else ()
        elif isinstance(policies, list | tuple):
            policies = tuple(policies)
        else:
            policies = (policies,)
        for policy in policies:
            if not callable(getattr(policy, "get_version", None)):
                raise TypeError(f"Cache.policies entries must have get_version(), got {policy!r}")
        object.__setattr__(self, "policies", policies)
        if behavior != "disable" and self.version_override is None and not policies:
            raise ValueError(
                "Cache.policies must not be empty when version_override is not set, "
                f"got policies={requested_policies!r}"
            )

    def is_enabled(self) -> bool:
        """Whether caching is on (`auto` or `override`)."""
        return self.behavior in ("auto", "override")

    def get_ignored_inputs(self) -> tuple[str, ...]:
        """Return the input names left out of the cache key."""
        return tuple(self.ignored_inputs)

    def get_version(self, params: VersionParameters | None = None) -> str:
        """Return the cache version.

        Args:
            params: What the policies may look at; required unless `version_override` is set.

        Returns:
            `""` when disabled; `version_override` when set; the code bundle version for a
            pickled bundle; otherwise a SHA-256 over the policies' versions.

        Raises:
            ValueError: If `params` is needed but missing, or a policy fails.
        """
        if not self.is_enabled():
            return ""
        if self.version_override is not None:
            return self.version_override
        if params is None:
            raise ValueError(
                "params must be given to compute a cache version when version_override is not set"
            )
        bundle = params.code_bundle
        if bundle is not None and getattr(bundle, "pkl", None) is not None:
            return str(bundle.computed_version)
        combined = ""
        for policy in self.policies or ():  # type: ignore[union-attr]
            try:
                combined += policy.get_version(self.salt, params)
            except Exception as e:
                raise ValueError(f"cache policy {policy!r} failed to compute a version: {e}") from e
        return hashlib.sha256(combined.encode("utf-8")).hexdigest()


CacheRequest = Union[CacheBehavior, Cache]
"""What `cache=` accepts: a behavior string (or alias) or a `Cache`."""


def cache_from_request(cache: CacheRequest | str | None) -> Cache:
    """Normalise a `cache=` argument into a `Cache`.

    Args:
        cache: A `Cache`, a behavior string or alias, or `None` (disabled).

    Returns:
        The cache configuration.

    Raises:
        TypeError: For a value that is neither a `Cache` nor a str.
        ValueError: For an unknown behavior string.
    """
    if cache is None:
        return Cache(behavior="disable")
    if isinstance(cache, Cache):
        return cache
    if isinstance(cache, str):
        return Cache(behavior=cache)  # type: ignore[arg-type]
    raise TypeError(f"cache must be a Cache or one of {list(_BEHAVIORS)}, got {cache!r}")
