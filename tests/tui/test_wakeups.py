"""What keeps an idle or hidden tab cheap without making it wrong.

- A hidden tab reads a trickle of output in batches on a shared grid, floods at full speed, and
  is fully up to date the moment it is shown (what waited in the kernel is read first).
- The activity poll runs only while some tab's badge can change with time alone, and starts
  again when output arrives; busy still decays to idle.
"""

from __future__ import annotations

import select
import sys

import pytest
from heimdall.sessions.activity import Activity
from heimdall.tui.widgets import terminal_view
from heimdall.tui.widgets.terminal_view import (
    HIDDEN_FLOOD_BYTES,
    HIDDEN_FLOOD_RATE,
    TerminalView,
    is_trickle,
    next_on_grid,
)

from tests.children.harness import argv_tab, make_app, probe_tab, screen_text, wait_until

pytestmark = pytest.mark.timeout(60)

SIZE = (100, 30)


def test_next_on_grid_lands_on_a_multiple_at_least_the_gap_away() -> None:
    assert next_on_grid(10.0, 0.5, 0.25) == 10.5
    assert next_on_grid(10.3, 0.5, 0.25) == 11.0  # 10.5 is too close
    assert next_on_grid(10.24, 0.5, 0.25) == 10.5
    # Two tabs pausing at different moments resume in the same wake-up.
    assert next_on_grid(7.31, 0.5, 0.25) == next_on_grid(7.49, 0.5, 0.25) == 8.0


def test_trickle_or_flood() -> None:
    assert is_trickle(512, 0.05)  # Claude Code streaming: 10 KB/s
    assert is_trickle(5_000, 0.5)  # a half-second batch of it
    assert not is_trickle(HIDDEN_FLOOD_BYTES, 1.0)  # the kernel buffer may be filling up
    assert not is_trickle(4_096, 4_096 / HIDDEN_FLOOD_RATE / 4)  # a build: keep up with it


def _pending(view: TerminalView) -> bool:
    """Output waiting in the kernel that we have not read yet."""
    assert view.pty is not None and view.pty.master_fd is not None
    return bool(select.select([view.pty.master_fd], [], [], 0)[0])


def echoed_b(view: TerminalView) -> bool:
    """The probe echoes input as `IN:<hex>` (`a` and `b` may come back in one read: 6162)."""
    return any(line.startswith("IN:") and "62" in line for line in view.visible_text())


async def test_hidden_tab_is_up_to_date_the_moment_it_is_shown(monkeypatch) -> None:
    # A long batching interval: the child's reply certainly waits in the kernel when we switch.
    monkeypatch.setattr(terminal_view, "HIDDEN_READ_INTERVAL", 60.0)
    app = make_app(probe_tab("--echo"), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        await wait_until(pilot, lambda: "READY:" in screen_text(hidden), what="hidden READY")
        hidden.send(b"a")  # its echo is a trickle: reading pauses after it
        await wait_until(pilot, lambda: hidden.pty is not None and not hidden.pty._reading,
                         what="hidden tab batching its reads")
        hidden.send(b"b")
        await wait_until(pilot, lambda: _pending(hidden), what="echo of b waiting in the kernel")
        assert not echoed_b(hidden)
        app.activate(hidden)  # no await: shown means up to date, before any loop iteration
        assert echoed_b(hidden)
        assert hidden.pty is not None and hidden.pty._reading


# Asks DA1 five times, each after the previous answer (what a TUI does while it starts).
HANDSHAKE = [
    sys.executable,
    "-c",
    "import os, sys, tty\n"
    "tty.setraw(0)\n"
    "for _ in range(5):\n"
    "    os.write(1, b'\\x1b[c')\n"
    "    reply = b''\n"
    "    while not reply.endswith(b'c'):\n"
    "        reply += os.read(0, 1)\n"
    "os.write(1, b'HANDSHAKE-DONE\\r\\n')\n"
    "import time; time.sleep(60)\n",
]


async def test_hidden_tab_answers_a_starting_childs_queries_without_batching(monkeypatch) -> None:
    # With reads batched, each answer would wait for the next batch: a minute here.
    monkeypatch.setattr(terminal_view, "HIDDEN_READ_INTERVAL", 60.0)
    app = make_app(argv_tab(HANDSHAKE), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        assert not hidden.shown
        await wait_until(
            pilot, lambda: "HANDSHAKE-DONE" in screen_text(hidden), what="five answered queries"
        )


async def test_hidden_flood_is_read_at_full_speed() -> None:
    # 64 KB at once would block the child if we batched it: the kernel holds ~14-20 KB.
    flood = "head -c 65536 /dev/zero | tr '\\\\0' x; echo; echo FLOOD-DONE; exec sleep 60"
    app = make_app(argv_tab(["/bin/sh", "-c", f"sleep 0.3; {flood}"]), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        assert not hidden.shown
        await wait_until(pilot, lambda: hidden.bytes_received > 65536, what="flood read")
        await wait_until(
            pilot,
            lambda: any("FLOOD-DONE" in hidden.terminal.text_line(i)
                        for i in range(hidden.terminal.total_lines)),
            what="flood parsed",
        )


async def test_activity_poll_stops_when_nothing_can_change_and_restarts_on_output() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle after start")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped")
        ticks = app.activity_clock.ticks
        view.send(b"z")  # echoed: output re-arms the poll (it may be the start of work)
        await wait_until(pilot, lambda: app.activity_clock.armed, what="poll re-armed")
        await wait_until(pilot, lambda: app.activity_clock.ticks > ticks, what="a tick")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped again")
        assert view.state is Activity.IDLE  # echo of typing is not work


async def test_screen_activity_busy_decays_to_idle_without_a_fixed_timer() -> None:
    work = "echo READY; sleep 0.5; for i in 1 2 3 4 5 6 7 8; do echo work $i; sleep 0.2; done"
    app = make_app(argv_tab(["/bin/sh", "-c", f"{work}; exec sleep 60"]))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.BUSY, what="busy while printing")
        await wait_until(pilot, lambda: "work 8" in screen_text(view), what="work done")
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle after the work")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped")


