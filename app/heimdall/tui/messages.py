"""App-wide messages about tabs, posted by a tab's `TerminalView` and bubbling up to the app.

Anything that reacts to tabs (the spend sidebar, notifications, session persistence) handles these
instead of reaching into the terminal widget: `on_tab_state_changed`, `on_tab_title_changed`,
`on_tab_exited`, `on_tab_bell`, `on_tab_opened`, `on_tab_closed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from heimdall.process.pty import ExitStatus
from heimdall.sessions.activity import Activity

if TYPE_CHECKING:
    from heimdall.tui.widgets.terminal_view import TerminalView


class TabMessage(Message):
    """Base: names the tab (its `TerminalView`); `control` lets `@on(..., selector)` match it."""

    def __init__(self, tab: TerminalView) -> None:
        super().__init__()
        self.tab = tab
        """The tab's terminal view (has `session_id`, `label`, `state`, `restart()`)."""

    @property
    def control(self) -> TerminalView:
        return self.tab


class TabStateChanged(TabMessage):
    """The tab's activity badge changed (starting / busy / idle / waiting / bell / exited)."""

    def __init__(self, tab: TerminalView, old: Activity, new: Activity) -> None:
        super().__init__(tab)
        self.old = old
        self.new = new


class TabTitleChanged(TabMessage):
    """The child set its window title (OSC 0/2). `title` is raw: untrusted text, never markup."""

    def __init__(self, tab: TerminalView, title: str) -> None:
        super().__init__(tab)
        self.title = title


class TabExited(TabMessage):
    """The child process ended; its output stays visible and the tab can be restarted."""

    def __init__(self, tab: TerminalView, status: ExitStatus) -> None:
        super().__init__(tab)
        self.status = status


class TabBell(TabMessage):
    """The child rang the bell. `background` is True when the tab was not the one in view."""

    def __init__(self, tab: TerminalView, background: bool) -> None:
        super().__init__(tab)
        self.background = background


class TabNotification(TabMessage):
    """The child sent a desktop-notification escape (OSC 9 / 777). `text` is untrusted."""

    def __init__(self, tab: TerminalView, text: str) -> None:
        super().__init__(tab)
        self.text = text


class TabOpened(TabMessage):
    """A tab was added and its child started (or failed to start: see `tab.start_error`)."""


class TabClosed(TabMessage):
    """A tab was closed and its child ended."""


class TabRenamed(TabMessage):
    """The user named the tab (`tab.custom_name`; None = follow the program's title)."""


class TabActivated(TabMessage):
    """The user switched to this tab."""
