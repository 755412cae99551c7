"""Tabs that are sessions: Claude Code through a gateway, with spend, models and persistence.

`HeimdallApp` (tabs of terminals) knows nothing about money or gateways. This subclass joins them:

- every Claude Code tab is a `Session` (UUID = `--session-id`, later `--resume`, and the gateway
  tag); sessions live in the `SessionStore`, so after a restart or a crash the same tabs come
  back and resume their conversations;
- children get the gateway's environment (`client.session_env`), and a tab's budget is handed
  to the gateway (`client.open_session`);
- the `SpendSidebar` sits in `#sidebar` and polls the gateway once per refresh for all tabs;
- the model menu (prefix m) restarts the tab with `--resume <id> --model <new>` (asking first
  when the tab is busy) and records the switch on the session's timeline;
- new tabs go through the new-session dialog (prefix c); Enter in a tab marks "since your
  prompt"; background tabs notify when they wait, finish, ring, or cross a budget threshold.

Used by `heimdall demo` (simulated upstream) and meant for `heimdall` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events, on

from heimdall.claude.agents import (
    AgentLaunch,
    claude_config_dir,
    claude_launch,
    command_launch,
    find_claude,
    relaunch_resume,
    switch_model_launch,
    wait_turn_saved,
)
from heimdall.config import Config
from heimdall.gateways.protocol import GatewayClient, GatewayError, SessionRef
from heimdall.sessions.activity import Activity
from heimdall.sessions.store import Session, SessionStore
from heimdall.spend.notices import activity_notice, budget_notice
from heimdall.tui.app import STYLES_DIR, HeimdallApp, PrefixCommand, TabRequest
from heimdall.tui.messages import TabActivated, TabBell, TabClosed, TabStateChanged
from heimdall.tui.notify import post_notice
from heimdall.tui.screens.first_run import MissingClaudeScreen, find_npm
from heimdall.tui.screens.help import HelpRow
from heimdall.tui.screens.model_menu import ModelMenu
from heimdall.tui.screens.new_session import NewSessionScreen
from heimdall.tui.widgets.spend_sidebar import SpendSidebar
from heimdall.tui.widgets.terminal_view import TerminalView

SESSION_COMMANDS: tuple[PrefixCommand, ...] = (
    PrefixCommand("prefix-refresh-usage", ("u",), "refresh_usage", "Refresh spend from the gateway now"),
    PrefixCommand("prefix-expand-sidebar", ("e",), "expand_sidebar", "Sidebar: more digits and details"),
    PrefixCommand("prefix-collapse-sidebar", ("S",), "collapse_sidebar", "Sidebar: collapse to the total"),
    PrefixCommand("prefix-shell-tab", ("t",), "shell_tab", "New tab with a shell (no session)"),
)


class SessionsApp(HeimdallApp):
    """`HeimdallApp` whose tabs are gateway-routed, persisted Claude Code sessions."""

    CSS_PATH: ClassVar = [*HeimdallApp.CSS_PATH, STYLES_DIR / "sidebar.tcss", STYLES_DIR / "dialogs.tcss"]

    def __init__(
        self,
        config: Config,
        client: GatewayClient,
        store: SessionStore,
        *,
        claude_bin: str | None = None,
        base_env: Mapping[str, str] | None = None,
        demo: bool = False,
        restore: bool = True,
        first_sessions: list[Session] | None = None,
        freeze_gc: bool = True,
        end_on_signals: bool = False,
    ) -> None:
        super().__init__(config, launch_factory=self._launch, initial_tabs=[], freeze_gc=freeze_gc)
        self.end_on_signals = end_on_signals
        self.client = client
        self.store = store
        self.claude_bin = claude_bin if claude_bin is not None else find_claude(base_env)
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.demo = demo
        self.restore = restore
        self.first_sessions = list(first_sessions or [])
        self.spend = SpendSidebar(demo=demo, id="spend-sidebar")
        if demo:
            self.title = "Heimdall · DEMO (simulated model, no real spend)"

    # -- start-up -------------------------------------------------------------------------------

    def _apply_keymap(self) -> None:
        super()._apply_keymap()
        for command in SESSION_COMMANDS:
            override = self.config.keys.bindings.get(command.binding_id)
            keys = tuple(k.strip() for k in override.split(",")) if override else command.keys
            for key in keys:
                self._prefix_table.setdefault(key, command)

    def help_sections(self) -> list[tuple[str, list[HelpRow]]]:
        sections = super().help_sections()
        from heimdall.tui.app import display_keys

        prefix = display_keys(self.config.keys.prefix)
        rows: list[HelpRow] = [
            (f"{prefix} {display_keys(c.keys[0])}", c.description, c.binding_id) for c in SESSION_COMMANDS
        ]
        return [*sections, ("Sessions and spend", rows)]

    async def on_mount(self) -> None:
        await super().on_mount()
        if self.end_on_signals:
            # SIGTERM / SIGHUP: end the children and return from run(), so callers clean up
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, lambda: self.call_later(self.shutdown))
        await self.mount_sidebar(self.spend)
        for warning in self.store.warnings:
            self.notify(warning, severity="warning", timeout=10, markup=False)
        self.spend.start_polling(
            self.client, self.open_sessions, refresh_seconds=self.config.gateway.refresh_seconds
        )
        wanted = (list(self.store.sessions) if self.restore else []) + self.first_sessions
        if self.claude_bin is None and (not wanted or any(s.is_claude for s in wanted)):
            self.push_screen(MissingClaudeScreen(npm=find_npm(self.base_env)), self._after_first_run)
            return
        await self._open_initial_tabs()

    async def _open_initial_tabs(self) -> None:
        restored = list(self.store.sessions) if self.restore else []
        for session in restored:
            await self.open_session_tab(session)
        for session in self.first_sessions:
            if self.store.get(session.id) is None:
                self.store.add(session)
            await self.open_session_tab(session)
        if not self.tabs:
            self.action_new_session()

    def _after_first_run(self, word: str | None) -> None:
        if word == "installed":
            self.claude_bin = find_claude(self.base_env)
            self.call_later(self._open_initial_tabs)
        elif word == "shell":
            self.call_later(self.action_shell_tab)
        else:
            self.exit(1)

    # -- sessions and launches ------------------------------------------------------------------

    def open_sessions(self) -> list[Session]:
        """Sessions of the open tabs, in tab order (the sidebar's cards)."""
        out = []
        for view in self.tabs:
            session = self.store.get(view.session_id)
            if session is not None:
                out.append(session)
        return out

    def session_of(self, view: TerminalView | None) -> Session | None:
        return self.store.get(view.session_id) if view is not None else None

    async def open_session_tab(self, session: Session) -> TerminalView | None:
        request = TabRequest(
            command=session.command,
            cwd=Path(session.cwd),
            name=session.name,
            session_id=session.id,
            model=session.model,
            extra={"session": session},
        )
        view = await self.open_tab(request)
        self.spend.update_view(sessions=self.open_sessions(), active_id=self._active_id())
        return view

    def _gateway_env(self, session: Session) -> dict[str, str | None]:
        ref = SessionRef(session.id, session.name, session.budget_usd)
        return self.client.session_env(ref, self.base_env)

    async def _launch(self, request: TabRequest) -> AgentLaunch:
        session = request.extra.get("session")
        if not isinstance(session, Session):  # a plain tab (shell, command prompt)
            cwd = request.cwd or Path(self.config.agent.cwd or os.getcwd())
            return command_launch(request.command or os.environ.get("SHELL", "/bin/sh"), cwd,
                                  self.base_env)
        if session.command is not None:
            return command_launch(session.command, Path(session.cwd), self.base_env)
        if self.claude_bin is None:
            raise RuntimeError("Claude Code is not installed (no `claude` on PATH)")
        env = self._gateway_env(session)
        with contextlib.suppress(GatewayError):  # the tab still runs; the sidebar says why
            await self.client.open_session(SessionRef(session.id, session.name, session.budget_usd))
        child_env = {**self.base_env, **{k: v for k, v in env.items() if v is not None}}
        # relaunch_resume repairs a session whose first turn was never saved (Claude Code then
        # refuses both --resume and --session-id for it)
        resume = session.started and relaunch_resume(session.id, claude_config_dir(child_env))
        launch = claude_launch(
            self.claude_bin,
            session.id,
            model=session.model,
            resume=resume,
            cwd=Path(session.cwd),
            gateway_env=env,
            extra_args=self.config.agent.extra_args,
            base_env=self.base_env,
        )
        if not session.started:
            session.started = True
            self.store.update(session)
        return launch

    def _active_id(self) -> str | None:
        return self.active_tab.session_id if self.active_tab is not None else None

    # -- actions --------------------------------------------------------------------------------

    async def action_new_tab(self) -> None:
        self.action_new_session()

    def action_new_session(self) -> None:
        cwd = self.config.agent.cwd or os.getcwd()
        active = self.session_of(self.active_tab)
        if active is not None:
            cwd = active.project_dir or active.cwd

        def created(session: Session | None) -> None:
            if session is not None:
                self.store.add(session)
                self.call_later(self.open_session_tab, session)

        self.push_screen(NewSessionScreen(cwd=cwd, store=self.store, client=self.client), created)

    async def action_shell_tab(self) -> None:
        await self.open_tab(TabRequest(command=self.base_env.get("SHELL", "/bin/sh")))

    def action_refresh_usage(self) -> None:
        self.spend.refresh_now()

    def action_expand_sidebar(self) -> None:
        self.spend.toggle_expanded()

    def action_collapse_sidebar(self) -> None:
        self.spend.toggle_collapsed()

    def open_model_menu(self, tab: TerminalView) -> None:
        session = self.session_of(tab)
        if session is None or session.command is not None:
            self.notify("Only Claude Code tabs have a model.", timeout=3)
            return
        busy = tab.state is Activity.BUSY

        def chosen(model: str | None) -> None:
            if model is not None and model != session.model:
                self.call_later(self.switch_model, tab, session, model)

        self.push_screen(
            ModelMenu(session, self.spend.book, client=self.client, busy=busy, demo=self.demo),
            chosen,
        )

    async def switch_model(self, tab: TerminalView, session: Session, model: str) -> None:
        """Restart the tab on `model`, keeping the conversation (`--resume`)."""
        session.switch_model(model)
        self.store.update(session)
        env = self._gateway_env(session)
        child_env = {**self.base_env, **{k: v for k, v in env.items() if v is not None}}
        config_dir = claude_config_dir(child_env)
        # Claude Code writes a turn to its transcript shortly after showing it: ending the child
        # inside that window would lose the turn
        await wait_turn_saved(session.id, config_dir)
        if relaunch_resume(session.id, config_dir):
            launch = switch_model_launch(tab.launch, model, gateway_env=env)
        else:  # no conversation yet (no transcript): start fresh on the new model
            launch = await self._launch(TabRequest(extra={"session": session}))
        await tab.restart(launch)
        self.spend.update_view(sessions=self.open_sessions())
        self.notify(f"{session.name} now uses {model} (conversation kept)", timeout=4, markup=False)

    # -- tab events -----------------------------------------------------------------------------

    def handle_prefix_key(self, event: events.Key) -> bool:
        if not self.prefix_armed and event.key == "enter" and self.active_tab is not None:
            self._mark_prompt(self.active_tab)
        return super().handle_prefix_key(event)

    def _mark_prompt(self, tab: TerminalView) -> None:
        session = self.session_of(tab)
        if session is None:
            return
        now = datetime.now(UTC)
        self.spend.book.mark_prompt(session.id, now)
        session.last_prompt_at = now  # saved with the next store write (cheap, not per key)

    @on(TabActivated)
    def _tab_activated(self, event: TabActivated) -> None:
        self.spend.set_active(event.tab.session_id)

    @on(TabClosed)
    def _tab_closed(self, event: TabClosed) -> None:
        session = self.store.remove(event.tab.session_id)
        self.spend.update_view(sessions=self.open_sessions(), active_id=self._active_id())
        if session is not None:
            self.run_worker(self._close_session(session), group="close-session")

    async def _close_session(self, session: Session) -> None:
        """Release per-session gateway resources (e.g. a Bifrost virtual key)."""
        with contextlib.suppress(GatewayError):
            await self.client.close_session(SessionRef(session.id, session.name, session.budget_usd))

    def _refresh_tabs(self) -> None:
        super()._refresh_tabs()
        # a renamed tab renames its session (the sidebar and the saved tabs follow)
        for view in self.tabs:
            session = self.store.get(view.session_id)
            if session is not None and view.custom_name and view.custom_name != session.name:
                session.name = view.custom_name
                self.store.update(session)
                self.spend.update_view()

    def on_tab_state_changed(self, event: TabStateChanged) -> None:
        super().on_tab_state_changed(event)
        tab = event.tab
        session = self.session_of(tab)
        if session is None:
            return
        notice = activity_notice(
            session.name, session.id, session.model, event.old, event.new,
            background=tab is not self.active_tab, book=self.spend.book, demo=self.demo,
        )
        if notice is not None:
            post_notice(self, notice, desktop=self.config.ui.desktop_notifications)

    def on_tab_bell(self, event: TabBell) -> None:
        super().on_tab_bell(event)
        session = self.session_of(event.tab)
        if session is None or not event.background:
            return
        notice = activity_notice(
            session.name, session.id, session.model, Activity.IDLE, Activity.BELL,
            background=True, book=self.spend.book, demo=self.demo,
        )
        if notice is not None:
            post_notice(self, notice, desktop=self.config.ui.desktop_notifications)

    @on(SpendSidebar.CardSelected)
    def _card_clicked(self, event: SpendSidebar.CardSelected) -> None:
        view = next((v for v in self.tabs if v.session_id == event.session_id), None)
        if view is not None:
            self.activate(view)

    @on(SpendSidebar.Polled)
    def _polled(self, event: SpendSidebar.Polled) -> None:
        for crossing in event.result.crossings:
            session = self.store.get(crossing.session_id)
            name = session.name if session else crossing.session_id[:8]
            post_notice(self, budget_notice(name, crossing, demo=self.demo),
                        desktop=self.config.ui.desktop_notifications)

    async def shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self.store.save()  # last-prompt times and tab order
        await super().shutdown()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.aclose(), timeout=2)


