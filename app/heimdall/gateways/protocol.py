"""One protocol for every gateway Heimdall reads: Bifrost, LiteLLM and the embedded gateway.

The sidebar, the model menu and `heimdall usage` only ever see these types. Each client turns
its gateway's wire format into them, and turns every failure into a `GatewayError` subclass the
UI can show in one line; no other exception may escape a client method.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

# Environment variables that carry provider credentials. A child never inherits them unless the
# user opted in (`gateway.pass_provider_keys`): the gateway's own credential replaces them.
PROVIDER_KEY_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "CLAUDE_CODE_OAUTH_TOKEN",
)


def provider_keys_removed(
    environ: Mapping[str, str] | None, *, keep: Collection[str] = ()
) -> dict[str, str | None]:
    """`session_env` entries that take the user's provider keys out of a child's environment
    (None removes a variable), except those in `keep`."""
    if not environ:
        return {}
    return {name: None for name in PROVIDER_KEY_VARS if name in environ and name not in keep}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model the gateway serves. Prices are USD per million tokens, None when unknown."""

    id: str
    provider: str | None = None
    display_name: str | None = None
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    cache_read_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None

    def estimate_cost(self, usage: UsageTotals) -> float | None:
        """What `usage` would have cost on this model, or None without input/output prices."""
        if self.input_per_mtok is None or self.output_per_mtok is None:
            return None
        read = self.cache_read_per_mtok if self.cache_read_per_mtok is not None else self.input_per_mtok
        write = self.cache_write_per_mtok if self.cache_write_per_mtok is not None else self.input_per_mtok
        return (
            usage.input_tokens * self.input_per_mtok
            + usage.output_tokens * self.output_per_mtok
            + usage.cache_read_tokens * read
            + usage.cache_write_tokens * write
        ) / 1_000_000


@dataclass(slots=True)
class UsageTotals:
    """Money and tokens for one (session, model) cell, or any sum of cells."""

    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    errors: int = 0
    first_request: datetime | None = None
    last_request: datetime | None = None

    def add(self, other: UsageTotals) -> None:
        self.cost_usd = math.fsum((self.cost_usd, other.cost_usd))
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.requests += other.requests
        self.errors += other.errors
        if other.first_request and (not self.first_request or other.first_request < self.first_request):
            self.first_request = other.first_request
        if other.last_request and (not self.last_request or other.last_request > self.last_request):
            self.last_request = other.last_request

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def to_json(self) -> dict[str, Any]:
        """The stable per-cell shape of `heimdall usage --json`."""
        return {
            "cost_usd": self.cost_usd,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "requests": self.requests,
            "errors": self.errors,
        }


@dataclass(slots=True)
class SessionUsage:
    session: str
    models: dict[str, UsageTotals] = field(default_factory=dict)

    @property
    def totals(self) -> UsageTotals:
        total = UsageTotals()
        for cell in self.models.values():
            total.add(cell)
        return total

    def cell(self, model: str) -> UsageTotals:
        return self.models.setdefault(model, UsageTotals())


@dataclass(slots=True)
class UsageReport:
    """Per-session, per-model usage as the gateway reports it at `as_of`."""

    as_of: datetime
    sessions: dict[str, SessionUsage] = field(default_factory=dict)
    complete: bool = True
    """False when the gateway cannot show everything (e.g. LiteLLM counters reset on restart)."""
    note: str | None = None

    def session(self, session_id: str) -> SessionUsage:
        return self.sessions.setdefault(session_id, SessionUsage(session_id))

    @property
    def models(self) -> dict[str, UsageTotals]:
        out: dict[str, UsageTotals] = {}
        for usage in self.sessions.values():
            for model, cell in usage.models.items():
                out.setdefault(model, UsageTotals()).add(cell)
        return out

    @property
    def total_cost_usd(self) -> float:
        return math.fsum(cell.cost_usd for s in self.sessions.values() for cell in s.models.values())

    def to_json(self, gateway_kind: str, gateway_url: str) -> dict[str, Any]:
        """The documented, stable shape of `heimdall usage --json`."""
        return {
            "as_of": self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "gateway": {"kind": gateway_kind, "url": gateway_url},
            "total_cost_usd": self.total_cost_usd,
            "sessions": [
                {
                    "session": sid,
                    **usage.totals.to_json(),
                    "models": {m: c.to_json() for m, c in sorted(usage.models.items())},
                }
                for sid, usage in sorted(self.sessions.items())
            ],
            "models": {m: c.to_json() for m, c in sorted(self.models.items())},
        }


class HealthStatus(StrEnum):
    OK = "healthy"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth failed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Health:
    status: HealthStatus
    message: str = ""
    version: str | None = None
    latency_ms: float | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.status is HealthStatus.OK


class GatewayError(Exception):
    """Anything that went wrong talking to a gateway, worded for a one-line status."""

    status = HealthStatus.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GatewayUnreachable(GatewayError):
    status = HealthStatus.UNREACHABLE


class GatewayTimeout(GatewayUnreachable):
    pass


class GatewayAuthError(GatewayError):
    status = HealthStatus.AUTH_FAILED


class GatewayBadResponse(GatewayError):
    """The gateway answered, but not with what its contract says (malformed JSON, missing field)."""


class GatewayHTTPError(GatewayError):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class BudgetExceeded(GatewayHTTPError):
    pass


@dataclass(frozen=True, slots=True)
class SessionRef:
    """What a gateway client needs to know about one tab."""

    id: str
    """Heimdall's session id: the Claude Code session UUID, also the gateway tag."""
    name: str = ""
    budget_usd: float | None = None


@runtime_checkable
class GatewayClient(Protocol):
    kind: str
    """`bifrost`, `litellm` or `embedded`."""
    base_url: str

    async def models(self) -> list[ModelInfo]:
        """Models the gateway serves, with prices where it reports them."""
        ...

    def session_env(
        self, session: SessionRef, environ: Mapping[str, str] | None = None
    ) -> dict[str, str | None]:
        """Environment changes for a child routed through this gateway; None removes a variable.

        Sets the base URL, the credential and `ANTHROPIC_CUSTOM_HEADERS` carrying the session tag;
        removes inherited provider keys unless the user opted in.
        """
        ...

    async def usage(
        self, session_ids: Collection[str] | None = None, since: datetime | None = None
    ) -> UsageReport:
        """Per-session, per-model usage in O(1) HTTP requests whatever the number of sessions.

        `session_ids=None` means every session tag the gateway has seen since `since`.
        """
        ...

    async def health(self) -> Health:
        """Reachability, auth and latency. Never raises."""
        ...

    async def open_session(self, session: SessionRef) -> None:
        """Prepare per-session resources (e.g. a Bifrost virtual key). No-op by default."""
        ...

    async def close_session(self, session: SessionRef) -> None:
        """Release what `open_session` made."""
        ...

    async def aclose(self) -> None: ...


def merge_custom_headers(existing: str | None, headers: Mapping[str, str]) -> str:
    """Combine `ANTHROPIC_CUSTOM_HEADERS` (newline-separated `Name: value`) with ours; ours win."""
    lines: dict[str, str] = {}
    for line in (existing or "").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            lines[name.strip().lower()] = f"{name.strip()}: {value.strip()}"
    for name, value in headers.items():
        lines[name.lower()] = f"{name}: {value}"
    return "\n".join(lines.values())
