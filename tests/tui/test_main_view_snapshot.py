"""Snapshot of the main view: three tabs of real child programs, the tab bar with titles and
badges, and the spend sidebar with fixed gateway numbers (the sidebar's own states are in
test_sidebar.py; the model menu's in test_model_menu.py)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from heimdall.config import Config
from heimdall.gateways.protocol import HealthStatus
from heimdall.process.launch import AgentLaunch, child_environment
from heimdall.sessions.activity import Activity
from heimdall.sessions.store import Session
from heimdall.spend.book import UsageBook
from heimdall.spend.poller import GatewayState
from heimdall.tui.app import HeimdallApp, TabRequest
from heimdall.tui.widgets.spend_sidebar import SpendSidebar
from textual.pilot import Pilot

from tests.children.harness import screen_text, wait_until
from tests.tui.spend_host import HAIKU, SONNET, T0, cell, report

pytestmark = pytest.mark.timeout(60)

# A child that draws like an agent: an OSC title, colours, a wide character, then waits quietly.
CHILD = r"""
import sys, time
title, body = sys.argv[1], sys.argv[2]
sys.stdout.write(f"\x1b]0;{title}\x07")
sys.stdout.write("\x1b[1;38;2;215;119;87m✻\x1b[0m Welcome to the \x1b[1mdemo\x1b[0m agent\r\n\r\n")
sys.stdout.write(f"\x1b[38;5;244m>\x1b[0m {body}\r\n")
sys.stdout.write("\x1b[32m●\x1b[0m Reading \x1b[4msrc/login.py\x1b[0m (42 lines) 漢字 ok\r\n")
sys.stdout.write("\x1b[7m diff \x1b[0m \x1b[31m- return None\x1b[0m  \x1b[32m+ return user\x1b[0m\r\n")
sys.stdout.write("DONE\r\n")
sys.stdout.flush()
time.sleep(120)
"""

TABS = [
    ("api-fix", "Fix failing login test", "fix the failing login test"),
    ("docs", "Update README", "update the README install section"),
    ("refactor", "Split gateway module", "split the gateway module"),
]


class MainViewApp(HeimdallApp):
    """HeimdallApp whose tabs run CHILD, with a spend sidebar fed fixed numbers."""

    def __init__(self) -> None:
        config = Config()
        config.ui.sidebar = True

        def factory(request: TabRequest) -> AgentLaunch:
            argv = [sys.executable, "-c", CHILD, *request.extra["argv"]]
            env = child_environment(dict(os.environ))
            return AgentLaunch(argv=argv, env=env, cwd=Path.cwd())

        tabs = [TabRequest(name=name, session_id=f"{n}" * 8, extra={"argv": [title, body]})
                for n, (name, title, body) in enumerate(TABS, start=1)]
        super().__init__(config, launch_factory=factory, initial_tabs=tabs, freeze_gc=False)
        self.spend = SpendSidebar(tz=UTC, id="spend-sidebar")

    async def on_mount(self) -> None:
        # Textual runs HeimdallApp.on_mount after this one (handlers run for every class in the
        # MRO), so no super() call: that would open the tabs twice.
        await self.mount_sidebar(self.spend)


def fixed_spend() -> tuple[UsageBook, list[Session]]:
    sessions = [Session.new(name, "/tmp", model="claude-sonnet-4-5", at=T0) for name, _, _ in TABS]
    for n, session in enumerate(sessions, start=1):
        session.id = f"{n}" * 8
    sessions[1].model = "claude-haiku-4-5"
    sessions[0].budget_usd = 0.10
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{sessions[0].id: {"claude-sonnet-4-5": cell(SONNET, 1)}}))
    book.mark_prompt(sessions[0].id, T0)
    book.feed(report(T0 + timedelta(minutes=2),
                     **{sessions[0].id: {"claude-sonnet-4-5": cell(SONNET, 6, cr=2048)},
                        sessions[1].id: {"claude-haiku-4-5": cell(HAIKU, 3)},
                        sessions[2].id: {"claude-sonnet-4-5": cell(SONNET, 2),
                                         "claude-haiku-4-5": cell(HAIKU, 1)}}))
    return book, sessions


async def settle_main_view(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, MainViewApp)
    await wait_until(pilot, lambda: len(app.tabs) == 3, what="three tabs")
    for view in app.tabs:
        await wait_until(pilot, lambda v=view: "DONE" in screen_text(v), what="child output")
    await wait_until(pilot, lambda: all(v.state is Activity.IDLE or v.state is Activity.WAITING
                                        for v in app.tabs), timeout=15, what="tabs quiet")
    app.activate(app.tabs[0])
    book, sessions = fixed_spend()
    state = GatewayState(kind="embedded", url="http://127.0.0.1:8787", status=HealthStatus.OK,
                         as_of=T0 + timedelta(minutes=2), since=T0)
    app.spend.update_view(book, sessions, state, active_id=sessions[0].id)
    for _ in range(5):
        await pilot.pause(0.05)


def test_main_view_snapshot(snap_compare) -> None:
    assert snap_compare(MainViewApp(), terminal_size=(120, 34), run_before=settle_main_view)
