"""HeimdallApp: tabs of real terminals, each running Claude Code (or any command).

Keys. A focused terminal must receive every key its child understands, and Claude Code uses most
of them (Ctrl+C/D/R/O/T/G/B/L/V/Z/J, Esc, Esc Esc, Shift+Tab, Alt+...). So Heimdall takes only:

- a **prefix** key (Ctrl+] by default, `config.keys.prefix`) followed by one command key; pressing
  the prefix twice sends it to the child;
- two direct keys no terminal program needs: Ctrl+PgDn / Ctrl+PgUp (next / previous tab);
- Shift+PgUp / Shift+PgDn for scrollback, as in most terminals.

Every binding has an id; `config.keys.bindings` remaps direct bindings by id (Textual's keymap)
and prefix commands by `prefix-<name>` ids (the key pressed after the prefix).

Integration points for the rest of Heimdall:

- `launch_factory(TabRequest) -> AgentLaunch` decides how a tab's child is started (gateway env,
  session ids); the default runs `config.agent.command` as a plain command.
- The right-hand container `#sidebar` takes any widget (the spend sidebar); prefix+s toggles it.
- `open_model_menu(tab)` is a hook for the model menu; `TerminalView.restart(launch)` restarts a
  tab with a new launch (e.g. `--resume <id> --model <new>`).
- Tab events are posted as messages (`heimdall.tui.messages`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.resources
import os
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static

import heimdall.styles
from heimdall.config import Config
from heimdall.process.keys import encode_key
from heimdall.process.launch import AgentLaunch, command_launch
from heimdall.tui.messages import (
    TabActivated,
    TabBell,
    TabClosed,
    TabExited,
    TabOpened,
    TabStateChanged,
    TabTitleChanged,
)
from heimdall.tui.screens.confirm import ConfirmScreen
from heimdall.tui.screens.help import HelpRow, HelpScreen
from heimdall.tui.screens.prompt import PromptScreen
from heimdall.tui.screens.search import SearchScreen
from heimdall.tui.widgets.session_tabs import SessionTabs
from heimdall.tui.widgets.terminal_view import ActivityClock, FrameClock, TerminalView

STYLES_DIR = Path(str(importlib.resources.files(heimdall.styles)))
"""The top-level `styles/` folder, installed as the data package `heimdall.styles`: a wheel ships
the .tcss files inside the package and an editable checkout reads them in place."""
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


@dataclass(frozen=True)
class PrefixCommand:
    """A command reached by the prefix key followed by `keys` (remappable by `binding_id`)."""

    binding_id: str
    keys: tuple[str, ...]
    action: str
    description: str


PREFIX_COMMANDS: tuple[PrefixCommand, ...] = (
    PrefixCommand("prefix-new-tab", ("c",), "new_tab", "New tab running the default agent"),
    PrefixCommand("prefix-new-command", ("C",), "new_tab_prompt", "New tab running a command…"),
    PrefixCommand("prefix-close-tab", ("x",), "close_tab", "Close tab (asks if still running)"),
    PrefixCommand("prefix-next-tab", ("n",), "next_tab", "Next tab"),
    PrefixCommand("prefix-prev-tab", ("p",), "prev_tab", "Previous tab"),
    PrefixCommand("prefix-move-tab-left", ("less_than_sign",), "move_tab_left", "Move tab left"),
    PrefixCommand("prefix-move-tab-right", ("greater_than_sign",), "move_tab_right", "Move tab right"),
    PrefixCommand("prefix-rename", ("r",), "rename_tab", "Rename tab (empty: follow the title)"),
    PrefixCommand("prefix-restart", ("R",), "restart_tab", "Restart the tab's program"),
    PrefixCommand("prefix-search", ("slash",), "search", "Search this tab's scrollback"),
    PrefixCommand("prefix-help", ("question_mark",), "help", "This help"),
    PrefixCommand("prefix-model-menu", ("m",), "model_menu", "Model menu (switch model)"),
    PrefixCommand("prefix-sidebar", ("s",), "toggle_sidebar", "Show / hide the sidebar"),
    PrefixCommand("prefix-quit", ("q",), "quit", "Quit Heimdall (ends every tab's program)"),
    PrefixCommand("prefix-palette", ("colon",), "command_palette", "Command palette (every action)"),
)
"""Prefix then 1-9 jumps to a tab; prefix twice sends the prefix key to the child."""


def _key_names(spec: str) -> tuple[str, ...]:
    from textual.keys import _character_to_key

    names = []
    for part in spec.split(","):
        part = part.strip()
        if part:
            names.append(_character_to_key(part) if len(part) == 1 else part)
    return tuple(names)


_KEY_DISPLAY = {
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "slash": "/",
    "question_mark": "?",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "backslash": "\\",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "ctrl": "Ctrl",
    "shift": "Shift",
    "alt": "Alt",
    "space": "Space",
    "escape": "Esc",
    "enter": "Enter",
}


def display_keys(spec: str) -> str:
    """`ctrl+right_square_bracket,f8` -> `Ctrl+], F8` (for help and the status bar)."""
    shown = []
    for key in spec.split(","):
        parts = [part for part in key.strip().split("+") if part]
        words = [
            _KEY_DISPLAY.get(part, part.upper() if len(part) <= 3 and part[:1] == "f" else part)
            for part in parts
        ]
        shown.append("+".join(words))
    return ", ".join(shown)


class HeimdallApp(App[int]):
    """Tabs of terminals. See the module docstring for keys and integration points."""

    TITLE = "Heimdall"
    # The palette lists every action; it opens with the prefix then `:`, because Ctrl+P (Textual's
    # default) belongs to the child (shells, Claude Code history).
    ENABLE_COMMAND_PALETTE = True
    CSS_PATH: ClassVar = [STYLES_DIR / "app.tcss", STYLES_DIR / "terminal.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+right_square_bracket",
            "prefix",
            "Prefix",
            id="prefix",
            tooltip="Prefix key: press it, then a command key (? lists them); twice sends it",
            priority=True,
            show=False,
        ),
        Binding(
            "ctrl+pagedown",
            "next_tab",
            "Next tab",
            id="next-tab",
            tooltip="Switch to the next tab",
            priority=True,
            show=False,
        ),
        Binding(
            "ctrl+pageup",
            "prev_tab",
            "Previous tab",
            id="prev-tab",
            tooltip="Switch to the previous tab",
            priority=True,
            show=False,
        ),
    ]

    def __init__(
        self,
        config: Config,
        *,
        launch_factory: LaunchFactory | None = None,
        initial_tabs: list[TabRequest] | None = None,
        freeze_gc: bool = True,
        handle_signals: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.launch_factory: LaunchFactory = launch_factory or self.default_launch
        self.initial_tabs = [TabRequest()] if initial_tabs is None else list(initial_tabs)
        self.freeze_gc = freeze_gc
        self.handle_signals = handle_signals
        self.frame_clock = FrameClock(config.terminal.max_fps, config.terminal.background_fps)
        self.activity_clock = ActivityClock(self._poll_activity)
        """One timer for all tabs (status files, decay of "busy"), armed only while needed."""
        self.tabs: list[TerminalView] = []
        self.active_tab: TerminalView | None = None
        self.prefix_armed = False
        self._tab_serial = 0
        self._tabs_refresh_pending = False
        self._title_refresh_pending = False
        self._started = False
        self._prefix_table: dict[str, PrefixCommand] = {}
        # Ctrl+Q would be Textual's quit; children (emacs, nano) own it here.
        self._bindings.key_to_bindings.pop("ctrl+q", None)
        self._bindings.key_to_bindings.pop(self.COMMAND_PALETTE_BINDING, None)
        self._apply_keymap()
        self.theme = config.ui.theme if config.ui.theme in self.available_themes else self.theme

    # -- keymap ---------------------------------------------------------------------------------

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, except on Linux/macOS terminals: one whose input thread does not poll."""
        driver = super().get_driver_class()
        try:
            from textual.drivers.linux_driver import LinuxDriver

            from heimdall.tui.driver import QuietLinuxDriver, supports_textual
        except ImportError:  # no termios (Windows), or Textual's internals moved
            return driver
        if driver is not LinuxDriver or not supports_textual():
            return driver
        return QuietLinuxDriver

    def _apply_keymap(self) -> None:
        direct: dict[str, str] = {"prefix": self.config.keys.prefix}
        prefix_ids = {command.binding_id for command in PREFIX_COMMANDS}
        for binding_id, keys in self.config.keys.bindings.items():
            if binding_id not in prefix_ids:
                direct[binding_id] = keys
        self.set_keymap(direct)
        self._prefix_table = {}
        for command in PREFIX_COMMANDS:
            override = self.config.keys.bindings.get(command.binding_id)
            keys = _key_names(override) if override else command.keys
            for key in keys:
                self._prefix_table[key] = command

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: every prefix command (with its keys as help), tabs, then Textual's."""
        prefix = display_keys(self.config.keys.prefix)
        keys_of: dict[str, list[str]] = {}
        commands: dict[str, PrefixCommand] = {}
        for key, command in self._prefix_table.items():
            keys_of.setdefault(command.binding_id, []).append(display_keys(key))
            commands.setdefault(command.binding_id, command)
        for binding_id, command in commands.items():
            if command.action == "command_palette":
                continue
            keys = ", ".join(keys_of[binding_id])
            yield SystemCommand(
                command.description,
                f"{prefix} {keys}",
                partial(self.call_later, self.run_action, command.action),
            )
        for number, view in enumerate(self.tabs, start=1):
            yield SystemCommand(
                f"Go to tab {number}: {view.label}",
                f"{prefix} {number}" if number <= 9 else "",
                partial(self.activate, view),
            )
        yield from super().get_system_commands(screen)

    @property
    def prefix_keys(self) -> tuple[str, ...]:
        return _key_names(self.config.keys.prefix)

    def help_sections(self) -> list[tuple[str, list[HelpRow]]]:
        """The active bindings, grouped, for the help screen (and the README)."""
        prefix_display = display_keys(self.config.keys.prefix)
        direct: list[HelpRow] = []
        keymap = self._keymap
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            keys = keymap.get(binding.id or "", binding.key)
            direct.append(
                (display_keys(keys), binding.tooltip or binding.description, binding.id or "")
            )
        for binding in TerminalView.BINDINGS:
            assert isinstance(binding, Binding)
            keys = keymap.get(binding.id or "", binding.key)
            direct.append(
                (display_keys(keys), binding.tooltip or binding.description, binding.id or "")
            )
        by_command: dict[str, list[str]] = {}
        for key, command in self._prefix_table.items():
            by_command.setdefault(command.binding_id, []).append(key)
        prefixed: list[HelpRow] = []
        for command in PREFIX_COMMANDS:
            keys = ", ".join(display_keys(key) for key in by_command.get(command.binding_id, []))
            prefixed.append((f"{prefix_display} {keys}", command.description, command.binding_id))
        prefixed.append((f"{prefix_display} 1-9", "Jump to tab 1-9", ""))
        prefixed.append((f"{prefix_display} {prefix_display}", "Send the prefix key itself", ""))
        other: list[HelpRow] = [
            ("Enter (in an ended tab)", "Restart its program", ""),
            ("Mouse wheel", "Scroll history (forwarded when the program uses the mouse)", ""),
            ("Mouse drag", "Select text and copy it to the clipboard", ""),
            ("Click on a tab", "Switch to it", ""),
        ]
        return [("Prefix commands", prefixed), ("Direct keys", direct), ("Mouse and more", other)]

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield SessionTabs(id="tab-bar")
            with Horizontal(id="workspace"):
                yield ContentSwitcher(id="terminals")
                yield Vertical(id="sidebar")
            yield Static(self._status_text(), id="status-bar")

    async def on_mount(self) -> None:
        # Textual calls the on_mount of every class in the MRO, so a subclass that also calls
        # super().on_mount() would run this twice (tabs opened twice, two timers): only once.
        if self._started:
            return
        self._started = True
        self.set_class(not self.config.ui.sidebar, "-hide-sidebar")
        for request in self.initial_tabs:
            await self.open_tab(request)
        if self.handle_signals:
            # `kill heimdall` or a closed terminal window: end the children first, then exit.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, lambda: self.call_later(self.shutdown))
        if self.freeze_gc:
            # Everything alive after startup is long-lived: keep it out of every GC pass
            # (event-loop p99 under flood 21 -> 7 ms in the reference measurements).
            self.set_timer(0.5, gc.freeze)

    def _status_text(self) -> Text:
        prefix = display_keys(self.config.keys.prefix)
        if self.prefix_armed:
            keys = " ".join(
                f"{display_keys(command.keys[0])}:{command.action.replace('_', ' ')}"
                for command in PREFIX_COMMANDS
            )
            return Text(f" {prefix} … {keys}  1-9:jump ", style="reverse")
        return Text(f" {prefix} then ? for keys · Ctrl+PgUp/PgDn switch tabs ")

    def _update_status(self) -> None:
        with contextlib.suppress(NoMatches):
            self.query_one("#status-bar", Static).update(self._status_text())

    @property
    def sidebar(self) -> Vertical:
        """Mount point for the spend sidebar (or anything else) on the right."""
        return self.query_one("#sidebar", Vertical)

    async def mount_sidebar(self, widget: Widget) -> None:
        """Show `widget` in the sidebar slot (which stays hidden while it holds nothing)."""
        await self.sidebar.mount(widget)
        # `:empty` is not re-evaluated when children arrive later, so the slot says it outright
        self.sidebar.add_class("-filled")

    # -- tabs -----------------------------------------------------------------------------------

    def default_launch(self, request: TabRequest) -> AgentLaunch:
        """Plain command launch: the lead's wiring replaces this with gateway-aware launches."""
        cwd = request.cwd or Path(self.config.agent.cwd or os.getcwd())
        command = request.command or self.config.agent.command
        return command_launch(command, cwd)

    async def _make_launch(self, request: TabRequest) -> AgentLaunch:
        result = self.launch_factory(request)
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result  # type: ignore[misc]
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
            scrollback_lines=self.config.terminal.scrollback_lines,
            session_id=request.session_id or launch.session_id,
            name=request.name,
            id=f"tab-{self._tab_serial}",
        )
        self.tabs.append(view)
        switcher = self.query_one("#terminals", ContentSwitcher)
        await switcher.mount(view)
        await self.query_one(SessionTabs).add_tab(view)
        self.activate(view)
        # Give layout a chance to size the view so the child starts at its real size.
        await asyncio.sleep(0)
        view.start()
        self.post_message(TabOpened(view))
        self._refresh_tabs()
        return view

    def activate(self, view: TerminalView) -> None:
        if view not in self.tabs:
            return
        previous = self.active_tab
        self.active_tab = view
        switcher = self.query_one("#terminals", ContentSwitcher)
        switcher.current = view.id
        for other in self.tabs:
            if other is not view and other.shown:
                other.hide()
        view.show()
        view.focus()
        if previous is not view:
            self.post_message(TabActivated(view))
        self._refresh_tabs()

    def _refresh_tabs(self) -> None:
        """Redraw the tab bar soon; bursts of tab events collapse into one redraw."""
        if not self._tabs_refresh_pending:
            self._tabs_refresh_pending = True
            # A bare loop timer: Textual's set_timer costs a task and a message per redraw.
            asyncio.get_running_loop().call_later(TAB_BAR_REFRESH_DELAY, self._refresh_tabs_now)

    def _refresh_tabs_now(self) -> None:
        self._tabs_refresh_pending = False
        if not self.is_running:
            return  # the timer outlived the app
        with contextlib.suppress(NoMatches):
            self.query_one(SessionTabs).refresh_tabs(self.tabs, self.active_tab)

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
        self._refresh_tabs()

    def _poll_activity(self) -> bool:
        """Re-evaluate every tab's badge; True while some tab still needs the next poll."""
        needed = False
        for view in self.tabs:
            view.poll_activity()
            needed = needed or view.needs_poll()
        return needed

    # -- prefix handling ------------------------------------------------------------------------

    def action_prefix(self) -> None:
        if len(self.screen_stack) > 1:
            # A dialog is open: its widgets get the keys, so a prefix would dangle until later.
            self.prefix_armed = False
            self._update_status()
            return
        if self.prefix_armed:
            # Prefix twice: the child gets the prefix key itself.
            self.prefix_armed = False
            self._update_status()
            if self.active_tab is not None:
                key = self.prefix_keys[0]
                data = encode_key(key, None, app_cursor=False) or b"\x1d"
                self.active_tab.send(data)
            return
        self.prefix_armed = True
        self._update_status()

    def handle_prefix_key(self, event: events.Key) -> bool:
        """Called by terminal views (and on_key) first: runs a prefix command if one is armed."""
        if not self.prefix_armed:
            return False
        if event.key in self.prefix_keys:
            return False  # the priority binding handles a second prefix
        self.prefix_armed = False
        self._update_status()
        key = event.key
        if key == "escape":
            return True
        if key.isdigit() and key != "0":
            self.action_jump(int(key))
            return True
        command = self._prefix_table.get(key)
        if command is None and event.character:
            command = self._prefix_table.get(event.character)
        if command is None:
            self.notify(f"No command on {key!r} after the prefix (? lists them)", timeout=3)
            return True
        self.call_later(self.run_action, command.action)
        return True

    def on_key(self, event: events.Key) -> None:
        # Reached only when no terminal has focus (no tabs, or a widget in the sidebar).
        if self.handle_prefix_key(event):
            event.stop()

    # -- actions --------------------------------------------------------------------------------

    async def action_new_tab(self) -> None:
        await self.open_tab(TabRequest())

    def action_new_tab_prompt(self) -> None:
        def opened(command: str | None) -> None:
            if command is not None:
                request = TabRequest(command=command.strip() or None)
                self.call_later(self.open_tab, request)

        self.push_screen(
            PromptScreen(
                "Command for the new tab",
                placeholder=f"empty: {self.config.agent.command}",
            ),
            opened,
        )

    async def action_close_tab(self) -> None:
        view = self.active_tab
        if view is None:
            return
        if not view.running:
            await self.close_tab(view)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_later(self.close_tab, view)

        self.push_screen(
            ConfirmScreen(f"{view.label} is still running. Close the tab and end it?", "Close"),
            answered,
        )

    def action_next_tab(self) -> None:
        self._step(1)

    def action_prev_tab(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if not self.tabs:
            return
        index = self.tabs.index(self.active_tab) if self.active_tab in self.tabs else 0
        self.activate(self.tabs[(index + delta) % len(self.tabs)])

    def action_move_tab_left(self) -> None:
        self._move_active_tab(-1)

    def action_move_tab_right(self) -> None:
        self._move_active_tab(1)

    def _move_active_tab(self, delta: int) -> None:
        """Move the active tab `delta` places along the bar (it stays put at either end)."""
        view = self.active_tab
        if view not in self.tabs:
            return
        index = self.tabs.index(view)
        target = index + delta
        if not 0 <= target < len(self.tabs) or target == index:
            return
        self.tabs.insert(target, self.tabs.pop(index))
        with contextlib.suppress(NoMatches):
            self.query_one(SessionTabs).order_like(self.tabs)
        self._refresh_tabs()

    def action_jump(self, number: int) -> None:
        if 1 <= number <= len(self.tabs):
            self.activate(self.tabs[number - 1])

    def action_rename_tab(self) -> None:
        view = self.active_tab
        if view is None:
            return

        def renamed(name: str | None) -> None:
            if name is not None:
                view.custom_name = name.strip() or None
                self._refresh_tabs()

        self.push_screen(
            PromptScreen("Tab name (empty: follow the program's title)", value=view.label), renamed
        )

    async def action_restart_tab(self) -> None:
        if self.active_tab is not None:
            await self.active_tab.restart()

    def action_search(self) -> None:
        if self.active_tab is not None:
            self.push_screen(SearchScreen(self.active_tab))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def action_model_menu(self) -> None:
        if self.active_tab is not None:
            self.open_model_menu(self.active_tab)

    def open_model_menu(self, tab: TerminalView) -> None:
        """Hook: the model menu replaces this (restart the tab with `--resume <id> --model X`)."""
        self.notify("The model menu is not available in this build.", timeout=3)

    def action_toggle_sidebar(self) -> None:
        self.toggle_class("-hide-sidebar")

    async def action_quit(self) -> None:
        running = [view for view in self.tabs if view.running]
        if not running:
            await self.shutdown()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_later(self.shutdown)

        self.push_screen(
            ConfirmScreen(f"Quit Heimdall and end {len(running)} running program(s)?", "Quit"),
            answered,
        )

    async def shutdown(self) -> None:
        """End every child (in parallel: HUP, TERM, KILL), then exit."""
        await asyncio.gather(*(view.close() for view in self.tabs), return_exceptions=True)
        self.exit(0)

    def kill_children_now(self) -> None:
        """Synchronous safety net (app crash, interpreter exit): no child may outlive us."""
        for view in self.tabs:
            view.kill_now()

    def on_unmount(self) -> None:
        self.activity_clock.stop()
        self.kill_children_now()

    # -- tab events -----------------------------------------------------------------------------

    @on(SessionTabs.Selected)
    def _on_tab_clicked(self, event: SessionTabs.Selected) -> None:
        self.activate(event.view)

    def on_tab_state_changed(self, event: TabStateChanged) -> None:
        self._refresh_tabs()

    def on_tab_title_changed(self, event: TabTitleChanged) -> None:
        if not self._title_refresh_pending:
            self._title_refresh_pending = True
            asyncio.get_running_loop().call_later(TITLE_REFRESH_DELAY, self._refresh_titles)

    def _refresh_titles(self) -> None:
        self._title_refresh_pending = False
        self._refresh_tabs()

    def on_tab_bell(self, event: TabBell) -> None:
        self._refresh_tabs()

    def on_tab_exited(self, event: TabExited) -> None:
        self._refresh_tabs()
        view = event.tab
        self.notify(
            f"{view.label} exited ({event.status.describe()}). Enter in the tab restarts it.",
            timeout=4,
            markup=False,
        )
