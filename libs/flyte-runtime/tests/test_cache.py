"""The local SQLite cache: hits across processes, concurrent writers, corruption tolerance."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from flyte_runtime._cache import LocalCache, cache_key, default_cache_path


def test_key_depends_on_every_part() -> None:
    base = cache_key("env.t", "in", "iface", "v1")
    assert base == cache_key("env.t", "in", "iface", "v1")
    others = {
        cache_key("env.u", "in", "iface", "v1"),
        cache_key("env.t", "in2", "iface", "v1"),
        cache_key("env.t", "in", "iface2", "v1"),
        cache_key("env.t", "in", "iface", "v2"),
        # no ambiguity from concatenation
        cache_key("env.ti", "n", "iface", "v1"),
    }
    assert base not in others and len(others) == 5


def test_put_get_replace_and_clear(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "c" / "outputs.db")
    assert cache.get("k") is None
    cache.put("k", "env.t", b"one")
    cache.put("k", "env.t", b"two")
    cache.put("j", "env.u", b"three")
    assert cache.get("k") == b"two" and len(cache) == 2
    assert cache.clear("env.t") == 1 and cache.get("k") is None and cache.get("j") == b"three"
    assert cache.clear() == 1 and len(cache) == 0


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLYTE_LOCAL_CACHE_DIR", str(tmp_path))
    assert default_cache_path() == tmp_path / "outputs.db"


def _writer(path: str, worker: int, n: int) -> None:
    cache = LocalCache(Path(path))
    for i in range(n):
        cache.put(f"{worker}-{i}", "env.t", f"{worker}:{i}".encode())
        assert cache.get(f"{worker}-{i}") == f"{worker}:{i}".encode()


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outputs.db"
    ctx = multiprocessing.get_context("fork")  # spawn cannot re-import a test module
    procs = [ctx.Process(target=_writer, args=(str(path), w, 200)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = LocalCache(path)
    assert len(cache) == 800
    assert cache.get("3-199") == b"3:199"


def test_corrupt_database_degrades_to_no_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outputs.db"
    path.write_bytes(b"this is not a sqlite database" * 100)
    cache = LocalCache(path)
    assert cache.get("k") is None
    cache.put("k", "env.t", b"v")  # must not raise
    assert cache.get("k") is None
    assert "unusable" in caplog.text


def test_unwritable_location_degrades(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = LocalCache(blocker / "sub" / "outputs.db")  # parent is a file: cannot mkdir
    cache.put("k", "env.t", b"v")
    assert cache.get("k") is None


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "outputs.db")
    cache.put("k", "t", b"v")
    mode = sqlite3.connect(tmp_path / "outputs.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_locked_database_is_skipped_not_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock held longer than the retry budget skips one call; the cache works once it is freed."""
    import flyte_runtime._cache as cache_mod

    monkeypatch.setattr(cache_mod, "_BUSY_RETRY_SECONDS", 0.2)
    path = tmp_path / "outputs.db"
    LocalCache(path).put("seed", "env.t", b"s")  # the file exists, in WAL mode
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    cache = LocalCache(path)
    cache.put("k", "env.t", b"v")  # cannot get the lock in time: skipped, no exception
    holder.execute("COMMIT")
    holder.close()
    cache.put("k", "env.t", b"v")
    assert cache.get("k") == b"v" and cache.get("seed") == b"s"


def test_lock_errors_are_told_apart_from_damage() -> None:
    from flyte_runtime._cache import _is_busy

    assert _is_busy(sqlite3.OperationalError("database is locked"))
    assert _is_busy(sqlite3.OperationalError("database table is locked"))
    assert not _is_busy(sqlite3.DatabaseError("file is not a database"))
    assert not _is_busy(sqlite3.OperationalError("no such table: outputs"))
