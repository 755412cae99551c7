"""Black box: the real `heimdall demo` command in a real PTY, its screen rendered by our emulator.

Nothing is stubbed: the CLI starts the simulated upstream and the embedded gateway, opens two tabs
running the pinned Claude Code, and draws everything with Textual into a pseudo-terminal that this
test reads through `heimdall.terminal.Terminal`, typing raw bytes like a user at a keyboard.
Checks a prompt round trip in both tabs (each tab's reply on screen, spend in the sidebar), then
quits and verifies that no child process and no throwaway folder is left behind.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.children import alive
from tests.claude_support import (
    NEXT_TAB_KEY,
    PREFIX_KEY,
    ClaudeScreen,
    claude_binary,
    descendants,
)

pytestmark = [pytest.mark.claude, pytest.mark.timeout(150)]


async def test_heimdall_demo_two_tabs_round_trip_and_clean_quit(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude_binary())  # the demo finds `claude` on PATH
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(scratch),  # the demo's throwaway folder goes here
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
    }
    env.pop("TMUX", None)
    screen = ClaudeScreen(
        [sys.executable, "-m", "heimdall", "demo"], env, tmp_path, cols=160, rows=45
    ).start()
    pids: set[int] = set()
    try:
        # Claude Code's footer, drawn inside Heimdall's terminal widget, inside our emulator.
        await screen.wait_for_text("for shortcuts", timeout=60)
        assert "demo" in screen.screen_text().lower()
        # The demo's two tabs run different models, so the reply says which tab answered.
        models: list[str] = []
        for tab, prompt in enumerate(("please write a haiku", "please fix the login bug")):
            if tab:
                screen.write(NEXT_TAB_KEY)
                await screen.wait_until(
                    lambda: "FAKE-REPLY" not in screen.screen_text(), 20, "the other tab to show"
                )
                await screen.wait_for_text("for shortcuts", timeout=60)
            await screen.submit(prompt, pause=0.5)
            match = await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model=(\S+):"), 40)
            assert isinstance(match, re.Match)
            models.append(match.group(1))
            assert "demo" in screen.screen_text().lower()
        assert len(set(models)) == 2, models
        # Each tab's spend reached the sidebar, labelled as demo money.
        await screen.wait_until(
            lambda: len(re.findall(r"\$\d+\.\d\d demo", screen.screen_text())) >= 2,
            20,
            "spend in the sidebar",
        )
        assert screen.session.pid is not None
        pids = descendants(screen.session.pid)
        assert len(pids) >= 2  # at least the two Claude Code children

        screen.write(PREFIX_KEY)
        await screen.wait_until(lambda: True, 0.2)
        screen.write(b"q")
        await screen.wait_for_text(re.compile(r"(?i)quit"), 20)
        screen.write(b"y")
        status = await screen.wait_exit(30)
        assert status.code == 0, screen.screen_text()
    finally:
        await screen.close()
    survivors = [pid for pid in pids if alive(pid)]
    assert survivors == []
    assert list(scratch.glob("heimdall-demo-*")) == []  # the throwaway folder is gone
