"""SQLite persistence: runs, actions, attempts, phase transitions, tasks, triggers, projects,
secrets and the task cache.

One connection, used only from the devbox's event-loop thread. Statements are small and indexed,
so they run inline (a thread hop would cost more than the query). WAL journaling with
`synchronous=NORMAL` keeps every committed change across a crash of the devbox process while
avoiding an fsync per commit.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flyte_devbox._records import (
    TERMINAL_PHASES,
    ActionKey,
    ActionRecord,
    AttemptRecord,
    CacheEntry,
    CacheScope,
    CacheSource,
    ProjectRecord,
    RunKey,
    RunRecord,
    SecretRecord,
    TaskKey,
    TaskRecord,
    TransitionRecord,
    TriggerKey,
    TriggerRecord,
)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, org TEXT NOT NULL, display_name TEXT NOT NULL,
    description TEXT NOT NULL, labels TEXT NOT NULL, state INTEGER NOT NULL,
    domains TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    project TEXT NOT NULL, domain TEXT NOT NULL, name TEXT NOT NULL, org TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, run_spec BLOB NOT NULL,
    labels TEXT NOT NULL, source INTEGER NOT NULL, task_name TEXT NOT NULL,
    task_version TEXT NOT NULL, run_output_base TEXT NOT NULL, run_start_time REAL NOT NULL,
    phase INTEGER NOT NULL, trigger_task TEXT, trigger_name TEXT,
    trigger_revision INTEGER NOT NULL DEFAULT 0, trigger_type BLOB NOT NULL DEFAULT x'',
    PRIMARY KEY (project, domain, name));
CREATE INDEX IF NOT EXISTS runs_created ON runs (project, domain, created_at);
CREATE TABLE IF NOT EXISTS actions (
    project TEXT NOT NULL, domain TEXT NOT NULL, run_name TEXT NOT NULL, name TEXT NOT NULL,
    org TEXT NOT NULL, parent TEXT, group_name TEXT NOT NULL, kind INTEGER NOT NULL,
    spec BLOB NOT NULL, task_org TEXT NOT NULL, task_project TEXT NOT NULL,
    task_domain TEXT NOT NULL, task_name TEXT NOT NULL, task_version TEXT NOT NULL,
    short_name TEXT NOT NULL, env_name TEXT NOT NULL, task_type TEXT NOT NULL,
    cache_key TEXT NOT NULL, input_uri TEXT NOT NULL, run_output_base TEXT NOT NULL,
    phase INTEGER NOT NULL, attempts INTEGER NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, start_time REAL, end_time REAL, error BLOB NOT NULL,
    abort_info BLOB NOT NULL, output_uri TEXT NOT NULL, value BLOB NOT NULL,
    system_failures INTEGER NOT NULL, user_failures INTEGER NOT NULL,
    holds_children INTEGER NOT NULL, cache_status INTEGER NOT NULL DEFAULT 0,
    cache_source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (project, domain, run_name, name));
CREATE INDEX IF NOT EXISTS actions_parent ON actions (project, domain, run_name, parent);
CREATE INDEX IF NOT EXISTS actions_phase ON actions (phase);
CREATE TABLE IF NOT EXISTS attempts (
    project TEXT NOT NULL, domain TEXT NOT NULL, run_name TEXT NOT NULL, action TEXT NOT NULL,
    attempt INTEGER NOT NULL, phase INTEGER NOT NULL, start_time REAL NOT NULL, end_time REAL,
    error BLOB NOT NULL, output_prefix TEXT NOT NULL, log_path TEXT NOT NULL,
    pid INTEGER NOT NULL, pid_start INTEGER NOT NULL, logs_available INTEGER NOT NULL,
    PRIMARY KEY (project, domain, run_name, action, attempt));
CREATE TABLE IF NOT EXISTS transitions (
    project TEXT NOT NULL, domain TEXT NOT NULL, run_name TEXT NOT NULL, action TEXT NOT NULL,
    attempt INTEGER NOT NULL, phase INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS transitions_action
    ON transitions (project, domain, run_name, action, attempt);
CREATE TABLE IF NOT EXISTS tasks (
    project TEXT NOT NULL, domain TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    org TEXT NOT NULL, spec BLOB NOT NULL, short_name TEXT NOT NULL, env_name TEXT NOT NULL,
    deployed_at REAL NOT NULL,
    PRIMARY KEY (project, domain, name, version));
CREATE TABLE IF NOT EXISTS triggers (
    project TEXT NOT NULL, domain TEXT NOT NULL, task_name TEXT NOT NULL, name TEXT NOT NULL,
    org TEXT NOT NULL, revision INTEGER NOT NULL, task_version TEXT NOT NULL, spec BLOB NOT NULL,
    automation BLOB NOT NULL, active INTEGER NOT NULL, description TEXT NOT NULL,
    deployed_at REAL NOT NULL, updated_at REAL NOT NULL, triggered_at REAL,
    next_fire_at REAL, activated_at REAL,
    PRIMARY KEY (project, domain, task_name, name));
CREATE TABLE IF NOT EXISTS trigger_revisions (
    project TEXT NOT NULL, domain TEXT NOT NULL, task_name TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER NOT NULL, action INTEGER NOT NULL, created_at REAL NOT NULL,
    spec BLOB NOT NULL, automation BLOB NOT NULL, active INTEGER NOT NULL,
    PRIMARY KEY (project, domain, task_name, name, revision));
CREATE TABLE IF NOT EXISTS secrets (
    org TEXT NOT NULL, project TEXT NOT NULL, domain TEXT NOT NULL, name TEXT NOT NULL,
    secret_type INTEGER NOT NULL, value BLOB NOT NULL, is_binary INTEGER NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (org, project, domain, name));
CREATE TABLE IF NOT EXISTS task_cache (
    project TEXT NOT NULL, domain TEXT NOT NULL, task_name TEXT NOT NULL, cache_key TEXT NOT NULL,
    output_uri TEXT NOT NULL, source_project TEXT NOT NULL, source_domain TEXT NOT NULL,
    source_run TEXT NOT NULL, source_action TEXT NOT NULL, source_attempt INTEGER NOT NULL,
    created_at REAL NOT NULL, org TEXT NOT NULL,
    PRIMARY KEY (project, domain, task_name, cache_key));
CREATE TABLE IF NOT EXISTS action_state (
    project TEXT NOT NULL, domain TEXT NOT NULL, run_name TEXT NOT NULL, action TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (project, domain, run_name, action));
"""

