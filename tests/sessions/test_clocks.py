"""The app-wide clocks: the shared read grid, the frame clock and the activity poll."""

from __future__ import annotations

import asyncio

import pytest
from heimdall.sessions.clocks import (
    FLOOD_BYTES_PER_FRAME,
    FLOOD_QUIET,
    SYNC_TIMEOUT,
    ActivityClock,
    FrameClock,
    next_on_grid,
)

pytestmark = pytest.mark.timeout(30)


def test_next_on_grid_lands_on_a_multiple_at_least_the_gap_away() -> None:
    assert next_on_grid(10.0, 0.5, 0.25) == 10.5
    assert next_on_grid(10.3, 0.5, 0.25) == 11.0  # 10.5 is too close
    assert next_on_grid(10.24, 0.5, 0.25) == 10.5
    # Two tabs pausing at different moments resume in the same wake-up.
    assert next_on_grid(7.31, 0.5, 0.25) == next_on_grid(7.49, 0.5, 0.25) == 8.0


class FakeView:
    """What FrameClock reads of a TerminalView."""

    def __init__(self) -> None:
        self.shown = True
        self.has_focus = True
        self.is_attached = True
        self.last_frame_at = 0.0
        self.flushed = 0

        class Stats:
            last_output_at = 0.0
            bytes_since_frame = 0
            sync_started_at: float | None = None

        self.session = Stats()

        class Term:
            in_sync_update = False

        self.terminal = Term()

    def flush_frame(self, now: float | None = None) -> None:
        self.flushed += 1
        self.last_frame_at = now or 0.0


async def test_frame_clock_keeps_no_timer_that_would_wake_for_nothing() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock(60, 20)
    view = FakeView()
    # Inside a ?2026 update: the frame waits for its end, at most SYNC_TIMEOUT.
    view.terminal.in_sync_update = True
    view.session.sync_started_at = loop.time()
    clock.request(view)
    assert clock._handle is not None
    assert clock._due_at == pytest.approx(view.session.sync_started_at + SYNC_TIMEOUT)
    # The update ends and its frame is taken at once: the timeout timer has nothing left to do.
    view.terminal.in_sync_update = False
    view.session.sync_started_at = None
    clock.flush_now(view)
    assert view.flushed == 1 and clock._handle is None
    # The next update starts later: the timer follows it instead of firing early for nothing.
    view.terminal.in_sync_update = True
    view.session.sync_started_at = loop.time()
    clock.request(view)
    first = clock._due_at
    view.session.sync_started_at = loop.time() + 0.05
    clock.request(view)
    assert clock._due_at == pytest.approx(view.session.sync_started_at + SYNC_TIMEOUT)
    assert first is not None and clock._due_at > first
    clock.discard(view)  # the tab closed
    assert clock._handle is None


async def test_frame_clock_does_not_rearm_on_every_read_of_a_flood() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock(60, 20)
    view = FakeView()
    view.last_frame_at = loop.time()
    view.session.bytes_since_frame = FLOOD_BYTES_PER_FRAME + 1
    view.session.last_output_at = loop.time()
    clock.request(view)
    handle, due = clock._handle, clock._due_at
    assert handle is not None and due is not None
    # Every read of the flood moves its quiet-time frame later; the armed timer stays.
    for _ in range(50):
        view.session.last_output_at += 0.0005  # stays before the flood's slow frame (1/15 s)
        clock.request(view)
    assert clock._handle is handle
    # It fires early, finds nothing due, and re-arms once at the frame's real time.
    await asyncio.sleep(max(0.0, due - loop.time()) + 0.005)
    assert view.flushed == 0
    assert clock._due_at == pytest.approx(view.session.last_output_at + FLOOD_QUIET, abs=1e-6)
    # Once output pauses, the flood's final frame is drawn.
    assert clock._due_at is not None
    await asyncio.sleep(max(0.0, clock._due_at - loop.time()) + 0.01)
    assert view.flushed == 1


async def test_frame_clock_paints_the_focused_view_at_max_fps_and_others_at_background_fps() -> None:
    loop = asyncio.get_running_loop()
    clock = FrameClock(50, 10)
    focused, background, hidden = FakeView(), FakeView(), FakeView()
    background.has_focus = hidden.has_focus = False
    hidden.shown = False
    now = loop.time()
    for view in (focused, background, hidden):
        view.last_frame_at = now
    assert not clock.frame_due(focused)  # just painted
    assert clock._due(focused, now) == pytest.approx(now + 1 / 50)
    assert clock._due(background, now) == pytest.approx(now + 1 / 10)
    hidden.last_frame_at = 0.0
    assert not clock.frame_due(hidden)  # hidden views never paint
    clock.request(focused)
    clock.request(background)
    await asyncio.sleep(1 / 50 + 0.01)
    assert (focused.flushed, background.flushed) == (1, 0)
    await asyncio.sleep(max(0.0, now + 1 / 10 - loop.time()) + 0.01)
    assert (focused.flushed, background.flushed) == (1, 1)
    assert clock.frames == 2 and clock._handle is None


async def test_frame_clock_forgets_a_view_that_left_the_screen() -> None:
    clock = FrameClock(60, 20)
    view = FakeView()
    view.is_attached = False
    clock.request(view)
    await asyncio.sleep(0.03)
    assert view.flushed == 0 and not clock._pending and clock._handle is None


async def test_activity_clock_ticks_on_the_grid_only_while_a_poll_is_needed() -> None:
    loop = asyncio.get_running_loop()
    wanted = [True, True, False]
    clock = ActivityClock(lambda: wanted.pop(0), period=0.05)
    assert not clock.armed
    clock.request()
    assert clock.armed
    handle = clock._handle
    assert handle is not None
    due = handle.when()
    assert due == pytest.approx(round(due / 0.05) * 0.05)  # on the shared grid
    assert due - loop.time() >= 0.025
    clock.request()  # already armed: the same timer
    assert clock._handle is handle
    await asyncio.sleep(0.25)
    assert clock.ticks == 3 and not clock.armed  # the third poll said nothing can change
    clock.request()
    clock.stop()
    assert not clock.armed
    await asyncio.sleep(0.1)
    assert clock.ticks == 3
