"""The real Claude Code TUI in a real PTY, rendered by Heimdall's emulator.

One session end to end the way a tab hosts it: the launch comes from `claude_launch`, the screen
is read from `heimdall.terminal.Terminal`, keys go in as a user types them. Checks the prompt
footer, a reply on screen, the AI title arriving as an OSC title, and Ctrl+C twice exiting 0.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from heimdall.claude.launch import claude_launch
from heimdall.demo.simulated import SimulatedUpstream

from tests.claude_support import ClaudeScreen, claude_binary, claude_test_env

pytestmark = [pytest.mark.claude, pytest.mark.timeout(120)]

KITTY_PUSH = b"\x1b[>1u"


async def test_prompt_reply_title_and_exit(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    session_id = str(uuid.uuid4())
    work = tmp_path / "work"
    work.mkdir()
    env = claude_test_env(tmp_path, fake_upstream.url)
    gateway_env = {"ANTHROPIC_CUSTOM_HEADERS": "x-bf-lh-session: tab-1"}
    launch = claude_launch(
        claude_binary(), session_id, model="fake-sonnet", resume=False, cwd=work,
        gateway_env=gateway_env, base_env={**env, "TMUX": "/tmp/tmux-1/default,1,0"},
    )
    screen = ClaudeScreen(launch.argv, launch.env, launch.cwd, cols=100, rows=30).start()
    try:
        await screen.wait_ready()
        assert "fake-sonnet" in screen.screen_text()  # the header shows the model we passed

        await screen.submit("please fix the login bug")
        reply = await screen.wait_for_text(re.compile(r"FAKE-REPLY #(\d+) from model=fake-sonnet: Hi there!"))
        assert isinstance(reply, re.Match)
        main_call = fake_upstream.wait_for_request(lambda e: e["n"] == int(reply.group(1)))
        assert main_call["headers"]["x-claude-code-session-id"] == session_id
        assert main_call["headers"]["x-bf-lh-session"] == "tab-1"
        assert main_call["body"]["model"] == "fake-sonnet"

        # The title call's JSON becomes the terminal title: `✳ Fake title <n>` once idle.
        title_call = fake_upstream.wait_for_request(lambda e: "title" in e["note"])
        expected_title = f"Fake title {title_call['n']}"
        await screen.wait_until(lambda: screen.title.endswith(expected_title), 10, "the AI title")
        assert any(expected_title in title for title in screen.titles)

        # With the outer terminal's TMUX scrubbed, Claude Code draws with synchronized output and
        # does not push the kitty keyboard protocol (contrast: the test below).
        assert b"\x1b[?2026h" in screen.raw and KITTY_PUSH not in screen.raw

        screen.write(b"\x03")
        await screen.wait_for_text("again to exit")
        screen.write(b"\x03")
        status = await screen.wait_exit()
        assert status.code == 0
        assert screen.title == ""  # Claude Code clears the title on exit
    finally:
        await screen.close()


async def test_inherited_tmux_changes_claude_codes_output(
    tmp_path: Path, fake_upstream: SimulatedUpstream
) -> None:
    """Why `claude_launch` drops TMUX: a child that sees it pushes the kitty keyboard protocol
    (and skips synchronized output), which our widget would then have to undo."""
    env = claude_test_env(tmp_path, fake_upstream.url, extra={"TMUX": "/tmp/tmux-1/default,1,0"})
    argv = [claude_binary(), "--session-id", str(uuid.uuid4())]
    screen = ClaudeScreen(argv, env, tmp_path).start()
    try:
        await screen.wait_ready()
        await screen.wait_until(lambda: KITTY_PUSH in screen.raw, 5, "the kitty keyboard push")
    finally:
        await screen.close()
