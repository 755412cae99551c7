"""Claude Code's busy/idle signals: the title spinner and the live session file."""

from __future__ import annotations

import json
from pathlib import Path

from heimdall.claude.status import (
    StatusSignal,
    clean_title,
    read_claude_status,
    status_file_signal,
    title_signal,
)


def write_status(directory: Path, name: str, **data: object) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(data))


def test_title_signal_recognises_claude_spinner_and_idle_glyph() -> None:
    assert title_signal("⠂ Fix the tests") is StatusSignal.BUSY
    assert title_signal("⠐ Fix the tests") is StatusSignal.BUSY
    assert title_signal("✳ Fix the tests") is StatusSignal.IDLE
    assert title_signal("✳ Claude Code") is StatusSignal.IDLE
    assert title_signal("vim README.md") is None
    assert title_signal("*scratch*") is None
    assert title_signal("") is None
    assert clean_title("⠂ Fix the tests") == "Fix the tests"
    assert clean_title("✳ Claude Code") == "Claude Code"
    assert clean_title("bash: ~/src") == "bash: ~/src"


def test_status_file_by_pid_and_by_session_id(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    assert read_claude_status(sessions, 1, None) is None
    write_status(sessions, "4242.json", pid=4242, sessionId="abc", status="busy")
    assert read_claude_status(sessions, 4242, None) == "busy"
    # A wrapper's pid differs from claude's: the session id still finds it.
    assert read_claude_status(sessions, 1, "abc") == "busy"
    assert read_claude_status(sessions, 1, "other") is None
    (sessions / "9.json").write_text("{not json")
    assert read_claude_status(sessions, 9, None) is None
    (sessions / "list.json").write_text("[1, 2]")  # valid JSON, wrong shape
    assert read_claude_status(sessions, None, "x") is None


def test_status_file_values() -> None:
    assert status_file_signal("busy") is StatusSignal.BUSY
    assert status_file_signal("idle") is StatusSignal.IDLE
    assert status_file_signal("waiting") is StatusSignal.IDLE
    assert status_file_signal("starting") is None and status_file_signal(None) is None
