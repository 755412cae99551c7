"""A Bifrost fake that follows the documented HTTP contract (v1.5+ / v2.x shapes), for tests.

Bifrost is a Go binary that cannot be installed offline, so tests talk to this instead. It is
built from the contract, not from what the client happens to send: paths, query parameters,
exact 400 texts and silent defaults of `/api/logs`, error envelopes (management, inference,
Anthropic: docs/bifrost-api.md, Errors), log rows that are `processing` first and terminal a
little later, cost from its own price table (docs/bifrost-api.md, Cost), governance v1.5+
deny-by-default rules, admin Basic/Bearer auth, Go-style JSON (compact, `<>&` escaped, trailing
newline).

Inference answers canned Anthropic replies itself (JSON or SSE). Test hooks are Python
attributes: `usage` (per request, or `usage_by_model`), `auto_complete` / `complete_pending()`,
`inject(path_prefix, mode)` for faults, `requests` (every request seen).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class FakeUsage:
    input_tokens: int = 1200
    output_tokens: int = 345
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class FakePrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float


PRICES: dict[str, FakePrice] = {
    "claude-sonnet-4-5-20250929": FakePrice(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5-20251001": FakePrice(1.0, 5.0, 0.10, 1.25),
}
MODEL_NAMES = {
    "claude-sonnet-4-5-20250929": "Claude Sonnet 4.5",
    "claude-haiku-4-5-20251001": "Claude Haiku 4.5",
}


def fake_cost(model: str, usage: FakeUsage, prices: dict[str, FakePrice] = PRICES) -> float:
    """Uncached in x input + read x read + write x creation + out x output, per token
    (docs/bifrost-api.md, Cost)."""
    price = prices.get(model)
    if price is None:
        return 0.0
    return (
        usage.input_tokens * price.input
        + usage.cache_read_input_tokens * price.cache_read
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.output_tokens * price.output
    ) / 1_000_000


def go_time(moment: datetime) -> str:
    """Go's RFC3339Nano: UTC `Z`, fractional seconds with trailing zeros trimmed."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{moment.microsecond:06d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"


