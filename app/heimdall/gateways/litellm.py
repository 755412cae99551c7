"""LiteLLM proxy client: models with prices, per-session usage from Prometheus or the spend DB.

Tabs are told apart by the header LiteLLM's `general_settings.user_header_name` names (config
`gateway.litellm_user_header`): LiteLLM records its value as the request's `end_user`.

Two usage modes, chosen from `/health/readiness` (`db`):
- **metrics** (no database, the common offline setup): one `GET /metrics/` per refresh, summing
  `litellm_spend_metric_total` and the token counters by `end_user` and model. Limits, reported in
  `UsageReport.complete/note` and by `heimdall doctor`: counters live in the proxy's memory and
  reset when it restarts; they are totals since the proxy started, so `since` cannot be applied;
  no first/last request times.
- **database**: one `GET /spend/logs?start_date&end_date&summarize=false` per refresh (date
  granularity, refined client-side by `startTime`).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from heimdall.gateways.bifrost import per_token_to_per_mtok
from heimdall.gateways.prometheus import ExpositionError, parse_exposition
from heimdall.gateways.protocol import (
    GatewayAuthError,
    GatewayBadResponse,
    GatewayError,
    Health,
    HealthStatus,
    ModelInfo,
    SessionRef,
    UsageReport,
    UsageTotals,
    merge_custom_headers,
    provider_keys_removed,
)
from heimdall.gateways.transport import GatewayHTTP, Reply, default_error, typed_errors
from heimdall.timefmt import parse_rfc3339

METRICS = {
    "cost": "litellm_spend_metric_total",
    "input": "litellm_input_tokens_metric_total",
    "output": "litellm_output_tokens_metric_total",
    "cache_read": "litellm_input_cached_tokens_metric_total",
    "cache_write": "litellm_input_cache_creation_tokens_metric_total",
    "requests": "litellm_proxy_total_requests_metric_total",
    "errors": "litellm_proxy_failed_requests_metric_total",
}
NO_USER = frozenset({"", "None", "none", "null"})
METRICS_LIMITS = (
    "LiteLLM without a database: usage comes from Prometheus counters, which reset when the "
    "proxy restarts and count since it started (the --since window cannot be applied); "
    "no first/last request times"
)
DB_LIMITS = "LiteLLM spend logs: cache read/write tokens are not split out"


def litellm_error(reply: Reply) -> GatewayError:
    """LiteLLM errors: `{"error": {"message", "type", "code"}}` or FastAPI `{"detail": ...}`."""
    try:
        body = reply.json()
    except GatewayBadResponse:
        body = None
    message = ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "")
        elif isinstance(body.get("detail"), (str, dict)):
            detail = body["detail"]
            message = str(detail.get("error", detail) if isinstance(detail, dict) else detail)
    if reply.status_code == 400 and "no connected db" in message.lower():
        # Without a database LiteLLM can only check the master key; any other key ends up here.
        return GatewayAuthError(
            "LiteLLM refused the key: without a database only the master key is accepted "
            "(heimdall auth set-litellm-key --stdin)"
        )
    base = default_error(reply, "LiteLLM")
    if message:
        base.message = f"{base.message.split(':')[0]}: {' '.join(message.split())[:200]}"
        base.args = (base.message,)
    return base


class LiteLLMClient:
    """`GatewayClient` for a LiteLLM proxy. Methods raise only `GatewayError` (health never raises)."""

    kind = "litellm"
    label = "LiteLLM"

    def __init__(
        self,
        base_url: str,
        *,
        key: str | None = None,
        user_header: str = "x-heimdall-session",
        timeout: float = 5.0,
        pass_provider_keys: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = GatewayHTTP(
            base_url, timeout=timeout, label=self.label, error_mapper=litellm_error, transport=transport
        )
        self.base_url = self.http.base_url
        self.key = key
        self.user_header = user_header
        self.pass_provider_keys = pass_provider_keys
        self.mode: str | None = None
        """"metrics" or "database" once detected (first usage() or health())."""

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    @property
    def limits(self) -> str | None:
        """What the active usage mode cannot show (None until the mode is known)."""
        return {"metrics": METRICS_LIMITS, "database": DB_LIMITS}.get(self.mode or "")

    # -- models ------------------------------------------------------------------------------

    @typed_errors
    async def models(self) -> list[ModelInfo]:
        body = (await self.http.request("GET", "/v1/models", headers=self._auth())).json_object()
        data = body.get("data")
        if not isinstance(data, list):
            raise GatewayBadResponse("LiteLLM /v1/models: missing 'data' list")
        ids = [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
        prices = await self._model_prices()
        out = []
        for model_id in ids:
            info = prices.get(model_id, {})
            provider = info.get("litellm_provider")
            out.append(
                ModelInfo(
                    id=model_id,
                    provider=provider if isinstance(provider, str) else None,
                    input_per_mtok=per_token_to_per_mtok(info.get("input_cost_per_token")),
                    output_per_mtok=per_token_to_per_mtok(info.get("output_cost_per_token")),
                    cache_read_per_mtok=per_token_to_per_mtok(info.get("cache_read_input_token_cost")),
                    cache_write_per_mtok=per_token_to_per_mtok(info.get("cache_creation_input_token_cost")),
                )
            )
        return sorted(out, key=lambda m: m.id)

    async def _model_prices(self) -> dict[str, dict[str, Any]]:
        """`/model/info` -> model_name -> model_info (prices); {} when unavailable."""
        try:
            body = (await self.http.request("GET", "/model/info", headers=self._auth())).json_object()
        except GatewayError:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for entry in body.get("data") or []:
            if isinstance(entry, dict) and isinstance(entry.get("model_name"), str):
                info = entry.get("model_info")
                if isinstance(info, dict):
                    provider = (entry.get("litellm_params") or {}).get("model", "")
                    if "litellm_provider" not in info and "/" in str(provider):
                        info = dict(info, litellm_provider=str(provider).split("/", 1)[0])
                    out.setdefault(entry["model_name"], info)
        return out

    # -- child environment -------------------------------------------------------------------

    def session_env(
        self, session: SessionRef, environ: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        if not self.pass_provider_keys:
            env.update(provider_keys_removed(environ))
        env["ANTHROPIC_BASE_URL"] = self.base_url
        if self.key:
            env["ANTHROPIC_AUTH_TOKEN"] = self.key
        env["ANTHROPIC_CUSTOM_HEADERS"] = merge_custom_headers(
            (environ or {}).get("ANTHROPIC_CUSTOM_HEADERS"), {self.user_header: session.id}
        )
        return env

    # -- usage -------------------------------------------------------------------------------

    async def _detect_mode(self) -> str:
        body = (await self.http.request("GET", "/health/readiness")).json_object()
        db = str(body.get("db", "")).strip().lower()
        self.mode = "database" if db == "connected" else "metrics"
        return self.mode

    @typed_errors
    async def usage(
        self, session_ids: Collection[str] | None = None, since: datetime | None = None
    ) -> UsageReport:
        """One request per refresh (plus one `/health/readiness` the first time)."""
        mode = self.mode or await self._detect_mode()
        if mode == "database":
            report = await self._usage_from_spend_logs(since)
        else:
            report = await self._usage_from_metrics()
        if session_ids is not None:
            wanted = set(session_ids)
            report.sessions = {k: v for k, v in report.sessions.items() if k in wanted}
            for session in wanted:
                report.session(session)
        return report

    async def _usage_from_metrics(self) -> UsageReport:
        reply = await self.http.request("GET", "/metrics/", headers=self._auth())
        try:
            exposition = parse_exposition(reply.text)
        except ExpositionError as exc:
            raise GatewayBadResponse(f"LiteLLM /metrics/: {exc}") from None
        report = UsageReport(as_of=datetime.now(UTC), complete=False, note=METRICS_LIMITS)
        cells: dict[tuple[str, str], dict[str, float]] = {}
        for field_name, metric in METRICS.items():
            for sample in exposition.named(metric):
                user = sample.labels.get("end_user")
                if user is None or user in NO_USER:
                    continue
                model = sample.labels.get("requested_model") or sample.labels.get("model") or "unknown"
                cell = cells.setdefault((user, model), {})
                cell[field_name] = cell.get(field_name, 0.0) + sample.value
        if not any(exposition.named(METRICS["cost"])) and not exposition.types.get("litellm_spend_metric"):
            report.note = (
                METRICS_LIMITS + "; no litellm_spend_metric at /metrics/: enable "
                '`callbacks: ["prometheus"]` and `enable_end_user_cost_tracking_prometheus_only`'
            )
        for (user, model), values in cells.items():
            read = int(values.get("cache_read", 0))
            write = int(values.get("cache_write", 0))
            total_in = int(values.get("input", 0))
            # LiteLLM's input counter includes cache reads and writes; report uncached input.
            uncached = total_in - read - write if total_in >= read + write else total_in
            report.session(user).cell(model).add(
                UsageTotals(
                    cost_usd=values.get("cost", 0.0),
                    input_tokens=uncached,
                    output_tokens=int(values.get("output", 0)),
                    cache_read_tokens=read,
                    cache_write_tokens=write,
                    requests=int(values.get("requests", 0)),
                    errors=int(values.get("errors", 0)),
                )
            )
        return report

    async def _usage_from_spend_logs(self, since: datetime | None) -> UsageReport:
        now = datetime.now(UTC)
        start = since or now - timedelta(days=30)
        params = {
            "start_date": start.strftime("%Y-%m-%d"),
            "end_date": (now + timedelta(days=1)).strftime("%Y-%m-%d"),
            "summarize": "false",
        }
        reply = await self.http.request("GET", "/spend/logs", params=params, headers=self._auth())
        rows = reply.json()
        if isinstance(rows, dict):
            rows = rows.get("data", rows.get("logs"))
        if not isinstance(rows, list):
            raise GatewayBadResponse("LiteLLM /spend/logs: expected a list of rows")
        report = UsageReport(as_of=now, complete=False, note=DB_LIMITS)
        for row in rows:
            if not isinstance(row, dict):
                continue
            user = row.get("end_user")
            if not isinstance(user, str) or user in NO_USER:
                continue
            stamp = parse_rfc3339(row["startTime"]) if row.get("startTime") else None
            if since is not None and stamp is not None and stamp < since:
                continue
            model = row.get("model_group") or row.get("model") or "unknown"
            failed = str(row.get("status", "success")).lower() not in ("success", "")
            report.session(user).cell(str(model)).add(
                UsageTotals(
                    cost_usd=float(row.get("spend") or 0.0),
                    input_tokens=int(row.get("prompt_tokens") or 0),
                    output_tokens=int(row.get("completion_tokens") or 0),
                    requests=1,
                    errors=1 if failed else 0,
                    first_request=stamp,
                    last_request=stamp,
                )
            )
        return report

    # -- health ------------------------------------------------------------------------------

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            await self.http.request("GET", "/health/liveliness")
            latency = (time.perf_counter() - started) * 1000
            await self._detect_mode()
            reply = await self.http.request("GET", "/v1/models", headers=self._auth())
            version = reply.headers.get("x-litellm-version")
        except GatewayError as exc:
            return Health(exc.status, exc.message)
        except Exception as exc:  # health never raises
            return Health(HealthStatus.ERROR, f"{type(exc).__name__}: {exc}")
        mode = "spend database" if self.mode == "database" else "Prometheus metrics (no database)"
        return Health(HealthStatus.OK, f"usage from {mode}", version=version, latency_ms=latency)

    async def open_session(self, session: SessionRef) -> None:
        return None

    async def close_session(self, session: SessionRef) -> None:
        return None

    async def aclose(self) -> None:
        await self.http.aclose()
