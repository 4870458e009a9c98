"""Durable state in SQLite (WAL mode, full sync): an acknowledged write survives kill -9.

Each request runs in one transaction on a pooled connection. Writers take the database lock at
BEGIN IMMEDIATE, so concurrent requests are serialized where they must be and nothing
interleaves inside an action; readers run beside them on WAL snapshots.

With a consistency lag (`lag_reads`), reads see the state as it was `lag` seconds ago, as CAM's
reads trail its writes: each committed write is copied to memory and becomes the state reads see
once its lag has passed. Writes always check against the latest state.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    uin INTEGER PRIMARY KEY, uid INTEGER NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
    remark TEXT NOT NULL DEFAULT '', console_login INTEGER NOT NULL DEFAULT 0,
    need_reset_password INTEGER NOT NULL DEFAULT 0, phone_num TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', create_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    group_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, remark TEXT NOT NULL DEFAULT '',
    create_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS group_members (
    group_id INTEGER NOT NULL REFERENCES groups(group_id) ON DELETE CASCADE,
    uin INTEGER NOT NULL REFERENCES users(uin) ON DELETE CASCADE,
    add_time TEXT NOT NULL, PRIMARY KEY (group_id, uin));
CREATE TABLE IF NOT EXISTS policies (
    policy_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '', document TEXT NOT NULL, service_type TEXT NOT NULL DEFAULT '',
    create_mode INTEGER NOT NULL, add_time TEXT NOT NULL, update_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_policies (
    uin INTEGER NOT NULL REFERENCES users(uin) ON DELETE CASCADE,
    policy_id INTEGER NOT NULL REFERENCES policies(policy_id) ON DELETE CASCADE,
    add_time TEXT NOT NULL, PRIMARY KEY (uin, policy_id));
CREATE TABLE IF NOT EXISTS group_policies (
    group_id INTEGER NOT NULL REFERENCES groups(group_id) ON DELETE CASCADE,
    policy_id INTEGER NOT NULL REFERENCES policies(policy_id) ON DELETE CASCADE,
    add_time TEXT NOT NULL, PRIMARY KEY (group_id, policy_id));
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY, uin INTEGER NOT NULL REFERENCES users(uin) ON DELETE CASCADE,
    status TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', create_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mfa_flags (
    uin INTEGER PRIMARY KEY REFERENCES users(uin) ON DELETE CASCADE,
    login_phone INTEGER NOT NULL, login_stoken INTEGER NOT NULL, login_wechat INTEGER NOT NULL,
    action_phone INTEGER NOT NULL, action_stoken INTEGER NOT NULL, action_wechat INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    service TEXT NOT NULL, prefix TEXT NOT NULL, region TEXT NOT NULL, resource_id TEXT NOT NULL,
    tag_key TEXT NOT NULL, tag_value TEXT NOT NULL, category TEXT NOT NULL DEFAULT 'Custom',
    PRIMARY KEY (service, prefix, region, resource_id, tag_key));
CREATE TABLE IF NOT EXISTS console_logins (
    uin INTEGER PRIMARY KEY REFERENCES users(uin) ON DELETE CASCADE,
    ip TEXT NOT NULL DEFAULT '', login_time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS key_last_used (
    access_key_id TEXT PRIMARY KEY REFERENCES access_keys(access_key_id) ON DELETE CASCADE,
    used_time TEXT NOT NULL);
"""


class Store:
    """A pool of SQLite connections to one database file."""

    def __init__(self, path: Path, pool_size: int = 8) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db:
            db.executescript(SCHEMA)
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        for _ in range(pool_size):
            self._pool.put(self._connect())
        self._lag = 0.0
        self._clock: Callable[[], float] = time.monotonic
        self._write_lock = threading.Lock()  # a write and the copy reads will see of it, in one step
        self._read_lock = threading.Lock()
        self._visible: sqlite3.Connection | None = None  # what reads see, when reads lag
        self._pending: deque[tuple[float, sqlite3.Connection]] = deque()  # (visible from, state) in commit order

    def lag_reads(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        """From now on, reads see each write `seconds` after it is committed. What is there now
        (presets, a seed) is visible at once."""
        self._lag, self._clock = seconds, clock
        if seconds > 0:
            with self._write_lock:
                self._visible = self._snapshot()

    def _connect(self) -> sqlite3.Connection:
        # Connections move between server threads, one request at a time.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextmanager
    def transaction(self, write: bool, lagged: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on the latest state; a `lagged` read sees the state as it was `lag` seconds ago."""
        if self._visible is None or not (write or lagged):
            with self._current(write) as db:
                yield db
        elif write:
            with self._write_lock:
                with self._current(write) as db:
                    yield db
                self._pending.append((self._clock() + self._lag, self._snapshot()))
        else:
            with self._read_lock:
                self._visible = self._due()
                yield self._visible

    def _due(self) -> sqlite3.Connection:
        """The newest state whose lag has passed (the older ones are dropped)."""
        assert self._visible is not None
        visible, now = self._visible, self._clock()
        while self._pending and self._pending[0][0] <= now:
            visible.close()
            visible = self._pending.popleft()[1]
        return visible

    def _snapshot(self) -> sqlite3.Connection:
        """The committed state, copied to memory, for lagged reads."""
        db = self._pool.get()
        try:
            copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            db.backup(copy)
        finally:
            self._pool.put(db)
        copy.row_factory = sqlite3.Row
        return copy

    @contextmanager
    def _current(self, write: bool) -> Iterator[sqlite3.Connection]:
        db = self._pool.get()
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            self._pool.put(db)

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get().close()
        for _, copy in self._pending:
            copy.close()
        if self._visible is not None:
            self._visible.close()


def next_id(db: sqlite3.Connection, counter: str, first: int) -> int:
    """The next number of a sequence; the caller's write transaction makes it unique."""
    row = db.execute("SELECT next FROM counters WHERE name = ?", (counter,)).fetchone()
    value = first if row is None else int(row["next"])
    db.execute(
        "INSERT INTO counters (name, next) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next = excluded.next",
        (counter, value + 1),
    )
    return value
