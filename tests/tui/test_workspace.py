"""The Workspace widget on its own: tabs opened, moved, renamed and closed, with the messages the
app reacts to; and the bindings it and the app carry match the command registry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from heimdall.config import Config, TerminalConfig
from heimdall.keymap import COMMANDS
from heimdall.process.launch import AgentLaunch, child_environment
from heimdall.sessions.clocks import ActivityClock, FrameClock
from heimdall.tui.app import HeimdallApp
from heimdall.tui.keys import KeyRouter
from heimdall.tui.messages import TabActivated, TabClosed, TabMessage, TabOpened, TabRenamed
from heimdall.tui.widgets.terminal_view import TerminalView
from heimdall.tui.widgets.workspace import TabRequest, Workspace
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding

from tests.children.harness import wait_until

pytestmark = pytest.mark.timeout(60)


def sleeper(request: TabRequest) -> AgentLaunch:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    return AgentLaunch(argv=argv, env=child_environment(), cwd=Path.cwd())


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[TabMessage] = []
        frame = FrameClock(60, 10)
        self.workspace = Workspace(sleeper, TerminalConfig(), frame_clock=frame,
                                   activity_clock=ActivityClock(lambda: self.workspace.poll_activity()))

    def compose(self) -> ComposeResult:
        yield self.workspace

    @on(TabMessage)
    def _seen(self, message: TabMessage) -> None:
        self.seen.append(message)


async def test_tabs_open_move_rename_close_and_say_so() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        ws = app.workspace
        one = await ws.open_tab(TabRequest(name="one"))
        two = await ws.open_tab(TabRequest(name="two"))
        assert one is not None and two is not None and ws.active_tab is two
        ws.move_active(-1)
        assert ws.tabs == [two, one]
        ws.move_active(-1)  # stays at the start
        assert ws.tabs == [two, one]
        ws.step(1)
        assert ws.active_tab is one
        ws.jump(1)
        assert ws.active_tab is two
        ws.rename(two, "  renamed ")
        assert two.custom_name == "renamed"
        await ws.close_tab(two)
        assert ws.tabs == [one] and ws.active_tab is one
        await wait_until(pilot, lambda: any(isinstance(m, TabClosed) for m in app.seen), what="closed")
        kinds = [type(m) for m in app.seen]
        assert kinds.count(TabOpened) == 2 and TabActivated in kinds and TabRenamed in kinds
        await ws.close_tab(one)


def test_bindings_are_the_registrys() -> None:
    def of(bindings: list) -> dict[str, tuple[str, str]]:
        return {b.id: (b.key, b.action) for b in bindings if isinstance(b, Binding)}

    for scope, bindings in (("app", HeimdallApp.BINDINGS), ("terminal", TerminalView.BINDINGS)):
        expected = {c.id: (",".join(c.keys), c.action) for c in COMMANDS if c.scope == scope}
        assert of(bindings) == expected, scope


async def test_status_bar_and_palette_show_the_keys_actually_bound() -> None:
    config = Config()
    config.keys.prefix = "ctrl+a"
    config.keys.bindings = {"next-tab": "f8", "prev-tab": "f7", "prefix-help": "h"}
    app = HeimdallApp(config, launch_factory=sleeper, initial_tabs=[], freeze_gc=False)
    async with app.run_test(size=(100, 30)):
        assert str(app._status_text()) == " Ctrl+a then h for keys · F7/F8 switch tabs "
        titles = {command.title: command.help for command in app.get_system_commands(app.screen)}
        assert titles["This help"] == "Ctrl+a h"
        app.action_prefix()
        assert "h:help" in str(app._status_text())


def test_the_app_is_the_terminals_key_router() -> None:
    config = Config()
    config.keys.bindings = {"scrollback-page-up": "f7"}
    router: KeyRouter = HeimdallApp(config, launch_factory=sleeper, initial_tabs=[])
    assert router.terminal_keys == {"f7", "shift+pagedown"}
