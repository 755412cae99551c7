"""What every handler of the embedded gateway is given: one `GatewayContext`, built at start.

Handlers take `(ctx, request)` and reach the store, prices, upstream, settings, auth and clock
through it, so each handler's needs are visible in its body and a test can hand it a context
with, say, a fixed clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heimdall import paths
from heimdall.server.auth import GatewayAuth
from heimdall.server.pricing import Pricer
from heimdall.server.store import LogStore
from heimdall.server.upstream import Upstream

if TYPE_CHECKING:
    from heimdall.config import Config, ModelPrice


@dataclass
class GatewaySettings:
    token: str
    db_path: Path
    host: str = "127.0.0.1"
    port: int = 8787
    upstream: str = "https://api.anthropic.com"
    held_key: str | None = None
    """When set, the gateway sends this upstream key itself and clients must present `token`."""
    daily_budget_usd: float | None = None
    session_budget_usd: float | None = None
    price_overrides: Mapping[str, ModelPrice] = field(default_factory=dict)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 600.0

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        token: str,
        host: str | None = None,
        port: int | None = None,
        upstream: str | None = None,
        db: str | None = None,
        held_key: str | None = None,
    ) -> GatewaySettings:
        emb = config.embedded
        db_value = db or emb.db
        return cls(
            token=token,
            db_path=Path(db_value).expanduser() if db_value else paths.data_dir() / "gateway.db",
            host=host or emb.host,
            port=emb.port if port is None else port,
            upstream=upstream or emb.upstream,
            held_key=held_key,
            daily_budget_usd=emb.daily_budget_usd,
            session_budget_usd=emb.session_budget_usd,
            price_overrides=dict(config.pricing.overrides),
        )


@dataclass(frozen=True, slots=True)
class Clock:
    wall: Callable[[], float] = time.time
    """Epoch seconds: row timestamps, time windows."""
    monotonic: Callable[[], float] = time.perf_counter
    """Durations: latency, time to first byte, cache ages."""


@dataclass(slots=True)
class ModelsCache:
    """The upstream's model list for `GET /v1/models`, kept a minute (None: upstream failed)."""

    fetched_at: float | None = None
    models: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class GatewayContext:
    config: GatewaySettings
    store: LogStore
    pricing: Pricer
    upstream: Upstream
    auth: GatewayAuth
    clock: Clock = field(default_factory=Clock)
    models: ModelsCache = field(default_factory=ModelsCache)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> GatewayContext:
        return cls(
            config=settings,
            store=LogStore(settings.db_path),
            pricing=Pricer(settings.price_overrides),
            upstream=Upstream(
                settings.upstream,
                connect_timeout_s=settings.connect_timeout_s,
                read_timeout_s=settings.read_timeout_s,
            ),
            auth=GatewayAuth(settings.token, settings.held_key),
        )