def go_json(value: Any) -> bytes:
    """`json.NewEncoder` output: compact, HTML characters escaped, trailing newline."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return (text + "\n").encode()


def parse_go_time(value: str) -> datetime | None:
    """RFC3339 / RFC3339Nano as Go parses it; None when unparsable (callers ignore silently)."""
    m = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})", value
    )
    if not m:
        return None
    frac = ((m.group(3) or "") + "000000")[:6]
    zone = "+00:00" if m.group(4) in ("Z", "z") else m.group(4)
    try:
        return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{frac}{zone}").astimezone(UTC)
    except ValueError:
        return None


ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    422: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
RESET_DURATION = re.compile(r"^\d+(s|m|h|d|w|M|Q|Y)$")


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def management_error(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "is_bifrost_error": False,
        "status_code": status,
        "error": {"message": message},
        "extra_fields": {},
    }
    if kind:
        body = {"type": kind, **body}
    return body


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    default = "api_error" if status >= 500 else "invalid_request_error"
    return {
        "type": "error",
        "error": {"type": ANTHROPIC_ERROR_TYPES.get(status, default), "message": message},
    }


@dataclass
class Fault:
    mode: str
    """"500" | "malformed" | "slow" | "missing_field" | "drop" (close without answering)."""
    times: int = 1
    seconds: float = 3.0


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeState:
    logs: list[dict[str, Any]] = field(default_factory=list)
    vks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    pc_counter: int = 0


class BifrostFake:
    """A threaded HTTP server on 127.0.0.1 speaking the Bifrost contract."""

    def __init__(
        self,
        *,
        admin: tuple[str, str] | None = None,
        enforce_vk: bool = False,
        complete_delay: float = 0.05,
        auto_complete: bool = True,
        prices: dict[str, FakePrice] | None = None,
        version: str = "v2.2.5",
        port: int = 0,
    ) -> None:
        self.port = port
        self.admin = admin
        """(username, password) turns on dashboard auth for /api/*; None leaves it off."""
        self.enforce_vk = enforce_vk
        self.complete_delay = complete_delay
        self.auto_complete = auto_complete
        self.prices = dict(PRICES if prices is None else prices)
        self.detail_prices: dict[str, FakePrice] | None = None
        """Prices `/api/models/details` reports when they differ from the cost engine's (tests)."""
        self.version = version
        self.usage = FakeUsage()
        self.usage_by_model: dict[str, FakeUsage] = {}
        self.state = FakeState()
        self.requests: list[SeenRequest] = []
        self.faults: dict[str, Fault] = {}
        self.lock = threading.RLock()
        self._pending: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="bifrost-fake", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BifrostFake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test hooks ----------------------------------------------------------------------------

    def inject(self, path_prefix: str, mode: str, *, times: int = 1, seconds: float = 3.0) -> None:
        with self.lock:
            self.faults[path_prefix] = Fault(mode, times, seconds)

    def count(self, path: str, method: str = "GET") -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path and r.method == method)

    def complete_pending(self) -> int:
        """Finish every `processing` row now (when `auto_complete` is False)."""
        with self.lock:
            pending, self._pending = self._pending, []
        for log_id in pending:
            self._complete(log_id)
        return len(pending)

    def add_row(
        self,
        session: str | None,
        model: str,
        *,
        at: datetime,
        status: str = "processing",
        usage: FakeUsage | None = None,
    ) -> str:
        """Insert a log row stamped `at` (a late asynchronous insert, or a request stuck in
        `processing`); complete it later with `complete_pending()` unless `status` is terminal."""
        log_id = str(uuid.uuid4())
        row: dict[str, Any] = {
            "id": log_id,
            "parent_request_id": None,
            "timestamp": go_time(at),
            "object": "responses",
            "provider": "anthropic",
            "model": model,
            "number_of_retries": 0,
            "fallback_index": 0,
            "selected_key_id": "",
            "selected_key_name": "",
            "virtual_key_id": None,
            "virtual_key_name": None,
            "routing_rule_id": None,
            "routing_rule_name": None,
            "status": "processing",
            "stream": False,
            "raw_request": "",
            "raw_response": "",
            "is_large_payload_request": False,
            "is_large_payload_response": False,
            "created_at": go_time(at),
            "_internal": {
                "vk": None,
                "usage": usage or self.usage,
                "failed": status == "error",
                "started": time.perf_counter(),
            },
        }
        if session is not None:
            row["metadata"] = {"session": session}
        with self.lock:
            self.state.logs.append(row)
            if status == "processing":
                self._pending.append(log_id)
        if status != "processing":
            self._complete(log_id)
        return log_id

    def login_token(self) -> str:
        token = "bf-session-" + uuid.uuid4().hex
        with self.lock:
            self.state.sessions.add(token)
        return token

    def create_vk(self, name: str, *, budget: float | None = None, is_active: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "provider_configs": [
                {"provider": "anthropic", "weight": None, "allowed_models": ["*"], "key_ids": ["*"]}
            ],
            "is_active": is_active,
        }
        if budget is not None:
            body["budgets"] = [{"max_limit": budget, "reset_duration": "1Y"}]
        return self._vk_create(body)

    # -- inference -----------------------------------------------------------------------------

    def _vk_from_headers(self, headers: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
        """(VK, raw value) from x-bf-vk, Bearer sk-bf-*, x-api-key sk-bf-* (docs/bifrost-api.md,
        Authentication)."""
        value = headers.get("x-bf-vk")
        if not value:
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer ") and auth[7:].strip().startswith("sk-bf-"):
                value = auth[7:].strip()
        if not value:
            for name in ("x-api-key", "x-goog-api-key", "api-key"):
                if headers.get(name, "").startswith("sk-bf-"):
                    value = headers[name]
                    break
        if not value:
            return None, None
        with self.lock:
            for vk in self.state.vks.values():
                if vk["value"] == value:
                    return vk, value
        return None, value

    def _governance_check(
        self, headers: dict[str, str], model: str | None, provider: str = "anthropic"
    ) -> dict[str, Any] | None:
        vk, raw = self._vk_from_headers(headers)
        if raw is not None and vk is None:
            raise _HTTPError(401, "virtual key not found", kind="access_not_found")
        if vk is None:
            if self.enforce_vk:
                raise _HTTPError(401, "virtual key is required", kind="virtual_key_required")
            return None
        if not vk["is_active"]:
            raise _HTTPError(403, "virtual key is inactive", kind="access_blocked")
        configs = vk.get("provider_configs") or []
        config = next((pc for pc in configs if pc["provider"] == provider), None)
        if config is None:
            raise _HTTPError(
                403, f"provider {provider} is not allowed for this virtual key", kind="provider_blocked"
            )
        allowed = config.get("allowed_models") or []
        if model is not None and allowed != ["*"] and model not in allowed:
            raise _HTTPError(403, f"model {model} is not allowed for this virtual key", kind="model_blocked")
        for budget in vk.get("budgets") or []:
            if budget["current_usage"] >= budget["max_limit"]:
                raise _HTTPError(
                    402,
                    f"Budget exceeded: {budget['current_usage']:.4f} >= {budget['max_limit']:.4f} dollars",
                    kind="budget_exceeded",
                )
        return vk

    def messages(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes, str | None]:
        """POST /anthropic/v1/messages -> (status, headers, body, log id)."""
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return 400, {}, go_json(anthropic_error(400, "invalid JSON body")), None
        model_field = str(body.get("model") or "")
        provider, _, bare = (
            model_field.partition("/") if "/" in model_field else ("anthropic", "", model_field)
        )
        try:
            vk = self._governance_check(headers, bare, provider)
        except _HTTPError as exc:
            return exc.status, {}, go_json(anthropic_error(exc.status, exc.message)), None
        stream = bool(body.get("stream"))
        metadata = {k[len("x-bf-lh-") :].lower(): v for k, v in headers.items() if k.startswith("x-bf-lh-")}
        text = json.dumps(body.get("messages", ""))
        now = datetime.now(UTC)
        log_id = headers.get("x-request-id") or str(uuid.uuid4())
        row: dict[str, Any] = {
            "id": log_id,
            "parent_request_id": None,
            "timestamp": go_time(now),
            "object": "responses_stream" if stream else "responses",
            "provider": provider,
            "model": bare,
            "number_of_retries": 0,
            "fallback_index": 0,
            "selected_key_id": "",
            "selected_key_name": "",
            "virtual_key_id": None,
            "virtual_key_name": None,
            "routing_rule_id": None,
            "routing_rule_name": None,
            "status": "processing",
            "stream": stream,
            "raw_request": "",
            "raw_response": "",
            "is_large_payload_request": False,
            "is_large_payload_response": False,
            "created_at": go_time(now),
        }
        if metadata:
            row["metadata"] = metadata
        usage = self.usage_by_model.get(bare, self.usage)
        failed = "FAKE_ERROR_500" in text
        with self.lock:
            self.state.logs.append(row)
            row["_internal"] = {
                "vk": vk["id"] if vk else None,
                "usage": usage,
                "failed": failed,
                "started": time.perf_counter(),
            }
        if self.auto_complete:
            timer = threading.Timer(self.complete_delay, self._complete, args=(log_id,))
            timer.daemon = True
            timer.start()
        else:
            with self.lock:
                self._pending.append(log_id)
        if failed:
            return 500, {}, go_json(anthropic_error(500, "upstream failed (FAKE_ERROR_500)")), log_id
        message = _message(bare, usage, f"FAKE-REPLY from model={bare}")
        if stream:
            return 200, {"content-type": "text/event-stream"}, _sse(message), log_id
        return 200, {"content-type": "application/json"}, go_json(message), log_id

    def _complete(self, log_id: str) -> None:
        with self.lock:
            row = next((r for r in self.state.logs if r["id"] == log_id), None)
            if row is None or row["status"] != "processing":
                return
            internal = row["_internal"]
            usage: FakeUsage = internal["usage"]
            row["latency"] = round((time.perf_counter() - internal["started"]) * 1000, 1)
            vk = self.state.vks.get(internal["vk"]) if internal["vk"] else None
            if vk is not None:
                row["virtual_key_id"], row["virtual_key_name"] = vk["id"], vk["name"]
            if internal["failed"]:
                row["status"] = "error"
                row["error_details"] = management_error(500, "upstream failed (FAKE_ERROR_500)")
                return
            prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
            row["token_usage"] = {
                "prompt_tokens": prompt,
                "prompt_tokens_details": {
                    "cached_read_tokens": usage.cache_read_input_tokens,
                    "cached_write_tokens": usage.cache_creation_input_tokens,
                    "cached_tokens": usage.cache_read_input_tokens,
                    "cache_write_tokens": usage.cache_creation_input_tokens,
                },
                "completion_tokens": usage.output_tokens,
                "total_tokens": prompt + usage.output_tokens,
            }
            cost = fake_cost(row["model"], usage, self.prices)
            if cost:  # Go omitempty: a zero cost is absent
                row["cost"] = cost
            row["status"] = "success"
            if vk is not None:
                for budget in vk.get("budgets") or []:
                    budget["current_usage"] += cost
                    budget["updated_at"] = go_time(datetime.now(UTC))
                if vk.get("rate_limit"):
                    vk["rate_limit"]["request_current_usage"] += 1
                    vk["rate_limit"]["token_current_usage"] += prompt + usage.output_tokens

    # -- models --------------------------------------------------------------------------------

    def model_list(self) -> list[dict[str, Any]]:
        out = []
        for model, price in self.prices.items():
            out.append(
                {
                    "id": f"anthropic/{model}",
                    "name": MODEL_NAMES.get(model, model),
                    "created": 1759104000,
                    "context_length": 200000,
                    "pricing": {
                        "prompt": _per_token(price.input),
                        "completion": _per_token(price.output),
                        "input_cache_read": _per_token(price.cache_read),
                        "input_cache_write": _per_token(price.cache_write),
                    },
                    "owned_by": "anthropic",
                }
            )
        out.append({"id": "openai/gpt-5.5", "name": "GPT-5.5", "owned_by": "openai"})
        return out

    def v1_models(self, headers: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
        vk = self._governance_check(headers, None) if self._vk_from_headers(headers)[1] else None
        models = self.model_list()
        if vk is not None:
            allowed = {pc["provider"] for pc in vk.get("provider_configs") or []}
            if query.get("provider") and query["provider"] not in allowed:
                raise _HTTPError(
                    403,
                    f"provider {query['provider']} is not allowed for this virtual key",
                    kind="provider_blocked",
                )
            models = [m for m in models if m["id"].split("/")[0] in allowed]
        if query.get("provider"):
            models = [m for m in models if m["id"].split("/")[0] == query["provider"]]
        body: dict[str, Any] = {
            "data": models,
            "extra_fields": {"request_type": "list_models", "latency": 3, "chunk_index": 0},
        }
        try:
            size = int(query.get("page_size") or 0)
        except ValueError:
            size = 0
        if size > 0:
            offset = 0
            token = query.get("page_token")
            if token:
                try:
                    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                    offset = int(decoded["o"])
                    if offset > 0 and (offset > len(models) or models[offset - 1]["id"] != decoded["l"]):
                        offset = 0  # last-id mismatch restarts at 0
                except (ValueError, KeyError, TypeError):
                    offset = 0
            page = models[offset : offset + size]
            body["data"] = page
            if offset + size < len(models) and page:
                raw = json.dumps({"o": offset + size, "l": page[-1]["id"]}, separators=(",", ":")).encode()
                body["next_page_token"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return body

    # -- logs ----------------------------------------------------------------------------------

    def filter_logs(self, query: dict[str, str], multi: list[tuple[str, str]]) -> list[dict[str, Any]]:
        def lst(name: str) -> set[str] | None:
            raw = query.get(name)
            if raw is None:
                return None
            items = {part.strip() for part in raw.split(",") if part.strip()}
            return items or None

        def num(name: str) -> float | None:
            try:
                return float(query[name]) if name in query else None
            except ValueError:
                return None  # unparsable -> silently ignored

        start = parse_go_time(query.get("start_time", "")) if query.get("start_time") else None
        end = parse_go_time(query.get("end_time", "")) if query.get("end_time") else None
        providers, models, statuses, objects, vks = (
            lst(n) for n in ("providers", "models", "status", "objects", "virtual_key_ids")
        )
        min_cost, max_cost = num("min_cost"), num("max_cost")
        min_tokens, max_tokens = num("min_tokens"), num("max_tokens")
        min_lat, max_lat = num("min_latency"), num("max_latency")
        metadata = [(k[len("metadata_") :], v) for k, v in multi if k.startswith("metadata_")]
        missing_cost = query.get("missing_cost_only", "").lower() == "true"
        request_id = query.get("request_id")
        out = []
        with self.lock:
            rows = list(self.state.logs)
        for row in rows:
            stamp = parse_go_time(row["timestamp"])
            assert stamp is not None
            if request_id:
                if row["id"] != request_id:
                    continue
            else:
                if start and stamp < start:
                    continue
                if end and stamp > end:
                    continue
            if providers and row["provider"] not in providers:
                continue
            if models and row["model"] not in models:
                continue
            if statuses and row["status"] not in statuses:
                continue
            if objects and row["object"] not in objects:
                continue
            if vks and row.get("virtual_key_id") not in vks:
                continue
            cost = row.get("cost")
            if min_cost is not None and (cost is None or cost < min_cost):
                continue
            if max_cost is not None and (cost is None or cost > max_cost):
                continue
            if missing_cost and (cost is not None or row["status"] != "success"):
                continue
            tokens = (row.get("token_usage") or {}).get("total_tokens")
            if min_tokens is not None and (tokens is None or tokens < min_tokens):
                continue
            if max_tokens is not None and (tokens is None or tokens > max_tokens):
                continue
            latency = row.get("latency")
            if min_lat is not None and (latency is None or latency < min_lat):
                continue
            if max_lat is not None and (latency is None or latency > max_lat):
                continue
            meta = row.get("metadata") or {}
            if any(meta.get(k) != v for k, v in metadata):
                continue
            out.append(row)
        return out

    def stats(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        terminal = [r for r in rows if r["status"] != "processing"]
        success = [r for r in terminal if r["status"] == "success"]
        latencies = [r["latency"] for r in terminal if "latency" in r]
        return {
            "total_requests": len(rows),
            "success_rate": (len(success) / len(terminal) * 100) if terminal else 0,
            "user_facing_success_rate": (len(success) / len(terminal) * 100) if terminal else 0,
            "user_facing_total_requests": len(rows),
            "average_latency": (sum(latencies) / len(latencies)) if latencies else 0,
            "total_tokens": sum((r.get("token_usage") or {}).get("total_tokens", 0) for r in terminal),
            "prompt_tokens": sum((r.get("token_usage") or {}).get("prompt_tokens", 0) for r in terminal),
            "completion_tokens": sum(
                (r.get("token_usage") or {}).get("completion_tokens", 0) for r in terminal
            ),
            "total_cost": sum(r.get("cost", 0.0) for r in terminal),
        }

    def search_logs(self, query: dict[str, str], multi: list[tuple[str, str]]) -> dict[str, Any]:
        limit, offset = 50, 0
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                limit = 50  # non-integer -> ignored
            else:
                if limit <= 0:
                    raise _HTTPError(400, "limit must be greater than 0")
                if limit > 1000:
                    raise _HTTPError(400, "limit cannot exceed 1000")
        if "offset" in query:
            try:
                offset = int(query["offset"])
            except ValueError:
                offset = 0
            else:
                if offset < 0:
                    raise _HTTPError(400, "offset cannot be negative")
        sort_by = query.get("sort_by", "timestamp")
        if sort_by not in ("timestamp", "latency", "tokens", "cost"):
            sort_by = "timestamp"
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            order = "desc"
        rows = self.filter_logs(query, multi)

        def key(row: dict[str, Any]) -> Any:
            if sort_by == "latency":
                return row.get("latency", 0)
            if sort_by == "tokens":
                return (row.get("token_usage") or {}).get("total_tokens", 0)
            if sort_by == "cost":
                return row.get("cost", 0)
            return parse_go_time(row["timestamp"])

        ordered = sorted(rows, key=key, reverse=order == "desc")  # stable: ties keep insert order
        page = [self._public_row(r) for r in ordered[offset : offset + limit]]
        with self.lock:
            has_logs = bool(self.state.logs)
        return {
            "logs": page,
            "pagination": {
                "limit": limit,
                "offset": offset,
                "sort_by": sort_by,
                "order": order,
                "total_count": len(rows),
            },
            "stats": self.stats(rows),
            "has_logs": has_logs,
        }

    def _public_row(self, row: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            out = {k: v for k, v in row.items() if k != "_internal"}
            out = json.loads(json.dumps(out))
            vk = self.state.vks.get(row.get("virtual_key_id") or "")
            if row.get("virtual_key_id"):
                if vk is None:
                    out["virtual_key"] = {
                        "id": "",
                        "name": f"{row['virtual_key_name']} (deleted)",
                        "value": "",
                        "is_active": False,
                        "provider_configs": None,
                        "mcp_configs": None,
                        "calendar_aligned": False,
                        "config_hash": "",
                        "created_at": "0001-01-01T00:00:00Z",
                        "updated_at": "0001-01-01T00:00:00Z",
                    }
                else:
                    out["virtual_key"] = {
                        "id": vk["id"],
                        "name": vk["name"],
                        "value": "<masked>",
                        "is_active": vk["is_active"],
                        "provider_configs": None,
                        "mcp_configs": None,
                        "calendar_aligned": False,
                        "config_hash": "",
                        "created_at": vk["created_at"],
                        "updated_at": vk["updated_at"],
                    }
        return out

    def rankings(self, query: dict[str, str], multi: list[tuple[str, str]]) -> dict[str, Any]:
        limit: int | None = 100
        if "all" in query:
            if query["all"].lower() not in ("true", "false", "1", "0"):
                raise _HTTPError(400, f"Invalid all: {query['all']}. Expected a boolean")
            if query["all"].lower() in ("true", "1"):
                limit = None
        if limit is not None and "limit" in query:
            try:
                limit = int(query["limit"])
                if limit <= 0:
                    raise ValueError
            except ValueError:
                raise _HTTPError(
                    400,
                    f"Invalid limit: {query['limit']}. Expected a positive integer, or all=true for no limit",
                ) from None
        rows = [r for r in self.filter_logs(query, multi) if r["status"] != "processing"]
        by_model: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            by_model.setdefault((row["model"], row["provider"]), []).append(row)
        rankings = []
        for (model, provider), group in by_model.items():
            ok = [r for r in group if r["status"] == "success"]
            lat = [r["latency"] for r in group if "latency" in r]
            rankings.append(
                {
                    "model": model,
                    "provider": provider,
                    "total_requests": len(group),
                    "success_count": len(ok),
                    "success_rate": len(ok) / len(group) * 100,
                    "total_tokens": sum((r.get("token_usage") or {}).get("total_tokens", 0) for r in group),
                    "total_cost": sum(r.get("cost", 0.0) for r in group),
                    "avg_latency": sum(lat) / len(lat) if lat else 0,
                    "trend": {
                        "has_previous_period": False,
                        "requests_trend": 0,
                        "tokens_trend": 0,
                        "cost_trend": 0,
                        "latency_trend": 0,
                    },
                }
            )
        rankings.sort(key=lambda r: r["total_requests"], reverse=True)
        return {"rankings": rankings[:limit] if limit else rankings}

    # -- governance ----------------------------------------------------------------------------

    def _budget(self, spec: dict[str, Any], vk_id: str) -> dict[str, Any]:
        now = go_time(datetime.now(UTC))
        max_limit = spec.get("max_limit")
        if not isinstance(max_limit, (int, float)):
            raise _HTTPError(500, "budget max_limit is required")
        if max_limit < 0:
            raise _HTTPError(400, f"Budget max_limit cannot be negative: {max_limit:.2f}")
        duration = spec.get("reset_duration", "")
        if not isinstance(duration, str) or not RESET_DURATION.match(duration):
            raise _HTTPError(400, f"Invalid reset duration format: {duration}")
        return {
            "id": str(uuid.uuid4()),
            "max_limit": max_limit,
            "reset_duration": duration,
            "last_reset": now,
            "current_usage": 0.0,
            "virtual_key_id": vk_id,
            "config_hash": "",
            "created_at": now,
            "updated_at": now,
        }

    def _check_budgets(self, budgets: list[dict[str, Any]]) -> None:
        seen: set[str] = set()
        for spec in budgets:
            duration = spec.get("reset_duration")
            if duration in seen:
                raise _HTTPError(400, f"Duplicate reset_duration in budgets: {duration}")
            seen.add(str(duration))

    def _provider_configs(self, specs: Any, vk_id: str) -> list[dict[str, Any]]:
        if specs is None:
            return []
        out = []
        for spec in specs:
            for list_name in ("allowed_models", "key_ids"):
                items = spec.get(list_name) or []
                if "*" in items and len(items) > 1:
                    raise _HTTPError(400, f"wildcard '*' cannot be mixed with other values in {list_name}")
                if len(set(items)) != len(items):
                    raise _HTTPError(400, f"duplicate values in {list_name}")
            with self.lock:
                self.state.pc_counter += 1
                pc_id = self.state.pc_counter
            out.append(
                {
                    "id": pc_id,
                    "virtual_key_id": vk_id,
                    "provider": spec["provider"],
                    "weight": spec.get("weight"),
                    "allowed_models": list(spec.get("allowed_models") or []),
                    "allow_all_keys": (spec.get("key_ids") or []) == ["*"],
                    "keys": [],
                }
            )
        return out

    def _vk_create(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _HTTPError(400, "Virtual key name is required")
        if body.get("team_id") and body.get("customer_id"):
            raise _HTTPError(400, "VirtualKey cannot be attached to both Team and Customer")
        budgets = body.get("budgets") or []
        self._check_budgets(budgets)
        with self.lock:
            if any(vk["name"] == name for vk in self.state.vks.values()):
                raise _HTTPError(500, "UNIQUE constraint failed: governance_virtual_keys.name")
            vk_id = str(uuid.uuid4())
            now = go_time(datetime.now(UTC))
            vk: dict[str, Any] = {
                "id": vk_id,
                "name": name,
                "value": f"sk-bf-{uuid.uuid4()}",
                "is_active": body.get("is_active", True),
                "mcp_configs": [],
                "calendar_aligned": False,
                "provider_configs": self._provider_configs(body.get("provider_configs"), vk_id),
                "config_hash": "",
                "created_at": now,
                "updated_at": now,
            }
            if body.get("description"):
                vk["description"] = body["description"]
            built = [self._budget(spec, vk_id) for spec in budgets]
            if built:
                vk["budgets"] = built
            self.state.vks[vk_id] = vk
            return json.loads(json.dumps(vk))

    def vk_update(self, vk_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            vk = self.state.vks.get(vk_id)
            if vk is None:
                raise _HTTPError(404, "Virtual key not found")
            if "is_active" in body:
                vk["is_active"] = bool(body["is_active"])
            if "description" in body:
                vk["description"] = body["description"]
            if "budgets" in body:  # replaces the set; usage kept by reset_duration
                self._check_budgets(body["budgets"] or [])
                old = {b["reset_duration"]: b for b in vk.get("budgets") or []}
                new = []
                for spec in body["budgets"] or []:
                    budget = self._budget(spec, vk_id)
                    if spec.get("reset_duration") in old and not body.get("reset_budget_usage"):
                        budget["current_usage"] = old[spec["reset_duration"]]["current_usage"]
                        budget["id"] = old[spec["reset_duration"]]["id"]
                    new.append(budget)
                vk["budgets"] = new
            vk["updated_at"] = go_time(datetime.now(UTC))
            return json.loads(json.dumps(vk))

    def quota(self, headers: dict[str, str]) -> dict[str, Any]:
        vk, raw = self._vk_from_headers(headers)
        if vk is None:
            raise _HTTPError(401, "virtual key not found" if raw else "virtual key is required")
        with self.lock:
            pcs = [dict(pc, keys=None) for pc in vk.get("provider_configs") or []]
            return {
                "virtual_key_name": vk["name"],
                "is_active": vk["is_active"],
                "budgets": list(vk.get("budgets") or []) or None,
                "rate_limit": vk.get("rate_limit"),
                "provider_configs": pcs or None,
            }

    # -- auth ----------------------------------------------------------------------------------

    def admin_ok(self, headers: dict[str, str]) -> bool:
        if self.admin is None:
            return True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == self.admin
        if auth.lower().startswith("bearer "):
            with self.lock:
                return auth[7:].strip() in self.state.sessions
        return False


def _per_token_float(per_mtok: float) -> float:
    """USD per token as Go would print the datasheet value (shortest repr, e.g. 8e-07)."""
    return float(Decimal(repr(per_mtok)) / 1_000_000)


def _per_token(per_mtok: float) -> str:
    return format(per_mtok / 1_000_000, ".12f").rstrip("0").rstrip(".")


def _message(model: str, usage: FakeUsage, text: str) -> dict[str, Any]:
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "output_tokens": usage.output_tokens,
        },
    }


def _sse(message: dict[str, Any]) -> bytes:
    start = dict(message, content=[], stop_reason=None, usage=dict(message["usage"], output_tokens=1))
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": message["content"][0]["text"]},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


class _Handler(BaseHTTPRequestHandler):
    owner: BifrostFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self, method: str) -> None:
        fake = self.owner
        parts = urlsplit(self.path)
        path = parts.path
        multi = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(multi)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        with fake.lock:
            fake.requests.append(SeenRequest(method, path, query, headers))
            fault = next(
                (f for prefix, f in fake.faults.items() if path.startswith(prefix) and f.times > 0), None
            )
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.mode == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.mode == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.mode == "500":
            self._send(500, go_json(management_error(500, "Search failed: injected fault")))
            return
        if fault is not None and fault.mode == "malformed":
            self._send(200, b'{"logs": [{"id": "x", "status": \n')
            return
        try:
            status, extra, body = self._route(method, path, query, multi, headers, raw)
        except _HTTPError as exc:
            if path.startswith("/anthropic/"):
                status, extra, body = exc.status, {}, go_json(anthropic_error(exc.status, exc.message))
            else:
                status, extra, body = (
                    exc.status,
                    {},
                    go_json(management_error(exc.status, exc.message, exc.kind)),
                )
        if fault is not None and fault.mode == "missing_field" and status == 200:
            data = json.loads(body)
            if isinstance(data, dict):
                for key in ("pagination", "data", "virtual_key"):
                    data.pop(key, None)
            body = go_json(data)
        self._send(status, body, extra)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = headers or {}
        self.send_header("Content-Type", headers.pop("content-type", "application/json"))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        multi: list[tuple[str, str]],
        headers: dict[str, str],
        raw: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        fake = self.owner
        if path == "/health" and method == "GET":
            return 200, {}, go_json({"status": "ok"})
        if path == "/api/info" and method == "GET":
            return 200, {}, go_json({"version": fake.version})
        if path == "/api/session/is-auth-enabled" and method == "GET":
            auth = headers.get("authorization", "")
            valid = fake.admin is not None and auth.lower().startswith("bearer ") and fake.admin_ok(headers)
            return (
                200,
                {},
                go_json(
                    {
                        "is_auth_enabled": fake.admin is not None,
                        "has_valid_token": valid,
                        "auth_type": "password" if fake.admin else "none",
                        "inference_auth_enforced": fake.enforce_vk,
                    }
                ),
            )
        if path == "/api/session/login" and method == "POST":
            if fake.admin is None:
                raise _HTTPError(403, "Authentication is not enabled")
            try:
                creds = json.loads(raw or b"{}")
            except ValueError:
                raise _HTTPError(400, "Invalid JSON") from None
            if (creds.get("username"), creds.get("password")) != fake.admin:
                raise _HTTPError(401, "Invalid username or password")
            return 200, {}, go_json({"message": "Login successful", "token": fake.login_token()})
        if path in ("/anthropic/v1/messages",) and method == "POST":
            status, extra, body, _ = fake.messages(headers, raw)
            return status, extra, body
        if path == "/v1/models" and method == "GET":
            return 200, {}, go_json(fake.v1_models(headers, query))
        if path == "/api/governance/virtual-keys/quota" and method == "GET":
            return 200, {}, go_json(fake.quota(headers))
        if path.startswith("/api/"):
            if not fake.admin_ok(headers):
                raise _HTTPError(401, "Unauthorized")
            return self._management(method, path, query, multi, raw)
        raise _HTTPError(404, f"no route for {method} {path}")

    def _management(
        self, method: str, path: str, query: dict[str, str], multi: list[tuple[str, str]], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        fake = self.owner
        if path == "/api/logs" and method == "GET":
            return 200, {}, go_json(fake.search_logs(query, multi))
        if path == "/api/logs/stats" and method == "GET":
            return 200, {}, go_json(fake.stats(fake.filter_logs(query, multi)))
        if path == "/api/logs/rankings" and method == "GET":
            return 200, {}, go_json(fake.rankings(query, multi))
        if path.startswith("/api/logs/") and method == "GET":
            log_id = path[len("/api/logs/") :]
            if not log_id:
                raise _HTTPError(400, "log id is required")
            with fake.lock:
                row = next((r for r in fake.state.logs if r["id"] == log_id), None)
            if row is None:
                raise _HTTPError(404, "log not found")
            return 200, {}, go_json(fake._public_row(row))
        if path == "/api/models/details" and method == "GET":
            models = [
                {
                    "name": m,
                    "provider": "anthropic",
                    "context_length": 200000,
                    "max_input_tokens": 200000,
                    "max_output_tokens": 64000,
                    "input_cost_per_token": _per_token_float(p.input),
                    "output_cost_per_token": _per_token_float(p.output),
                    "cache_creation_input_token_cost": _per_token_float(p.cache_write),
                    "cache_read_input_token_cost": _per_token_float(p.cache_read),
                }
                for m, p in (fake.detail_prices or fake.prices).items()
            ]
            try:
                limit = int(query.get("limit", "20"))
            except ValueError:
                limit = 20
            return 200, {}, go_json({"models": models[:limit], "total": len(models)})
        if path == "/api/governance/virtual-keys":
            if method == "POST":
                try:
                    body = json.loads(raw or b"")
                    if not isinstance(body, dict):
                        raise ValueError
                except ValueError:
                    raise _HTTPError(400, "Invalid JSON") from None
                vk = fake._vk_create(body)
                return 200, {}, go_json({"message": "Virtual key created successfully", "virtual_key": vk})
            if method == "GET":
                with fake.lock:
                    vks = json.loads(json.dumps(list(fake.state.vks.values())))
                paged = "limit" in query or "offset" in query
                limit, offset = len(vks), 0
                if paged:
                    try:
                        limit = int(query.get("limit", "25"))
                    except ValueError:
                        raise _HTTPError(400, "Invalid limit parameter: must be a number") from None
                    limit = min(max(limit, 1), 100)
                    try:
                        offset = max(int(query.get("offset", "0")), 0)
                    except ValueError:
                        offset = 0
                page = vks[offset : offset + limit]
                return (
                    200,
                    {},
                    go_json(
                        {
                            "virtual_keys": page,
                            "count": len(page),
                            "total_count": len(vks),
                            "limit": limit,
                            "offset": offset,
                        }
                    ),
                )
        m = re.fullmatch(r"/api/governance/virtual-keys/([^/]+)", path)
        if m:
            vk_id = m.group(1)
            if method == "GET":
                with fake.lock:
                    vk = fake.state.vks.get(vk_id)
                    if vk is None:
                        raise _HTTPError(404, "Virtual key not found")
                    return 200, {}, go_json({"virtual_key": vk})
            if method == "PUT":
                try:
                    body = json.loads(raw or b"")
                except ValueError:
                    raise _HTTPError(400, "Invalid JSON") from None
                vk = fake.vk_update(vk_id, body)
                return 200, {}, go_json({"message": "Virtual key updated successfully", "virtual_key": vk})
            if method == "DELETE":
                with fake.lock:
                    if fake.state.vks.pop(vk_id, None) is None:
                        raise _HTTPError(404, "Virtual key not found")
                return 200, {}, go_json({"message": "Virtual key deleted successfully"})
        if path == "/api/governance/budgets" and method == "GET":
            with fake.lock:
                budgets = [b for vk in fake.state.vks.values() for b in vk.get("budgets") or []]
            return 200, {}, go_json({"budgets": budgets, "count": len(budgets)})
        raise _HTTPError(404, f"no route for {method} {path}")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def since_minutes(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
