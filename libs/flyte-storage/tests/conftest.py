"""Fixtures for the hermetic flyte-storage unit tests (local disk, fsspec memory, loopback HTTP)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import fsspec
import pytest
from fsspec.asyn import AsyncFileSystem
from fsspec.implementations.memory import MemoryFileSystem

import flyte_storage
from flyte_storage import _backends

_ENV_PREFIXES = ("FLYTE_", "AWS_", "AZURE_", "GOOGLE_", "GCSFS_", "STORAGE_EMULATOR_HOST")
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No storage, cloud-credential or proxy variables leak in; no configuration leaks out."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(_ENV_PREFIXES) or upper in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
    flyte_storage.configure(None)
    _backends.clear_cache()
    yield
    flyte_storage.configure(None)
    _backends.clear_cache()


class AsyncMemoryFileSystem(AsyncFileSystem):  # type: ignore[misc]
    """An async in-memory filesystem (over fsspec's memory store), standing in for a cloud backend.

    Ranged reads are recorded so tests can check that large downloads are split into parts.
    """

    protocol = ("amem",)
    root_marker = ""
    ranged_reads: list[tuple[int | None, int | None]] = []

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("skip_instance_cache", None)
        super().__init__(**kwargs)
        self.m = MemoryFileSystem()

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        text = str(path)
        if text.startswith("amem://"):
            text = text[len("amem://") :]
        return text.strip("/")

    def _mp(self, path: str) -> str:
        return "/" + self._strip_protocol(path)

    def _out(self, info: dict[str, Any]) -> dict[str, Any]:
        return {**info, "name": info["name"].lstrip("/")}

    async def _info(self, path: str, **kw: Any) -> Any:
        return self._out(self.m.info(self._mp(path)))

    async def _cat_file(self, path: str, start: Any = None, end: Any = None, **kw: Any) -> Any:
        AsyncMemoryFileSystem.ranged_reads.append((start, end))
        await asyncio.sleep(0)
        return self.m.cat_file(self._mp(path), start=start, end=end)

    async def _get_file(self, rpath: str, lpath: str, **kw: Any) -> None:
        self.m.get_file(self._mp(rpath), lpath)

    async def _put_file(self, lpath: str, rpath: str, **kw: Any) -> None:
        self.m.put_file(lpath, self._mp(rpath))

    async def _ls(self, path: str, detail: bool = True, **kw: Any) -> Any:
        out = [self._out(i) for i in self.m.ls(self._mp(path), detail=True)]
        return out if detail else [i["name"] for i in out]

    async def _find(
        self, path: str, withdirs: bool = False, detail: bool = False, **kw: Any
    ) -> Any:
        found = self.m.find(self._mp(path), withdirs=withdirs, detail=True)
        out = {k.lstrip("/"): self._out(v) for k, v in found.items()}
        return out if detail else sorted(out)

    async def _rm_file(self, path: str, **kw: Any) -> None:
        self.m.rm_file(self._mp(path))

    async def _rm(self, path: str, recursive: bool = False, **kw: Any) -> None:
        self.m.rm(self._mp(path), recursive=recursive)

    def _open(self, path: str, mode: str = "rb", **kw: Any) -> Any:
        kw.pop("block_size", None)
        return self.m._open(self._mp(path), mode, **kw)


fsspec.register_implementation("amem", AsyncMemoryFileSystem, clobber=True)


@pytest.fixture
def amem() -> Iterator[str]:
    """A fresh `amem://` root (async in-memory filesystem); cleared afterwards."""
    AsyncMemoryFileSystem.ranged_reads = []
    root = f"amem://t-{uuid.uuid4().hex}"
    yield root
    fs = AsyncMemoryFileSystem()
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def amem_cls() -> type[AsyncMemoryFileSystem]:
    """The class behind `amem://`, for tests that patch its methods."""
    return AsyncMemoryFileSystem


@pytest.fixture
def mem() -> Iterator[str]:
    """A fresh `memory://` root (fsspec's sync in-memory filesystem); cleared afterwards."""
    root = f"memory://t-{uuid.uuid4().hex}"
    yield root
    fs = MemoryFileSystem()
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def small_config() -> flyte_storage.StorageConfig:
    """A configuration with tiny parts, so multi-part code paths run on small data."""
    cfg = flyte_storage.StorageConfig(chunk_size=1024, max_concurrency=3, batch_size=2)
    flyte_storage.configure(cfg)
    return cfg
