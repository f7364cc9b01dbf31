"""Documentation and UI links attached to tasks."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Documentation", "Link", "extract_documentation"]


@dataclass(frozen=True)
class Documentation:
    """The documentation of a task, shown in the UI.

    Args:
        description: The description text (Markdown).
    """

    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.description, str):
            raise TypeError(f"Documentation.description must be a str, got {self.description!r}")


def extract_documentation(func: Callable[..., Any] | None) -> Documentation:
    """Build a `Documentation` from a function's docstring (empty when there is none).

    Args:
        func: The function, or `None`.

    Returns:
        The documentation.
    """
    doc = inspect.getdoc(func) if func is not None else None
    return Documentation(description=doc or "")


class Link(Protocol):
    """A link shown next to a task's action in the UI (e.g. to a dashboard or log viewer).

    Implementations have a `name`, an optional `icon_uri`, and build the URL from the action's
    coordinates; the URL may contain template variables the backend fills in.
    """

    name: str
    icon_uri: str | None = ""

    def get_link(
        self,
        run_name: str,
        project: str,
        domain: str,
        context: dict[str, str],
        parent_action_name: str,
        action_name: str,
        pod_name: str,
        **kwargs: Any,
    ) -> str:
        """Return the URL for one action.

        Args:
            run_name: The run name.
            project: The project.
            domain: The domain.
            context: The action's custom context.
            parent_action_name: The parent action's name.
            action_name: The action's name.
            pod_name: The pod's name.
            **kwargs: Further, backend-specific values.

        Returns:
            The URL.
        """
        ...
