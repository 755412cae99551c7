"""The gateway's request log: SQLite in WAL mode, written by one thread, read by many.

Every request is inserted as `processing` when it starts and rewritten with its final status,
usage and cost when it ends. All writes go through a queue to a single writer thread that commits
in batches (everything waiting is committed in one transaction), so the event loop never blocks
on disk and concurrent requests never contend for SQLite's write lock. A committed transaction
is in the WAL file, so a `kill -9` of the gateway loses at most the writes still queued (rows
that had not finished anyway); at the next start, rows left `processing` by a dead gateway are
closed as `error` with a note saying so.

The store also keeps running spend totals (per session tag and per UTC day) in memory, loaded
from the database at start, so budget checks cost a dict lookup instead of a query.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    object TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    requested_model TEXT,
    status TEXT NOT NULL,
    stream INTEGER NOT NULL,
    latency_ms REAL,
    ttfb_ms REAL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    missing_cost INTEGER NOT NULL DEFAULT 0,
    stop_reason TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    session TEXT,
    cc_session_id TEXT,
    http_status INTEGER,
    error_type TEXT,
    error_message TEXT,
    path TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS logs_ts ON logs(ts);
CREATE INDEX IF NOT EXISTS logs_session ON logs(session);
CREATE INDEX IF NOT EXISTS logs_model ON logs(model);
CREATE TABLE IF NOT EXISTS budgets (
    session TEXT PRIMARY KEY,
    max_usd REAL NOT NULL,
    updated REAL NOT NULL
);
"""

COLUMNS = (
    "id", "ts", "object", "provider", "model", "requested_model", "status", "stream",
    "latency_ms", "ttfb_ms", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_5m_tokens", "cache_write_1h_tokens", "prompt_tokens", "total_tokens", "cost",
    "missing_cost", "stop_reason", "metadata", "session", "cc_session_id", "http_status",
    "error_type", "error_message", "path",
)

_UPSERT = (
    f"INSERT OR REPLACE INTO logs ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
_BATCH_MAX = 1024
INTERRUPTED_MESSAGE = "gateway stopped before the request finished"


@dataclass(slots=True)
class LogRow:
    id: str
    ts: float
    object: str
    model: str
    stream: bool
    path: str = ""
    provider: str = "anthropic"
    requested_model: str | None = None
    status: str = "processing"
    latency_ms: float | None = None
    ttfb_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    missing_cost: bool = False
    stop_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    cc_session_id: str | None = None
    http_status: int | None = None
    error_type: str | None = None
    error_message: str | None = None

    @property
    def session(self) -> str | None:
        return self.metadata.get("session")

    def values(self) -> tuple[Any, ...]:
        return (
            self.id, self.ts, self.object, self.provider, self.model, self.requested_model,
            self.status, int(self.stream), self.latency_ms, self.ttfb_ms, self.input_tokens,
            self.output_tokens, self.cache_read_tokens, self.cache_write_5m_tokens,
            self.cache_write_1h_tokens, self.prompt_tokens, self.total_tokens, self.cost,
            int(self.missing_cost), self.stop_reason,
            json.dumps(self.metadata, separators=(",", ":")), self.session, self.cc_session_id,
            self.http_status, self.error_type, self.error_message, self.path,
        )  # fmt: skip


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn


class StoreError(Exception):
    """The database cannot be opened or written."""


class LogStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._spend_lock = threading.Lock()
        self.session_spend: dict[str, float] = {}
        self.day_spend: dict[str, float] = {}
        self.budgets: dict[str, float] = {}
        self.write_errors = 0
        self.last_write_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(self.path)
            conn.executescript(SCHEMA)
            conn.execute(
                "UPDATE logs SET status='error', error_message=? WHERE status='processing'",
                (INTERRUPTED_MESSAGE,),
            )
            for row in conn.execute(
                "SELECT session, SUM(cost) FROM logs WHERE session IS NOT NULL GROUP BY session"
            ):
                self.session_spend[row[0]] = row[1] or 0.0
            today = utc_day(time.time())
            midnight = datetime.strptime(today, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
            total = conn.execute("SELECT SUM(cost) FROM logs WHERE ts >= ?", (midnight,))
            self.day_spend[today] = total.fetchone()[0] or 0.0
            for row in conn.execute("SELECT session, max_usd FROM budgets"):
                self.budgets[row[0]] = row[1]
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the request log {self.path}: {exc}") from exc
        self._thread = threading.Thread(
            target=self._writer, args=(conn,), name="heimdall-gateway-writer", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._thread = None

    # -- writing -----------------------------------------------------------------------------

    def upsert(self, row: LogRow) -> None:
        """Queue a full row write (insert or replace). Never blocks."""
        self._queue.put((_UPSERT, row.values()))

    def finish(self, row: LogRow) -> None:
        """Queue the final write of a row and count its spend."""
        if row.cost:
            with self._spend_lock:
                if row.session is not None:
                    self.session_spend[row.session] = (
                        self.session_spend.get(row.session, 0.0) + row.cost
                    )
                day = utc_day(row.ts)
                self.day_spend[day] = self.day_spend.get(day, 0.0) + row.cost
        self.upsert(row)

    def set_budget(self, session: str, max_usd: float | None) -> None:
        if max_usd is None:
            self.budgets.pop(session, None)
            self._queue.put(("DELETE FROM budgets WHERE session = ?", (session,)))
        else:
            self.budgets[session] = max_usd
            self._queue.put(
                (
                    "INSERT OR REPLACE INTO budgets (session, max_usd, updated) VALUES (?, ?, ?)",
                    (session, max_usd, time.time()),
                )
            )

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything queued so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def spent(self, session: str) -> float:
        return self.session_spend.get(session, 0.0)

    def spent_today(self) -> float:
        return self.day_spend.get(utc_day(time.time()), 0.0)

    def _writer(self, conn: sqlite3.Connection) -> None:
        running = True
        while running:
            batch = [self._queue.get()]
            while len(batch) < _BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            waiters: list[threading.Event] = []
            ops: list[tuple[str, tuple[Any, ...]]] = []
            for item in batch:
                if item is None:
                    running = False
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    ops.append(item)
            if ops:
                self._commit(conn, ops)
            for waiter in waiters:
                waiter.set()
        conn.close()

    def _commit(self, conn: sqlite3.Connection, ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        for attempt in range(3):
            try:
                conn.execute("BEGIN IMMEDIATE")
                for sql, params in ops:
                    conn.execute(sql, params)
                conn.execute("COMMIT")
                return
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                self.write_errors += 1
                self.last_write_error = f"{exc} (attempt {attempt + 1})"
                time.sleep(0.05 * (attempt + 1))

    # -- reading -----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
        return conn

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query on this thread's read connection (sees committed data only)."""
        return self._reader().execute(sql, params).fetchall()

    def run_read(self, fn: Callable[[LogStore], Any]) -> Any:
        return fn(self)
