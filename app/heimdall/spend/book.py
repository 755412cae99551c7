"""What the sidebar knows about money: the gateway's numbers, plus what only time can tell.

The gateway answers "how much has each session spent, per model, so far". Everything else the
sidebar shows is derived here from successive answers (one `UsageReport` per refresh):

- burn rate: spend between reports over the last 10 minutes, in USD per hour, and a sparkline
  series of that spend in equal time buckets;
- spend since the last prompt: the session's total minus its total when the user pressed Enter;
- today's spend: totals minus a per-cell baseline taken at local midnight;
- budget state (ok / 50 / 80 / 100 %) and the crossings between them, for notifications.

Dollar figures are never re-priced: every amount is a sum (`math.fsum`) or a difference of the
gateway's own `cost_usd` cells. Pure Python, no Textual, deterministic given the reports.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import IntEnum
from itertools import pairwise

from heimdall.gateways.protocol import SessionUsage, UsageReport, UsageTotals

BURN_WINDOW = timedelta(minutes=10)
"""Burn rate looks at spend over this window."""
MIN_BURN_SPAN = timedelta(minutes=1)
"""Below this much history, the rate divides by one minute (a single early request is not $100/h)."""
SPARK_BUCKETS = 20
"""Sparkline resolution: 20 buckets of 30 s over the 10-minute window."""


class BudgetState(IntEnum):
    """Ordered so that a higher value is a worse state."""

    NONE = -1
    """No budget set."""
    OK = 0
    HALF = 50
    WARN = 80
    OVER = 100

    @property
    def label(self) -> str:
        return {
            BudgetState.NONE: "no budget",
            BudgetState.OK: "ok",
            BudgetState.HALF: "50%",
            BudgetState.WARN: "80%",
            BudgetState.OVER: "100%",
        }[self]


def budget_state(spent_usd: float, budget_usd: float | None) -> BudgetState:
    if budget_usd is None:
        return BudgetState.NONE
    if budget_usd <= 0:
        return BudgetState.OVER
    fraction = spent_usd / budget_usd
    if fraction >= 1.0:
        return BudgetState.OVER
    if fraction >= 0.8:
        return BudgetState.WARN
    if fraction >= 0.5:
        return BudgetState.HALF
    return BudgetState.OK


@dataclass(frozen=True, slots=True)
class BudgetCrossing:
    """A session's budget state got worse between two reports."""

    session_id: str
    previous: BudgetState
    state: BudgetState
    spent_usd: float
    budget_usd: float


@dataclass(slots=True)
class _Sample:
    at: datetime
    costs: dict[str, float]
    """Cumulative cost per session at `at`."""
    first: dict[str, datetime | None]
    """First request per session (tells new sessions from resumed history)."""


@dataclass(slots=True)
class _PromptMark:
    at: datetime
    baseline: float | None
    """Session total when the prompt was sent; None until the next report resolves it."""


@dataclass(slots=True)
class _TodayBaseline:
    date: str
    cells: dict[tuple[str, str], float] = field(default_factory=dict)
    partial: bool = False


def _cost(usage: SessionUsage) -> float:
    return math.fsum(cell.cost_usd for cell in usage.models.values())


