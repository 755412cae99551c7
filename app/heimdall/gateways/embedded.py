"""Client for Heimdall's own embedded gateway (`heimdall gateway`).

The embedded gateway speaks the Bifrost read API subset (`/api/logs`, `/v1/models`, `/health`)
with its local Bearer token, so this is a `BifrostClient` with a different credential story:
- `/api/*` and `/v1/models`: `Authorization: Bearer <local token>`;
- children: `ANTHROPIC_BASE_URL=<url>/anthropic` and the `x-bf-lh-session` tag. In pass-through
  mode (the default) the user's own Anthropic credential (API key, or Claude Code's login) goes
  through the gateway untouched, so it is not replaced; in held-key mode the gateway holds the
  upstream key and the child presents the local token instead, and inherited Anthropic keys are
  removed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from heimdall.credentials import AdminCredential
from heimdall.gateways.bifrost import SESSION_HEADER, BifrostClient
from heimdall.gateways.protocol import (
    GatewayError,
    Health,
    HealthStatus,
    SessionRef,
    merge_custom_headers,
    provider_keys_removed,
)
from heimdall.gateways.transport import typed_errors
from heimdall.server import launcher
from heimdall.server.launcher import EmbeddedGatewayHandle

if TYPE_CHECKING:
    from heimdall.config import Config
from heimdall.timefmt import format_rfc3339

# In pass-through mode these are the user's own Anthropic credentials, meant for Anthropic:
# they keep flowing (through our loopback gateway). Anything else is still stripped.
ANTHROPIC_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")



def ensure_embedded_gateway(config: Config, *, timeout_s: float = 20.0) -> EmbeddedGatewayHandle:
    """Reuse the running embedded gateway or start one (`heimdall.server.launcher`), its failures
    as the `GatewayError` every caller of a gateway already prints in one line."""
    try:
        return launcher.ensure_embedded_gateway(config, timeout_s=timeout_s)
    except launcher.GatewayStartError as exc:
        raise GatewayError(str(exc)) from exc


class EmbeddedClient(BifrostClient):
    kind = "embedded"
    label = "embedded gateway"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        held_key: bool = False,
        timeout: float = 5.0,
        pass_provider_keys: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout=timeout,
            admin=AdminCredential(token),
            pass_provider_keys=pass_provider_keys,
            transport=transport,
        )
        self.token = token
        self.held_key = held_key

    def _inference_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def session_env(
        self, session: SessionRef, environ: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        env: dict[str, str | None] = {}
        if not self.pass_provider_keys:
            keep = () if self.held_key else ANTHROPIC_CREDENTIALS
            env.update(provider_keys_removed(environ, keep=keep))
        env["ANTHROPIC_BASE_URL"] = f"{self.base_url}/anthropic"
        if self.held_key:
            env["ANTHROPIC_AUTH_TOKEN"] = self.token
        env["ANTHROPIC_CUSTOM_HEADERS"] = merge_custom_headers(
            (environ or {}).get("ANTHROPIC_CUSTOM_HEADERS"), {SESSION_HEADER: session.id}
        )
        return env

    @typed_errors
    async def open_session(self, session: SessionRef) -> None:
        """Tell the gateway the tab's budget (it refuses with 402 once spent)."""
        if session.budget_usd is None:
            return
        await self.http.request(
            "POST",
            "/api/heimdall/budgets",
            json_body={"session": session.id, "max_usd": session.budget_usd},
            headers=self._admin_headers(),
        )

    async def close_session(self, session: SessionRef) -> None:
        return None

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            info = (await self.http.request("GET", "/health")).json_object()
            latency = (time.perf_counter() - started) * 1000
            if info.get("service") != "heimdall-gateway":
                return Health(HealthStatus.ERROR, f"{self.base_url} is not a Heimdall gateway")
            self.held_key = info.get("auth_mode") == "held_key"
            params = {"start_time": format_rfc3339(datetime.now(UTC)), "limit": "1"}
            await self.http.request("GET", "/api/logs", params=params, headers=self._admin_headers())
        except GatewayError as exc:
            return Health(exc.status, exc.message)
        except Exception as exc:  # health never raises
            return Health(HealthStatus.ERROR, f"{type(exc).__name__}: {exc}")
        mode = "held key" if self.held_key else "pass-through"
        version = info.get("version")
        return Health(
            HealthStatus.OK,
            f"reachable, token accepted, {mode} mode",
            version=str(version) if version else None,
            latency_ms=latency,
        )