_ACTION_COLUMNS = (
    "project, domain, run_name, name, org, parent, group_name, kind, spec, task_org, "
    "task_project, task_domain, task_name, task_version, short_name, env_name, task_type, "
    "cache_key, input_uri, run_output_base, phase, attempts, created_at, updated_at, start_time, "
    "end_time, error, abort_info, output_uri, value, system_failures, user_failures, "
    "holds_children, cache_status, cache_source"
)

# Columns added after the first release, with their definitions: added to older databases on open
# (older devboxes ignore them: they name their columns and the new ones have defaults).
_ADDED_COLUMNS = {
    "actions": (
        ("cache_status", "INTEGER NOT NULL DEFAULT 0"),
        ("cache_source", "TEXT NOT NULL DEFAULT ''"),
    ),
}

# Fields of ActionRecord that `update_action` may set, mapped to their column.
_ACTION_FIELDS = {
    "phase": "phase",
    "attempts": "attempts",
    "updated_at": "updated_at",
    "start_time": "start_time",
    "end_time": "end_time",
    "error": "error",
    "abort_info": "abort_info",
    "output_uri": "output_uri",
    "value": "value",
    "system_failures": "system_failures",
    "user_failures": "user_failures",
    "holds_children": "holds_children",
    "cache_status": "cache_status",
    "cache_source": "cache_source",
}

_ATTEMPT_FIELDS = {
    "phase",
    "end_time",
    "error",
    "output_prefix",
    "log_path",
    "pid",
    "pid_start",
    "logs_available",
}

_TERMINAL_SQL = ",".join(str(p) for p in sorted(TERMINAL_PHASES))


