"""Black box: the real `heimdall` command hosting the real Claude Code in two tabs (issue 2).

`heimdall --agent <pinned claude> --fresh` runs in a real PTY whose output our emulator renders;
the children inherit the offline environment pointing at the simulated upstream. A prompt in
each tab gets the fake's reply on screen, each tab label shows the AI title Claude Code sets as
the OSC title, Ctrl+C twice exits one child with code 0 (shown in its tab), and quitting leaves
no process behind.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from app.gateway.simulated import SimulatedUpstream
from tests.claude_support import (
    PREFIX_KEY,
    ClaudeScreen,
    alive,
    claude_binary,
    claude_test_env,
    descendants,
)

pytestmark = [pytest.mark.claude, pytest.mark.timeout(150)]


def _tab_bar(screen: ClaudeScreen) -> str:
    return screen.screen_lines()[0]


async def test_heimdall_two_claude_tabs(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    env = claude_test_env(tmp_path, fake_upstream.url)
    # Should `heimdall` route tabs through its embedded gateway, that gateway must still only
    # reach the simulated upstream.
    env["HEIMDALL_EMBEDDED__UPSTREAM"] = fake_upstream.url
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    work = tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "app", "--fresh", "--agent", claude_binary(), "--cwd", str(work)]
    screen = ClaudeScreen(argv, env, work, cols=140, rows=40).start()
    pids: set[int] = set()
    try:
        await screen.wait_for_text("for shortcuts", timeout=60)
        await screen.submit("please write a haiku", pause=0.5)
        await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model="), 40)

        screen.write(PREFIX_KEY + b"c")  # leader, then c: a new tab with the same agent
        await screen.wait_until(lambda: "FAKE-REPLY" not in screen.screen_text(), 20, "new tab")
        await screen.wait_for_text("for shortcuts", timeout=60)
        await screen.submit("please fix the login bug", pause=0.5)
        await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model="), 40)

        titles = [e for e in fake_upstream.requests() if "title" in e["note"]]
        await screen.wait_until(
            lambda: len(re.findall(r"Fake title \d+", _tab_bar(screen))) == 2,
            30,
            f"both AI titles in the tab bar (title calls: {[t['n'] for t in titles]})",
        )
        sessions = {e["headers"].get("x-claude-code-session-id") for e in fake_upstream.requests()
                    if e["method"] == "POST"}
        assert len(sessions) == 2  # two independent Claude Code sessions

        assert screen.session.pid is not None
        pids = descendants(screen.session.pid)
        screen.write(b"\x03")
        await screen.wait_for_text("again to exit")
        screen.write(b"\x03")
        await screen.wait_until(lambda: "exit 0" in _tab_bar(screen), 20, "the exit badge")
        assert "FAKE-REPLY" in screen.screen_text()  # the exited tab keeps its output

        screen.write(PREFIX_KEY + b"q")
        await screen.wait_for_text(re.compile(r"(?i)quit"), 20)
        screen.write(b"y")
        status = await screen.wait_exit(30)
        assert status.code == 0, screen.screen_text()
    finally:
        await screen.close()
    assert len(pids) >= 2
    assert [pid for pid in pids if alive(pid)] == []
