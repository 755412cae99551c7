"""Bifrost client: models, per-session usage from `/api/logs`, health, per-tab virtual keys.

Contract: Bifrost v1.5.0 - v2.2.x HTTP API (inference under `/anthropic`, management under
`/api/*`). Tabs are told apart by the `x-bf-lh-session: <session id>` header, which Bifrost stores
as log metadata `session`. Usage comes from tailing `/api/logs` (see `logtail` for why and how):
one request per refresh for every tab together.

Credentials come from the keyring (`heimdall.credentials`), never from the config file:
- the virtual key (VK) authenticates inference and `/v1/models` (sent as `x-bf-vk`, which works
  even when dashboard auth consumes `Authorization`);
- the admin credential (Basic user:password, or a Bearer session token) authenticates `/api/*`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from heimdall.credentials import AdminCredential
from heimdall.gateways.errors import (
    CredentialMissing,
    KeyBlocked,
    KeyNotFound,
    ModelBlocked,
    RateLimited,
)
from heimdall.gateways.logtail import LogTail, validate_row
from heimdall.gateways.protocol import (
    BudgetExceeded,
    GatewayAuthError,
    GatewayBadResponse,
    GatewayError,
    GatewayHTTPError,
    Health,
    HealthStatus,
    ModelInfo,
    SessionRef,
    UsageReport,
    merge_custom_headers,
    provider_keys_removed,
)
from heimdall.gateways.transport import GatewayHTTP, Reply, typed_errors
from heimdall.timefmt import format_rfc3339

SESSION_HEADER = "x-bf-lh-session"
PAGE_SIZE = 1000  # Bifrost's maximum `limit` for /api/logs
VK_NAME_PREFIX = "heimdall-"

_GOVERNANCE_TYPES: dict[str, type[GatewayError]] = {
    "budget_exceeded": BudgetExceeded,
    "access_blocked": KeyBlocked,
    "virtual_key_blocked": KeyBlocked,
    "access_not_found": KeyNotFound,
    "virtual_key_not_found": KeyNotFound,
    "virtual_key_required": CredentialMissing,
    "rate_limited": RateLimited,
    "token_limited": RateLimited,
    "request_limited": RateLimited,
    "model_blocked": ModelBlocked,
    "provider_blocked": ModelBlocked,
}
_ANTHROPIC_TYPES: dict[str, str] = {
    "billing_error": "budget_exceeded",
    "permission_error": "access_blocked",
    "authentication_error": "virtual_key_required",
    "rate_limit_error": "rate_limited",
}
_EXPLAIN: dict[type[GatewayError], str] = {
    BudgetExceeded: "budget exceeded",
    KeyBlocked: "virtual key blocked",
    KeyNotFound: "virtual key not known to the gateway",
    CredentialMissing: "credential required",
    RateLimited: "rate limited",
    ModelBlocked: "model not allowed for this key",
}


def bifrost_error(reply: Reply, label: str = "Bifrost") -> GatewayError:
    """The typed error for any of Bifrost's three error envelopes (docs/bifrost-api.md, Errors)."""
    try:
        body = reply.json_object()
    except GatewayBadResponse:
        body = {}
    raw_error = body.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    message = str(error.get("message") or "").strip() or " ".join(reply.text.split())[:160]
    kind = body.get("type") if isinstance(body.get("type"), str) else None
    if kind == "error":  # Anthropic envelope: the reason is error.type
        kind = _ANTHROPIC_TYPES.get(str(error.get("type")))
    status = reply.status_code
    cls = _GOVERNANCE_TYPES.get(kind or "")
    if cls is None:
        if status == 402:
            cls = BudgetExceeded
        elif status == 429:
            cls = RateLimited
        elif status in (401, 403):
            label_auth = f"{label} refused the credential (HTTP {status})"
            return GatewayAuthError(f"{label_auth}: {message}" if message else label_auth)
        else:
            return GatewayHTTPError(f"{label} answered HTTP {status}: {message or 'no message'}", status)
    text = f"{label}: {_EXPLAIN[cls]}" + (f": {message}" if message else "")
    if issubclass(cls, GatewayHTTPError) or cls in (KeyBlocked, KeyNotFound):
        return cls(text, status)  # type: ignore[call-arg]
    return cls(text)


def per_token_to_per_mtok(value: Any) -> float | None:
    """Bifrost prices are USD per token as strings ("0.000003") or numbers -> USD per MTok."""
    if value is None or value == "":
        return None
    try:
        # Rounded to a nano-dollar per MTok: undoes binary noise such as 8.000000000000001e-07.
        return round(float(Decimal(str(value)) * 1_000_000), 9)
    except (InvalidOperation, ValueError):
        return None


