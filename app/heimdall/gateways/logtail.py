"""Client-side aggregation of Bifrost `/api/logs` rows, fed by an incremental tail.

Why tail instead of one `metadata_session=<id>` query per tab: per-session filters cost one HTTP
request per session per refresh (O(n)); tailing `/api/logs?start_time=<cursor>&sort_by=timestamp
&order=asc` costs one request per refresh when nothing is new (plus one per 1,000 new rows),
whatever the number of tabs, and it also discovers sessions nobody asked about (`heimdall usage`).

Correctness rules:
- every row is counted exactly once, when it reaches a terminal status (`success`, `error`,
  `cancelled`), keyed by its log id; `processing` rows are remembered and counted when they finish;
- the cursor never passes a row still `processing` (so its completion is seen), and trails the
  newest row by `overlap` because Bifrost inserts rows asynchronously (a row stamped a little
  earlier can appear after a later one); re-fetched rows are recognised by id and skipped;
- a row stuck in `processing` for longer than `stale_after` behind newer traffic stops holding the
  cursor back (a crashed request must not make every refresh re-read hours of logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from heimdall.gateways.protocol import GatewayBadResponse, UsageTotals
from heimdall.timefmt import parse_rfc3339

TERMINAL = frozenset({"success", "error", "cancelled"})
SESSION_KEY = "session"


@dataclass(slots=True)
class RowUsage:
    """What one terminal log row contributes."""

    session: str | None
    model: str
    totals: UsageTotals


def row_usage(row: dict[str, Any]) -> RowUsage:
    """Usage of one terminal row. Absent `cost`/`token_usage` (omitempty) count as zero."""
    metadata = row.get("metadata") or {}
    session = metadata.get(SESSION_KEY) if isinstance(metadata, dict) else None
    model = row.get("model") or "unknown"
    usage = row.get("token_usage") or {}
    if not isinstance(usage, dict):
        raise GatewayBadResponse(f"log row {row.get('id')}: token_usage is not an object")
    details = usage.get("prompt_tokens_details") or {}
    prompt = _int(usage.get("prompt_tokens"))
    read = _int(details.get("cached_read_tokens", details.get("cached_tokens")))
    write = _int(details.get("cached_write_tokens", details.get("cache_write_tokens")))
    # Bifrost's prompt_tokens includes the cache reads and writes (17,408 = 2,048 + 14,336 +
    # 1,024 in the worked example of docs/bifrost-api.md, Cost); subtract them so `input_tokens`
    # means uncached input.
    uncached = prompt - read - write if prompt >= read + write else prompt
    timestamp = parse_rfc3339(row["timestamp"])
    cost = row.get("cost")
    if cost is not None and not isinstance(cost, (int, float)):
        raise GatewayBadResponse(f"log row {row.get('id')}: cost is not a number")
    totals = UsageTotals(
        cost_usd=float(cost or 0.0),
        input_tokens=uncached,
        output_tokens=_int(usage.get("completion_tokens")),
        cache_read_tokens=read,
        cache_write_tokens=write,
        requests=1,
        errors=1 if row.get("status") == "error" else 0,
        first_request=timestamp,
        last_request=timestamp,
    )
    return RowUsage(session=session if isinstance(session, str) else None, model=model, totals=totals)


def _int(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GatewayBadResponse(f"token count is not a number: {value!r}")
    return int(value)


def validate_row(row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise GatewayBadResponse("log row is not an object")
    for key in ("id", "status", "timestamp"):
        if not isinstance(row.get(key), str):
            raise GatewayBadResponse(f"log row is missing '{key}'")
    try:
        parse_rfc3339(row["timestamp"])
    except ValueError:
        raise GatewayBadResponse(f"log row {row['id']}: bad timestamp {row['timestamp']!r}") from None
    if row["status"] in TERMINAL:
        row_usage(row)  # raises on malformed usage before anything is counted
    return row


class LogTail:
    """Per-row state and per-(session, model) totals for one `since` window.

    With a `since`, the counted rows of the window are kept (one small record each) so a window
    that moves forward (`retarget`, e.g. "last 24 h" asked again a minute later) drops the rows
    that fell out of it instead of re-reading the whole window. With `since=None` only the
    aggregates are kept: memory stays O(sessions x models) however long Heimdall runs.
    """

    def __init__(
        self,
        since: datetime | None,
        *,
        overlap: timedelta = timedelta(seconds=30),
        stale_after: timedelta = timedelta(minutes=15),
    ) -> None:
        self.since = since
        self.cursor = since
        self.overlap = overlap
        self.stale_after = stale_after
        self.cells: dict[tuple[str, str], UsageTotals] = {}
        self.counted: dict[str, datetime] = {}
        """Ids of rows already counted, with their timestamps (pruned once behind the cursor)."""
        self.pending: dict[str, datetime] = {}
        """Ids of rows seen `processing`, not yet counted."""
        self.newest: datetime | None = None
        self.untagged_rows = 0
        self.window_rows: dict[str, RowUsage] | None = {} if since is not None else None
        """Counted tagged rows inside the window (only when `since` is set)."""

    def ingest(self, rows: list[dict[str, Any]]) -> None:
        """Apply a page of already-validated rows (idempotent: re-seen rows change nothing)."""
        for row in rows:
            row_id = row["id"]
            if row_id in self.counted:
                continue
            stamp = parse_rfc3339(row["timestamp"])
            if self.newest is None or stamp > self.newest:
                self.newest = stamp
            if row["status"] not in TERMINAL:
                self.pending[row_id] = stamp
                continue
            self.pending.pop(row_id, None)
            self.counted[row_id] = stamp
            usage = row_usage(row)
            if usage.session is None:
                self.untagged_rows += 1
                continue
            self.cells.setdefault((usage.session, usage.model), UsageTotals()).add(usage.totals)
            if self.window_rows is not None:
                self.window_rows[row_id] = usage

    def retarget(self, since: datetime | None) -> bool:
        """Serve a later `since` from what is already counted; False when a new tail is needed
        (an earlier window, or switching to/from `None`)."""
        if since == self.since:
            return True
        if since is None or self.since is None or self.window_rows is None or since < self.since:
            return False
        self.window_rows = {
            row_id: usage
            for row_id, usage in self.window_rows.items()
            if usage.totals.first_request is not None and usage.totals.first_request >= since
        }
        self.cells = {}
        for usage in self.window_rows.values():
            assert usage.session is not None
            self.cells.setdefault((usage.session, usage.model), UsageTotals()).add(usage.totals)
        self.since = since
        if self.cursor is None or self.cursor < since:
            self.cursor = since
        self.pending = {row_id: stamp for row_id, stamp in self.pending.items() if stamp >= since}
        return True

    def advance(self) -> None:
        """Move the cursor after a complete refresh; forget counted rows behind it."""
        if self.newest is None:
            return
        candidate = self.newest - self.overlap
        horizon = self.newest - self.stale_after
        for row_id, stamp in list(self.pending.items()):
            if stamp < horizon:
                del self.pending[row_id]  # stuck in processing: stop pinning the cursor
            elif stamp < candidate:
                candidate = stamp
        if self.cursor is not None and candidate < self.cursor:
            candidate = self.cursor
        self.cursor = candidate
        for row_id, stamp in list(self.counted.items()):
            if stamp < candidate:
                del self.counted[row_id]

    @property
    def sessions(self) -> set[str]:
        return {session for session, _ in self.cells}
