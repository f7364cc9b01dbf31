"""Pure path helpers."""

from __future__ import annotations

import os
import pathlib

import pytest

import flyte_storage
from flyte_storage._paths import protocol_of, strip_local
from flyte_storage.errors import InvalidURI


@pytest.mark.parametrize(
    "path,remote",
    [
        ("s3://b/k", True),
        ("gs://b/k", True),
        ("abfs://c/k", True),
        ("abfss://c@acct.dfs.core.windows.net/k", True),
        ("memory://x", True),
        ("/tmp/x", False),
        ("relative/x", False),
        ("file:///tmp/x", False),
        ("FILE:///tmp/x", False),
        (pathlib.Path("/tmp/x"), False),
    ],
)
def test_is_remote(path: str, remote: bool) -> None:
    assert flyte_storage.is_remote(path) is remote


@pytest.mark.parametrize(
    "path,proto",
    [("s3://b", "s3"), ("GS://b", "gs"), ("gcs://b", "gs"), ("az://c", "abfs"), ("/x", "file")],
)
def test_protocol_of(path: str, proto: str) -> None:
    assert protocol_of(path) == proto


@pytest.mark.parametrize(
    "parts,expected",
    [
        (("s3://bucket", "a", "b.txt"), "s3://bucket/a/b.txt"),
        (("s3://bucket/", "/a/", "/b.txt"), "s3://bucket/a/b.txt"),
        (("gs://bucket/x", "", "y"), "gs://bucket/x/y"),
        (("abfs://c",), "abfs://c"),
        (("/tmp", "a", "b"), os.path.join("/tmp", "a", "b")),
        (("rel", "x"), os.path.join("rel", "x")),
    ],
)
def test_join(parts: tuple[str, ...], expected: str) -> None:
    assert flyte_storage.join(*parts) == expected


def test_join_rejects_nested_schemes_and_nothing() -> None:
    with pytest.raises(InvalidURI):
        flyte_storage.join("s3://a", "gs://b")
    with pytest.raises(InvalidURI):
        flyte_storage.join()


def test_strip_local() -> None:
    assert strip_local("file:///tmp/x") == "/tmp/x"
    assert strip_local("/tmp/x") == "/tmp/x"
    with pytest.raises(InvalidURI):
        strip_local("s3://b/k")


def test_random_local_path_keeps_name_and_is_unique() -> None:
    a = flyte_storage.get_random_local_path("data.csv")
    b = flyte_storage.get_random_local_path("dir/data.csv")
    assert os.path.basename(a) == "data.csv" == os.path.basename(b)
    assert a != b
    assert not os.path.exists(a) and os.path.isdir(os.path.dirname(a))
    c = flyte_storage.get_random_local_path()
    assert c not in (a, b) and os.path.isabs(c)


def test_random_local_directory_exists_and_is_empty() -> None:
    d = flyte_storage.get_random_local_directory()
    assert os.path.isdir(d) and os.listdir(d) == []
    assert d != flyte_storage.get_random_local_directory()
