"""A tiny registry of the flyte-* libraries loaded in this process, to catch version skew.

Every library calls `register(<distribution>, __version__)` from its `__init__`. All flyte-*
libraries are released in lockstep, so two different versions in one process mean a broken
install; the first mismatch of each library is reported with a `UserWarning`. It costs one
string comparison per import (no `importlib.metadata` lookups).
"""

from __future__ import annotations

import warnings

__all__ = ["register", "registered"]

_VERSIONS: dict[str, str] = {}
_WARNED: set[str] = set()


def register(dist_name: str, version: str) -> None:
    """Record that `dist_name` at `version` is loaded; warn once if it disagrees with the others.

    Args:
        dist_name: The distribution name, e.g. `flyte-types`.
        version: Its version string.
    """
    _VERSIONS[dist_name] = version
    others = {name: v for name, v in _VERSIONS.items() if name != dist_name and v != version}
    if others and dist_name not in _WARNED:
        _WARNED.add(dist_name)
        listed = ", ".join(f"{name}=={v}" for name, v in sorted(others.items()))
        warnings.warn(
            f"{dist_name}=={version} is loaded together with {listed}; the flyte-* libraries must "
            "all have the same version (reinstall them from one release)",
            UserWarning,
            stacklevel=2,
        )


def registered() -> dict[str, str]:
    """Return the registered libraries and their versions."""
    return dict(_VERSIONS)
