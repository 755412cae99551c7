"""The emulator on real Claude Code output (classic inline renderer) against the fake upstream.

Checks what unit cases cannot: the stream Claude Code really writes renders without junk
(no stray sequence text), the modes it sets are seen, typed CJK/emoji show up intact, and the
recorded stream replayed one byte at a time gives exactly the same screen and scrollback.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from heimdall.claude.launch import claude_launch
from heimdall.demo.simulated import SimulatedUpstream
from heimdall.terminal import Terminal

from tests.claude_support import ClaudeScreen, claude_binary, claude_test_env

pytestmark = [pytest.mark.claude, pytest.mark.timeout(120)]

JUNK = re.compile(r"\x1b|\[\??[0-9;]*[a-zA-Z~]|\]0;|\]8;|\$[py]|\[[<>=][0-9;]*[a-zA-Z]")


def rendered(term: Terminal) -> tuple:
    rows = tuple(
        tuple((seg.text, seg.style) for seg in term.row_segments(y)) for y in range(term.rows)
    )
    history = tuple(term.text_line(i) for i in range(term.scrollback_len))
    return rows, history, term.cursor, term.title


async def test_claude_code_stream_renders_cleanly(
    tmp_path: Path, fake_upstream: SimulatedUpstream
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = claude_test_env(tmp_path, fake_upstream.url)
    launch = claude_launch(
        claude_binary(), str(uuid.uuid4()), model="fake-sonnet", resume=False, cwd=work,
        gateway_env={}, base_env=env,
    )
    screen = ClaudeScreen(launch.argv, launch.env, launch.cwd, cols=100, rows=30).start()
    try:
        await screen.wait_ready()
        term = screen.term
        assert term.mode(2004), "bracketed paste requested at start"
        assert term.mode(1004), "focus events requested at start"
        assert not term.alt_screen, "the classic renderer draws inline"

        prompt = "fix the 漢字 ❤️ login bug 👩‍💻 now"
        screen.write(prompt.encode())
        await screen.wait_for_text(prompt)
        screen.write(b"\r")
        await screen.wait_for_text(re.compile(r"FAKE-REPLY #\d+ from model=fake-sonnet"))
        await screen.wait_until(lambda: term.title.startswith("✳"), 15, "the idle title")
        await screen.wait_until(lambda: not term.in_sync_update, 5, "the end of a sync frame")

        history = screen.history_text()
        assert prompt in history
        assert not JUNK.search(history), f"sequence text leaked onto the screen:\n{history}"
        for y in range(term.rows):
            assert sum(len(s.text) for s in term.row_segments(y)) >= 1

    finally:
        await screen.close()

    raw = bytes(screen.raw)  # everything, including what Claude Code wrote while exiting
    assert raw.count(b"\x1b[?2026h") == raw.count(b"\x1b[?2026l")
    live = rendered(term)
    replay = Terminal(term.cols, term.rows, scrollback_lines=5000)
    for i in range(len(raw)):
        replay.feed(raw[i : i + 1])
    assert rendered(replay) == live
    whole = Terminal(term.cols, term.rows, scrollback_lines=5000)
    whole.feed(raw)
    assert rendered(whole) == live
