"""Bifrost-compatible read API over the request log, plus Heimdall's budget endpoint.

Same paths, query parameters, response shapes and 400 messages as Bifrost v2.x (the subset is in
docs/gateways.md, Embedded gateway; Bifrost's side in docs/bifrost-api.md, Logs API), so one
client reads either. Everything under `/api/` requires `Authorization: Bearer <gateway token>`,
checked before these handlers run (`server/auth.py`); the SQL is in `server/queries.py`.

| Route | Notes |
|---|---|
| `GET /api/logs` | filters, `limit`/`offset` (exact 400s), `sort_by`, `order` |
| `GET /api/logs/{id}` | one row, unwrapped; 404 `log not found` |
| `GET /api/logs/stats` | `SearchStats` flattened |
| `GET /api/logs/rankings` | per model, `limit` / `all=true`, trends vs the previous window |
| `GET /api/heimdall/budgets`, `POST /api/heimdall/budgets` | per-session budgets |
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from heimdall.server import queries, relay
from heimdall.server.asgi import Scope, Send, bifrost_error, header, read_body, send_json
from heimdall.server.pricing import per_token
from heimdall.server.queries import LogFilter
from heimdall.timefmt import format_rfc3339, parse_rfc3339

if TYPE_CHECKING:
    import sqlite3

    from heimdall.server.context import GatewayContext, GatewaySettings
    from heimdall.server.queries import Order, SortKey
    from heimdall.server.routing import Request
    from heimdall.server.store import LogStore


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


_SORT_KEYS = frozenset(queries.SORT_COLUMNS)
_META_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_PERIOD = re.compile(r"^(\d+)([smhdw])$")
_PERIOD_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_MODELS_TTL_S = 60.0


# -- helpers -----------------------------------------------------------------------------------


def parse_time(value: str) -> float | None:
    """RFC 3339 -> epoch seconds; None when unparsable (Bifrost ignores such a parameter)."""
    try:
        return parse_rfc3339(value).timestamp()
    except ValueError:
        return None


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _go_bool(value: str) -> bool | None:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


class Query:
    """Parsed query string (last value wins, like Go's `QueryArgs.Peek`)."""

    def __init__(self, raw: bytes) -> None:
        self.pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        self.values = dict(self.pairs)

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def log_filter(q: Query, *, now: float) -> LogFilter:
    """The `/api/logs` filter parameters, as Bifrost reads them (bad numbers and times ignored)."""
    flt = LogFilter(
        providers=_list(q.get("providers") or ""),
        models=_list(q.get("models") or ""),
        statuses=_list(q.get("status") or ""),
        objects=_list(q.get("objects") or ""),
        stop_reasons=_list(q.get("stop_reasons") or ""),
        min_latency=_float(q.get("min_latency")),
        max_latency=_float(q.get("max_latency")),
        min_tokens=_float(q.get("min_tokens")),
        max_tokens=_float(q.get("max_tokens")),
        min_cost=_float(q.get("min_cost")),
        max_cost=_float(q.get("max_cost")),
        missing_cost_only=_go_bool(q.get("missing_cost_only") or "") is True,
    )
    request_id = q.get("request_id")
    if request_id:
        flt.request_id = request_id  # one row: the time window does not apply
    else:
        flt.start, flt.end = _time_window(q, now)
    for name, value in q.pairs:
        if not name.startswith("metadata_"):
            continue
        key = name[len("metadata_") :]
        if not _META_KEY.match(key):
            raise BadRequest(f"invalid metadata key: {key}")
        flt.metadata.append((key, value))
    return flt


def _time_window(q: Query, now: float) -> tuple[float | None, float | None]:
    period = q.get("period")
    match = _PERIOD.match(period.strip()) if period else None
    if match:
        return now - int(match.group(1)) * _PERIOD_UNITS[match.group(2)], None
    start, end = q.get("start_time"), q.get("end_time")
    return (parse_time(start) if start else None), (parse_time(end) if end else None)


# -- row -> JSON -------------------------------------------------------------------------------


def log_json(row: sqlite3.Row) -> dict[str, Any]:
    """One `Log` in Bifrost's shape (omitempty fields absent when empty)."""
    stamp = format_rfc3339(row["ts"])
    processing = row["status"] == "processing"
    out: dict[str, Any] = {
        "id": row["id"],
        "parent_request_id": None,
        "timestamp": stamp,
        "object": row["object"],
        "provider": row["provider"],
        "model": row["model"],
        "number_of_retries": 0,
        "fallback_index": 0,
        "selected_key_id": "",
        "selected_key_name": "",
        "virtual_key_id": None,
        "virtual_key_name": None,
        "routing_rule_id": None,
        "routing_rule_name": None,
    }
    if not processing and row["latency_ms"] is not None:
        out["latency"] = row["latency_ms"]
    if not processing and row["cost"]:
        out["cost"] = row["cost"]
    out["status"] = row["status"]
    out["stream"] = bool(row["stream"])
    out["raw_request"] = ""
    out["raw_response"] = ""
    out["is_large_payload_request"] = False
    out["is_large_payload_response"] = False
    out["created_at"] = stamp
    if not processing:
        read, w5, w1 = row["cache_read_tokens"], row["cache_write_5m_tokens"], row["cache_write_1h_tokens"]
        usage: dict[str, Any] = {}
        if row["prompt_tokens"]:
            usage["prompt_tokens"] = row["prompt_tokens"]
        details: dict[str, Any] = {
            "cached_read_tokens": read,
            "cached_write_tokens": w5 + w1,
            "cached_tokens": read,
            "cache_write_tokens": w5 + w1,
        }
        if w5 or w1:
            details["cached_write_token_details"] = {
                "cached_write_tokens_5m": w5,
                "cached_write_tokens_1h": w1,
            }
        usage["prompt_tokens_details"] = details
        if row["output_tokens"]:
            usage["completion_tokens"] = row["output_tokens"]
        usage["total_tokens"] = row["total_tokens"]
        out["token_usage"] = usage
    metadata = json.loads(row["metadata"] or "{}")
    if metadata:
        out["metadata"] = metadata
    if row["stop_reason"]:
        out["stop_reason"] = row["stop_reason"]
    if row["status"] == "error" and (row["error_message"] or row["error_type"]):
        error: dict[str, Any] = {"message": row["error_message"] or ""}
        if row["error_type"]:
            error["type"] = row["error_type"]
        out["error_details"] = {
            "is_bifrost_error": False,
            "status_code": row["http_status"] or 0,
            "error": error,
            "extra_fields": {},
        }
    out["heimdall"] = {
        "requested_model": row["requested_model"],
        "ttfb_ms": row["ttfb_ms"],
        "http_status": row["http_status"],
        "missing_cost": bool(row["missing_cost"]),
        "claude_code_session_id": row["cc_session_id"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "cache_read_tokens": read if not processing else 0,
        "cache_write_5m_tokens": row["cache_write_5m_tokens"],
        "cache_write_1h_tokens": row["cache_write_1h_tokens"],
        "error_message": row["error_message"],
    }
    return out


# -- reads (run on a worker thread) ----------------------------------------------------------


def stats_json(store: LogStore, flt: LogFilter) -> dict[str, Any]:
    row = queries.totals(store, flt)
    terminal = row["terminal"]
    rate = (row["ok"] * 100.0 / terminal) if terminal else 0
    return {
        "total_requests": row["total"],
        "success_rate": rate,
        "user_facing_success_rate": rate,
        "user_facing_total_requests": terminal,
        "average_latency": row["avg_latency"] or 0,
        "total_tokens": row["tokens"],
        "prompt_tokens": row["prompt"],
        "completion_tokens": row["completion"],
        "total_cost": row["cost"],
    }


def _paging(q: Query) -> tuple[int, int]:
    limit, offset = 50, 0
    raw = q.get("limit")
    if raw is not None and raw != "":
        try:
            limit = int(raw)
        except ValueError:
            limit = 50
        else:
            if limit <= 0:
                raise BadRequest("limit must be greater than 0")
            if limit > 1000:
                raise BadRequest("limit cannot exceed 1000")
    raw = q.get("offset")
    if raw is not None and raw != "":
        try:
            offset = int(raw)
        except ValueError:
            offset = 0
        else:
            if offset < 0:
                raise BadRequest("offset cannot be negative")
    return limit, offset


def search_logs(store: LogStore, q: Query, now: float) -> dict[str, Any]:
    limit, offset = _paging(q)
    flt = log_filter(q, now=now)
    sort_by = q.get("sort_by") or "timestamp"
    if sort_by not in _SORT_KEYS:
        sort_by = "timestamp"
    order = q.get("order") or "desc"
    if order not in ("asc", "desc"):
        order = "desc"
    rows = queries.page(
        store, flt, sort_by=cast("SortKey", sort_by), order=cast("Order", order), limit=limit, offset=offset
    )
    return {
        "logs": [log_json(r) for r in rows],
        "pagination": {
            "limit": limit,
            "offset": offset,
            "sort_by": sort_by,
            "order": order,
            "total_count": queries.count(store, flt),
        },
        "stats": stats_json(store, flt),
        "has_logs": queries.has_logs(store),
    }


def stats(store: LogStore, q: Query, now: float) -> dict[str, Any]:
    return stats_json(store, log_filter(q, now=now))


def _trend(current: float, previous: float) -> float:
    return ((current - previous) * 100.0 / previous) if previous else 0


def rankings(store: LogStore, q: Query, now: float) -> dict[str, Any]:
    limit: int | None = 100
    raw_all = q.get("all")
    if raw_all is not None and raw_all != "":
        flag = _go_bool(raw_all)
        if flag is None:
            raise BadRequest(f"Invalid all: {raw_all}. Expected a boolean")
        if flag:
            limit = None
    raw_limit = q.get("limit")
    if raw_limit is not None and raw_limit != "" and limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if limit <= 0:
            raise BadRequest(
                f"Invalid limit: {raw_limit}. Expected a positive integer, or all=true for no limit"
            )
    flt = log_filter(q, now=now)
    rows = queries.per_model(store, flt)
    previous: dict[tuple[str, str], sqlite3.Row] = {}
    if flt.start is not None and flt.end is not None and flt.end > flt.start:
        # The window of the same length just before this one, same other filters.
        span = flt.end - flt.start
        prev = replace(flt, start=flt.start - span, end=None, before=flt.start)
        for r in queries.per_model(store, prev):
            previous[(r["model"], r["provider"])] = r
    out = []
    for r in rows[: limit if limit is not None else len(rows)]:
        p = previous.get((r["model"], r["provider"]))
        out.append(
            {
                "model": r["model"],
                "provider": r["provider"],
                "total_requests": r["requests"],
                "success_count": r["ok"],
                "success_rate": (r["ok"] * 100.0 / r["terminal"]) if r["terminal"] else 0,
                "total_tokens": r["tokens"],
                "total_cost": r["cost"],
                "avg_latency": r["latency"] or 0,
                "trend": {
                    "has_previous_period": p is not None,
                    "requests_trend": _trend(r["requests"], p["requests"]) if p else 0,
                    "tokens_trend": _trend(r["tokens"], p["tokens"]) if p else 0,
                    "cost_trend": _trend(r["cost"], p["cost"]) if p else 0,
                    "latency_trend": _trend(r["latency"] or 0, p["latency"] or 0) if p else 0,
                },
            }
        )
    return {"rankings": out}


def one_log(store: LogStore, log_id: str) -> dict[str, Any]:
    if not log_id:
        raise BadRequest("log id is required")
    row = queries.one(store, log_id)
    if row is None:
        raise BadRequest("log not found", 404)
    return log_json(row)


def budgets_json(store: LogStore, config: GatewaySettings) -> dict[str, Any]:
    sessions = sorted(set(store.budgets) | set(store.session_spend))
    return {
        "default_session_budget_usd": config.session_budget_usd,
        "daily_budget_usd": config.daily_budget_usd,
        "spent_today_usd": store.spent_today(),
        "sessions": [
            {
                "session": s,
                "max_usd": store.budgets.get(s, config.session_budget_usd),
                "explicit": s in store.budgets,
                "spent_usd": store.spent(s),
            }
            for s in sessions
        ],
    }


def budget_update(store: LogStore, config: GatewaySettings, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise BadRequest(f"invalid JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest('body must be a JSON object: {"session": "<id>", "max_usd": <number|null>}')
    session = data.get("session")
    if not isinstance(session, str) or not session.strip():
        raise BadRequest("session is required (the x-bf-lh-session value)")
    if "max_usd" not in data:
        raise BadRequest("max_usd is required (a number of USD, or null to remove the budget)")
    max_usd = data["max_usd"]
    if max_usd is not None and (
        isinstance(max_usd, bool)
        or not isinstance(max_usd, int | float)
        or not math.isfinite(max_usd)
        or max_usd < 0
    ):
        raise BadRequest("max_usd must be a non-negative number or null")
    store.set_budget(session, None if max_usd is None else float(max_usd))
    return {
        "session": session,
        "max_usd": store.budgets.get(session, config.session_budget_usd),
        "spent_usd": store.spent(session),
    }


# -- handlers (the route table is in server/app.py; auth is checked before these run) ----------


async def _answer(send: Send, compute: Callable[[], dict[str, Any]], *, on_thread: bool) -> None:
    """200 with `compute()`'s JSON; its BadRequest as Bifrost's 400/404, anything else as 500."""
    try:
        result = await asyncio.to_thread(compute) if on_thread else compute()
    except BadRequest as exc:
        await send_json(send, exc.status, bifrost_error(exc.status, str(exc)))
        return
    except Exception as exc:
        await send_json(send, 500, bifrost_error(500, f"Search failed: {exc}"))
        return
    await send_json(send, 200, result)


def _query(request: Request) -> Query:
    return Query(request.scope.get("query_string") or b"")


async def logs(ctx: GatewayContext, request: Request) -> None:
    q, now = _query(request), ctx.clock.wall()
    await _answer(request.send, lambda: search_logs(ctx.store, q, now), on_thread=True)


async def logs_stats(ctx: GatewayContext, request: Request) -> None:
    q, now = _query(request), ctx.clock.wall()
    await _answer(request.send, lambda: stats(ctx.store, q, now), on_thread=True)


async def logs_rankings(ctx: GatewayContext, request: Request) -> None:
    q, now = _query(request), ctx.clock.wall()
    await _answer(request.send, lambda: rankings(ctx.store, q, now), on_thread=True)


async def log_by_id(ctx: GatewayContext, request: Request) -> None:
    await _answer(request.send, lambda: one_log(ctx.store, request.param), on_thread=True)


async def budgets(ctx: GatewayContext, request: Request) -> None:
    await _answer(request.send, lambda: budgets_json(ctx.store, ctx.config), on_thread=False)


async def set_budget(ctx: GatewayContext, request: Request) -> None:
    body = await read_body(request.receive)
    await _answer(request.send, lambda: budget_update(ctx.store, ctx.config, body), on_thread=False)


# -- /v1/models (Bifrost's OpenAI-style list, with prices) ------------------------------------


async def _upstream_models(ctx: GatewayContext, scope: Scope) -> list[dict[str, Any]] | None:
    cache, now = ctx.models, ctx.clock.monotonic()
    if cache.fetched_at is not None and now - cache.fetched_at < _MODELS_TTL_S:
        return cache.models
    headers = {"anthropic-version": "2023-06-01", **ctx.auth.upstream_headers(scope)}
    try:
        response = await ctx.upstream.client.get(
            ctx.upstream.base_url + "/v1/models", params={"limit": "1000"}, headers=headers, timeout=5
        )
        data = response.json().get("data") if response.status_code == 200 else None
    except Exception:
        data = None
    cache.fetched_at = now
    if not isinstance(data, list):
        cache.models = None  # don't ask a failing upstream on every call
        return None
    cache.models = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
    return cache.models


def _created(value: Any) -> int | None:
    if isinstance(value, str):
        ts = parse_time(value)
        return int(ts) if ts is not None else None
    return None


async def models(ctx: GatewayContext, request: Request) -> None:
    """`GET /v1/models`: Anthropic clients (they send `anthropic-version`) get the upstream's own
    list; anyone else gets Bifrost's OpenAI-style list with prices."""
    scope = request.scope
    if header(scope, b"anthropic-version") is not None:
        await relay.list_models(ctx, request)
        return
    started = ctx.clock.monotonic()
    upstream = await _upstream_models(ctx, scope)
    entries: list[dict[str, Any]] = []
    source = upstream if upstream is not None else [{"id": m} for m in ctx.pricing.known_models()]
    for m in source:
        model_id = m["id"]
        entry: dict[str, Any] = {"id": f"anthropic/{model_id}"}
        if m.get("display_name"):
            entry["name"] = m["display_name"]
        created = _created(m.get("created_at"))
        if created is not None:
            entry["created"] = created
        if isinstance(m.get("max_input_tokens"), int):
            entry["max_input_tokens"] = m["max_input_tokens"]
            entry["context_length"] = m["max_input_tokens"]
        if isinstance(m.get("max_tokens"), int):
            entry["max_output_tokens"] = m["max_tokens"]
        rates = ctx.pricing.rates(model_id)
        if rates is not None:
            pricing = {
                "prompt": per_token(rates.input),
                "completion": per_token(rates.output),
                "input_cache_read": per_token(rates.cache_read),
                "input_cache_write": per_token(rates.cache_write),
            }
            entry["pricing"] = {k: v for k, v in pricing.items() if v is not None}
        entry["owned_by"] = "anthropic"
        entries.append(entry)
    latency = int((ctx.clock.monotonic() - started) * 1000)
    await send_json(
        request.send,
        200,
        {
            "data": entries,
            "extra_fields": {"request_type": "list_models", "latency": latency, "chunk_index": 0},
        },
    )

