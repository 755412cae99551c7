"""TerminalSession with real children in real PTYs, and no Textual: no App, no widget."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from heimdall.process.launch import AgentLaunch
from heimdall.process.pty import ExitStatus
from heimdall.sessions import terminal_session
from heimdall.sessions.activity import Activity
from heimdall.sessions.clocks import ActivityClock
from heimdall.sessions.terminal_session import (
    HIDDEN_FLOOD_BYTES,
    HIDDEN_FLOOD_RATE,
    TerminalSession,
    Unwatched,
    is_trickle,
)

from tests.children import alive, probe_argv
from tests.children.handshake import HANDSHAKE

pytestmark = pytest.mark.timeout(60)


class Recorder(Unwatched):
    """A listener that writes down what it heard."""

    def __init__(self, in_view: bool = False) -> None:
        self.in_view = in_view
        self.outputs = 0
        self.sync_frames: list[str] = []
        self.moved: list[tuple[int, int]] = []
        self.resized: list[tuple[int, int]] = []
        self.titles: list[str] = []
        self.bells: list[bool] = []
        self.notes: list[str] = []
        self.exits: list[ExitStatus] = []
        self.states: list[tuple[Activity, Activity]] = []
        self.errors: list[Exception] = []
        self.session: TerminalSession | None = None

    def session_output(self) -> None:
        self.outputs += 1

    def session_sync_frame(self) -> None:
        assert self.session is not None
        self.sync_frames.append(screen(self.session))

    def session_history_moved(self, grown: int, gone: int) -> None:
        self.moved.append((grown, gone))

    def session_resized(self, grown: int, gone: int) -> None:
        self.resized.append((grown, gone))

    def session_title(self, title: str) -> None:
        self.titles.append(title)

    def session_bell(self, in_view: bool) -> None:
        self.bells.append(in_view)

    def session_notify(self, text: str) -> None:
        self.notes.append(text)

    def session_exited(self, status: ExitStatus) -> None:
        self.exits.append(status)

    def session_state_changed(self, old: Activity, new: Activity) -> None:
        self.states.append((old, new))

    def session_emulator_error(self, exc: Exception) -> None:
        self.errors.append(exc)

    def session_in_view(self) -> bool:
        return self.in_view

    def session_focused(self) -> bool:
        return self.in_view


def launch(argv: list[str]) -> AgentLaunch:
    return AgentLaunch(argv=list(argv), env=dict(os.environ), cwd=Path.cwd())


def make(argv: list[str], *, in_view: bool = False, **kwargs: object) -> tuple[TerminalSession, Recorder]:
    recorder = Recorder(in_view=in_view)
    session = TerminalSession(launch(argv), listener=recorder, **kwargs)  # type: ignore[arg-type]
    recorder.session = session
    return session, recorder


def screen(session: TerminalSession) -> str:
    term = session.terminal
    return "\n".join(term.text_line(i) for i in range(term.total_lines)).strip("\n")


def sh(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


async def wait_until(predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_the_session_loads_no_textual() -> None:
    code = (
        "import sys, heimdall.sessions.terminal_session, heimdall.sessions.clocks\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('heimdall.tui')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_trickle_or_flood() -> None:
    assert is_trickle(512, 0.05)  # Claude Code streaming: 10 KB/s
    assert is_trickle(5_000, 0.5)  # a half-second batch of it
    assert not is_trickle(HIDDEN_FLOOD_BYTES, 1.0)  # the kernel buffer may be filling up
    assert not is_trickle(4_096, 4_096 / HIDDEN_FLOOD_RATE / 4)  # a build: keep up with it


async def test_output_is_parsed_and_the_exit_reported() -> None:
    session, heard = make(sh("printf 'hello\\r\\nworld\\r\\n'; exit 3"))
    session.start((40, 10))
    assert session.running and session.pid is not None
    assert session.state is Activity.STARTING
    await wait_until(lambda: heard.exits, "exit")
    assert "hello\nworld" in screen(session)
    assert session.bytes_received >= len("hello\r\nworld\r\n")
    assert heard.outputs >= 1
    assert session.exit_status == ExitStatus(code=3, signal=None) == heard.exits[0]
    assert not session.running and session.state is Activity.EXITED
    assert heard.states[-1][1] is Activity.EXITED
    assert not session.needs_poll()  # an exited tab changes only on events
    assert await session.close() == session.exit_status


async def test_input_reaches_the_child_and_the_size_is_the_ptys() -> None:
    session, _ = make(probe_argv("--echo"))
    raw = bytearray()
    session.on_output_hook = raw.extend
    session.start((50, 12))
    await wait_until(lambda: "READY:50x12" in screen(session), "READY at the start size")
    session.send(b"hi")
    await wait_until(lambda: b"IN:6869" in raw, "the child to read 'hi'")
    await session.close()
    assert not session.running
    session.send(b"ignored")  # after the exit: a no-op, never an error


async def test_a_burst_of_sizes_reaches_the_child_once_as_the_last() -> None:
    session, heard = make(probe_argv("--echo"))
    session.start((50, 12))
    await wait_until(lambda: "READY:50x12" in screen(session), "READY")
    for cols in (60, 70, 80):
        session.resize(cols, 20)
    assert (session.terminal.cols, session.terminal.rows) == (50, 12)  # debounced
    await wait_until(lambda: "SIZE:80x20" in screen(session), "the last size")
    assert (session.terminal.cols, session.terminal.rows) == (80, 20)
    assert len(heard.resized) == 1
    assert "SIZE:60x20" not in screen(session)
    session.resize(0, 0)  # a collapsed window: at least 1x1
    await wait_until(lambda: session.terminal.cols == 1, "1x1")
    await session.close()


async def test_a_program_that_cannot_start_is_shown_not_raised() -> None:
    session, heard = make(["/nonexistent/program"])
    session.start()
    assert session.pty is None and not session.running
    assert session.start_error is not None and "/nonexistent/program" in session.start_error
    assert session.exit_status == ExitStatus(code=127, signal=None)
    assert "[heimdall] cannot start" in screen(session)
    assert heard.outputs == 1 and session.state is Activity.EXITED
    assert await session.close() == session.exit_status


async def test_title_bell_and_notification_reach_the_listener() -> None:
    script = "printf '\\033]0;Building things\\007'; printf '\\007'; printf '\\033]9;look here\\007'; sleep 9"
    session, heard = make(sh(script))
    session.start()
    await wait_until(lambda: heard.notes, "the notification")
    assert heard.titles == ["Building things"]
    assert session.label == "Building things"
    assert heard.bells == [False]  # nobody looks at it: a badge-worthy bell
    assert heard.notes == ["look here"]
    assert session.activity.bell_pending
    session.show()  # the user looks: the marks are seen
    assert not session.activity.bell_pending
    session.custom_name = "api-fix"
    assert session.label == "api-fix · Building things"
    await session.close()


async def test_restart_runs_the_child_again_in_the_same_emulator() -> None:
    session, heard = make(sh("echo first; exit 1"))
    session.start()
    await wait_until(lambda: heard.exits, "first exit")
    await session.restart(launch(sh("echo second; exec sleep 60")))
    assert session.running and session.exit_status is None
    await wait_until(lambda: "second" in screen(session), "second run")
    text = screen(session)
    assert text.index("first") < text.index("restarting: sh -c") < text.index("second")
    status = await session.close()
    assert status is not None and not status.success


async def test_a_hidden_trickle_waits_in_the_kernel_and_is_read_the_moment_it_is_shown(
    monkeypatch,
) -> None:
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 60.0)
    session, _ = make(probe_argv("--echo"))
    session.start()
    await wait_until(lambda: "READY:" in screen(session), "READY")
    session.hide()
    session.send(b"a")  # its echo is a trickle: reading pauses after it
    await wait_until(lambda: session.pty is not None and not session.pty._reading, "paused reads")
    handle = session._resume_handle
    assert handle is not None and handle.when() % 60.0 == pytest.approx(0.0, abs=1e-6)  # on the grid
    session.send(b"b")
    await asyncio.sleep(0.3)
    assert "IN:62" not in screen(session)  # waiting in the kernel
    session.show()  # no await: up to date at once
    assert "IN:62" in screen(session)
    assert session.pty is not None and session.pty._reading and session._resume_handle is None
    await session.close()


async def test_a_hidden_flood_is_read_at_full_speed(monkeypatch) -> None:
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 1.0)
    pauses: list[float] = []
    pause = terminal_session.TerminalSession._pause_until_grid

    def counting_pause(self: terminal_session.TerminalSession, now: float) -> None:
        pauses.append(now)
        pause(self, now)

    monkeypatch.setattr(terminal_session.TerminalSession, "_pause_until_grid", counting_pause)
    flood = "head -c 131072 /dev/zero | tr '\\0' x; echo; echo FLOOD-DONE; exec sleep 60"
    session, _ = make(sh(f"sleep 0.2; {flood}"))
    session.hide()
    session.start()
    # The flood's first read, after a quiet start, may wait for the grid (one pause); the rest
    # is read at once. Batched, 128 KB would take 16+ grid turns of 8 KB each (the kernel holds
    # only ~14-20 KB).
    await wait_until(lambda: "FLOOD-DONE" in screen(session), "flood parsed")
    assert len(pauses) <= 2, f"{len(pauses)} grid pauses for one flood"
    assert session.bytes_received > 131072
    await session.close()


async def test_a_hidden_childs_queries_are_answered_without_batching(monkeypatch) -> None:
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 60.0)
    session, _ = make(HANDSHAKE)
    session.hide()
    session.start()
    await wait_until(lambda: "HANDSHAKE-DONE" in screen(session), "five answered queries")
    await session.close()


async def test_a_read_that_ends_one_synchronized_update_and_starts_another_is_split() -> None:
    session, heard = make(["true"])
    session.receive(b"\x1b[?2026hFRAME-ONE\x1b[?2026l\x1b[?2026h\r\nHALF-OF-TWO")
    assert len(heard.sync_frames) == 1
    assert "FRAME-ONE" in heard.sync_frames[0] and "HALF-OF-TWO" not in heard.sync_frames[0]
    assert session.sync_started_at is not None  # inside the second update now
    assert session.bytes_since_frame > 0
    session.frame_taken()  # a frame drawn while still inside: the timeout was reached
    assert session.bytes_since_frame == 0 and session.sync_started_at is None
    session.receive(b" REST\x1b[?2026l")
    assert session.sync_started_at is None and len(heard.sync_frames) == 1  # nothing follows
    session.hide()
    session.receive(b"\x1b[?2026hX\x1b[?2026l\x1b[?2026hY")
    assert len(heard.sync_frames) == 1  # hidden: no frames, no split


async def test_the_history_moves_are_reported_only_while_followed() -> None:
    session, heard = make(["true"], scrollback_lines=5, cols=20, rows=3)
    session.receive(b"".join(b"line %d\r\n" % n for n in range(10)))
    assert heard.moved == []
    session.follow_history = True
    session.receive(b"more 1\r\nmore 2\r\n")
    assert heard.moved == [(2, 2)]  # two lines into a full history: two old ones dropped


async def test_an_emulator_failure_is_reported_once_and_output_goes_on(monkeypatch) -> None:
    session, heard = make(["true"])
    real_feed = session.terminal.feed

    def broken_feed(data: bytes) -> None:
        if b"BOOM" in data:
            raise RuntimeError("emulator bug")
        real_feed(data)

    monkeypatch.setattr(session.terminal, "feed", broken_feed)
    session.receive(b"BOOM")
    session.receive(b"BOOM again")
    session.receive(b"fine")
    assert len(heard.errors) == 1 and "emulator bug" in str(heard.errors[0])
    assert "fine" in screen(session) and heard.outputs == 3


async def test_a_start_and_output_request_the_shared_activity_poll() -> None:
    polled: list[int] = []
    sessions: list[TerminalSession] = []

    def poll() -> bool:
        polled.append(1)
        for one in sessions:
            one.poll_activity()
        return any(one.needs_poll() for one in sessions)

    clock = ActivityClock(poll, period=0.05)
    session, _ = make(sh("sleep 0.3; echo start; exec sleep 60"), activity_clock=clock)
    sessions.append(session)
    session.start()
    assert clock.armed  # "starting" decays with time alone
    assert session.needs_poll()
    clock.stop()
    await wait_until(lambda: "start" in screen(session), "output")
    assert clock.armed  # output may make the tab busy
    await wait_until(lambda: polled, "a poll")
    await session.close()
    assert not session.needs_poll()


async def test_a_session_nobody_shows_runs_with_the_default_listener() -> None:
    session = TerminalSession(launch(sh("printf '\\033]0;quiet\\007\\007done'; exit 0")))
    session.hide()
    session.start()
    await wait_until(lambda: session.exit_status is not None, "exit")
    assert "done" in screen(session) and session.label == "quiet"
    assert session.state is Activity.EXITED


async def test_a_hidden_trickle_is_read_in_one_batch_per_turn_of_the_grid(monkeypatch) -> None:
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 0.2)
    session, _ = make(probe_argv("--echo"))
    session.start()
    await wait_until(lambda: "READY:" in screen(session), "READY")
    session.hide()
    session.send(b"a")
    await wait_until(lambda: session.pty is not None and not session.pty._reading, "paused reads")
    session.send(b"b")
    await wait_until(lambda: "IN:62" in screen(session), "the batch read on the grid")
    # A small batch: still a trickle, so reading stays paused until the next turn.
    assert session.pty is not None and not session.pty._reading
    assert session._resume_handle is not None
    await asyncio.sleep(0.5)  # a turn with nothing to read: wait for output instead
    assert session.pty._reading and session._resume_handle is None
    await session.close()


async def test_hostile_output_hidden_then_shown_never_stops_the_session(tmp_path: Path) -> None:
    # Fixed-seed garbage: random bytes, broken and huge escape sequences, titles with control
    # characters, lone UTF-8 continuation bytes. The session must keep parsing, stay up, and
    # still see what the child writes after it.
    import random

    rng = random.Random(20261204)
    pieces = [
        b"\x1b]0;" + bytes(rng.randrange(256) for _ in range(5000)) + b"\x07",
        b"\x1b[" + b";".join(str(rng.randrange(10**9)).encode() for _ in range(200)) + b"m",
        b"\x1bP" + b"x" * 100_000,  # a DCS that never ends
        b"\x1b[?2026h" + b"\x80\xbf" * 10_000,  # a synchronized update that never ends
        b"\x1b[999999;999999H\x1b[999999S\x1b[999999L",
    ]
    blob = b"".join(pieces) + bytes(rng.randrange(256) for _ in range(1_000_000))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(blob)
    session, heard = make(sh(f"cat {garbage}; printf '\\033\\\\\\033[?2026l\\033c'; "
                             "echo AFTER-GARBAGE; exec sleep 60"))
    session.hide()
    session.start((80, 24))
    await wait_until(lambda: session.bytes_received >= len(blob) // 2, "half the garbage, hidden", 30)
    session.show()
    await wait_until(lambda: "AFTER-GARBAGE" in screen(session), "output after the garbage", 30)
    assert session.running and not heard.exits
    assert session.bytes_received > len(blob)
    await session.close()


async def test_close_ends_the_child_and_what_it_started_in_its_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    session, _heard = make(sh(f"sleep 300 & echo $! > {pidfile}; echo STARTED; wait"))
    session.start((40, 10))
    await wait_until(lambda: "STARTED" in screen(session) and pidfile.exists(), "child and grandchild")
    child, grandchild = session.pid, int(pidfile.read_text())
    assert child is not None
    await session.close()
    await wait_until(lambda: not alive(child) and not alive(grandchild), "both gone", 10)
