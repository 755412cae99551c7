"""HeimdallApp: the one App. Tabs of real terminals, each running Claude Code (or any command).

The tab engine is a widget (`Workspace`: tab bar, terminals, side panel slot); the domain behind
the tabs (session store, gateway client, spend book and poller) is a `SessionServices` object the
app holds; every key it takes comes from one registry (`heimdall.keymap`, which explains why it
takes so few: a focused terminal must receive every key its child understands).

Two ways to run it:

- with `services` (what `heimdall` and `heimdall demo` do): every Claude Code tab is a persisted,
  gateway-routed session; the `SpendSidebar` sits in `#sidebar`; the model menu (prefix m)
  restarts the tab with `--resume <id> --model <new>`; new tabs go through the new-session
  dialog; Enter in a tab marks "since your prompt"; background tabs notify when they wait,
  finish, ring, or cross a budget threshold;
- without (tests, benchmarks): plain tabs, started by `launch_factory(TabRequest)` (default: run
  `config.agent.command`); the sidebar slot stays empty.

Tab events are posted as messages (`heimdall.tui.messages`); the app reacts to them once, here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.resources
import os
import signal
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

import heimdall.styles
from heimdall.config import Config
from heimdall.keymap import COMMANDS, HelpRow, Keymap, display_key, display_keys, display_pair
from heimdall.process.keys import encode_key
from heimdall.process.launch import AgentLaunch, command_launch
from heimdall.services.sessions import SessionServices
from heimdall.sessions.activity import Activity
from heimdall.sessions.clocks import ActivityClock, FrameClock
from heimdall.sessions.store import Session
from heimdall.spend.notices import Notice
from heimdall.tui.messages import (
    TabActivated,
    TabBell,
    TabClosed,
    TabExited,
    TabRenamed,
    TabStateChanged,
)
from heimdall.tui.notify import post_notice
from heimdall.tui.screens.confirm import ConfirmScreen
from heimdall.tui.screens.first_run import MissingClaudeScreen, MissingCredentialScreen, find_npm
from heimdall.tui.screens.help import HelpScreen
from heimdall.tui.screens.model_menu import ModelMenu
from heimdall.tui.screens.new_session import NewSessionScreen
from heimdall.tui.screens.prompt import PromptScreen
from heimdall.tui.screens.search import SearchScreen
from heimdall.tui.widgets.spend_sidebar import SpendSidebar
from heimdall.tui.widgets.terminal_view import TerminalView
from heimdall.tui.widgets.workspace import LaunchFactory, TabRequest, Workspace

__all__ = ["RUN_DEMO_EXIT", "STYLES_DIR", "HeimdallApp", "LaunchFactory", "TabRequest"]

STYLES_DIR = Path(str(importlib.resources.files(heimdall.styles)))
"""The top-level `styles/` folder, installed as the data package `heimdall.styles`: a wheel ships
the .tcss files inside the package and an editable checkout reads them in place."""
RUN_DEMO_EXIT = 75
"""Exit code when the user picked "Run the demo" on the credential screen (`heimdall` then runs
`heimdall demo`)."""


def _binding(command_id: str) -> Binding:
    command = next(command for command in COMMANDS if command.id == command_id)
    return Binding(",".join(command.keys), command.action, command.title, id=command.id,
                   tooltip=command.tooltip, priority=True, show=False)


class HeimdallApp(App[int]):
    """Tabs of terminals, optionally backed by sessions. See the module docstring."""

    TITLE = "Heimdall"
    # The palette lists every action; it opens with the prefix then `:`, because Ctrl+P (Textual's
    # default) belongs to the child (shells, Claude Code history).
    ENABLE_COMMAND_PALETTE = True
    CSS_PATH: ClassVar = [STYLES_DIR / name for name in
                          ("app.tcss", "terminal.tcss", "sidebar.tcss", "dialogs.tcss")]
    # The app's own direct keys, from the registry (remapped by id through Textual's keymap).
    BINDINGS: ClassVar[list[BindingType]] = [
        _binding(command.id) for command in COMMANDS if command.scope == "app"
    ]

    def __init__(
        self,
        config: Config,
        services: SessionServices | None = None,
        *,
        launch_factory: LaunchFactory | None = None,
        initial_tabs: list[TabRequest] | None = None,
        freeze_gc: bool = True,
        handle_signals: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.keymap = Keymap.load(config.keys)
        """The keys actually bound (raises `KeymapError`, a `ConfigError`, on a bad remap)."""
        self.services = services
        """The domain model behind session tabs; None for plain tabs."""
        if services is not None:
            launch_factory = self._session_launch
        self.launch_factory: LaunchFactory = launch_factory or self.default_launch
        self.initial_tabs = [TabRequest()] if initial_tabs is None else list(initial_tabs)
        self.freeze_gc = freeze_gc
        self.handle_signals = handle_signals
        self.frame_clock = FrameClock(config.terminal.max_fps, config.terminal.background_fps)
        self.activity_clock = ActivityClock(self._poll_activity)
        """One timer for all tabs (status files, decay of "busy"), armed only while needed."""
        self.workspace = Workspace(self.launch_factory, config.terminal, frame_clock=self.frame_clock,
                                   activity_clock=self.activity_clock, keys=self, id="tabs")
        self.spend: SpendSidebar | None = None
        if services is not None:
            self.spend = SpendSidebar(book=services.book, demo=services.demo, id="spend-sidebar")
            if services.demo:
                self.title = "Heimdall · DEMO (simulated model, no real spend)"
        self.prefix_armed = False
        # Ctrl+Q would be Textual's quit; children (emacs, nano) own it here.
        self._bindings.key_to_bindings.pop("ctrl+q", None)
        self._bindings.key_to_bindings.pop(self.COMMAND_PALETTE_BINDING, None)
        self.set_keymap(self.keymap.textual_keymap())
        self.theme = config.ui.theme if config.ui.theme in self.available_themes else self.theme

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, except on Linux/macOS terminals: one whose input thread does not poll."""
        driver = super().get_driver_class()
        if sys.platform == "win32":  # no termios: Textual's Windows driver as it is
            return driver
        # imported here: both need termios
        from textual.drivers.linux_driver import LinuxDriver

        from heimdall.tui.driver import QuietLinuxDriver, supports_textual

        if driver is not LinuxDriver or not supports_textual():
            return driver
        return QuietLinuxDriver

    # -- the tabs (the workspace's, named here for callers and tests) ------------------------------

    @property
    def tabs(self) -> list[TerminalView]:
        return self.workspace.tabs

    @property
    def active_tab(self) -> TerminalView | None:
        return self.workspace.active_tab

    @property
    def sidebar(self) -> Vertical:
        """Mount point for the spend sidebar (or anything else) on the right."""
        return self.workspace.sidebar

    async def mount_sidebar(self, widget: Widget) -> None:
        await self.workspace.mount_sidebar(widget)

    async def open_tab(self, request: TabRequest | None = None) -> TerminalView | None:
        return await self.workspace.open_tab(request)

    def activate(self, view: TerminalView) -> None:
        self.workspace.activate(view)

    async def close_tab(self, view: TerminalView) -> None:
        await self.workspace.close_tab(view)

    def _poll_activity(self) -> bool:
        return self.workspace.poll_activity()

    # -- keys: the palette, help and status bar read the loaded keymap ----------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: every prefix command (with its keys as help), tabs, then Textual's."""
        prefix = display_keys(self.keymap.prefix_keys)
        for command in self.keymap.in_scope("prefix"):
            if command.action == "command_palette":
                continue
            yield SystemCommand(
                command.title,
                self.keymap.shown(command.id),
                partial(self.call_later, self.run_action, command.action),
            )
        for number, view in enumerate(self.tabs, start=1):
            yield SystemCommand(
                f"Go to tab {number}: {view.label}",
                f"{prefix} {number}" if number <= 9 else "",
                partial(self.activate, view),
            )
        yield from super().get_system_commands(screen)

    def help_sections(self) -> list[tuple[str, list[HelpRow]]]:
        """The active bindings, grouped, for the help screen (and the README)."""
        return self.keymap.help_sections()

    def _status_text(self) -> Text:
        keymap = self.keymap
        prefix = display_keys(keymap.prefix_keys)
        if self.prefix_armed:
            keys = " ".join(
                f"{display_key(keymap.keys_of(c.id)[0])}:{c.action.replace('_', ' ')}"
                for c in keymap.commands
                if c.in_status and keymap.keys_of(c.id)
            )
            return Text(f" {prefix} … {keys}  1-9:jump ", style="reverse")
        help_keys = keymap.keys_of("prefix-help")
        switch = display_pair(display_key(keymap.keys_of("prev-tab")[0]),
                              display_key(keymap.keys_of("next-tab")[0]))
        help_hint = f"then {display_key(help_keys[0])} for keys · " if help_keys else ""
        return Text(f" {prefix} {help_hint}{switch} switch tabs ")

    def _update_status(self) -> None:
        with contextlib.suppress(NoMatches):
            self.query_one("#status-bar", Static).update(self._status_text())

    # -- layout and start-up --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield self.workspace
            yield Static(self._status_text(), id="status-bar")

    async def on_mount(self) -> None:
        self.set_class(not self.config.ui.sidebar, "-hide-sidebar")
        if self.handle_signals:
            # `kill heimdall` or a closed terminal window: end the children first, then exit.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, lambda: self.call_later(self.shutdown))
        if self.freeze_gc:
            # Everything alive after startup is long-lived: keep it out of every GC pass
            # (event-loop p99 under flood 21 -> 7 ms in the reference measurements).
            self.set_timer(0.5, gc.freeze)
        if self.services is None:
            for request in self.initial_tabs:
                await self.open_tab(request)
            return
        await self._start_services(self.services)

    async def _start_services(self, services: SessionServices) -> None:
        assert self.spend is not None
        services.follow_tabs(lambda: [view.session_id for view in self.tabs if view.session_id])
        await self.mount_sidebar(self.spend)
        for warning in services.store.warnings:
            self.notify(warning, severity="warning", timeout=10, markup=False)
        self.spend.run_poller(services.poller, services.open_sessions)
        if services.needs_claude():
            self.push_screen(MissingClaudeScreen(npm=find_npm(services.base_env)), self._after_first_run)
            return
        await self._open_initial_tabs()

    async def _open_initial_tabs(self) -> None:
        services = self.services
        assert services is not None
        if services.credential_missing:  # embedded gateway without an upstream credential
            self.push_screen(MissingCredentialScreen(upstream=services.upstream), self._after_credential)
            return
        for session in services.initial_sessions():
            await self.open_session_tab(session)
        if not self.tabs:
            self.action_new_session()

    def _after_first_run(self, word: str | None) -> None:
        if word == "installed" and self.services is not None:
            self.services.look_for_claude()
            self.call_later(self._open_initial_tabs)
        elif word == "shell":
            self.call_later(self.action_shell_tab)
        else:
            self.exit(1)

    def _after_credential(self, word: str | None) -> None:
        if word == "continue" and self.services is not None:
            self.services.credential_missing = False
            self.call_later(self._open_initial_tabs)
        elif word == "shell":
            self.call_later(self.action_shell_tab)
        elif word == "demo":
            self.exit(RUN_DEMO_EXIT)
        else:
            self.exit(1)

    # -- launches -------------------------------------------------------------------------------

    def default_launch(self, request: TabRequest) -> AgentLaunch:
        """Plain tabs: run the request's command, else `config.agent.command`."""
        cwd = request.cwd or Path(self.config.agent.cwd or os.getcwd())
        command = request.command or self.config.agent.command
        return command_launch(command, cwd)

    async def _session_launch(self, request: TabRequest) -> AgentLaunch:
        assert self.services is not None
        session = request.extra.get("session")
        if isinstance(session, Session):
            return await self.services.launch(session)
        return self.services.command_launch(request.command, request.cwd)  # shell, command prompt

    def open_sessions(self) -> list[Session]:
        """Sessions of the open tabs, in tab order (the sidebar's cards)."""
        return self.services.open_sessions() if self.services is not None else []

    def session_of(self, view: TerminalView | None) -> Session | None:
        if self.services is None or view is None:
            return None
        return self.services.session(view.session_id)

    async def open_session_tab(self, session: Session) -> TerminalView | None:
        request = TabRequest(command=session.command, cwd=Path(session.cwd), name=session.name,
                             session_id=session.id, model=session.model, extra={"session": session})
        view = await self.open_tab(request)
        self._redraw_spend(sessions=True)
        return view

    def _redraw_spend(self, *, sessions: bool = False) -> None:
        if self.spend is None:
            return
        active = self.active_tab.session_id if self.active_tab is not None else None
        self.spend.update_view(sessions=self.open_sessions() if sessions else None, active_id=active)

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
                key = self.keymap.prefix_keys[0]
                data = encode_key(key, None, app_cursor=False) or b"\x1d"
                self.active_tab.send(data)
            return
        self.prefix_armed = True
        self._update_status()

    def handle_prefix_key(self, event: events.Key) -> bool:
        """Called by terminal views (and on_key) first: runs a prefix command if one is armed.

        Enter in a session tab also marks "since your prompt" (and still goes to the child)."""
        if not self.prefix_armed:
            view = self.active_tab
            if event.key == "enter" and view is not None and self.services is not None:
                self.services.mark_prompt(view.session_id)
            return False
        if event.key in self.keymap.prefix_keys:
            return False  # the priority binding handles a second prefix
        self.prefix_armed = False
        self._update_status()
        key = event.key
        if key == "escape":
            return True
        if key.isdigit() and key != "0":
            self.workspace.jump(int(key))
            return True
        command = self.keymap.after_prefix(key)
        if command is None and event.character:
            command = self.keymap.after_prefix(event.character)
        if command is None:
            help_keys = self.keymap.keys_of("prefix-help")
            hint = f" ({display_key(help_keys[0])} lists them)" if help_keys else ""
            self.notify(f"No command on {key!r} after the prefix{hint}", timeout=3, markup=False)
            return True
        self.call_later(self.run_action, command.action)
        return True

    @property
    def terminal_keys(self) -> frozenset[str]:
        """Keys a focused terminal leaves to its own bindings (scrollback), as remapped."""
        return self.keymap.keys_in_scope("terminal")

    def on_key(self, event: events.Key) -> None:
        # Reached only when no terminal has focus (no tabs, or a widget in the sidebar).
        if self.handle_prefix_key(event):
            event.stop()

    # -- actions --------------------------------------------------------------------------------

    async def action_new_tab(self) -> None:
        if self.services is not None:
            self.action_new_session()
        else:
            await self.open_tab(TabRequest())

    def action_new_session(self) -> None:
        services = self.services
        if services is None:
            return
        active = self.active_tab.session_id if self.active_tab is not None else None

        def created(session: Session | None) -> None:
            if session is not None:
                services.add(session)
                self.call_later(self.open_session_tab, session)

        self.push_screen(NewSessionScreen(cwd=services.new_session_cwd(active), store=services.store,
                                          client=services.client), created)

    async def action_shell_tab(self) -> None:
        shell = self.services.shell if self.services is not None else os.environ.get("SHELL", "/bin/sh")
        await self.open_tab(TabRequest(command=shell))

    def action_new_tab_prompt(self) -> None:
        def opened(command: str | None) -> None:
            if command is not None:
                self.call_later(self.open_tab, TabRequest(command=command.strip() or None))

        self.push_screen(
            PromptScreen("Command for the new tab", placeholder=f"empty: {self.config.agent.command}"),
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
        self.workspace.step(1)

    def action_prev_tab(self) -> None:
        self.workspace.step(-1)

    def action_move_tab_left(self) -> None:
        self.workspace.move_active(-1)

    def action_move_tab_right(self) -> None:
        self.workspace.move_active(1)

    def action_jump(self, number: int) -> None:
        self.workspace.jump(number)

    def action_rename_tab(self) -> None:
        view = self.active_tab
        if view is None:
            return

        def renamed(name: str | None) -> None:
            if name is not None:
                self.workspace.rename(view, name)

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

    def action_toggle_sidebar(self) -> None:
        self.toggle_class("-hide-sidebar")

    def action_refresh_usage(self) -> None:
        if self.spend is not None:
            self.spend.refresh_now()

    def action_expand_sidebar(self) -> None:
        if self.spend is not None:
            self.spend.toggle_expanded()

    def action_collapse_sidebar(self) -> None:
        if self.spend is not None:
            self.spend.toggle_collapsed()

    def action_model_menu(self) -> None:
        if self.active_tab is not None:
            self.open_model_menu(self.active_tab)

    def open_model_menu(self, tab: TerminalView) -> None:
        """The model menu: restart the tab on another model, keeping the conversation."""
        session = self.session_of(tab)
        if self.services is None or self.spend is None or session is None or session.command is not None:
            self.notify("Only Claude Code tabs have a model.", timeout=3)
            return

        def chosen(model: str | None) -> None:
            if model is not None and model != session.model:
                self.call_later(self.switch_model, tab, session, model)

        busy = tab.state is Activity.BUSY  # asks first: the turn in flight would be cut
        self.push_screen(ModelMenu(session, self.spend.book, client=self.services.client, busy=busy,
                                   demo=self.services.demo), chosen)

    async def switch_model(self, tab: TerminalView, session: Session, model: str) -> None:
        """Restart the tab on `model`, keeping the conversation (`--resume`)."""
        assert self.services is not None
        launch = await self.services.switch_model(session, model, tab.launch)
        await tab.restart(launch)
        self._redraw_spend(sessions=True)
        self.notify(f"{session.name} now uses {model} (conversation kept)", timeout=4, markup=False)

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
        """Save the sessions, end every child (in parallel: HUP, TERM, KILL), then exit."""
        if self.services is not None:
            self.services.save()  # last-prompt times and tab order
        await asyncio.gather(*(view.close() for view in self.tabs), return_exceptions=True)
        self.exit(0)
        if self.services is not None:
            await self.services.aclose()

    def kill_children_now(self) -> None:
        """Synchronous safety net (app crash, interpreter exit): no child may outlive us."""
        for view in self.tabs:
            view.kill_now()

    def on_unmount(self) -> None:
        self.activity_clock.stop()
        self.kill_children_now()

    # -- tab events (the workspace redraws the bar; here: sessions, spend, notices) -------------

    def _post(self, notice: Notice | None) -> None:
        if notice is not None:
            post_notice(self, notice, desktop=self.config.ui.desktop_notifications)

    @on(TabActivated)
    def _tab_activated(self, event: TabActivated) -> None:
        if self.spend is not None:
            self.spend.set_active(event.tab.session_id)

    @on(TabClosed)
    def _tab_closed(self, event: TabClosed) -> None:
        if self.services is None:
            return
        # a closed tab is forgotten at once; its gateway resources are released off the UI's path
        session = self.services.forget(event.tab.session_id)
        self._redraw_spend(sessions=True)
        if session is not None:
            self.run_worker(self.services.release(session), group="close-session")

    @on(TabRenamed)
    def _tab_renamed(self, event: TabRenamed) -> None:
        # a renamed tab renames its session (the sidebar and the saved tabs follow)
        if self.services is not None and self.services.rename(event.tab.session_id, event.tab.custom_name):
            self._redraw_spend()

    @on(TabStateChanged)
    def _tab_state_changed(self, event: TabStateChanged) -> None:
        if self.services is not None:
            self._post(self.services.activity_notice(event.tab.session_id, event.old, event.new,
                                                     background=event.tab is not self.active_tab))

    @on(TabBell)
    def _tab_bell(self, event: TabBell) -> None:
        if self.services is not None and event.background:
            self._post(self.services.activity_notice(event.tab.session_id, Activity.IDLE, Activity.BELL,
                                                     background=True))

    @on(TabExited)
    def _tab_exited(self, event: TabExited) -> None:
        self.notify(
            f"{event.tab.label} exited ({event.status.describe()}). Enter in the tab restarts it.",
            timeout=4,
            markup=False,
        )

    @on(SpendSidebar.CardSelected)
    def _card_clicked(self, event: SpendSidebar.CardSelected) -> None:
        view = next((v for v in self.tabs if v.session_id == event.session_id), None)
        if view is not None:
            self.activate(view)

    @on(SpendSidebar.Polled)
    def _polled(self, event: SpendSidebar.Polled) -> None:
        if self.services is not None:
            for notice in self.services.budget_notices(event.result):
                self._post(notice)
