"""First-run checks and screens. The npm install runs a harmless stand-in, never a global install."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from heimdall.tui.screens.first_run import (
    INSTALL_HINT,
    MissingClaudeScreen,
    MissingCredentialScreen,
    find_npm,
    install_argv,
    needs_credential_screen,
    upstream_credential,
)
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Button, Log, Static

from tests.tui.spend_host import STYLES, screen_text


class ScreenHost(App[None]):
    CSS_PATH = str(STYLES / "dialogs.tcss")

    def __init__(self, screen) -> None:
        super().__init__()
        self.first = screen
        self.results: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("behind")

    def on_mount(self) -> None:
        self.push_screen(self.first, self.results.append)


async def wait_for(pilot: Pilot[None], check) -> None:
    for _ in range(1000):
        if check():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not met")


def test_credential_sources(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    assert not upstream_credential(home, check_keyring=False).found
    assert upstream_credential({**home, "ANTHROPIC_API_KEY": "sk"}, check_keyring=False).source == (
        "environment variable ANTHROPIC_API_KEY")
    login = tmp_path / ".claude" / ".credentials.json"
    login.parent.mkdir()
    login.write_text("{not json")
    assert not upstream_credential(home, check_keyring=False).found  # corrupt file: not a login
    login.write_text(json.dumps({"claudeAiOauth": {"accessToken": "tok", "refreshToken": "r"}}))
    assert upstream_credential(home, check_keyring=False).source == f"Claude login ({login})"
    other = tmp_path / "cfg"
    other.mkdir()
    assert not upstream_credential({**home, "CLAUDE_CONFIG_DIR": str(other)},
                                   check_keyring=False).found
    assert upstream_credential({**home, "HEIMDALL_UPSTREAM_KEY": "k"}).source == (
        "upstream key (env HEIMDALL_UPSTREAM_KEY)")


def test_when_the_credential_screen_is_needed(tmp_path: Path) -> None:
    none = upstream_credential({"HOME": str(tmp_path)}, check_keyring=False)
    assert needs_credential_screen("embedded", "https://api.anthropic.com", none)
    assert not needs_credential_screen("bifrost", "https://api.anthropic.com", none)
    assert not needs_credential_screen("embedded", "http://127.0.0.1:9999", none)


def test_npm_lookup_and_pinned_command(tmp_path: Path) -> None:
    assert find_npm({"PATH": str(tmp_path)}) is None
    assert install_argv("/usr/bin/npm") == ["/usr/bin/npm", "install", "-g",
                                            "@anthropic-ai/claude-code@2.1.197"]


async def test_install_shows_progress_and_continues() -> None:
    stand_in = [sys.executable, "-c",
                "import time\nfor n in range(3):\n    print(f'step {n}', flush=True)\n"]
    app = ScreenHost(MissingClaudeScreen(npm="/usr/bin/npm", argv=stand_in))
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        assert INSTALL_HINT in screen_text(app)  # on a line of its own
        await pilot.click("#install")
        button = app.screen.query_one("#install", Button)
        await wait_for(pilot, lambda: str(button.label) == "Continue")
        log = app.screen.query_one("#install-log", Log)
        assert [line for line in log.lines if line.startswith("step")] == ["step 0", "step 1", "step 2"]
        assert "Claude Code is installed." in screen_text(app)
        await pilot.pause()
        assert app.focused is button
        # Textual ignores Enter on a button within 0.2 s of its last press (its press animation)
        await wait_for(pilot, lambda: not button.has_class("-active"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.results == ["installed"])
    assert app.results == ["installed"]


async def test_failed_install_says_so_and_can_retry() -> None:
    failing = [sys.executable, "-c", "import sys; print('EACCES: permission denied'); sys.exit(243)"]
    app = ScreenHost(MissingClaudeScreen(npm="/usr/bin/npm", argv=failing))
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        await pilot.click("#install")
        button = app.screen.query_one("#install", Button)
        await wait_for(pilot, lambda: str(button.label) == "Try again")
        text = screen_text(app)
        assert "npm exited with code 243" in text and "EACCES" in text
        await pilot.click("#shell")
        await pilot.pause()
    assert app.results == ["shell"]


async def test_no_npm_is_one_clear_sentence() -> None:
    app = ScreenHost(MissingClaudeScreen(npm=None))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.query("#install")
        assert "no `npm` to install it with" in app.screen.query_one("Markdown").source
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == ["quit"]


async def test_missing_credential_screen_offers_the_demo() -> None:
    app = ScreenHost(MissingCredentialScreen())
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "No Anthropic credential found" in text and "heimdall demo" in text
        await pilot.click("#demo")
        await pilot.pause()
    assert app.results == ["demo"]
