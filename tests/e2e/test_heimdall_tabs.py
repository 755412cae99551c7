"""Black box: the real `heimdall` command hosting the real Claude Code in two tabs (issue 2).

`heimdall --fresh --agent claude` (the pinned binary first on PATH) runs in a real PTY whose
output our emulator renders; the children get the offline environment pointing at the simulated
upstream. A prompt in each tab gets the fake's reply on screen, each tab label shows the AI title
Claude Code sets as the OSC title, Ctrl+C twice exits one child with code 0 (shown in its tab),
and quitting leaves no Claude Code process behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sys
from pathlib import Path

import pytest
from heimdall.demo.simulated import SimulatedUpstream

from tests.children import alive
from tests.claude_support import (
    PREFIX_KEY,
    ClaudeScreen,
    claude_binary,
    claude_test_env,
    descendants,
)

pytestmark = [pytest.mark.claude, pytest.mark.timeout(150)]


def _tab_bar(screen: ClaudeScreen) -> str:
    return screen.screen_lines()[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _started_with(pid: int, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


async def test_heimdall_two_claude_tabs(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude_binary())
    data_dir = tmp_path / "heimdall-data"
    env = claude_test_env(tmp_path, fake_upstream.url)
    env.update(
        {
            "PATH": f"{bin_dir}:{env['PATH']}",
            "HEIMDALL_DATA_DIR": str(data_dir),
            "HEIMDALL_CONFIG": str(tmp_path / "heimdall-config.toml"),
            # Should `heimdall` route tabs through its embedded gateway, that gateway must only
            # reach the simulated upstream, on a port of its own.
            "HEIMDALL_EMBEDDED__UPSTREAM": fake_upstream.url,
            "HEIMDALL_EMBEDDED__PORT": str(_free_port()),
        }
    )
    work = tmp_path / "work"
    work.mkdir()
    argv = [sys.executable, "-m", "heimdall", "--fresh", "--agent", "claude", "--cwd", str(work)]
    screen = ClaudeScreen(argv, env, work, cols=140, rows=40).start()
    claude_pids: set[int] = set()
    try:
        await screen.wait_for_text("for shortcuts", timeout=60)
        await screen.submit("please write a haiku", pause=0.5)
        await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model="), 40)

        screen.write(PREFIX_KEY + b"c")  # leader, then c: a new tab
        await screen.wait_until(
            lambda: "New session" in screen.screen_text() or "FAKE-REPLY" not in screen.screen_text(),
            20,
            "a new tab or the new-session dialog",
        )
        if "New session" in screen.screen_text():  # the sessions app asks: name it, create it
            await screen.submit("second", pause=0.3)
            screen.write(b"\x13")  # Ctrl+S: create
            await screen.wait_until(lambda: "FAKE-REPLY" not in screen.screen_text(), 20, "new tab")
        await screen.wait_for_text("for shortcuts", timeout=60)
        await screen.submit("please fix the login bug", pause=0.5)
        await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model="), 40)

        posts = [e for e in fake_upstream.requests() if e["method"] == "POST"]
        assert len({e["headers"].get("x-claude-code-session-id") for e in posts}) == 2
        titles = [e["n"] for e in posts if "title" in e["note"]]
        await screen.wait_until(
            lambda: len(re.findall(r"Fake title \d+", _tab_bar(screen))) == 2,
            30,
            f"both AI titles in the tab bar (title calls: {titles})",
        )

        assert screen.session.pid is not None
        claude_pids = {
            pid
            for pid in descendants(screen.session.pid)
            if Path(_cmdline(pid)[0]).name == "claude"
        }
        assert len(claude_pids) == 2
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
        # A detached embedded gateway is meant to outlive heimdall; this test's one must not.
        marker = f"HEIMDALL_DATA_DIR={data_dir}"
        for entry in Path("/proc").iterdir():
            pid = int(entry.name) if entry.name.isdigit() else os.getpid()
            if pid != os.getpid() and _started_with(pid, marker):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
    assert [pid for pid in claude_pids if alive(pid)] == []