class Store:
    """The devbox database. Not thread-safe: use it from one thread (the event loop's)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._depth = 0
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            for table, columns in _ADDED_COLUMNS.items():
                have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
                for name, definition in columns:
                    if name not in have:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
            found = self.get_meta("schema_version")
            if found is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(found) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{path} was written by a newer flyte-devbox (schema {found}, "
                    f"this one reads {SCHEMA_VERSION}); use a newer flyte-devbox or another "
                    "state directory"
                )

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group statements into one atomic commit; nests (inner blocks join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        self._db.execute("COMMIT")

    # ---------------------------------------------------------------------------------- meta

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------------------ projects

    def upsert_project(self, p: ProjectRecord) -> None:
        self._db.execute(
            "INSERT INTO projects (name, org, display_name, description, labels, state, domains, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "org = excluded.org, display_name = excluded.display_name, "
            "description = excluded.description, labels = excluded.labels, "
            "state = excluded.state, domains = excluded.domains",
            (
                p.name,
                p.org,
                p.display_name,
                p.description,
                json.dumps(p.labels),
                p.state,
                json.dumps(p.domains),
                p.created_at,
            ),
        )

    def get_project(self, name: str) -> ProjectRecord | None:
        row = self._db.execute("SELECT * FROM projects WHERE name = ?", (name,)).fetchone()
        return None if row is None else _project(row)

    def list_projects(self) -> list[ProjectRecord]:
        rows = self._db.execute("SELECT * FROM projects ORDER BY created_at, name").fetchall()
        return [_project(r) for r in rows]

    # ---------------------------------------------------------------------------------- runs

    def insert_run(self, r: RunRecord) -> None:
        self._db.execute(
            "INSERT INTO runs (project, domain, name, org, created_at, updated_at, run_spec, "
            "labels, source, task_name, task_version, run_output_base, run_start_time, phase, "
            "trigger_task, trigger_name, trigger_revision, trigger_type) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *r.key,
                r.org,
                r.created_at,
                r.updated_at,
                r.run_spec,
                json.dumps(r.labels),
                r.source,
                r.task_name,
                r.task_version,
                r.run_output_base,
                r.run_start_time,
                r.phase,
                r.trigger.task_name if r.trigger else None,
                r.trigger.name if r.trigger else None,
                r.trigger_revision,
                r.trigger_type,
            ),
        )

    def run_exists(self, key: RunKey) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM runs WHERE project = ? AND domain = ? AND name = ?", key
        ).fetchone()
        return row is not None

    def get_run(self, key: RunKey) -> RunRecord | None:
        row = self._db.execute(
            "SELECT * FROM runs WHERE project = ? AND domain = ? AND name = ?", key
        ).fetchone()
        return None if row is None else _run(row)

    def set_run_phase(self, key: RunKey, phase: int, updated_at: float) -> None:
        self._db.execute(
            "UPDATE runs SET phase = ?, updated_at = ? WHERE project = ? AND domain = ? AND name = ?",
            (phase, updated_at, *key),
        )

    def list_runs(
        self,
        *,
        project: str | None,
        domain: str | None,
        where: Sequence[str] = (),
        params: Sequence[Any] = (),
        order_by: str = "created_at DESC",
        limit: int = 100,
        offset: int = 0,
    ) -> list[RunRecord]:
        clauses = list(where)
        args: list[Any] = []
        if project is not None:
            clauses.insert(0, "project = ?")
            args.append(project)
        if domain is not None:
            clauses.insert(1 if project is not None else 0, "domain = ?")
            args.append(domain)
        sql = "SELECT * FROM runs"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {order_by}, name LIMIT ? OFFSET ?"
        rows = self._db.execute(sql, (*args, *params, limit, offset)).fetchall()
        return [_run(r) for r in rows]

    # ------------------------------------------------------------------------------- actions

    def insert_action(self, a: ActionRecord) -> None:
        self._db.execute(
            f"INSERT INTO actions ({_ACTION_COLUMNS}) VALUES (" + ", ".join("?" * 35) + ")",
            (
                *a.key,
                a.org,
                a.parent,
                a.group,
                a.kind,
                a.spec,
                *a.task_id,
                a.short_name,
                a.env_name,
                a.task_type,
                a.cache_key,
                a.input_uri,
                a.run_output_base,
                a.phase,
                a.attempts,
                a.created_at,
                a.updated_at,
                a.start_time,
                a.end_time,
                a.error,
                a.abort_info,
                a.output_uri,
                a.value,
                a.system_failures,
                a.user_failures,
                int(a.holds_children),
                a.cache_status,
                _source_text(a.cache_source),
            ),
        )

    def update_action(self, key: ActionKey, **fields: Any) -> None:
        if not fields:
            return
        sets = []
        args: list[Any] = []
        for name, value in fields.items():
            sets.append(f"{_ACTION_FIELDS[name]} = ?")
            if name == "cache_source":
                value = _source_text(value)
            args.append(int(value) if isinstance(value, bool) else value)
        self._db.execute(
            f"UPDATE actions SET {', '.join(sets)} "
            "WHERE project = ? AND domain = ? AND run_name = ? AND name = ?",
            (*args, *key),
        )

    def get_action(self, key: ActionKey) -> ActionRecord | None:
        row = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions "
            "WHERE project = ? AND domain = ? AND run_name = ? AND name = ?",
            key,
        ).fetchone()
        return None if row is None else _action(row)

    def action_exists(self, key: ActionKey) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM actions WHERE project = ? AND domain = ? AND run_name = ? AND name = ?",
            key,
        ).fetchone()
        return row is not None

    def list_actions(self, run: RunKey, *, limit: int = -1, offset: int = 0) -> list[ActionRecord]:
        rows = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions "
            "WHERE project = ? AND domain = ? AND run_name = ? ORDER BY rowid LIMIT ? OFFSET ?",
            (*run, limit, offset),
        ).fetchall()
        return [_action(r) for r in rows]

    def list_children(self, run: RunKey, parent: str) -> list[ActionRecord]:
        rows = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions "
            "WHERE project = ? AND domain = ? AND run_name = ? AND parent = ? ORDER BY rowid",
            (*run, parent),
        ).fetchall()
        return [_action(r) for r in rows]

    def list_unfinished_actions(self) -> list[ActionRecord]:
        rows = self._db.execute(
            f"SELECT {_ACTION_COLUMNS} FROM actions WHERE phase NOT IN ({_TERMINAL_SQL}) "
            "ORDER BY rowid"
        ).fetchall()
        return [_action(r) for r in rows]

    # ------------------------------------------------------------------------------ attempts

    def insert_attempt(self, a: AttemptRecord) -> None:
        self._db.execute(
            "INSERT INTO attempts (project, domain, run_name, action, attempt, phase, start_time, "
            "end_time, error, output_prefix, log_path, pid, pid_start, logs_available) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *a.key,
                a.attempt,
                a.phase,
                a.start_time,
                a.end_time,
                a.error,
                a.output_prefix,
                a.log_path,
                a.pid,
                a.pid_start,
                int(a.logs_available),
            ),
        )

    def update_attempt(self, key: ActionKey, attempt: int, **fields: Any) -> None:
        if not fields:
            return
        for name in fields:
            if name not in _ATTEMPT_FIELDS:
                raise KeyError(name)
        sets = ", ".join(f"{name} = ?" for name in fields)
        args = [int(v) if isinstance(v, bool) else v for v in fields.values()]
        self._db.execute(
            f"UPDATE attempts SET {sets} WHERE project = ? AND domain = ? AND run_name = ? "
            "AND action = ? AND attempt = ?",
            (*args, *key, attempt),
        )

    def get_attempts(self, key: ActionKey) -> list[AttemptRecord]:
        rows = self._db.execute(
            "SELECT * FROM attempts WHERE project = ? AND domain = ? AND run_name = ? "
            "AND action = ? ORDER BY attempt",
            key,
        ).fetchall()
        return [_attempt(r) for r in rows]

    def get_attempt(self, key: ActionKey, attempt: int) -> AttemptRecord | None:
        row = self._db.execute(
            "SELECT * FROM attempts WHERE project = ? AND domain = ? AND run_name = ? "
            "AND action = ? AND attempt = ?",
            (*key, attempt),
        ).fetchone()
        return None if row is None else _attempt(row)

    def add_transition(self, key: ActionKey, attempt: int, phase: int, at: float) -> None:
        self._db.execute(
            "INSERT INTO transitions (project, domain, run_name, action, attempt, phase, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, attempt, phase, at),
        )

    def get_transitions(self, key: ActionKey) -> list[TransitionRecord]:
        rows = self._db.execute(
            "SELECT attempt, phase, at FROM transitions WHERE project = ? AND domain = ? "
            "AND run_name = ? AND action = ? ORDER BY attempt, rowid",
            key,
        ).fetchall()
        return [TransitionRecord(int(r[0]), int(r[1]), float(r[2])) for r in rows]

    # ---------------------------------------------------------------------------- task cache

    def get_cache(self, scope: CacheScope) -> CacheEntry | None:
        row = self._db.execute(
            "SELECT * FROM task_cache WHERE project = ? AND domain = ? AND task_name = ? "
            "AND cache_key = ?",
            scope,
        ).fetchone()
        return None if row is None else _cache_entry(row)

    def put_cache(self, e: CacheEntry) -> None:
        """Add or replace the entry of `e.scope`."""
        self._db.execute(
            "INSERT INTO task_cache (project, domain, task_name, cache_key, output_uri, "
            "source_project, source_domain, source_run, source_action, source_attempt, "
            "created_at, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (project, domain, task_name, cache_key) DO UPDATE SET "
            "output_uri = excluded.output_uri, source_project = excluded.source_project, "
            "source_domain = excluded.source_domain, source_run = excluded.source_run, "
            "source_action = excluded.source_action, "
            "source_attempt = excluded.source_attempt, created_at = excluded.created_at, "
            "org = excluded.org",
            (*e.scope, e.output_uri, *e.source.action, e.source.attempt, e.created_at, e.org),
        )

    def delete_cache(self, scope: CacheScope, output_uri: str | None = None) -> bool:
        """Remove the entry of `scope` (only if it still points at `output_uri`, when given)."""
        sql = (
            "DELETE FROM task_cache WHERE project = ? AND domain = ? AND task_name = ? "
            "AND cache_key = ?"
        )
        args: list[Any] = list(scope)
        if output_uri is not None:
            sql += " AND output_uri = ?"
            args.append(output_uri)
        return self._db.execute(sql, args).rowcount > 0

    def list_cache(
        self, *, project: str | None = None, domain: str | None = None, task_name: str | None = None
    ) -> list[CacheEntry]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (("project", project), ("domain", domain), ("task_name", task_name)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM task_cache{where} ORDER BY created_at, rowid", args
        ).fetchall()
        return [_cache_entry(r) for r in rows]

    # --------------------------------------------------------------------------------- state

    def put_state(self, key: ActionKey, state: str) -> None:
        self._db.execute(
            "INSERT INTO action_state (project, domain, run_name, action, state) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (project, domain, run_name, action) "
            "DO UPDATE SET state = excluded.state",
            (*key, state),
        )

    def get_state(self, key: ActionKey) -> str | None:
        row = self._db.execute(
            "SELECT state FROM action_state WHERE project = ? AND domain = ? AND run_name = ? "
            "AND action = ?",
            key,
        ).fetchone()
        return None if row is None else str(row[0])

    # --------------------------------------------------------------------------------- tasks

    def upsert_task(self, t: TaskRecord) -> None:
        self._db.execute(
            "INSERT INTO tasks (project, domain, name, version, org, spec, short_name, env_name, "
            "deployed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (project, domain, name, version) DO UPDATE SET org = excluded.org, "
            "spec = excluded.spec, short_name = excluded.short_name, "
            "env_name = excluded.env_name, deployed_at = excluded.deployed_at",
            (*t.key, t.org, t.spec, t.short_name, t.env_name, t.deployed_at),
        )

    def get_task(self, key: TaskKey) -> TaskRecord | None:
        row = self._db.execute(
            "SELECT * FROM tasks WHERE project = ? AND domain = ? AND name = ? AND version = ?",
            key,
        ).fetchone()
        return None if row is None else _task(row)

    def latest_task(self, project: str, domain: str, name: str) -> TaskRecord | None:
        row = self._db.execute(
            "SELECT * FROM tasks WHERE project = ? AND domain = ? AND name = ? "
            "ORDER BY deployed_at DESC, rowid DESC LIMIT 1",
            (project, domain, name),
        ).fetchone()
        return None if row is None else _task(row)

    def list_tasks(
        self, *, project: str | None, domain: str | None, latest_only: bool, limit: int, offset: int
    ) -> list[TaskRecord]:
        clauses: list[str] = []
        args: list[Any] = []
        if project is not None:
            clauses.append("project = ?")
            args.append(project)
        if domain is not None:
            clauses.append("domain = ?")
            args.append(domain)
        if latest_only:
            clauses.append(
                "rowid = (SELECT u.rowid FROM tasks u WHERE u.project = tasks.project "
                "AND u.domain = tasks.domain AND u.name = tasks.name "
                "ORDER BY u.deployed_at DESC, u.rowid DESC LIMIT 1)"
            )
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = f"SELECT * FROM tasks{where} ORDER BY name, deployed_at DESC LIMIT ? OFFSET ?"
        rows = self._db.execute(sql, (*args, limit, offset)).fetchall()
        return [_task(r) for r in rows]

    def list_task_versions(
        self, project: str, domain: str, name: str, *, limit: int, offset: int
    ) -> list[TaskRecord]:
        rows = self._db.execute(
            "SELECT * FROM tasks WHERE project = ? AND domain = ? AND name = ? "
            "ORDER BY deployed_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (project, domain, name, limit, offset),
        ).fetchall()
        return [_task(r) for r in rows]

    # ------------------------------------------------------------------------------ triggers

    def upsert_trigger(self, t: TriggerRecord) -> None:
        self._db.execute(
            "INSERT INTO triggers (project, domain, task_name, name, org, revision, task_version, "
            "spec, automation, active, description, deployed_at, updated_at, triggered_at, "
            "next_fire_at, activated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (project, domain, task_name, name) DO UPDATE SET org = excluded.org, "
            "revision = excluded.revision, task_version = excluded.task_version, "
            "spec = excluded.spec, automation = excluded.automation, active = excluded.active, "
            "description = excluded.description, updated_at = excluded.updated_at, "
            "triggered_at = excluded.triggered_at, next_fire_at = excluded.next_fire_at, "
            "activated_at = excluded.activated_at",
            (
                *t.key,
                t.org,
                t.revision,
                t.task_version,
                t.spec,
                t.automation,
                int(t.active),
                t.description,
                t.deployed_at,
                t.updated_at,
                t.triggered_at,
                t.next_fire_at,
                t.activated_at,
            ),
        )

    def add_trigger_revision(self, t: TriggerRecord, action: int, at: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO trigger_revisions (project, domain, task_name, name, revision, "
            "action, created_at, spec, automation, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*t.key, t.revision, action, at, t.spec, t.automation, int(t.active)),
        )

    def get_trigger(self, key: TriggerKey) -> TriggerRecord | None:
        row = self._db.execute(
            "SELECT * FROM triggers WHERE project = ? AND domain = ? AND task_name = ? AND name = ?",
            key,
        ).fetchone()
        return None if row is None else _trigger(row)

    def find_triggers(self, project: str, domain: str, name: str) -> list[TriggerRecord]:
        rows = self._db.execute(
            "SELECT * FROM triggers WHERE project = ? AND domain = ? AND name = ?",
            (project, domain, name),
        ).fetchall()
        return [_trigger(r) for r in rows]

    def delete_trigger(self, key: TriggerKey) -> None:
        self._db.execute(
            "DELETE FROM triggers WHERE project = ? AND domain = ? AND task_name = ? AND name = ?",
            key,
        )

    def list_triggers(
        self,
        *,
        project: str | None = None,
        domain: str | None = None,
        task_name: str | None = None,
        task_version: str | None = None,
        active_only: bool = False,
        limit: int = -1,
        offset: int = 0,
    ) -> list[TriggerRecord]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("project", project),
            ("domain", domain),
            ("task_name", task_name),
            ("task_version", task_version),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if active_only:
            clauses.append("active = 1")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM triggers{where} ORDER BY task_name, name LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [_trigger(r) for r in rows]

    def trigger_revisions(
        self, key: TriggerKey, *, limit: int, offset: int
    ) -> list[tuple[int, int, float, bytes, bytes, bool]]:
        rows = self._db.execute(
            "SELECT revision, action, created_at, spec, automation, active FROM trigger_revisions "
            "WHERE project = ? AND domain = ? AND task_name = ? AND name = ? "
            "ORDER BY revision DESC LIMIT ? OFFSET ?",
            (*key, limit, offset),
        ).fetchall()
        return [
            (int(r[0]), int(r[1]), float(r[2]), bytes(r[3]), bytes(r[4]), bool(r[5])) for r in rows
        ]

    def trigger_revision(
        self, key: TriggerKey, revision: int
    ) -> tuple[int, int, float, bytes, bytes, bool] | None:
        row = self._db.execute(
            "SELECT revision, action, created_at, spec, automation, active FROM trigger_revisions "
            "WHERE project = ? AND domain = ? AND task_name = ? AND name = ? AND revision = ?",
            (*key, revision),
        ).fetchone()
        if row is None:
            return None
        return (int(row[0]), int(row[1]), float(row[2]), bytes(row[3]), bytes(row[4]), bool(row[5]))

    # -------------------------------------------------------------------------------- row mapping

    # ------------------------------------------------------------------------------- secrets

    def insert_secret(self, r: SecretRecord) -> bool:
        """Add a secret; False (and nothing written) when one of that name is in the scope."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO secrets (org, project, domain, name, secret_type, value, "
            "is_binary, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.org,
                r.project,
                r.domain,
                r.name,
                r.secret_type,
                r.value,
                int(r.is_binary),
                r.created_at,
                r.updated_at,
            ),
        )
        return cur.rowcount == 1

    def update_secret(self, r: SecretRecord) -> bool:
        """Replace a secret's value and type; False when there is no such secret."""
        cur = self._db.execute(
            "UPDATE secrets SET secret_type = ?, value = ?, is_binary = ?, updated_at = ? "
            "WHERE org = ? AND project = ? AND domain = ? AND name = ?",
            (
                r.secret_type,
                r.value,
                int(r.is_binary),
                r.updated_at,
                r.org,
                r.project,
                r.domain,
                r.name,
            ),
        )
        return cur.rowcount == 1

    def get_secret(self, org: str, project: str, domain: str, name: str) -> SecretRecord | None:
        row = self._db.execute(
            "SELECT * FROM secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
            (org, project, domain, name),
        ).fetchone()
        return None if row is None else _secret(row)

    def find_secret_any_org(self, project: str, domain: str, name: str) -> SecretRecord | None:
        row = self._db.execute(
            "SELECT * FROM secrets WHERE project = ? AND domain = ? AND name = ? "
            "ORDER BY org LIMIT 1",
            (project, domain, name),
        ).fetchone()
        return None if row is None else _secret(row)

    def delete_secret(self, org: str, project: str, domain: str, name: str) -> bool:
        cur = self._db.execute(
            "DELETE FROM secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
            (org, project, domain, name),
        )
        return cur.rowcount == 1

    def list_secrets(
        self, org: str, project: str, domain: str, *, limit: int, offset: int
    ) -> list[SecretRecord]:
        """The secrets of exactly this scope, by name."""
        rows = self._db.execute(
            "SELECT * FROM secrets WHERE org = ? AND project = ? AND domain = ? "
            "ORDER BY name LIMIT ? OFFSET ?",
            (org, project, domain, limit, offset),
        ).fetchall()
        return [_secret(r) for r in rows]


