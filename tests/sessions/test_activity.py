"""ActivityTracker: title spinner, Claude Code's session file, screen activity, bell, exit."""

from __future__ import annotations

import json
from pathlib import Path

from heimdall.claude.status import StatusSignal, title_signal
from heimdall.sessions.activity import (
    Activity,
    ActivityTracker,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tracker(**kwargs) -> tuple[ActivityTracker, Clock]:
    clock = Clock()
    return ActivityTracker(clock=clock, **kwargs), clock


def test_starting_then_idle_without_signals() -> None:
    track, clock = tracker()
    assert track.state() is Activity.STARTING
    clock.advance(1)
    assert track.state() is Activity.STARTING  # nothing printed yet
    track.on_output()
    assert track.state() is Activity.STARTING  # printing its banner
    clock.advance(2)
    assert track.state() is Activity.IDLE  # banner done, prompt shown, quiet
    silent, silent_clock = tracker()
    silent_clock.advance(6)
    assert silent.state() is Activity.IDLE  # never printed: starting ends after 5 s


def test_title_spinner_drives_busy_idle_and_waiting_for_a_background_tab() -> None:
    track, _ = tracker()
    track.on_title("✳ Claude Code")
    assert track.state() is Activity.IDLE
    track.on_title("⠂ Write a poem")
    assert track.state() is Activity.BUSY
    track.on_title("✳ Write a poem")  # finished while the user looked elsewhere
    assert track.state() is Activity.WAITING
    track.seen()
    assert track.state() is Activity.IDLE
    assert track.display_title == "Write a poem"


def test_finishing_in_the_visible_tab_is_just_idle() -> None:
    track, _ = tracker()
    track.on_title("⠂ Work", visible=True)
    track.on_title("✳ Work", visible=True)
    assert track.state() is Activity.IDLE


def test_screen_activity_fallback_ignores_typing_echo() -> None:
    track, clock = tracker()
    clock.advance(10)
    track.on_output()
    assert track.state() is Activity.IDLE  # one burst is not work
    clock.advance(0.5)
    track.on_output()
    assert track.state() is Activity.BUSY
    track.on_input()
    clock.advance(0.1)
    track.on_output()
    assert track.state() is Activity.IDLE  # echo of what the user typed
    clock.advance(2)
    assert track.state() is Activity.IDLE


def test_bell_marks_only_background_tabs_and_clears_when_seen() -> None:
    track, _ = tracker()
    track.on_bell(visible=True)
    assert not track.bell_pending
    track.on_bell(visible=False)
    assert track.state() is Activity.BELL
    track.seen()
    assert track.state() is not Activity.BELL


def test_notify_means_waiting() -> None:
    track, _ = tracker()
    track.on_title("✳ Plan")
    track.on_notify(visible=False)
    assert track.state() is Activity.WAITING


def test_exit_wins_over_everything() -> None:
    track, _ = tracker()
    track.on_bell(visible=False)
    track.on_title("⠂ busy")
    track.on_exit("3")
    assert track.state() is Activity.EXITED
    track.restart(pid=42)
    assert track.state() is Activity.STARTING and track.title == ""


def write_status(directory: Path, name: str, **data: object) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(json.dumps(data))


def test_status_file_overrides_stale_title(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    track, _ = tracker(sessions_dir=sessions, pid=77, session_id="s-1")
    track.on_title("✳ Title")
    write_status(sessions, "77.json", pid=77, sessionId="s-1", status="busy")
    track.poll_status_file(visible=False)
    assert track.state() is Activity.BUSY
    write_status(sessions, "77.json", pid=77, sessionId="s-1", status="idle")
    track.poll_status_file(visible=False)
    assert track.state() is Activity.WAITING
    (sessions / "77.json").unlink()  # removed on exit
    track.poll_status_file(visible=True)
    track.seen()
    assert track.state() is Activity.IDLE


def test_claude_signals_map_onto_activities() -> None:
    for signal in StatusSignal:
        assert Activity(signal.value) == signal
    track, _ = tracker()
    track.on_title("⠂ Fix the tests")
    assert title_signal(track.title) is StatusSignal.BUSY and track.state() is Activity.BUSY
