"""Notices about tabs you are not looking at, with the context that makes them useful.

"api-fix waiting · $0.84 since your prompt · sonnet-4-5" says which tab, what it wants, and what
the last request cost, so the user can decide whether to switch without switching. Only
background tabs notify about their activity (the one in view speaks for itself); budget
crossings notify for every tab. With `ui.desktop_notifications`, the same text also goes to the
host terminal as OSC 9 (and OSC 777 for terminals that prefer it), stripped of control characters
so a tab name cannot smuggle escape sequences to the host.

The wording lives here, free of Textual; `post_notice` is the one function that touches the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from heimdall.sessions.activity import Activity
from heimdall.spend.book import BudgetCrossing, BudgetState, UsageBook
from heimdall.tui.widgets.spend_sidebar import format_usd

if TYPE_CHECKING:
    from textual.app import App

Severity = Literal["information", "warning", "error"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
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


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).replace(";", ",")


def osc9(notice: Notice) -> str:
    """Desktop notification for iTerm2, WezTerm, Ghostty, kitty, Windows Terminal (OSC 9)."""
    return f"\x1b]9;{_clean(notice.message)}\x07"


def osc777(notice: Notice) -> str:
    """Desktop notification for rxvt/foot/Konsole-style terminals (OSC 777 notify)."""
    return f"\x1b]777;notify;{_clean(notice.title)};{_clean(notice.message)}\x07"


def post_notice(app: App[object], notice: Notice, *, desktop: bool = False) -> None:
    """Show `notice` as a Textual notification; with `desktop`, also send OSC 9 + 777."""
    app.notify(notice.message, title=notice.title, severity=notice.severity, markup=False)
    if not desktop:
        return
    driver = getattr(app, "_driver", None)
    if driver is None or getattr(app, "is_headless", False):
        return
    try:
        driver.write(osc9(notice) + osc777(notice))
        driver.flush()
    except Exception:  # a host terminal that cannot take it must not break the app
        return
