"""Showing a `Notice` (decided in `heimdall.spend.notices`): a Textual toast, and optionally the host
terminal's desktop notification.

With `ui.desktop_notifications`, the same text also goes to the host terminal as OSC 9 (and
OSC 777 for terminals that prefer it), stripped of control characters so a tab name cannot smuggle
escape sequences to the host.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import App

from heimdall.spend.notices import Notice

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).replace(";", ",")


def osc9(notice: Notice) -> str:
    """Desktop notification for iTerm2, WezTerm, Ghostty, kitty, Windows Terminal (OSC 9)."""
    return f"\x1b]9;{_clean(notice.message)}\x07"


def osc777(notice: Notice) -> str:
    """Desktop notification for rxvt/foot/Konsole-style terminals (OSC 777 notify)."""
    return f"\x1b]777;notify;{_clean(notice.title)};{_clean(notice.message)}\x07"


def post_notice(app: App[Any], notice: Notice, *, desktop: bool = False) -> None:
    """Show `notice` as a Textual notification; with `desktop`, also send OSC 9 + 777."""
    app.notify(notice.message, title=notice.title, severity=notice.severity, markup=False)
    # The driver is the only way to the host terminal (Textual's own copy_to_clipboard uses it
    # too); none while not running, and a headless one has no host terminal.
    driver = app._driver
    if not desktop or driver is None or app.is_headless:
        return
    try:
        driver.write(osc9(notice) + osc777(notice))
        driver.flush()
    except Exception:  # a host terminal that cannot take it must not break the app
        return
