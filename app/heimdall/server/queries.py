"""The read side of the request log: every SQL statement behind `/api/logs`, stats and rankings.

The HTTP layer (`server/api.py`) parses a query string into a `LogFilter` and shapes rows as
Bifrost JSON; this module turns a `LogFilter` into SQL over the `logs` table that
`server/store.py` writes, and runs it on the store's per-thread read connection. Call it off the
event loop (the API handlers use `asyncio.to_thread`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from heimdall.server.store import LogStore

SortKey = Literal["timestamp", "latency", "tokens", "cost"]
Order = Literal["asc", "desc"]

SORT_COLUMNS: dict[str, str] = {
    "timestamp": "ts",
    "latency": "latency_ms",
    "tokens": "total_tokens",
    "cost": "cost",
}



@dataclass(slots=True)
class LogFilter:
    """Which rows a read covers. Empty lists and None mean "any"."""

    providers: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    stop_reasons: list[str] = field(default_factory=list)
    request_id: str | None = None
    start: float | None = None
    """Epoch seconds, inclusive."""
    end: float | None = None
    """Epoch seconds, inclusive."""
    before: float | None = None
    """Epoch seconds, exclusive (the previous window of a ranking)."""
    min_latency: float | None = None
    max_latency: float | None = None
    min_tokens: float | None = None
    max_tokens: float | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    missing_cost_only: bool = False
    metadata: list[tuple[str, str]] = field(default_factory=list)
    """(key, value) pairs; keys are already checked against `[A-Za-z0-9_.-]{1,64}`."""

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (empty when nothing is filtered) and its parameters."""
        clauses: list[str] = []
        args: list[Any] = []
        for items, column in (
            (self.providers, "provider"),
            (self.models, "model"),
            (self.statuses, "status"),
            (self.objects, "object"),
            (self.stop_reasons, "stop_reason"),
        ):
            if items:
                clauses.append(f"{column} IN ({', '.join('?' for _ in items)})")
                args.extend(items)
        if self.request_id is not None:
            clauses.append("id = ?")
            args.append(self.request_id)
        for bound, op in ((self.start, ">="), (self.end, "<="), (self.before, "<")):
            if bound is not None:
                clauses.append(f"ts {op} ?")
                args.append(bound)
        for number, column, op in (
            (self.min_latency, "latency_ms", ">="),
            (self.max_latency, "latency_ms", "<="),
            (self.min_tokens, "total_tokens", ">="),
            (self.max_tokens, "total_tokens", "<="),
            (self.min_cost, "cost", ">="),
            (self.max_cost, "cost", "<="),
        ):
            if number is not None:
                clauses.append(f"{column} {op} ?")
                args.append(number)
        if self.missing_cost_only:
            clauses.append("missing_cost = 1")
        for key, value in self.metadata:
            if key == "session":  # its own indexed column
                clauses.append("session = ?")
                args.append(value)
            else:
                clauses.append("json_extract(metadata, ?) = ?")
                args.extend([f'$."{key}"', value])
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


_STATS_SQL = """
SELECT COUNT(*) AS total,
       COALESCE(SUM(status != 'processing'), 0) AS terminal,
       COALESCE(SUM(status = 'success'), 0) AS ok,
       AVG(CASE WHEN status != 'processing' THEN latency_ms END) AS avg_latency,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN total_tokens END), 0) AS tokens,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN prompt_tokens END), 0) AS prompt,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN output_tokens END), 0) AS completion,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN cost END), 0.0) AS cost
FROM logs"""

_RANK_SQL = """
SELECT model, provider, COUNT(*) AS requests,
       COALESCE(SUM(status = 'success'), 0) AS ok,
       COALESCE(SUM(status != 'processing'), 0) AS terminal,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN total_tokens END), 0) AS tokens,
       COALESCE(SUM(CASE WHEN status != 'processing' THEN cost END), 0.0) AS cost,
       AVG(CASE WHEN status != 'processing' THEN latency_ms END) AS latency
FROM logs{where} GROUP BY model, provider ORDER BY cost DESC, requests DESC, model"""


def totals(store: LogStore, flt: LogFilter) -> sqlite3.Row:
    """One row: total, terminal, ok, avg_latency, tokens, prompt, completion, cost."""
    where, args = flt.where()
    return store.query(_STATS_SQL + where, args)[0]


def count(store: LogStore, flt: LogFilter) -> int:
    where, args = flt.where()
    found: int = store.query("SELECT COUNT(*) FROM logs" + where, args)[0][0]
    return found


def page(
    store: LogStore, flt: LogFilter, *, sort_by: SortKey, order: Order, limit: int, offset: int
) -> list[sqlite3.Row]:
    """Full rows, sorted (NULLs last, then by time and id so pages never overlap)."""
    where, args = flt.where()
    column, direction = SORT_COLUMNS[sort_by], order.upper()
    return store.query(
        f"SELECT * FROM logs{where} ORDER BY {column} IS NULL, {column} {direction}, "
        f"ts {direction}, id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )


def has_logs(store: LogStore) -> bool:
    return bool(store.query("SELECT EXISTS(SELECT 1 FROM logs)")[0][0])


def per_model(store: LogStore, flt: LogFilter) -> list[sqlite3.Row]:
    """Per (model, provider): requests, ok, terminal, tokens, cost, latency; costliest first."""
    where, args = flt.where()
    return store.query(_RANK_SQL.format(where=where), args)


def one(store: LogStore, log_id: str) -> sqlite3.Row | None:
    rows = store.query("SELECT * FROM logs WHERE id = ?", (log_id,))
    return rows[0] if rows else None