@dataclass(slots=True)
class VirtualKey:
    id: str
    name: str
    value: str

    def __repr__(self) -> str:
        return f"VirtualKey(id={self.id!r}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """A per-tab VK's budget as Bifrost counts it (current window)."""

    max_limit_usd: float
    current_usage_usd: float
    reset_duration: str


class BifrostClient:
    """`GatewayClient` for Bifrost. Every method raises only `GatewayError` (health never raises)."""

    kind = "bifrost"
    label = "Bifrost"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        virtual_key: str | None = None,
        admin: AdminCredential | None = None,
        pass_provider_keys: bool = False,
        per_session_virtual_keys: bool = False,
        keep_virtual_keys: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = PAGE_SIZE,
        overlap: timedelta = timedelta(seconds=30),
    ) -> None:
        self.http = GatewayHTTP(
            base_url,
            timeout=timeout,
            label=self.label,
            error_mapper=lambda reply: bifrost_error(reply, self.label),
            transport=transport,
        )
        self.base_url = self.http.base_url
        self.virtual_key = virtual_key
        self.admin = admin
        self.pass_provider_keys = pass_provider_keys
        self.per_session_virtual_keys = per_session_virtual_keys
        self.keep_virtual_keys = keep_virtual_keys
        self.page_size = page_size
        self.overlap = overlap
        self._tail: LogTail | None = None
        self._usage_lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.model_page_size: int | None = None
        """`page_size` for `/v1/models`; None asks for everything in one page."""
        self.session_keys: dict[str, VirtualKey] = {}

    # -- credentials -------------------------------------------------------------------------

    def _admin_headers(self) -> dict[str, str]:
        return {"Authorization": self.admin.header} if self.admin else {}

    def _inference_headers(self) -> dict[str, str]:
        return {"x-bf-vk": self.virtual_key} if self.virtual_key else {}

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    # -- models ------------------------------------------------------------------------------

    @typed_errors
    async def models(self) -> list[ModelInfo]:
        models: dict[str, ModelInfo] = {}
        token: str | None = None
        for _ in range(100):  # pagination guard
            params = {"page_token": token} if token else {}
            if self.model_page_size:
                params["page_size"] = str(self.model_page_size)
            body = (
                await self.http.request("GET", "/v1/models", params=params, headers=self._inference_headers())
            ).json_object()
            data = body.get("data")
            if not isinstance(data, list):
                raise GatewayBadResponse(f"{self.label} /v1/models: missing 'data' list")
            for entry in data:
                info = _model_from_v1(entry)
                models.setdefault(info.id, info)
            token = body.get("next_page_token") or None
            if not token:
                break
        if self.admin is not None:
            await self._merge_model_details(models)
        return sorted(models.values(), key=lambda m: m.id)

    async def _merge_model_details(self, models: dict[str, ModelInfo]) -> None:
        """`/api/models/details` has the prices Bifrost's cost engine uses; prefer them."""
        try:
            reply = await self.http.request(
                "GET", "/api/models/details", params={"limit": "1000"}, headers=self._admin_headers()
            )
            rows = reply.json_object().get("models")
        except GatewayError:
            return  # older Bifrost or no admin rights: /v1/models prices stand
        if not isinstance(rows, list):
            return
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("name"), str):
                continue
            provider = row.get("provider") if isinstance(row.get("provider"), str) else None
            model_id = f"{provider}/{row['name']}" if provider else row["name"]
            old = models.get(model_id) or ModelInfo(id=model_id, provider=provider)

            def price(key: str, current: float | None, row: dict[str, Any] = row) -> float | None:
                value = per_token_to_per_mtok(row.get(key))
                return value if value is not None else current

            models[model_id] = ModelInfo(
                id=model_id,
                provider=old.provider or provider,
                display_name=old.display_name,
                input_per_mtok=price("input_cost_per_token", old.input_per_mtok),
                output_per_mtok=price("output_cost_per_token", old.output_per_mtok),
                cache_read_per_mtok=price("cache_read_input_token_cost", old.cache_read_per_mtok),
                cache_write_per_mtok=price("cache_creation_input_token_cost", old.cache_write_per_mtok),
            )

    # -- child environment -------------------------------------------------------------------

    def session_env(
        self, session: SessionRef, environ: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        if not self.pass_provider_keys:
            env.update(provider_keys_removed(environ))
        env["ANTHROPIC_BASE_URL"] = f"{self.base_url}/anthropic"
        headers = {SESSION_HEADER: session.id}
        key = self.session_keys.get(session.id)
        credential = key.value if key else self.virtual_key
        if credential:
            env["ANTHROPIC_AUTH_TOKEN"] = credential
            # Also as x-bf-vk: with dashboard auth on, Bifrost reads VKs only from that header.
            headers["x-bf-vk"] = credential
        env["ANTHROPIC_CUSTOM_HEADERS"] = merge_custom_headers(
            (environ or {}).get("ANTHROPIC_CUSTOM_HEADERS"), headers
        )
        return env

    # -- usage -------------------------------------------------------------------------------

    @typed_errors
    async def usage(
        self, session_ids: Collection[str] | None = None, since: datetime | None = None
    ) -> UsageReport:
        """Tail `/api/logs` from the cursor: 1 request per refresh (+1 per `page_size` new rows).

        A fixed or later `since` (a moving "last 24 h" window), or None (the sidebar), keeps the
        tail; an earlier `since` starts a new tail that reads that window once. Concurrent calls
        are serialised (they share the tail).
        """
        loop = asyncio.get_running_loop()
        if self._usage_lock is None or self._lock_loop is not loop:
            self._usage_lock, self._lock_loop = asyncio.Lock(), loop
        async with self._usage_lock:
            return await self._usage(session_ids, since)

    async def _usage(self, session_ids: Collection[str] | None, since: datetime | None) -> UsageReport:
        if self._tail is None or not self._tail.retarget(since):
            self._tail = LogTail(since, overlap=self.overlap)
        tail = self._tail
        offset = 0
        cursor = tail.cursor
        for _ in range(100_000):
            params = {
                "sort_by": "timestamp",
                "order": "asc",
                "limit": str(self.page_size),
                "offset": str(offset),
            }
            if cursor is not None:
                params["start_time"] = format_rfc3339(cursor)
            body = (
                await self.http.request("GET", "/api/logs", params=params, headers=self._admin_headers())
            ).json_object()
            logs = body.get("logs")
            pagination = body.get("pagination")
            if logs is None and isinstance(pagination, dict):
                logs = []  # Go encodes an empty slice as null
            if not isinstance(logs, list) or not isinstance(pagination, dict):
                raise GatewayBadResponse(f"{self.label} /api/logs: missing 'logs' or 'pagination'")
            total = pagination.get("total_count")
            if not isinstance(total, int):
                raise GatewayBadResponse(f"{self.label} /api/logs: missing 'pagination.total_count'")
            tail.ingest([validate_row(row) for row in logs])
            offset += len(logs)
            if len(logs) < self.page_size or offset >= total:
                break
        tail.advance()
        return self._report(tail, session_ids)

    def _report(self, tail: LogTail, session_ids: Collection[str] | None) -> UsageReport:
        report = UsageReport(as_of=datetime.now(UTC))
        wanted = None if session_ids is None else set(session_ids)
        for (session, model), cell in tail.cells.items():
            if wanted is not None and session not in wanted:
                continue
            report.session(session).cell(model).add(cell)
        for session in wanted or ():
            report.session(session)
        return report

    # -- health ------------------------------------------------------------------------------

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            await self.http.request("GET", "/health")
            latency = (time.perf_counter() - started) * 1000
            version = await self._version()
            await self._check_credentials()
        except GatewayError as exc:
            return Health(exc.status, exc.message, latency_ms=None)
        except Exception as exc:  # health never raises
            return Health(HealthStatus.ERROR, f"{type(exc).__name__}: {exc}")
        return Health(HealthStatus.OK, "reachable, credentials accepted", version=version, latency_ms=latency)

    async def _version(self) -> str | None:
        try:
            info = (await self.http.request("GET", "/api/info")).json_object()
        except GatewayError:
            return None
        version = info.get("version") or info.get("bifrost_version")
        return str(version) if version else None

    async def _check_credentials(self) -> None:
        if self.admin is not None or not await self._auth_enabled_or_unknown():
            params = {"start_time": format_rfc3339(datetime.now(UTC)), "limit": "1"}
            await self.http.request("GET", "/api/logs", params=params, headers=self._admin_headers())
        else:
            raise CredentialMissing(
                f"{self.label} dashboard auth is on and no admin credential is stored "
                "(run `heimdall auth set-admin --stdin`); usage cannot be read"
            )
        if self.virtual_key:
            await self.http.request(
                "GET", "/api/governance/virtual-keys/quota", headers=self._inference_headers()
            )

    async def _auth_enabled_or_unknown(self) -> bool:
        try:
            body = (await self.http.request("GET", "/api/session/is-auth-enabled")).json_object()
        except GatewayError:
            return True
        return bool(body.get("is_auth_enabled", True))

    # -- per-session virtual keys ------------------------------------------------------------

    @typed_errors
    async def open_session(self, session: SessionRef) -> None:
        """With `per_session_virtual_keys` and an admin credential: one VK (+ budget) per tab."""
        if not self.per_session_virtual_keys or session.id in self.session_keys:
            return
        if self.admin is None:
            raise CredentialMissing(
                "per-session virtual keys need a Bifrost admin credential (heimdall auth set-admin)"
            )
        name = VK_NAME_PREFIX + session.id
        body: dict[str, Any] = {
            "name": name,
            "description": f"heimdall tab {session.name or session.id}",
            "provider_configs": [
                {"provider": "anthropic", "weight": None, "allowed_models": ["*"], "key_ids": ["*"]}
            ],
            "budgets": [],
            "is_active": True,
        }
        if session.budget_usd is not None:
            # A long window, so current_usage does not reset in the middle of a session.
            body["budgets"] = [{"max_limit": session.budget_usd, "reset_duration": "1Y"}]
        try:
            reply = await self.http.request(
                "POST", "/api/governance/virtual-keys", json_body=body, headers=self._admin_headers()
            )
            vk = _vk_from(reply.json_object().get("virtual_key"))
        except GatewayHTTPError as exc:
            if exc.status_code != 500:
                raise
            found = await self._find_vk(name)  # a kept key from an earlier run (duplicate name)
            if found is None:
                raise
            vk = found
        self.session_keys[session.id] = vk

    async def _find_vk(self, name: str) -> VirtualKey | None:
        reply = await self.http.request("GET", "/api/governance/virtual-keys", headers=self._admin_headers())
        for entry in reply.json_object().get("virtual_keys") or []:
            if isinstance(entry, dict) and entry.get("name") == name:
                return _vk_from(entry)
        return None

    @typed_errors
    async def close_session(self, session: SessionRef) -> None:
        key = self.session_keys.pop(session.id, None)
        if key is None or self.keep_virtual_keys:
            return
        try:
            await self.http.request(
                "DELETE", f"/api/governance/virtual-keys/{key.id}", headers=self._admin_headers()
            )
        except GatewayHTTPError as exc:
            if exc.status_code != 404:  # already gone is fine
                raise

    @typed_errors
    async def session_budgets(self) -> dict[str, BudgetUse]:
        """Budget use of every per-tab VK, in one request (`?from_memory=true`: live counters)."""
        if not self.session_keys:
            return {}
        reply = await self.http.request(
            "GET",
            "/api/governance/virtual-keys",
            params={"from_memory": "true"},
            headers=self._admin_headers(),
        )
        by_id = {key.id: sid for sid, key in self.session_keys.items()}
        out: dict[str, BudgetUse] = {}
        for entry in reply.json_object().get("virtual_keys") or []:
            if not isinstance(entry, dict) or entry.get("id") not in by_id:
                continue
            budgets = [b for b in entry.get("budgets") or [] if isinstance(b, dict)]
            if budgets:
                b = budgets[0]
                try:
                    out[by_id[entry["id"]]] = BudgetUse(
                        max_limit_usd=float(b["max_limit"]),
                        current_usage_usd=float(b.get("current_usage") or 0.0),
                        reset_duration=str(b.get("reset_duration", "")),
                    )
                except (KeyError, TypeError, ValueError):
                    raise GatewayBadResponse(f"{self.label}: malformed budget on key {entry['id']}") from None
        return out

    async def aclose(self) -> None:
        await self.http.aclose()


def _vk_from(entry: Any) -> VirtualKey:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "name", "value")):
        raise GatewayBadResponse("Bifrost returned a virtual key without id/name/value")
    return VirtualKey(id=entry["id"], name=entry["name"], value=entry["value"])


def _model_from_v1(entry: Any) -> ModelInfo:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise GatewayBadResponse("Bifrost /v1/models: a model without 'id'")
    model_id = entry["id"]
    provider = model_id.split("/", 1)[0] if "/" in model_id else entry.get("owned_by")
    raw_pricing = entry.get("pricing")
    pricing: dict[str, Any] = raw_pricing if isinstance(raw_pricing, dict) else {}
    return ModelInfo(
        id=model_id,
        provider=provider if isinstance(provider, str) else None,
        display_name=entry.get("name") if isinstance(entry.get("name"), str) else None,
        input_per_mtok=per_token_to_per_mtok(pricing.get("prompt")),
        output_per_mtok=per_token_to_per_mtok(pricing.get("completion")),
        cache_read_per_mtok=per_token_to_per_mtok(pricing.get("input_cache_read")),
        cache_write_per_mtok=per_token_to_per_mtok(pricing.get("input_cache_write")),
    )
