"""The local task cache: outputs of cached tasks, persisted in SQLite and shared across processes.

A cached task's outputs are stored under a key computed by the local controller from the task's
name, the hash of its (serialized) inputs, the hash of its interface and its cache version (see
`cache_key`). A second process running the same task with the same inputs reads the outputs back
instead of running the task again.

The store is one SQLite file (default `~/.flyte/local-cache/outputs.db`, or the directory in
`FLYTE_LOCAL_CACHE_DIR`). It runs in WAL mode with a busy timeout, so concurrent readers never block
and concurrent writers from several processes wait for each other instead of failing. Writes are
`INSERT OR REPLACE` of whole rows, so a reader sees either the old or the new outputs, never a mix.
A database that cannot be opened or is corrupt degrades to "no cache" with one warning: caching is
an optimisation and must never fail a run. A *busy* database is not broken: SQLite returns "database
is locked" without calling the busy handler in a few cases (two processes switching a new file to
WAL at once, WAL recovery), so set-up and each operation retry those with a short backoff, and an
operation that still cannot get the lock is skipped for this call only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["LocalCache", "cache_key", "default_cache_path"]

logger = logging.getLogger("flyte_runtime")
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    key        TEXT PRIMARY KEY,
    task_name  TEXT NOT NULL,
    value      BLOB NOT NULL,
    created_at REAL NOT NULL
)
"""


_BUSY_RETRY_SECONDS = 30.0


def _is_busy(exc: BaseException) -> bool:
    """True for SQLite's transient lock errors (retry), False for real damage (give up)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _retry_busy(op: Callable[[], _T]) -> _T:
    """Run `op`, retrying SQLite lock errors with capped exponential backoff for a bounded time."""
    deadline = time.monotonic() + _BUSY_RETRY_SECONDS
    delay = 0.005
    while True:
        try:
            return op()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def default_cache_path() -> Path:
    """Where the local cache lives: `$FLYTE_LOCAL_CACHE_DIR/outputs.db` or `~/.flyte/local-cache/`."""
    root = os.environ.get("FLYTE_LOCAL_CACHE_DIR") or str(Path.home() / ".flyte" / "local-cache")
    return Path(root) / "outputs.db"


def cache_key(task_name: str, inputs_hash: str, interface_hash: str, version: str) -> str:
    """Combine what identifies a cached result into one key.

    Args:
        task_name: The task's full name (`<env>.<function>`).
        inputs_hash: A hash of the task's serialized inputs (ignored inputs removed).
        interface_hash: A hash of the task's typed interface (a changed signature misses).
        version: The cache version (explicit `version_override`, or the policy's version).

    Returns:
        A hex digest that is the same for the same four parts on any machine.
    """
    h = hashlib.sha256()
    for part in (task_name, inputs_hash, interface_hash, version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class LocalCache:
    """A process-safe, thread-safe key/value store of serialized task outputs.

    Args:
        path: The SQLite file; created with its parent directory on first use.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self._local = threading.local()
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=_BUSY_RETRY_SECONDS, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)
            return None

        def set_up() -> None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)

        try:
            _retry_busy(set_up)
        except sqlite3.Error as exc:
            conn.close()
            if _is_busy(exc):  # held far longer than any write takes: skip, try again next call
                logger.debug("Local cache at %s is busy; skipping it for this call", self.path)
            else:
                self._disable(exc)
            return None
        self._local.conn = conn
        return conn

    def _failed(self, exc: sqlite3.Error) -> None:
        if _is_busy(exc):
            logger.debug(
                "Local cache at %s is busy (%s); skipping it for this call", self.path, exc
            )
        else:
            self._disable(exc)

    def _disable(self, exc: BaseException) -> None:
        if not self._broken:
            logger.warning(
                "Local cache at %s is unusable (%s); running without it. Delete the file to reset.",
                self.path,
                exc,
            )
        self._broken = True

    def get(self, key: str) -> bytes | None:
        """Return the stored outputs for `key`, or None on a miss."""
        conn = self._conn()
        if conn is None:
            return None
        try:
            row = _retry_busy(
                lambda: conn.execute("SELECT value FROM outputs WHERE key = ?", (key,)).fetchone()
            )
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            return None
        return bytes(row[0]) if row else None

    def put(self, key: str, task_name: str, value: bytes) -> None:
        """Store `value` under `key`, replacing any previous value atomically."""
        conn = self._conn()
        if conn is None:
            return
        row = (key, task_name, value, time.time())
        try:
            _retry_busy(
                lambda: conn.execute(
                    "INSERT OR REPLACE INTO outputs (key, task_name, value, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    row,
                )
            )
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def clear(self, task_name: str | None = None) -> int:
        """Delete every entry (or those of one task); return how many were removed."""
        conn = self._conn()
        if conn is None:
            return 0
        if task_name is None:
            cur = conn.execute("DELETE FROM outputs")
        else:
            cur = conn.execute("DELETE FROM outputs WHERE task_name = ?", (task_name,))
        return cur.rowcount

    def __len__(self) -> int:
        conn = self._conn()
        if conn is None:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM outputs").fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection (other threads close theirs when they exit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
