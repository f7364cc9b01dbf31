"""The library version registry (STYLE C17)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

import flyte_models
from flyte_models import _registry


@pytest.fixture
def isolated_registry() -> Iterator[None]:
    saved, warned = dict(_registry._VERSIONS), set(_registry._WARNED)
    yield
    _registry._VERSIONS.clear()
    _registry._VERSIONS.update(saved)
    _registry._WARNED.clear()
    _registry._WARNED.update(warned)


def test_flyte_models_registers_itself() -> None:
    assert _registry.registered()["flyte-models"] == flyte_models.__version__


def test_matching_versions_do_not_warn(isolated_registry: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _registry.register("flyte-types", flyte_models.__version__)


def test_mismatch_warns_once_per_library(isolated_registry: None) -> None:
    with pytest.warns(
        UserWarning, match="flyte-storage==9.9.9 is loaded together with flyte-models=="
    ):
        _registry.register("flyte-storage", "9.9.9")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _registry.register("flyte-storage", "9.9.9")
    assert _registry.registered()["flyte-storage"] == "9.9.9"
