"""What a tab's child is doing right now: starting, busy, idle, waiting for input, rang the bell, exited.

Claude Code says busy/idle itself, through its window title and its live session file (read in
`heimdall.claude.status`; the session file wins). Any other program gets a fallback: **screen
activity**, meaning output within the last 1.5 s, following other output within 3 s, and no
keystroke of the user in the last second (so echo of typing is not "busy").

"Waiting" means the child went idle (or asked for attention with OSC 9) after work the user has
not looked at yet: it needs the user. "Bell" is a BEL in a tab the user is not looking at. Both
clear when the user views the tab.

No Textual here: the UI asks `state()` when it repaints a label.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from heimdall.claude.status import clean_title, read_claude_status, status_file_signal, title_signal

STARTING_SECONDS = 5.0
"""A tab is "starting" for at most this long, until the child shows a busy/idle signal."""
ACTIVE_WINDOW = 1.5
"""Output within this many seconds counts as activity (screen-activity fallback)."""
ACTIVE_CONTINUITY = 3.0
"""...and the output before it must be this recent, so one redraw is not "busy"."""
TYPING_GRACE = 1.0
"""Output this soon after a keystroke is treated as echo, not work."""


class Activity(StrEnum):
    STARTING = "starting"
    BUSY = "busy"
    IDLE = "idle"
    WAITING = "waiting"
    BELL = "bell"
    EXITED = "exited"


@dataclass
class ActivityTracker:
    """Folds the signals of one child into an `Activity`. Feed it events; ask `state()`."""

    clock: Callable[[], float] = time.monotonic
    started_at: float = field(default=0.0)
    sessions_dir: Path | None = None
    """Claude Code's `sessions/` directory for this child, or None for non-Claude programs."""
    session_id: str | None = None
    pid: int | None = None

    title: str = ""
    exit_description: str | None = None
    """`0`, `1`, `SIGKILL`... once the child has exited."""
    bell_pending: bool = False
    attention_pending: bool = False
    """Went idle (or sent OSC 9) after work the user has not seen yet."""
    status_file_state: str | None = None
    _last_output: float | None = None
    _previous_output: float | None = None
    _last_input: float | None = None
    _seen_busy: bool = False

    def __post_init__(self) -> None:
        if not self.started_at:
            self.started_at = self.clock()

    # -- events ---------------------------------------------------------------------------------

    def restart(self, pid: int | None) -> None:
        """A new child in the same tab: forget everything but the configuration."""
        self.pid = pid
        self.started_at = self.clock()
        self.title = ""
        self.exit_description = None
        self.bell_pending = self.attention_pending = False
        self.status_file_state = None
        self._last_output = self._previous_output = self._last_input = None
        self._seen_busy = False

    def on_output(self) -> None:
        now = self.clock()
        self._previous_output, self._last_output = self._last_output, now

    def on_input(self) -> None:
        self._last_input = self.clock()

    def on_title(self, title: str, *, visible: bool = False) -> None:
        before = self._signal()
        self.title = title
        self._note_transition(before, visible=visible)

    def on_bell(self, *, visible: bool) -> None:
        """A BEL from the child; only marks the tab when the user is not looking at it."""
        if not visible:
            self.bell_pending = True

    def on_notify(self, *, visible: bool) -> None:
        """OSC 9/777 from the child (Claude Code asks for attention this way)."""
        if not visible:
            self.attention_pending = True

    def on_exit(self, description: str) -> None:
        self.exit_description = description

    def seen(self) -> None:
        """The user is looking at the tab: pending bell/attention marks are cleared."""
        self.bell_pending = False
        self.attention_pending = False

    def poll_status_file(self, *, visible: bool) -> None:
        """Re-read Claude Code's session file (cheap: one small file). Call about once a second."""
        if self.sessions_dir is None or self.exit_description is not None:
            return
        before = self._signal()
        self.status_file_state = read_claude_status(self.sessions_dir, self.pid, self.session_id)
        self._note_transition(before, visible=visible)

    # -- state ----------------------------------------------------------------------------------

    @property
    def display_title(self) -> str:
        return clean_title(self.title)

    def state(self) -> Activity:
        if self.exit_description is not None:
            return Activity.EXITED
        if self.bell_pending:
            return Activity.BELL
        signal = self._signal()
        if signal is Activity.BUSY:
            return Activity.BUSY
        if self.attention_pending:
            return Activity.WAITING
        if signal is Activity.IDLE:
            return Activity.IDLE
        now = self.clock()
        if self._screen_busy(now):
            return Activity.BUSY
        # Starting: no output yet, or still printing its banner, within the first seconds.
        quiet = self._last_output is not None and now - self._last_output >= ACTIVE_WINDOW
        if now - self.started_at < STARTING_SECONDS and not self._seen_busy and not quiet:
            return Activity.STARTING
        return Activity.IDLE

    def _signal(self) -> Activity | None:
        """BUSY/IDLE from Claude Code's own signals (status file first, then title), else None."""
        signal = status_file_signal(self.status_file_state)
        if signal is None:
            signal = title_signal(self.title)
        return None if signal is None else Activity(signal.value)

    def _screen_busy(self, now: float) -> bool:
        last, previous = self._last_output, self._previous_output
        if last is None or previous is None:
            return False
        if now - last > ACTIVE_WINDOW or last - previous > ACTIVE_CONTINUITY:
            return False
        return not (self._last_input is not None and now - self._last_input < TYPING_GRACE)

    def _note_transition(self, before: Activity | None, *, visible: bool = False) -> None:
        after = self._signal()
        if after is Activity.BUSY:
            self._seen_busy = True
            self.attention_pending = False
        elif after is Activity.IDLE and before is Activity.BUSY and not visible:
            self.attention_pending = True
