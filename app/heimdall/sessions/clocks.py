"""The app-wide clocks: one frame timer for every terminal view, one activity poll, one read grid.

No Textual here: the clocks run on the asyncio loop and call plain methods of what they serve,
so a session host without a UI can use the grid and the activity poll as they are.
(docs/terminal.md, Read path and frames; Hidden tabs; Synchronized output.)

- **Frames.** `FrameClock` keeps no timer while nothing is dirty; dirty views flush together,
  the focused view at most `max_fps` times a second and others at `background_fps`.
- **Grid.** Timers of several tabs that land on `next_on_grid` fire in one event-loop wake-up.
- **Activity.** `ActivityClock` re-evaluates every tab's badge once a second, and only while
  some badge can change with time alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

SYNC_TIMEOUT = 0.150
"""Longest we hold frames back while the child is inside a ?2026 synchronized update."""
FLOOD_BYTES_PER_FRAME = 32_768
"""More output than this between two frames means a flood: frames slow to FLOOD_FPS."""
FLOOD_FPS = 15
"""Measured (bench/terminal.py, SGR full-screen stream): 30 -> 15 fps halves the app's CPU per
MB; a full-screen frame of fresh styles costs ~25 ms, more than parsing the bytes behind it."""
FLOOD_QUIET = 0.020
"""A flood whose output has paused this long is over: its final frame is not held back."""
ACTIVITY_POLL_SECONDS = 1.0
"""Period of the activity poll: Claude Code status files and the decay of "busy"/"starting"."""


def next_on_grid(now: float, period: float, min_gap: float) -> float:
    """The first multiple of `period` at least `min_gap` after `now` (a shared loop-clock grid:
    timers of several tabs that land on it fire in one event-loop wake-up)."""
    return (int((now + min_gap) / period) + 1) * period


class OutputStats(Protocol):
    """What the frame clock reads of a view's session (a `TerminalSession`)."""

    bytes_since_frame: int
    last_output_at: float
    sync_started_at: float | None
    """Loop time the child's current ?2026 synchronized update started; None outside one."""


class SyncState(Protocol):
    @property
    def in_sync_update(self) -> bool: ...


class FrameTarget(Protocol):
    """What the frame clock reads of a view (a `TerminalView`)."""

    shown: bool
    last_frame_at: float

    @property
    def has_focus(self) -> bool: ...

    @property
    def is_attached(self) -> bool: ...

    @property
    def terminal(self) -> SyncState: ...

    @property
    def session(self) -> OutputStats: ...

    def flush_frame(self, now: float | None = None) -> None: ...


class ActivityClock:
    """One on-demand timer that re-evaluates every tab's activity badge once a second.

    It runs only while some tab's state can change with time alone (`needs_poll`: a Claude Code
    status file to read, or a busy/starting state that decays); sessions `request()` it when
    output arrives or a child starts, and an idle app has no timer at all.
    """

    def __init__(self, poll: Callable[[], bool], period: float = ACTIVITY_POLL_SECONDS) -> None:
        self._poll = poll
        """Polls every tab; returns whether another tick is needed."""
        self.period = period
        self._handle: asyncio.TimerHandle | None = None
        self.ticks = 0

    @property
    def armed(self) -> bool:
        return self._handle is not None

    def request(self) -> None:
        if self._handle is not None:
            return
        loop = asyncio.get_running_loop()
        due = next_on_grid(loop.time(), self.period, self.period / 2)
        self._handle = loop.call_at(due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        self._handle = None
        self.ticks += 1
        if self._poll():
            self.request()


class FrameClock:
    """One on-demand frame timer shared by every view of an app.

    Views call `request(view)` when their emulator has new content. The clock schedules a single
    `call_at` for the earliest moment any pending view may paint (its fps cap), then flushes
    every due view in the same loop iteration so the UI composes them in one pass.
    """

    def __init__(self, max_fps: int = 60, background_fps: int = 20) -> None:
        self.max_fps = max(1, max_fps)
        self.background_fps = max(1, background_fps)
        self._pending: set[FrameTarget] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._due_at: float | None = None
        self.frames = 0
        """Frames flushed so far (all views); benchmarks read it."""

    def request(self, view: FrameTarget) -> None:
        self._pending.add(view)
        self._schedule()

    def discard(self, view: FrameTarget) -> None:
        if view in self._pending:
            self._pending.discard(view)
            self._schedule()

    def frame_due(self, view: FrameTarget) -> bool:
        """May `view` paint right now (its fps budget allows it, it is visible, not in ?2026)?"""
        if not view.shown or view.terminal.in_sync_update:
            return False
        now = asyncio.get_running_loop().time()
        return now >= view.last_frame_at + self._interval(view)

    def flush_now(self, view: FrameTarget) -> None:
        """Take `view`'s frame immediately (a complete synchronized frame just ended)."""
        self._pending.discard(view)
        view.flush_frame(asyncio.get_running_loop().time())
        self.frames += 1
        self._schedule()  # its timer may have nothing left to do

    def _interval(self, view: FrameTarget) -> float:
        fps = self.max_fps if view.has_focus else self.background_fps
        if view.session.bytes_since_frame > FLOOD_BYTES_PER_FRAME:
            # A flood (`cat big.log`, a build): nobody reads 60 frames a second of it, and each
            # full-screen frame costs more than parsing the bytes behind it.
            fps = min(fps, FLOOD_FPS)
        return 1.0 / fps

    def _due(self, view: FrameTarget, now: float) -> float:
        due = view.last_frame_at + self._interval(view)
        stats = view.session
        if stats.bytes_since_frame > FLOOD_BYTES_PER_FRAME:
            # The flood may be over (the build finished): once output pauses for FLOOD_QUIET,
            # show its last screen at the normal pace instead of waiting out the slow interval.
            fps = self.max_fps if view.has_focus else self.background_fps
            quiet = max(stats.last_output_at + FLOOD_QUIET, view.last_frame_at + 1.0 / fps)
            due = min(due, quiet)
        if stats.sync_started_at is not None:
            # Inside ?2026: wait for the end of the update, at most SYNC_TIMEOUT.
            due = max(due, stats.sync_started_at + SYNC_TIMEOUT)
        return max(due, now)

    def _schedule(self) -> None:
        """Keep one timer, at exactly the earliest due frame: a timer that fires with nothing
        due is a wasted wake-up (a child always inside ?2026 moves its due time on with every
        update it starts: re-arming is cheaper than waking for nothing ~15 times a second)."""
        loop = asyncio.get_running_loop()
        if not self._pending:
            if self._handle is not None:
                self._handle.cancel()
                self._handle = self._due_at = None
            return
        now = loop.time()
        due = min(self._due(view, now) for view in self._pending)
        if self._handle is not None and self._due_at is not None:
            if self._due_at == due or max(self._due_at, due) <= now:
                return  # same time, or both already due: the pending timer takes it
            if now < self._due_at < due and self._flooding():
                # A flood pushes its quiet-time frame later with every read: let the timer
                # fire early once (it re-arms) rather than re-arming thousands of times.
                return
            self._handle.cancel()
        self._due_at = due
        self._handle = loop.call_at(due, self._tick)

    def _flooding(self) -> bool:
        return any(view.session.bytes_since_frame > FLOOD_BYTES_PER_FRAME for view in self._pending)

    def _tick(self) -> None:
        self._handle = None
        self._due_at = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for view in list(self._pending):
            if not view.is_attached:
                self._pending.discard(view)
                continue
            if self._due(view, now) > now + 0.001:
                continue
            self._pending.discard(view)
            view.flush_frame(now)
            self.frames += 1
        self._schedule()
