"""The tab engine as a widget: the tab bar over the tabs' terminals, with the side panel beside them.

`Workspace` opens, closes, activates, moves and renames tabs and keeps the bar in step; it knows
nothing about sessions or money. How a tab's child starts is the `launch_factory`'s business (the
app passes one); what happens around a tab is told by messages bubbling to the app: `TabOpened`,
`TabClosed`, `TabActivated`, `TabRenamed` from here, `TabStateChanged` and friends from each
`TerminalView` (the workspace redraws the bar on them and lets them go on).

The `#sidebar` slot sits in here only so the tab bar can span the full width above it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from heimdall.config import TerminalConfig
from heimdall.process.launch import AgentLaunch
from heimdall.sessions.clocks import ActivityClock, FrameClock
from heimdall.tui.keys import KeyRouter
from heimdall.tui.messages import (
    TabActivated,
    TabBell,
    TabClosed,
    TabExited,
    TabOpened,
    TabRenamed,
    TabStateChanged,
    TabTitleChanged,
)
from heimdall.tui.widgets.session_tabs import SessionTabs
from heimdall.tui.widgets.terminal_view import TerminalView

TAB_BAR_REFRESH_DELAY = 0.05
"""Tab events (state, title, bell) within this window share one tab-bar redraw."""
TITLE_REFRESH_DELAY = 0.25
"""Title changes alone redraw the tab bar at most about this often: a child may retitle itself
many times a second (progress in its title) and each redraw costs more than the news is worth."""


@dataclass
class TabRequest:
    """What the user asked for when opening a tab; `launch_factory` turns it into an AgentLaunch."""

    command: str | None = None
    """Command line to run; None = the default agent (`config.agent.command`)."""
    cwd: Path | None = None
    name: str | None = None
    session_id: str | None = None
    model: str | None = None
    resume: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    """Free-form data for custom launch factories."""


LaunchFactory = Callable[[TabRequest], AgentLaunch | Awaitable[AgentLaunch]]


class Workspace(Vertical):
    """Tabs of terminals: the bar, the switcher of `TerminalView`s, and the side panel slot."""

    def __init__(
        self,
        launch_factory: LaunchFactory,
        terminal: TerminalConfig,
        *,
        frame_clock: FrameClock,
        activity_clock: ActivityClock,
        keys: KeyRouter | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.keys = keys
        self.launch_factory = launch_factory
        self.terminal_config = terminal
        self.frame_clock = frame_clock
        self.activity_clock = activity_clock
        self.tabs: list[TerminalView] = []
        """Open tabs, in bar order."""
        self.active_tab: TerminalView | None = None
        self._tab_serial = 0
        self._tabs_refresh_pending = False
        self._title_refresh_pending = False

    def compose(self) -> ComposeResult:
        yield SessionTabs(id="tab-bar")
        with Horizontal(id="workspace"):
            yield ContentSwitcher(id="terminals")
            yield Vertical(id="sidebar")

    @property
    def sidebar(self) -> Vertical:
        """Mount point for the spend sidebar (or anything else) on the right."""
        return self.query_one("#sidebar", Vertical)

    async def mount_sidebar(self, widget: Widget) -> None:
        """Show `widget` in the sidebar slot (which stays hidden while it holds nothing)."""
        await self.sidebar.mount(widget)
        # `:empty` is not re-evaluated when children arrive later, so the slot says it outright
        self.sidebar.add_class("-filled")

    # -- tabs ---------------------------------------------------------------------------------------

    async def _make_launch(self, request: TabRequest) -> AgentLaunch:
        result = self.launch_factory(request)
        if isinstance(result, Awaitable):
            result = await result
        assert isinstance(result, AgentLaunch)
        return result

    async def open_tab(self, request: TabRequest | None = None) -> TerminalView | None:
        """Open a tab and start its child. Errors are shown, never raised."""
        request = request or TabRequest()
        try:
            launch = await self._make_launch(request)
        except Exception as exc:  # a bad command line or launch problem: say so, keep running
            self.notify(f"Cannot open tab: {exc}", severity="error", markup=False)
            return None
        self._tab_serial += 1
        view = TerminalView(
            launch,
            clock=self.frame_clock,
            activity_clock=self.activity_clock,
            scrollback_lines=self.terminal_config.scrollback_lines,
            keys=self.keys,
            session_id=request.session_id or launch.session_id,
            name=request.name,
            id=f"tab-{self._tab_serial}",
        )
        self.tabs.append(view)
        await self.query_one("#terminals", ContentSwitcher).mount(view)
        await self.query_one(SessionTabs).add_tab(view)
        self.activate(view)
        # Give layout a chance to size the view so the child starts at its real size.
        await asyncio.sleep(0)
        view.start()
        self.post_message(TabOpened(view))
        self.refresh_tabs()
        return view

    def activate(self, view: TerminalView) -> None:
        if view not in self.tabs:
            return
        previous = self.active_tab
        self.active_tab = view
        self.query_one("#terminals", ContentSwitcher).current = view.id
        for other in self.tabs:
            if other is not view and other.shown:
                other.hide()
        view.show()
        view.focus()
        if previous is not view:
            self.post_message(TabActivated(view))
        self.refresh_tabs()

    async def close_tab(self, view: TerminalView) -> None:
        """End the tab's child and remove the tab."""
        if view not in self.tabs:
            return
        index = self.tabs.index(view)
        await view.close()
        self.tabs.remove(view)
        await self.query_one(SessionTabs).remove_tab(view)
        await view.remove()
        self.post_message(TabClosed(view))
        if self.active_tab is view:
            self.active_tab = None
            if self.tabs:
                self.activate(self.tabs[min(index, len(self.tabs) - 1)])
        self.refresh_tabs()

    def step(self, delta: int) -> None:
        """Activate the tab `delta` places along the bar (wrapping around)."""
        if not self.tabs:
            return
        index = self.tabs.index(self.active_tab) if self.active_tab in self.tabs else 0
        self.activate(self.tabs[(index + delta) % len(self.tabs)])

    def jump(self, number: int) -> None:
        """Activate tab `number` (1-based), if there is one."""
        if 1 <= number <= len(self.tabs):
            self.activate(self.tabs[number - 1])

    def move_active(self, delta: int) -> None:
        """Move the active tab `delta` places along the bar (it stays put at either end)."""
        view = self.active_tab
        if view is None or view not in self.tabs:
            return
        index = self.tabs.index(view)
        target = index + delta
        if not 0 <= target < len(self.tabs) or target == index:
            return
        self.tabs.insert(target, self.tabs.pop(index))
        with contextlib.suppress(NoMatches):
            self.query_one(SessionTabs).order_like(self.tabs)
        self.refresh_tabs()

    def rename(self, view: TerminalView, name: str | None) -> None:
        """Name the tab (None or empty: follow the program's title)."""
        view.custom_name = (name or "").strip() or None
        self.post_message(TabRenamed(view))
        self.refresh_tabs()

    def poll_activity(self) -> bool:
        """Re-evaluate every tab's badge; True while some tab still needs the next poll."""
        needed = False
        for view in self.tabs:
            view.poll_activity()
            needed = needed or view.needs_poll()
        return needed

    # -- the bar ------------------------------------------------------------------------------------

    def refresh_tabs(self) -> None:
        """Redraw the tab bar soon; bursts of tab events collapse into one redraw."""
        if not self._tabs_refresh_pending:
            self._tabs_refresh_pending = True
            # A bare loop timer: Textual's set_timer costs a task and a message per redraw.
            asyncio.get_running_loop().call_later(TAB_BAR_REFRESH_DELAY, self._refresh_tabs_now)

    def _refresh_tabs_now(self) -> None:
        self._tabs_refresh_pending = False
        if not self.is_attached or not self.app.is_running:
            return  # the timer outlived the app
        with contextlib.suppress(NoMatches):
            self.query_one(SessionTabs).refresh_tabs(self.tabs, self.active_tab)

    @on(SessionTabs.Selected)
    def _on_tab_clicked(self, event: SessionTabs.Selected) -> None:
        self.activate(event.view)

    def on_tab_state_changed(self, event: TabStateChanged) -> None:
        self.refresh_tabs()

    def on_tab_title_changed(self, event: TabTitleChanged) -> None:
        if not self._title_refresh_pending:
            self._title_refresh_pending = True
            asyncio.get_running_loop().call_later(TITLE_REFRESH_DELAY, self._refresh_titles)

    def _refresh_titles(self) -> None:
        self._title_refresh_pending = False
        self.refresh_tabs()

    def on_tab_bell(self, event: TabBell) -> None:
        self.refresh_tabs()

    def on_tab_exited(self, event: TabExited) -> None:
        self.refresh_tabs()