class UsageBook:
    """Aggregates successive `UsageReport`s. Feed it; read it; it never talks to a gateway."""

    def __init__(
        self,
        *,
        window: timedelta = BURN_WINDOW,
        buckets: int = SPARK_BUCKETS,
        tz: tzinfo | None = None,
    ) -> None:
        self.window = window
        self.buckets = buckets
        self._tz = tz
        self.report: UsageReport | None = None
        self._samples: deque[_Sample] = deque()
        self._budgets: dict[str, float | None] = {}
        self._states: dict[str, BudgetState] = {}
        self._prompts: dict[str, _PromptMark] = {}
        self._today: _TodayBaseline | None = None
        self._last_seen: dict[tuple[str, str], float] = {}
        self._last_seen_at: datetime | None = None

    # -- input ---------------------------------------------------------------------------------

    def set_budget(self, session_id: str, budget_usd: float | None) -> None:
        self._budgets[session_id] = budget_usd
        if self.report is not None:
            self._states[session_id] = budget_state(self.spent(session_id), budget_usd)

    def set_budgets(self, budgets: Mapping[str, float | None]) -> None:
        for session_id, budget in budgets.items():
            self.set_budget(session_id, budget)

    def mark_prompt(self, session_id: str, at: datetime | None = None) -> None:
        """The user pressed Enter in this session's tab: "since your prompt" restarts from here."""
        at = at or datetime.now(UTC)
        usage = self.report.sessions.get(session_id) if self.report else None
        baseline = _cost(usage) if usage is not None else None
        self._prompts[session_id] = _PromptMark(at=at, baseline=baseline)

    def feed(self, report: UsageReport) -> list[BudgetCrossing]:
        """Take the newest report; return budget thresholds crossed since the previous one."""
        if self.report is not None and report.as_of < self.report.as_of:
            return []  # a late answer from an older poll: never go back in time
        self._update_today(report)
        self._resolve_prompt_marks(report)
        costs = {sid: _cost(usage) for sid, usage in report.sessions.items()}
        first = {sid: usage.totals.first_request for sid, usage in report.sessions.items()}
        self._samples.append(_Sample(at=report.as_of, costs=costs, first=first))
        horizon = report.as_of - self.window - self.window / self.buckets
        # keep one sample older than the window so the first in-window delta has a base
        while len(self._samples) > 2 and self._samples[1].at <= horizon:
            self._samples.popleft()
        self.report = report
        return self._update_budget_states(report)

    def _resolve_prompt_marks(self, report: UsageReport) -> None:
        for sid, mark in self._prompts.items():
            if mark.baseline is not None:
                continue
            usage = report.sessions.get(sid)
            if usage is None:
                continue
            first = usage.totals.first_request
            # marked before we knew the session's total: if everything came after the prompt,
            # it all counts; otherwise take the total now (at most one refresh is lost)
            mark.baseline = 0.0 if first is not None and first >= mark.at else _cost(usage)

    def _update_budget_states(self, report: UsageReport) -> list[BudgetCrossing]:
        crossings: list[BudgetCrossing] = []
        for sid, budget in self._budgets.items():
            spent = self.spent(sid)
            state = budget_state(spent, budget)
            previous = self._states.get(sid)
            self._states[sid] = state
            if previous is None or budget is None or state <= previous:
                continue  # first look (e.g. after a restart) or no worse: nothing to announce
            crossings.append(BudgetCrossing(sid, previous, state, spent, budget))
        return crossings

    # -- per session -----------------------------------------------------------------------------

    @property
    def as_of(self) -> datetime | None:
        return self.report.as_of if self.report else None

    @property
    def session_ids(self) -> list[str]:
        return list(self.report.sessions) if self.report else []

    def session_usage(self, session_id: str) -> SessionUsage:
        if self.report and session_id in self.report.sessions:
            return self.report.sessions[session_id]
        return SessionUsage(session_id)

    def session_totals(self, session_id: str) -> UsageTotals:
        usage = self.session_usage(session_id)
        total = usage.totals
        total.cost_usd = _cost(usage)
        return total

    def session_models(self, session_id: str) -> dict[str, UsageTotals]:
        return dict(sorted(self.session_usage(session_id).models.items()))

    def spent(self, session_id: str) -> float:
        return _cost(self.session_usage(session_id))

    def since_prompt(self, session_id: str) -> float | None:
        """Spend since the last `mark_prompt`, None if there was none (or not yet resolvable)."""
        mark = self._prompts.get(session_id)
        if mark is None or mark.baseline is None:
            return None
        return max(0.0, self.spent(session_id) - mark.baseline)

    def last_prompt_at(self, session_id: str) -> datetime | None:
        mark = self._prompts.get(session_id)
        return mark.at if mark else None

    def budget(self, session_id: str) -> float | None:
        return self._budgets.get(session_id)

    def budget_state(self, session_id: str) -> BudgetState:
        return budget_state(self.spent(session_id), self._budgets.get(session_id))

    def budget_fraction(self, session_id: str) -> float | None:
        budget = self._budgets.get(session_id)
        if budget is None:
            return None
        if budget <= 0:
            return 1.0
        return self.spent(session_id) / budget

    # -- across sessions -------------------------------------------------------------------------

    def _selected(self, session_ids: Iterable[str] | None) -> list[SessionUsage]:
        if self.report is None:
            return []
        if session_ids is None:
            return list(self.report.sessions.values())
        return [self.report.sessions[s] for s in session_ids if s in self.report.sessions]

    def totals(self, session_ids: Iterable[str] | None = None) -> UsageTotals:
        """All tabs (or the given ones); `cost_usd` is one `fsum` over every gateway cell."""
        total = UsageTotals()
        cells = [cell for usage in self._selected(session_ids) for cell in usage.models.values()]
        for cell in cells:
            total.add(cell)
        total.cost_usd = math.fsum(cell.cost_usd for cell in cells)
        return total

    def model_totals(self, session_ids: Iterable[str] | None = None) -> dict[str, UsageTotals]:
        """Per model across tabs, most expensive first."""
        grouped: dict[str, list[UsageTotals]] = {}
        for usage in self._selected(session_ids):
            for model, cell in usage.models.items():
                grouped.setdefault(model, []).append(cell)
        out: dict[str, UsageTotals] = {}
        for model, cells in grouped.items():
            total = UsageTotals()
            for cell in cells:
                total.add(cell)
            total.cost_usd = math.fsum(cell.cost_usd for cell in cells)
            out[model] = total
        return dict(sorted(out.items(), key=lambda item: (-item[1].cost_usd, item[0])))

    # -- today -----------------------------------------------------------------------------------

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self._tz) if self._tz else at.astimezone()

    def _midnight(self, at: datetime) -> datetime:
        local = self._local(at)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _update_today(self, report: UsageReport) -> None:
        day = self._local(report.as_of).date().isoformat()
        midnight = self._midnight(report.as_of)
        rolled = self._today is not None and self._today.date != day
        if self._today is None or rolled:
            self._today = _TodayBaseline(date=day)
            if rolled:
                # the previous report was before midnight: its cumulative is the baseline (the
                # spend between that report and midnight, at most one refresh, counts as today)
                self._today.cells = dict(self._last_seen)
        today = self._today
        for sid, usage in report.sessions.items():
            for model, cell in usage.models.items():
                key = (sid, model)
                if key in today.cells:
                    continue
                first, last = cell.first_request, cell.last_request
                if first is not None and first >= midnight:
                    today.cells[key] = 0.0  # every request of this cell happened today
                elif last is not None and last < midnight:
                    today.cells[key] = cell.cost_usd  # nothing today yet
                elif first is None and key not in self._last_seen and self._last_seen_at:
                    today.cells[key] = 0.0  # no timestamps, appeared after our first look: new
                else:
                    # spans midnight and we had no look before it: count only what comes next
                    today.cells[key] = cell.cost_usd
                    today.partial = True
        self._last_seen = {
            (sid, model): cell.cost_usd
            for sid, usage in report.sessions.items()
            for model, cell in usage.models.items()
        }
        self._last_seen_at = report.as_of

    def today(self, session_ids: Iterable[str] | None = None) -> float:
        """Spend today (local time) across tabs."""
        if self._today is None:
            return 0.0
        wanted = None if session_ids is None else set(session_ids)
        amounts = []
        for usage in self._selected(None):
            if wanted is not None and usage.session not in wanted:
                continue
            for model, cell in usage.models.items():
                base = self._today.cells.get((usage.session, model), 0.0)
                amounts.append(max(0.0, cell.cost_usd - base))
        return math.fsum(amounts)

    @property
    def today_partial(self) -> bool:
        """True when some spend before this run cannot be split at midnight (shown as "≥")."""
        return bool(self._today and self._today.partial)

    # -- burn rate -------------------------------------------------------------------------------

    def _deltas(self, session_id: str | None) -> list[tuple[datetime, float]]:
        """(time, spend since the previous sample) for consecutive samples.

        A counter that went down (gateway reset) counts as 0. A session absent from the previous
        sample counts only if its first request came after that sample: a resumed tab joining the
        poll brings its history, which is not burn.
        """
        out: list[tuple[datetime, float]] = []
        samples = list(self._samples)
        for before, after in pairwise(samples):
            sids = list(after.costs) if session_id is None else [session_id]
            parts = []
            for sid in sids:
                if sid not in after.costs:
                    continue
                if sid in before.costs:
                    parts.append(max(0.0, after.costs[sid] - before.costs[sid]))
                else:
                    first = after.first.get(sid)
                    if first is not None and first > before.at:
                        parts.append(after.costs[sid])
            out.append((after.at, math.fsum(parts)))
        return out

    def burn_rate(self, session_id: str | None = None) -> float | None:
        """USD per hour over the last window (one session or all); None before two reports."""
        if len(self._samples) < 2 or self.report is None:
            return None
        now = self.report.as_of
        start = now - self.window
        deltas = [(at, d) for at, d in self._deltas(session_id) if at > start]
        first = self._samples[0].at
        span = now - max(start, first)
        span = max(span, MIN_BURN_SPAN)
        spent = math.fsum(d for _, d in deltas)
        return spent / (span.total_seconds() / 3600.0)

    def burn_series(self, session_id: str | None = None) -> list[float]:
        """Spend per bucket over the window, oldest first (`buckets` values; zeros when idle)."""
        series = [0.0] * self.buckets
        if self.report is None:
            return series
        now = self.report.as_of
        width = self.window / self.buckets
        for at, delta in self._deltas(session_id):
            age = now - at
            if age >= self.window or age < timedelta(0):
                continue
            index = self.buckets - 1 - int(age / width)
            series[index] += delta
        return series
