"""Black box: the real `heimdall demo` command in a real PTY, its screen rendered by our emulator.

Nothing is stubbed: the CLI starts the simulated upstream and the embedded gateway, opens two tabs
running the pinned Claude Code, and draws everything with Textual into a pseudo-terminal that this
test reads through `app.core.terminal.Terminal`, typing raw bytes like a user at a keyboard.
Checks a prompt round trip in both tabs (each tab's reply on screen, spend in the sidebar), then
quits and verifies that no child process and no throwaway folder is left behind.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.claude_support import ClaudeScreen, claude_binary

pytestmark = [pytest.mark.claude, pytest.mark.timeout(150)]

PREFIX = b"\x1d"  # Ctrl+], Heimdall's leader key
NEXT_TAB = b"\x1b[6;5~"  # Ctrl+PageDown


def _children_of(pid: int) -> set[int]:
    """All live descendants of `pid` (walks /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents[int(entry.name)] = ppid
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


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
        [sys.executable, "-m", "app", "demo"], env, tmp_path, cols=160, rows=45
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
                screen.write(NEXT_TAB)
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
        pids = _children_of(screen.session.pid)
        assert len(pids) >= 2  # at least the two Claude Code children

        screen.write(PREFIX)
        await screen.wait_until(lambda: True, 0.2)
        screen.write(b"q")
        await screen.wait_for_text(re.compile(r"(?i)quit"), 20)
        screen.write(b"y")
        status = await screen.wait_exit(30)
        assert status.code == 0, screen.screen_text()
    finally:
        await screen.close()
    survivors = [pid for pid in pids if _alive(pid)]
    assert survivors == []
    assert list(scratch.glob("heimdall-demo-*")) == []  # the throwaway folder is gone
