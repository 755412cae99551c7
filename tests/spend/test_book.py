"""UsageBook: gateway numbers in, sidebar numbers out, exact to the sub-cent."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from heimdall.gateways.protocol import SessionUsage, UsageReport, UsageTotals
from heimdall.spend.book import BudgetState, UsageBook, budget_state
from hypothesis import given
from hypothesis import strategies as st

from tests.usage_data import HAIKU, SONNET, T0, cell, report


def test_totals_equal_known_token_counts_times_prices() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0,
                     a={"claude-sonnet-4-5": cell(SONNET, 2), "claude-haiku-4-5": cell(HAIKU, 1)},
                     b={"claude-sonnet-4-5": cell(SONNET, 3, cr=5000, cw=100)}))
    # 1200 in, 345 out at $3/$15 per MTok = 0.0036 + 0.005175 = 0.008775 per request
    assert book.spent("a") == pytest.approx(2 * 0.008775 + 0.0012 + 0.001725, abs=1e-9)
    b_expected = 3 * (0.008775 + 5000 * 0.30 / 1e6 + 100 * 3.75 / 1e6)
    assert book.spent("b") == pytest.approx(b_expected, abs=1e-9)
    a = book.session_totals("a")
    assert (a.input_tokens, a.output_tokens, a.requests) == (3600, 1035, 3)
    assert list(book.session_models("a")) == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    all_tabs = book.totals()
    assert all_tabs.cost_usd == pytest.approx(0.020475 + b_expected, abs=1e-9)
    assert all_tabs.requests == 6
    by_model = book.model_totals()
    assert list(by_model) == ["claude-sonnet-4-5", "claude-haiku-4-5"]  # most expensive first
    assert by_model["claude-sonnet-4-5"].cost_usd == pytest.approx(0.01755 + b_expected, abs=1e-9)
    assert by_model["claude-sonnet-4-5"].cache_read_tokens == 15000
    assert book.totals(["b"]).cost_usd == pytest.approx(b_expected, abs=1e-9)
    assert book.as_of == T0


def test_unknown_session_is_zero_not_an_error() -> None:
    book = UsageBook(tz=UTC)
    assert book.spent("nope") == 0.0
    assert book.burn_rate() is None
    assert book.burn_series() == [0.0] * 20
    book.feed(report(T0))
    assert book.session_totals("nope").requests == 0
    assert book.since_prompt("nope") is None


def test_burn_rate_from_deltas_between_reports() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"s": cell(SONNET, 1)}))
    assert book.burn_rate("a") is None  # one report: no rate yet
    book.feed(report(T0 + timedelta(minutes=1), a={"s": cell(SONNET, 3)}))
    book.feed(report(T0 + timedelta(minutes=2), a={"s": cell(SONNET, 5)},
                     b={"h": cell(HAIKU, 1, first=T0 + timedelta(seconds=90))}))
    # a: 4 requests in 2 minutes -> 4 * 0.008775 * 30 per hour
    assert book.burn_rate("a") == pytest.approx(4 * 0.008775 * 30, abs=1e-9)
    # b is new after the previous report: its whole cost is burn
    assert book.burn_rate("b") == pytest.approx(0.002925 * 30, abs=1e-9)
    assert book.burn_rate() == pytest.approx((4 * 0.008775 + 0.002925) * 30, abs=1e-9)


def test_burn_rate_only_counts_the_last_ten_minutes() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"s": cell(SONNET, 1)}))
    book.feed(report(T0 + timedelta(minutes=1), a={"s": cell(SONNET, 11)}))  # 10 early requests
    for minute in range(2, 14):
        book.feed(report(T0 + timedelta(minutes=minute), a={"s": cell(SONNET, 11)}))
    assert book.burn_rate("a") == 0.0  # the burst is more than 10 minutes old
    book.feed(report(T0 + timedelta(minutes=14), a={"s": cell(SONNET, 13)}))
    assert book.burn_rate("a") == pytest.approx(2 * 0.008775 * 6, abs=1e-9)  # $/10 min * 6
    assert len(book._samples) <= 13  # old samples are pruned


def test_single_early_request_is_not_extrapolated_from_seconds() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={}))
    book.feed(report(T0 + timedelta(seconds=2), a={"s": cell(SONNET, 1, first=T0)}))
    # two seconds of history, divided by the one-minute floor
    assert book.burn_rate("a") == pytest.approx(0.008775 * 60, abs=1e-9)


def test_sparkline_buckets_hold_spend_per_thirty_seconds() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"s": cell(SONNET, 1)}))
    book.feed(report(T0 + timedelta(seconds=30), a={"s": cell(SONNET, 2)}))
    book.feed(report(T0 + timedelta(seconds=60), a={"s": cell(SONNET, 2)}))
    book.feed(report(T0 + timedelta(seconds=90), a={"s": cell(SONNET, 5)}))
    series = book.burn_series("a")
    assert len(series) == 20
    assert series[-1] == pytest.approx(3 * 0.008775, abs=1e-9)  # newest bucket
    assert series[-2] == 0.0
    assert series[-3] == pytest.approx(0.008775, abs=1e-9)
    assert math.fsum(series) == pytest.approx(4 * 0.008775, abs=1e-9)
    assert book.burn_series() == series  # one session: totals equal it


def test_counter_reset_and_resumed_history_are_not_burn() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"s": cell(SONNET, 5)}))
    book.feed(report(T0 + timedelta(minutes=1), a={"s": cell(SONNET, 1)}))  # gateway reset
    assert book.burn_rate("a") == 0.0
    yesterday = T0 - timedelta(days=1)
    book.feed(report(T0 + timedelta(minutes=2), a={"s": cell(SONNET, 1)},
                     old={"s": cell(SONNET, 40, first=yesterday, last=yesterday)}))
    assert book.burn_rate() == 0.0  # a resumed tab joined the poll with $0.35 of history
    assert book.spent("old") == pytest.approx(40 * 0.008775, abs=1e-9)


def test_spend_since_last_prompt() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"s": cell(SONNET, 2)}))
    book.mark_prompt("a", at=T0 + timedelta(seconds=1))
    assert book.since_prompt("a") == 0.0
    book.feed(report(T0 + timedelta(seconds=2), a={"s": cell(SONNET, 3), "h": cell(HAIKU, 2)}))
    assert book.since_prompt("a") == pytest.approx(0.008775 + 2 * 0.002925, abs=1e-9)
    assert book.last_prompt_at("a") == T0 + timedelta(seconds=1)
    book.mark_prompt("a", at=T0 + timedelta(seconds=3))
    assert book.since_prompt("a") == 0.0


def test_prompt_before_first_report_resolves_on_next_report() -> None:
    book = UsageBook(tz=UTC)
    book.mark_prompt("new", at=T0)
    assert book.since_prompt("new") is None
    book.feed(report(T0 + timedelta(seconds=2), new={"s": cell(SONNET, 1, first=T0 + timedelta(seconds=1))}))
    assert book.since_prompt("new") == pytest.approx(0.008775, abs=1e-9)
    # a resumed session (history before the prompt): its total at the next report is the base
    book.mark_prompt("old", at=T0 + timedelta(seconds=3))
    book.feed(report(T0 + timedelta(seconds=4), old={"s": cell(SONNET, 9, first=T0 - timedelta(hours=1))}))
    assert book.since_prompt("old") == 0.0
    book.feed(report(T0 + timedelta(seconds=6), old={"s": cell(SONNET, 10, first=T0 - timedelta(hours=1))}))
    assert book.since_prompt("old") == pytest.approx(0.008775, abs=1e-9)


@pytest.mark.parametrize(
    ("spent", "state"),
    [(0.0, BudgetState.OK), (0.4999, BudgetState.OK), (0.5, BudgetState.HALF),
     (0.79, BudgetState.HALF), (0.8, BudgetState.WARN), (0.9999, BudgetState.WARN),
     (1.0, BudgetState.OVER), (3.0, BudgetState.OVER)],
)
def test_budget_state_thresholds(spent: float, state: BudgetState) -> None:
    assert budget_state(spent, 1.0) is state
    assert budget_state(spent, None) is BudgetState.NONE


def test_budget_crossings_are_reported_once_each() -> None:
    per_request = 0.008775
    book = UsageBook(tz=UTC)
    book.set_budget("a", 10 * per_request)
    assert book.feed(report(T0, a={"s": cell(SONNET, 1)})) == []  # first look: no event
    assert book.budget_state("a") is BudgetState.OK
    crossings = book.feed(report(T0 + timedelta(seconds=2), a={"s": cell(SONNET, 5)}))
    assert [(c.previous, c.state) for c in crossings] == [(BudgetState.OK, BudgetState.HALF)]
    assert crossings[0].spent_usd == pytest.approx(5 * per_request, abs=1e-9)
    assert book.feed(report(T0 + timedelta(seconds=4), a={"s": cell(SONNET, 6)})) == []
    crossings = book.feed(report(T0 + timedelta(seconds=6), a={"s": cell(SONNET, 11)}))
    assert [(c.previous, c.state) for c in crossings] == [(BudgetState.HALF, BudgetState.OVER)]
    assert book.budget_fraction("a") == pytest.approx(1.1, abs=1e-9)
    assert book.feed(report(T0 + timedelta(seconds=8), a={"s": cell(SONNET, 12)})) == []


def test_resumed_session_already_over_budget_is_not_announced() -> None:
    book = UsageBook(tz=UTC)
    book.set_budget("a", 0.01)
    assert book.feed(report(T0, a={"s": cell(SONNET, 5)})) == []
    assert book.budget_state("a") is BudgetState.OVER


def test_late_report_from_an_older_poll_is_ignored() -> None:
    book = UsageBook(tz=UTC)
    book.feed(report(T0 + timedelta(seconds=10), a={"s": cell(SONNET, 3)}))
    book.feed(report(T0, a={"s": cell(SONNET, 1)}))
    assert book.session_totals("a").requests == 3


def test_today_counts_from_local_midnight() -> None:
    tz = timezone(timedelta(hours=2))
    midnight = datetime(2026, 11, 28, 0, 0, tzinfo=tz)
    before = midnight - timedelta(minutes=5)
    book = UsageBook(tz=tz)
    # a session that worked before midnight, seen before midnight
    book.feed(report(before, a={"s": cell(SONNET, 4, first=before - timedelta(hours=1), last=before)}))
    assert book.today() == pytest.approx(4 * 0.008775, abs=1e-9)  # all of it was that day
    after = midnight + timedelta(minutes=5)
    book.feed(report(after, a={"s": cell(SONNET, 6, first=before - timedelta(hours=1), last=after)},
                     b={"h": cell(HAIKU, 1, first=after)}))
    assert book.today() == pytest.approx(2 * 0.008775 + 0.002925, abs=1e-9)
    assert book.today(["b"]) == pytest.approx(0.002925, abs=1e-9)
    assert not book.today_partial


def test_today_after_a_restart_past_midnight_is_marked_partial() -> None:
    book = UsageBook(tz=UTC)
    yesterday = T0 - timedelta(days=1)
    book.feed(report(T0, a={"s": cell(SONNET, 4, first=yesterday, last=T0)},
                     old={"s": cell(SONNET, 2, first=yesterday, last=yesterday)},
                     new={"s": cell(SONNET, 1, first=T0 - timedelta(hours=1))}))
    assert book.today() == pytest.approx(0.008775, abs=1e-9)  # only `new` is known to be today
    assert book.today_partial
    book.feed(report(T0 + timedelta(minutes=1), a={"s": cell(SONNET, 5, first=yesterday, last=T0)},
                     old={"s": cell(SONNET, 2, first=yesterday, last=yesterday)},
                     new={"s": cell(SONNET, 1, first=T0 - timedelta(hours=1))}))
    assert book.today() == pytest.approx(2 * 0.008775, abs=1e-9)


money = st.floats(min_value=0, max_value=50, allow_nan=False, allow_infinity=False)


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]),
                       st.dictionaries(st.sampled_from(["m1", "m2", "m3"]), money, max_size=3),
                       max_size=4))
def test_all_tab_total_is_exactly_the_reports_total(costs: dict[str, dict[str, float]]) -> None:
    rep = UsageReport(as_of=T0)
    for sid, models in costs.items():
        cells = {m: UsageTotals(cost_usd=c, requests=1) for m, c in models.items()}
        rep.sessions[sid] = SessionUsage(sid, cells)
    book = UsageBook(tz=UTC)
    book.feed(rep)
    assert book.totals().cost_usd == rep.total_cost_usd
    by_model = math.fsum(t.cost_usd for t in book.model_totals().values())
    assert by_model == pytest.approx(rep.total_cost_usd, abs=1e-9)
    for sid, models in costs.items():
        assert book.spent(sid) == math.fsum(models.values())