# -- `heimdall` itself ------------------------------------------------------------------------------

RUN_DEMO_EXIT = 75
"""Exit code SessionsApp returns when the user picked "Run the demo" on the credential screen."""


class TuiApp(SessionsApp):
    """SessionsApp that first explains a missing upstream credential (embedded gateway only)."""

    def __init__(self, *args: object, credential_missing: bool = False, upstream: str = "",
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.credential_missing = credential_missing
        self.upstream = upstream

    async def _open_initial_tabs(self) -> None:
        if not self.credential_missing:
            await super()._open_initial_tabs()
            return
        from heimdall.tui.screens.first_run import MissingCredentialScreen

        def answered(word: str | None) -> None:
            if word == "continue":
                self.credential_missing = False
                self.call_later(self._open_initial_tabs)
            elif word == "shell":
                self.call_later(self.action_shell_tab)
            elif word == "demo":
                self.exit(RUN_DEMO_EXIT)
            else:
                self.exit(1)

        self.push_screen(MissingCredentialScreen(upstream=self.upstream), answered)


def build_tui_app(args: object, config: Config) -> TuiApp:
    """The real `heimdall`: configured gateway (embedded one started if needed), saved sessions.

    Raises `GatewayError` with a one-line message when the gateway cannot be reached/started.
    """
    from heimdall.gateways import make_client
    from heimdall.tui.screens.first_run import needs_credential_screen, upstream_credential

    kind = config.gateway.kind
    handle = None
    if kind == "embedded" or (kind == "auto" and not config.gateway.url):
        from heimdall.server.launcher import ensure_embedded_gateway

        handle = ensure_embedded_gateway(config)
        config.gateway.kind = "embedded"
    client = make_client(config, embedded=handle)
    store = SessionStore()
    store.load()
    restore = not bool(getattr(args, "fresh", False))
    first: list[Session] = []
    if not (restore and store.sessions):
        cwd = Path(config.agent.cwd or os.getcwd()).resolve()
        command = None if Path(config.agent.command).name == "claude" else config.agent.command
        first.append(Session.new(cwd.name or "session", cwd, model=config.agent.default_model,
                                 command=command, project_dir=cwd))
    held = bool(getattr(handle, "held_key", False))
    missing = (
        handle is not None
        and not held
        and needs_credential_screen("embedded", config.embedded.upstream, upstream_credential())
    )
    claude_bin = None
    if Path(config.agent.command).name == "claude":
        claude_bin = shutil.which(config.agent.command)  # `--agent /path/to/claude` is Claude Code too
    return TuiApp(config, client, store, claude_bin=claude_bin, restore=restore, first_sessions=first,
                  credential_missing=missing, upstream=config.embedded.upstream,
                  end_on_signals=True)


def run_tui(args: object, config: Config) -> int:
    """`heimdall` with sessions, gateway and sidebar (what `heimdall.commands.tui.run` can call)."""
    import atexit
    import sys

    try:
        app = build_tui_app(args, config)
    except GatewayError as exc:
        print(f"heimdall: {exc.message}", file=sys.stderr)
        return 1
    atexit.register(app.kill_children_now)
    result = app.run()
    app.kill_children_now()
    if result == RUN_DEMO_EXIT:
        from heimdall.commands import demo

        return demo.run(args, config)  # type: ignore[arg-type]
    return int(result or 0)
