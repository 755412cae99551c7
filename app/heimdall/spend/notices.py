"""Which notice to raise about a tab you are not looking at, with the context that makes it useful.

"api-fix waiting · $0.84 since your prompt · sonnet-4-5" says which tab, what it wants, and what
the last request cost, so the user can decide whether to switch without switching. Only
background tabs notify about their activity (the one in view speaks for itself); budget
crossings notify for every tab. How a notice reaches the user (a toast, and with
`ui.desktop_notifications` OSC 9 / 777 to the host terminal) is `heimdall.tui.notify`'s business;
deciding and wording it lives here, free of Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from heimdall.sessions.activity import Activity
from heimdall.spend.book import BudgetCrossing, BudgetState, UsageBook
from heimdall.spend.money import format_usd

Severity = Literal["information", "warning", "error"]

_DATE_SUFFIX = re.compile(r"-\d{8}$")


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    message: str
    """Plain text (never markup): shown with `markup=False`."""
    severity: Severity = "information"
    session_id: str | None = None


def short_model_name(model: str | None) -> str:
    """`claude-sonnet-4-5-20250929` -> `sonnet-4-5`; other ids unchanged; None -> `default model`."""
    if not model:
        return "default model"
    name = model.rsplit("/", 1)[-1]
    name = _DATE_SUFFIX.sub("", name)
    return name.removeprefix("claude-")


def _context(name: str, what: str, session_id: str, model: str | None, book: UsageBook | None,
             demo: bool) -> str:
    parts = [f"{name} {what}"]
    since = book.since_prompt(session_id) if book is not None else None
    if since is not None:
        parts.append(f"{format_usd(since, demo=demo)} since your prompt")
    parts.append(short_model_name(model))
    return " · ".join(parts)


_ACTIVITY_WORDS: dict[Activity, tuple[str, Severity]] = {
    Activity.WAITING: ("waiting", "warning"),
    Activity.IDLE: ("finished", "information"),
    Activity.BELL: ("rang the bell", "warning"),
    Activity.EXITED: ("exited", "warning"),
}


def activity_notice(
    name: str,
    session_id: str,
    model: str | None,
    old: Activity,
    new: Activity,
    *,
    background: bool,
    book: UsageBook | None = None,
    demo: bool = False,
) -> Notice | None:
    """A notice when a background tab starts waiting, finishes a turn, rings or exits."""
    if not background or new == old:
        return None
    if new is Activity.IDLE and old is not Activity.BUSY:
        return None  # "finished" only after a turn, not at start-up
    word = _ACTIVITY_WORDS.get(new)
    if word is None:
        return None
    what, severity = word
    return Notice(
        title="Heimdall" + (" demo" if demo else ""),
        message=_context(name, what, session_id, model, book, demo),
        severity=severity,
        session_id=session_id,
    )


def bell_notice(name: str, session_id: str, model: str | None, *, background: bool,
                book: UsageBook | None = None, demo: bool = False) -> Notice | None:
    return activity_notice(name, session_id, model, Activity.IDLE, Activity.BELL,
                           background=background, book=book, demo=demo)


def budget_notice(name: str, crossing: BudgetCrossing, *, demo: bool = False) -> Notice:
    """Every crossing (50 / 80 / 100 %), whichever tab is in view."""
    spent = format_usd(crossing.spent_usd, demo=demo)
    budget = format_usd(crossing.budget_usd, demo=demo)
    if crossing.state is BudgetState.OVER:
        message = f"{name} reached its budget: {spent} of {budget}; the gateway refuses more"
        severity: Severity = "error"
    else:
        message = f"{name} used {crossing.state.label} of its budget: {spent} of {budget}"
        severity = "warning"
    return Notice("Budget" + (" (demo)" if demo else ""), message, severity, crossing.session_id)