async def test_claude_tabs_keep_the_status_file_poll(tmp_path) -> None:
    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle")
        assert not view.needs_poll()
        view.activity.sessions_dir = tmp_path  # what start() sets for a Claude Code child
        assert view.needs_poll()


class FakeView:
    """What FrameClock reads of a TerminalView."""

    def __init__(self) -> None:
        self.shown = True
        self.has_focus = True
        self.is_attached = True
        self.last_frame_at = 0.0
        self.last_output_at = 0.0
        self.bytes_since_frame = 0
        self.sync_started_at: float | None = None
        self.flushed = 0

        class Term:
            in_sync_update = False

        self.terminal = Term()

    def flush_frame(self, now: float | None = None) -> None:
        self.flushed += 1
        self.last_frame_at = now or 0.0


async def test_frame_clock_keeps_no_timer_that_would_wake_for_nothing() -> None:
    import asyncio

    from heimdall.tui.widgets.terminal_view import SYNC_TIMEOUT, FrameClock

    loop = asyncio.get_running_loop()
    clock = FrameClock(60, 20)
    view = FakeView()
    # Inside a ?2026 update: the frame waits for its end, at most SYNC_TIMEOUT.
    view.terminal.in_sync_update = True
    view.sync_started_at = loop.time()
    clock.request(view)  # type: ignore[arg-type]
    assert clock._handle is not None
    assert clock._due_at == pytest.approx(view.sync_started_at + SYNC_TIMEOUT)
    # The update ends and its frame is taken at once: the timeout timer has nothing left to do.
    view.terminal.in_sync_update = False
    view.sync_started_at = None
    clock.flush_now(view)  # type: ignore[arg-type]
    assert view.flushed == 1 and clock._handle is None
    # The next update starts later: the timer follows it instead of firing early for nothing.
    view.terminal.in_sync_update = True
    view.sync_started_at = loop.time()
    clock.request(view)  # type: ignore[arg-type]
    first = clock._due_at
    view.sync_started_at = loop.time() + 0.05
    clock.request(view)  # type: ignore[arg-type]
    assert clock._due_at == pytest.approx(view.sync_started_at + SYNC_TIMEOUT)
    assert first is not None and clock._due_at > first
    clock.discard(view)  # type: ignore[arg-type]  (the tab closed)
    assert clock._handle is None


async def test_title_changes_are_coalesced_into_few_tab_bar_redraws(monkeypatch) -> None:
    from heimdall.tui.messages import TabTitleChanged
    from heimdall.tui.widgets.session_tabs import SessionTabs

    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="settled")
        await pilot.pause(0.3)
        redraws: list[int] = []
        original = SessionTabs.refresh_tabs

        def counted(self, views, active) -> None:
            redraws.append(1)
            original(self, views, active)

        monkeypatch.setattr(SessionTabs, "refresh_tabs", counted)
        for step in range(50):  # a child retitling itself as fast as it can
            view.activity.on_title(f"step {step}")
            app.workspace.on_tab_title_changed(TabTitleChanged(view, f"step {step}"))
        label = app.query_one(SessionTabs).label_for(view)
        assert label is not None
        await wait_until(pilot, lambda: "step 49" in str(label.render()), what="last title shown")
        assert len(redraws) == 1


async def test_frame_clock_does_not_rearm_on_every_read_of_a_flood() -> None:
    import asyncio

    from heimdall.tui.widgets.terminal_view import FLOOD_BYTES_PER_FRAME, FLOOD_QUIET, FrameClock

    loop = asyncio.get_running_loop()
    clock = FrameClock(60, 20)
    view = FakeView()
    view.last_frame_at = loop.time()
    view.bytes_since_frame = FLOOD_BYTES_PER_FRAME + 1
    view.last_output_at = loop.time()
    clock.request(view)  # type: ignore[arg-type]
    handle, due = clock._handle, clock._due_at
    assert handle is not None and due is not None
    # Every read of the flood moves its quiet-time frame later; the armed timer stays.
    for _ in range(50):
        view.last_output_at += 0.0005  # stays before the flood's slow frame (1/15 s)
        clock.request(view)  # type: ignore[arg-type]
    assert clock._handle is handle
    # It fires early, finds nothing due, and re-arms once at the frame's real time.
    await asyncio.sleep(max(0.0, due - loop.time()) + 0.005)
    assert view.flushed == 0
    assert clock._due_at == pytest.approx(view.last_output_at + FLOOD_QUIET, abs=1e-6)
    # Once output pauses, the flood's final frame is drawn.
    await asyncio.sleep(max(0.0, clock._due_at - loop.time()) + 0.01)
    assert view.flushed == 1
