"""Notices for background tabs: which ones, and their wording with context."""

from __future__ import annotations

from datetime import UTC, timedelta

from heimdall.sessions.activity import Activity
from heimdall.spend.book import BudgetCrossing, BudgetState, UsageBook
from heimdall.spend.notices import activity_notice, bell_notice, budget_notice, short_model_name

from tests.tui.spend_host import SONNET, T0, cell, report


def book_with_prompt() -> UsageBook:
    book = UsageBook(tz=UTC)
    book.feed(report(T0, a={"claude-sonnet-4-5": cell(SONNET, 2)}))
    book.mark_prompt("a", T0 + timedelta(seconds=1))
    book.feed(report(T0 + timedelta(seconds=5), a={"claude-sonnet-4-5": cell(SONNET, 98)}))
    return book


def test_waiting_notice_has_name_spend_since_prompt_and_model() -> None:
    notice = activity_notice("api-fix", "a", "claude-sonnet-4-5-20250929", Activity.BUSY,
                             Activity.WAITING, background=True, book=book_with_prompt())
    assert notice is not None
    assert notice.message == "api-fix waiting · $0.84 since your prompt · sonnet-4-5"
    assert notice.severity == "warning" and notice.session_id == "a"


def test_only_background_tabs_and_real_transitions_notify() -> None:
    args = ("api-fix", "a", "claude-sonnet-4-5")
    assert activity_notice(*args, Activity.BUSY, Activity.WAITING, background=False) is None
    assert activity_notice(*args, Activity.STARTING, Activity.IDLE, background=True) is None
    assert activity_notice(*args, Activity.IDLE, Activity.BUSY, background=True) is None
    finished = activity_notice(*args, Activity.BUSY, Activity.IDLE, background=True, demo=True)
    assert finished is not None and finished.message == "api-fix finished · sonnet-4-5"
    assert finished.title == "Heimdall demo"
    bell = bell_notice("docs", "b", None, background=True)
    assert bell is not None and bell.message == "docs rang the bell · default model"


def test_budget_notices() -> None:
    half = budget_notice("api-fix", BudgetCrossing("a", BudgetState.OK, BudgetState.HALF, 1.0, 2.0))
    assert half.message == "api-fix used 50% of its budget: $1.00 of $2.00"
    assert half.severity == "warning"
    over = budget_notice("api-fix", BudgetCrossing("a", BudgetState.WARN, BudgetState.OVER, 2.004, 2.0),
                         demo=True)
    assert over.severity == "error"
    assert over.message == "api-fix reached its budget: $2.00 demo of $2.00 demo; the gateway refuses more"


def test_short_model_names() -> None:
    assert short_model_name("claude-haiku-4-5-20251001") == "haiku-4-5"
    assert short_model_name("anthropic/claude-opus-4-1") == "opus-4-1"
    assert short_model_name("gpt-5") == "gpt-5"