def _secret(r: sqlite3.Row) -> SecretRecord:
    return SecretRecord(
        org=r["org"],
        project=r["project"],
        domain=r["domain"],
        name=r["name"],
        secret_type=r["secret_type"],
        value=bytes(r["value"]),
        is_binary=bool(r["is_binary"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def _project(r: sqlite3.Row) -> ProjectRecord:
    return ProjectRecord(
        name=r["name"],
        org=r["org"],
        display_name=r["display_name"],
        description=r["description"],
        labels=json.loads(r["labels"]),
        state=int(r["state"]),
        domains=list(json.loads(r["domains"])),
        created_at=float(r["created_at"]),
    )


def _run(r: sqlite3.Row) -> RunRecord:
    trigger = None
    if r["trigger_name"] is not None:
        trigger = TriggerKey(r["project"], r["domain"], r["trigger_task"], r["trigger_name"])
    return RunRecord(
        key=RunKey(r["project"], r["domain"], r["name"]),
        org=r["org"],
        created_at=float(r["created_at"]),
        updated_at=float(r["updated_at"]),
        run_spec=bytes(r["run_spec"]),
        labels=json.loads(r["labels"]),
        source=int(r["source"]),
        task_name=r["task_name"],
        task_version=r["task_version"],
        run_output_base=r["run_output_base"],
        run_start_time=float(r["run_start_time"]),
        phase=int(r["phase"]),
        trigger=trigger,
        trigger_revision=int(r["trigger_revision"]),
        trigger_type=bytes(r["trigger_type"]),
    )


def _action(r: sqlite3.Row) -> ActionRecord:
    return ActionRecord(
        key=ActionKey(r[0], r[1], r[2], r[3]),
        org=r[4],
        parent=r[5],
        group=r[6],
        kind=int(r[7]),
        spec=bytes(r[8]),
        task_id=(r[9], r[10], r[11], r[12], r[13]),
        short_name=r[14],
        env_name=r[15],
        task_type=r[16],
        cache_key=r[17],
        input_uri=r[18],
        run_output_base=r[19],
        phase=int(r[20]),
        attempts=int(r[21]),
        created_at=float(r[22]),
        updated_at=float(r[23]),
        start_time=None if r[24] is None else float(r[24]),
        end_time=None if r[25] is None else float(r[25]),
        error=bytes(r[26]),
        abort_info=bytes(r[27]),
        output_uri=r[28],
        value=bytes(r[29]),
        system_failures=int(r[30]),
        user_failures=int(r[31]),
        holds_children=bool(r[32]),
        cache_status=int(r[33]),
        cache_source=_parse_source(r[34]),
    )


def _source_text(source: CacheSource | None) -> str:
    if source is None:
        return ""
    return json.dumps([*source.action, source.attempt])


def _parse_source(text: str) -> CacheSource | None:
    if not text:
        return None
    project, domain, run, action, attempt = json.loads(text)
    return CacheSource(ActionKey(project, domain, run, action), int(attempt))


def _cache_entry(r: sqlite3.Row) -> CacheEntry:
    return CacheEntry(
        scope=CacheScope(r["project"], r["domain"], r["task_name"], r["cache_key"]),
        output_uri=r["output_uri"],
        source=CacheSource(
            ActionKey(r["source_project"], r["source_domain"], r["source_run"], r["source_action"]),
            int(r["source_attempt"]),
        ),
        created_at=float(r["created_at"]),
        org=r["org"],
    )


def _attempt(r: sqlite3.Row) -> AttemptRecord:
    return AttemptRecord(
        key=ActionKey(r["project"], r["domain"], r["run_name"], r["action"]),
        attempt=int(r["attempt"]),
        phase=int(r["phase"]),
        start_time=float(r["start_time"]),
        end_time=None if r["end_time"] is None else float(r["end_time"]),
        error=bytes(r["error"]),
        output_prefix=r["output_prefix"],
        log_path=r["log_path"],
        pid=int(r["pid"]),
        pid_start=int(r["pid_start"]),
        logs_available=bool(r["logs_available"]),
    )


def _task(r: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        key=TaskKey(r["project"], r["domain"], r["name"], r["version"]),
        org=r["org"],
        spec=bytes(r["spec"]),
        short_name=r["short_name"],
        env_name=r["env_name"],
        deployed_at=float(r["deployed_at"]),
    )


def _trigger(r: sqlite3.Row) -> TriggerRecord:
    return TriggerRecord(
        key=TriggerKey(r["project"], r["domain"], r["task_name"], r["name"]),
        org=r["org"],
        revision=int(r["revision"]),
        task_version=r["task_version"],
        spec=bytes(r["spec"]),
        automation=bytes(r["automation"]),
        active=bool(r["active"]),
        description=r["description"],
        deployed_at=float(r["deployed_at"]),
        updated_at=float(r["updated_at"]),
        triggered_at=None if r["triggered_at"] is None else float(r["triggered_at"]),
        next_fire_at=None if r["next_fire_at"] is None else float(r["next_fire_at"]),
        activated_at=None if r["activated_at"] is None else float(r["activated_at"]),
    )


def now() -> float:
    return time.time()
