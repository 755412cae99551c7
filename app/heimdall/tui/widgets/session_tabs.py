"""The tab bar: one label per tab with its number, title and activity badge; a click switches.

Titles come from child programs (OSC 0), so they are untrusted: labels are built from `Text`
objects, never markup strings. State is shown with dash-prefixed classes (`-busy`, `-bell`, ...)
that `styles/app.tcss` colours from theme variables.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.containers import HorizontalScroll
from textual.message import Message
from textual.widgets import Static

from heimdall.sessions.activity import Activity

if TYPE_CHECKING:
    from heimdall.tui.widgets.terminal_view import TerminalView

BADGES: dict[Activity, str] = {
    Activity.STARTING: "…",
    Activity.BUSY: "●",
    Activity.IDLE: "○",
    Activity.WAITING: "◆",
    Activity.BELL: "!",
    Activity.EXITED: "×",
}
"""Single-cell glyphs (no emoji: their width differs between terminals)."""
MAX_TITLE = 40


def badge_text(view: TerminalView) -> str:
    """`●` for busy ... and `exit 3` / `exit SIGKILL` for an ended child."""
    if view.state is Activity.EXITED and view.exit_status is not None:
        return f"exit {view.exit_status.describe()}"
    return BADGES[view.state]


class TabLabel(Static):
    """One tab in the bar."""

    def __init__(self, view: TerminalView) -> None:
        super().__init__(classes="tab-label", id=f"label-{view.id}" if view.id else None)
        self.view = view
        self._shown: tuple[object, ...] | None = None
        self._width = -1  # cells of the text shown

    def refresh_label(self, number: int, active: bool) -> None:
        title = self.view.label
        if len(title) > MAX_TITLE:
            title = title[: MAX_TITLE - 1] + "…"
        key = (number, title, badge_text(self.view), active, self.view.state)
        if key == self._shown:
            return
        self._shown = key
        text = Text()
        text.append(f" {number} ", style="bold")
        text.append(title)
        text.append(f" {key[2]} ")
        # A badge or same-width title change needs no new layout of the whole screen (the
        # costliest part of a tab-bar update, which background tabs cause as they work).
        width = text.cell_len
        self.update(text, layout=width != self._width)
        self._width = width
        self.set_class(active, "-active")
        for state in Activity:
            self.set_class(self.view.state is state, f"-{state.value}")
        tooltip = f"{self.view.label} ({self.view.launch.display}): {self.view.state.value}"
        if tooltip != self.tooltip:
            self.tooltip = tooltip

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(SessionTabs.Selected(self.view))


class SessionTabs(HorizontalScroll):
    """Tab bar. Posts `SessionTabs.Selected` when a tab is clicked."""

    class Selected(Message):
        def __init__(self, view: TerminalView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: dict[int, TabLabel] = {}
        self._scrolled_to: TerminalView | None = None

    def label_for(self, view: TerminalView) -> TabLabel | None:
        return self._labels.get(id(view))

    async def add_tab(self, view: TerminalView) -> None:
        label = TabLabel(view)
        self._labels[id(view)] = label
        await self.mount(label)

    def order_like(self, views: list[TerminalView]) -> None:
        """Put the labels in the order of `views` (after a tab was moved)."""
        labels = [label for view in views if (label := self._labels.get(id(view))) is not None]
        for previous, label in itertools.pairwise(labels):
            self.move_child(label, after=previous)
        self._scrolled_to = None  # the active label may have moved out of view

    async def remove_tab(self, view: TerminalView) -> None:
        label = self._labels.pop(id(view), None)
        if label is not None:
            await label.remove()

    def refresh_tabs(self, views: list[TerminalView], active: TerminalView | None) -> None:
        for number, view in enumerate(views, start=1):
            label = self._labels.get(id(view))
            if label is not None:
                label.refresh_label(number, view is active)
        if active is not None and active is not self._scrolled_to:
            label = self._labels.get(id(active))
            if label is not None:
                self._scrolled_to = active
                self.scroll_to_widget(label, animate=False)
