"""The public surface: names, sorted `__all__`, sync twins, docstrings (STYLE C3/C4/C11)."""

from __future__ import annotations

import inspect

import pytest

import flyte_storage
from flyte_storage import errors

ASYNC_FUNCTIONS = [
    "download_signed",
    "exists",
    "get",
    "ls",
    "put",
    "put_stream",
    "rm",
    "size",
    "upload_signed",
]
ASYNC_GENERATORS = ["download_signed_stream", "get_stream", "walk"]


def test_all_is_sorted_and_complete() -> None:
    assert flyte_storage.__all__ == sorted(flyte_storage.__all__)
    for name in flyte_storage.__all__:
        assert hasattr(flyte_storage, name), name
    public = {n for n in vars(flyte_storage) if not n.startswith("_")} - {"errors"}
    assert public <= set(flyte_storage.__all__)


def test_errors_all_is_sorted() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.StorageError)


def test_agreed_names_exist() -> None:
    # The shape other libraries (flyte-types) code against.
    for name in [
        "get", "put", "exists", "size", "rm", "ls", "walk", "open", "get_stream", "put_stream",
        "join", "is_remote", "get_random_local_path", "get_random_local_directory",
        "upload_signed", "download_signed", "S3", "GCS", "ABFS", "StorageConfig", "configure",
    ]:  # fmt: skip
        assert name in flyte_storage.__all__, name


@pytest.mark.parametrize("name", ASYNC_FUNCTIONS)
def test_async_function_has_sync_twin(name: str) -> None:
    fn = getattr(flyte_storage, name)
    twin = getattr(flyte_storage, f"{name}_sync")
    assert inspect.iscoroutinefunction(fn)
    assert not inspect.iscoroutinefunction(twin)
    a, b = inspect.signature(fn), inspect.signature(twin)
    assert list(a.parameters) == list(b.parameters)


@pytest.mark.parametrize("name", ASYNC_GENERATORS)
def test_async_generator_has_sync_twin(name: str) -> None:
    assert inspect.isasyncgenfunction(getattr(flyte_storage, name))
    assert callable(getattr(flyte_storage, f"{name}_sync"))


def test_open_has_sync_twin() -> None:
    assert callable(flyte_storage.open) and callable(flyte_storage.open_sync)


@pytest.mark.parametrize("name", flyte_storage.__all__)
def test_public_names_have_docstrings(name: str) -> None:
    obj = getattr(flyte_storage, name)
    if name in ("__version__", "ProgressCallback"):
        return
    assert inspect.getdoc(obj), name


def test_version() -> None:
    assert isinstance(flyte_storage.__version__, str) and flyte_storage.__version__
