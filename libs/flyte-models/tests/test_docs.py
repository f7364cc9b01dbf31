"""Documentation and the Link protocol."""

from __future__ import annotations

from typing import Any

import pytest

from flyte_models import Documentation, Link


def test_documentation() -> None:
    assert Documentation("hello").description == "hello"
    with pytest.raises(TypeError, match="Documentation.description must be a str, got 3"):
        Documentation(3)  # type: ignore[arg-type]


class Dashboard(Link):
    name = "dashboard"

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
        return f"https://dash/{project}/{domain}/{run_name}/{action_name}"


def test_link_protocol_can_be_subclassed_with_a_default_icon() -> None:
    link = Dashboard()
    assert link.icon_uri == ""
    assert link.get_link("r", "p", "d", {}, "a0", "a1", "pod") == "https://dash/p/d/r/a1"
