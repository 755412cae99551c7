"""The read SQL beside the store: filters, paging order, totals and per-model rankings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from heimdall.server import queries
from heimdall.server.queries import LogFilter
from heimdall.server.store import LogRow, LogStore


def row(n: int, ts: float, model: str, *, cost: float, session: str = "A", status: str = "success") -> LogRow:
    return LogRow(
        id=f"r{n}", ts=ts, object="responses", model=model, stream=False, status=status,
        latency_ms=10.0 * n, total_tokens=100 * n, prompt_tokens=60 * n, output_tokens=40 * n,
        cost=cost, metadata={"session": session, "team": "blue" if n % 2 else "red"},
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    log = LogStore(tmp_path / "gw.db")
    log.open()
    rows = [
        row(1, 1000.0, "sonnet", cost=0.5),
        row(2, 1010.0, "sonnet", cost=0.25, session="B"),
        row(3, 1020.0, "haiku", cost=0.1),
        row(4, 1030.0, "haiku", cost=0.0, status="processing"),
        row(5, 900.0, "sonnet", cost=1.0),  # the window before [1000, 1100]
    ]
    for r in rows:
        log.finish(r)
    assert log.flush()
    yield log
    log.close()


def test_empty_filter_has_no_where_clause() -> None:
    assert LogFilter().where() == ("", [])


def test_filter_clauses_and_parameters_line_up() -> None:
    where, args = LogFilter(
        models=["a", "b"], start=1.0, before=2.0, min_cost=0.5, missing_cost_only=True,
        metadata=[("session", "s"), ("team", "blue")],
    ).where()  # fmt: skip
    assert where == (
        " WHERE model IN (?, ?) AND ts >= ? AND ts < ? AND cost >= ? AND missing_cost = 1"
        " AND session = ? AND json_extract(metadata, ?) = ?"
    )
    assert args == ["a", "b", 1.0, 2.0, 0.5, "s", '$."team"', "blue"]


def test_totals_count_and_page(store: LogStore) -> None:
    everything = LogFilter()
    assert queries.count(store, everything) == 5 and queries.has_logs(store)
    totals = queries.totals(store, LogFilter(metadata=[("session", "A")]))
    assert (totals["total"], totals["terminal"], totals["ok"]) == (4, 3, 3)
    assert totals["cost"] == pytest.approx(1.6)
    newest = queries.page(store, everything, sort_by="timestamp", order="desc", limit=2, offset=0)
    assert [r["id"] for r in newest] == ["r4", "r3"]
    cheapest = queries.page(store, everything, sort_by="cost", order="asc", limit=5, offset=0)
    assert [r["id"] for r in cheapest][:2] == ["r4", "r3"]
    red = LogFilter(metadata=[("team", "red")])
    oldest = queries.page(store, red, sort_by="timestamp", order="asc", limit=9, offset=0)
    assert [r["id"] for r in oldest] == ["r2", "r4"]
    assert queries.one(store, "r2") is not None and queries.one(store, "nope") is None


def test_per_model_and_the_previous_window(store: LogStore) -> None:
    window = LogFilter(start=1000.0, end=1100.0)
    ranked = queries.per_model(store, window)
    assert [(r["model"], r["requests"]) for r in ranked] == [("sonnet", 2), ("haiku", 2)]
    previous = queries.per_model(store, LogFilter(start=900.0, before=1000.0))
    assert [(r["model"], r["cost"]) for r in previous] == [("sonnet", 1.0)]
