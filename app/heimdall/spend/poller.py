"""One gateway poll per refresh for every tab, with backoff while the gateway is down.

The sidebar must never fan out one request per tab: `UsagePoller.poll_once` makes exactly one
`client.usage(all tab ids)` call (the client turns it into O(1) HTTP requests), feeds the
`UsageBook`, and keeps a `GatewayState` the status line shows. `client.health()` is only asked at
start and then every `health_every` good polls (for version and latency): a failing usage call
already says whether the gateway is unreachable or refusing the credential.

No Textual here: the sidebar runs `UsagePoller.run` inside a `@work(exclusive=True,
group="gateway-poll")` worker, and tests drive it against a real loopback HTTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from heimdall.gateways.protocol import GatewayClient, GatewayError, Health, HealthStatus, UsageReport
from heimdall.spend.book import BudgetCrossing, UsageBook

MAX_BACKOFF_SECONDS = 30.0
"""Longest wait between two polls while the gateway is down."""
HEALTH_EVERY = 15
"""Good polls between two `health()` calls (30 s at the default 2 s refresh)."""


@dataclass(frozen=True, slots=True)
class GatewayState:
    """What the status line shows about the gateway."""

    kind: str
    url: str
    status: HealthStatus | None = None
    """None until the first answer."""
    message: str = ""
    since: datetime | None = None
    """When the current status began (e.g. unreachable since)."""
    as_of: datetime | None = None
    """Time of the newest usage data shown (the last good poll)."""
    version: str | None = None
    latency_ms: float | None = None
    failures: int = 0
    """Consecutive failed polls."""
    note: str | None = None
    """What this gateway cannot show (e.g. LiteLLM counters reset on restart), from the report."""

    @property
    def ok(self) -> bool:
        return self.status is HealthStatus.OK

    @classmethod
    def from_health(cls, health: Health, kind: str = "", url: str = "") -> GatewayState:
        return cls(kind=kind, url=url, status=health.status, message=health.message,
                   since=health.checked_at, version=health.version, latency_ms=health.latency_ms)


@dataclass(slots=True)
class PollResult:
    state: GatewayState
    report: UsageReport | None = None
    """None when this poll failed (the book keeps the previous numbers)."""
    crossings: list[BudgetCrossing] = field(default_factory=list)
    error: GatewayError | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class UsagePoller:
    """Polls one gateway for a changing set of tabs; see the module docstring."""

    def __init__(
        self,
        client: GatewayClient,
        book: UsageBook,
        session_ids: Callable[[], Collection[str]],
        *,
        refresh_seconds: float = 2.0,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        health_every: int = HEALTH_EVERY,
        clock: Callable[[], datetime] = _now,
        since: Callable[[], datetime | None] | None = None,
    ) -> None:
        self.client = client
        self.book = book
        self.session_ids = session_ids
        self.refresh_seconds = refresh_seconds
        self.max_backoff = max(max_backoff, refresh_seconds)
        self.health_every = health_every
        self.clock = clock
        self.since = since
        self.state = GatewayState(kind=client.kind, url=client.base_url)
        self.polls = 0
        self._good_since_health: int | None = None
        self._health_problem: Health | None = None
        self._wake = asyncio.Event()

    def _set_status(self, status: HealthStatus, message: str, **changes: object) -> None:
        since = self.state.since if self.state.status is status else self.clock()
        self.state = replace(
            self.state, status=status, message=message, since=since, **changes  # type: ignore[arg-type]
        )

    async def check_health(self) -> Health:
        try:
            health = await self.client.health()
        except Exception as exc:  # health() must not raise; if it does, say so and go on
            health = Health(HealthStatus.ERROR, f"health check failed: {type(exc).__name__}: {exc}")
        self._health_problem = None if health.ok else health
        self.state = replace(self.state, version=health.version, latency_ms=health.latency_ms)
        self._good_since_health = 0
        return health

    async def poll_once(self) -> PollResult:
        """One refresh: exactly one usage call (plus a health call at start and now and then)."""
        self.polls += 1
        if self._good_since_health is None or self._good_since_health >= self.health_every:
            await self.check_health()
        try:
            ids = list(self.session_ids())
            # the oldest open tab bounds what the gateway must read (a long Bifrost history
            # would otherwise be tailed from its beginning on the first refresh)
            since = self.since() if self.since is not None else None
            report = await self.client.usage(ids, since=since)
        except Exception as exc:  # a client bug must not stop the sidebar (or crash the app)
            error = exc if isinstance(exc, GatewayError) else GatewayError(
                f"unexpected {type(exc).__name__} reading usage: {exc}"
            )
            status = error.status if error.status is not HealthStatus.OK else HealthStatus.ERROR
            self._set_status(status, error.message, failures=self.state.failures + 1)
            self._good_since_health = None  # ask health again once it answers
            return PollResult(self.state, error=error)
        crossings = self.book.feed(report)
        problem = self._health_problem
        if problem is not None and problem.status is HealthStatus.AUTH_FAILED:
            # usage reads fine but health says inference will be refused (e.g. a bad virtual key)
            self._set_status(problem.status, problem.message, as_of=report.as_of, failures=0,
                             note=report.note)
        else:
            self._set_status(HealthStatus.OK, "", as_of=report.as_of, failures=0, note=report.note)
        if self._good_since_health is not None:
            self._good_since_health += 1
        return PollResult(self.state, report=report, crossings=crossings)

    def next_delay(self) -> float:
        """The refresh interval, doubled per consecutive failure up to `max_backoff`."""
        failures = self.state.failures
        if failures == 0:
            return self.refresh_seconds
        return min(self.refresh_seconds * (2 ** min(failures, 16)), self.max_backoff)

    def refresh_now(self) -> None:
        """Manual refresh: cut the current wait short (also resets the backoff wait)."""
        self._wake.set()

    async def run(self, on_result: Callable[[PollResult], Awaitable[None] | None]) -> None:
        """Poll forever (until cancelled), calling `on_result` after every poll."""
        while True:
            self._wake.clear()
            result = await self.poll_once()
            outcome = on_result(result)
            if outcome is not None:
                await outcome
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.next_delay())
