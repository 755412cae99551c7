"""TerminalSession: one child program in a PTY, its emulator, and what it is doing. No Textual.

A session owns the child (`heimdall.process.pty.PtySession`), the emulator it feeds
(`heimdall.terminal.Terminal`) and the activity badge (`ActivityTracker`). Whoever shows it
(a `TerminalView`, or nothing at all) hears of changes through a `SessionListener`, plain
method calls made as they happen.

- **Read path** (docs/terminal.md, Read path and frames). The PTY's bytes are fed to the
  emulator as they arrive, every byte parsed, even for hidden tabs; the listener only hears
  that there is new output (`session_output`) and takes frames at its own pace.
- **Hidden tabs** (docs/terminal.md, Hidden tabs). A hidden session reads a trickle of output
  in batches on a shared grid (`HIDDEN_READ_INTERVAL`), floods and a starting child's queries at
  full speed, and is up to date the moment it is shown (what waited in the kernel is read first).
- **Synchronized output** (docs/terminal.md, Synchronized output). The session notes when the
  child entered a ?2026 update (`sync_started_at`); a read that ends one update and starts the
  next is fed in two parts, so the listener can take the complete frame between them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from heimdall.claude.settings import claude_config_dir
from heimdall.process.pty import ExitStatus, PtySession
from heimdall.sessions.activity import Activity, ActivityTracker
from heimdall.sessions.clocks import ActivityClock, next_on_grid
from heimdall.terminal import Bell, Notify, Terminal, TerminalEvent, TitleChanged

if TYPE_CHECKING:
    from heimdall.process.launch import AgentLaunch

SYNC_END = b"\x1b[?2026l"
HIDDEN_READ_INTERVAL = 0.5
"""A hidden tab's trickle is read about this often: each wake-up has a fixed cost larger than
parsing the half-second of output behind it, and half a second is still timely for a background
badge or title. Reads land on a shared grid of this period, so all hidden tabs (and the activity
poll) share one wake-up: 8 hidden streaming tabs wake the app 4-5 times a second instead of 24."""
HIDDEN_FLOOD_BYTES = 8_192
"""A hidden read this big is a flood, read at full speed. The kernel holds only ~14 KB of a
PTY's output in cooked mode (~20 KB raw) before the child blocks (and Claude Code writes to its
tty synchronously): at Claude Code's peak of ~11 KB/s a half-second batch stays well under."""
HIDDEN_FLOOD_RATE = 32_768
"""...as is output arriving faster than this many bytes a second (a build: keep up with it)."""
RESIZE_DEBOUNCE = 0.030
"""A window drag produces a burst of sizes; the child only needs the last one."""
GENERIC_TITLES = frozenset({"", "Claude Code"})
"""Titles that say nothing about the task (Claude Code's title before its first turn)."""


def is_trickle(size: int, seconds_since_last_read: float) -> bool:
    """A hidden tab's read that may wait for the next batch: small, and not part of a flood."""
    if size >= HIDDEN_FLOOD_BYTES:
        return False  # the kernel's buffer may be near full: the child would block
    return size < HIDDEN_FLOOD_RATE * seconds_since_last_read


class SessionListener(Protocol):
    """What a session tells whoever shows it. Called synchronously, on the event loop."""

    def session_output(self) -> None:
        """New output was parsed (once per read: keep it cheap)."""

    def session_sync_frame(self) -> None:
        """A read completed a ?2026 synchronized update and starts another: the screen is a
        whole frame right now, before the rest of the read is parsed."""

    def session_history_moved(self, grown: int, gone: int) -> None:
        """While `follow_history` is set: a read added `grown` lines to the history and dropped
        `gone` old ones (absolute line indices moved down by `gone`)."""

    def session_resized(self, grown: int, gone: int) -> None:
        """The emulator took a new size; its reflow moved the history as in `session_history_moved`."""

    def session_title(self, title: str) -> None:
        """The words of the child's title changed (not a spinner frame)."""

    def session_bell(self, in_view: bool) -> None: ...

    def session_notify(self, text: str) -> None:
        """The child asked for attention (OSC 9/777)."""

    def session_exited(self, status: ExitStatus) -> None: ...

    def session_state_changed(self, old: Activity, new: Activity) -> None: ...

    def session_emulator_error(self, exc: Exception) -> None:
        """The emulator raised on some output (first time only); the session keeps going."""

    def session_in_view(self) -> bool:
        """Is the user looking at this session (its bell and notifications need no badge)?"""

    def session_focused(self) -> bool:
        """Is it in view with the keyboard focus (its badge counts as seen)?"""


class Unwatched:
    """A listener for a session nobody shows: it hears everything and does nothing."""

    def session_output(self) -> None:
        pass

    def session_sync_frame(self) -> None:
        pass

    def session_history_moved(self, grown: int, gone: int) -> None:
        pass

    def session_resized(self, grown: int, gone: int) -> None:
        pass

    def session_title(self, title: str) -> None:
        pass

    def session_bell(self, in_view: bool) -> None:
        pass

    def session_notify(self, text: str) -> None:
        pass

    def session_exited(self, status: ExitStatus) -> None:
        pass

    def session_state_changed(self, old: Activity, new: Activity) -> None:
        pass

    def session_emulator_error(self, exc: Exception) -> None:
        pass

    def session_in_view(self) -> bool:
        return False

    def session_focused(self) -> bool:
        return False


class TerminalSession:
    """A tab's child process, emulator and activity, without any UI.

    Args:
        launch: What to run (`AgentLaunch`: argv, env, cwd).
        listener: Who shows the session; `Unwatched()` when nobody does.
        activity_clock: The app's shared activity poll, requested when output arrives or a child
            starts; None: whoever owns the session polls it.
        scrollback_lines: History kept by the emulator.
        session_id: Stable id of this tab (Claude Code's session id for agent tabs).
        name: User-given tab name (rename), or None to follow the child's title.
        cols, rows: The emulator's size until `start` or `resize` gives another.
    """

    def __init__(
        self,
        launch: AgentLaunch,
        *,
        listener: SessionListener | None = None,
        activity_clock: ActivityClock | None = None,
        scrollback_lines: int = 10_000,
        session_id: str | None = None,
        name: str | None = None,
        cols: int = 80,
        rows: int = 24,
    ) -> None:
        self.launch = launch
        self._listener: SessionListener = listener if listener is not None else Unwatched()
        self._output = self._listener.session_output  # called on every read: looked up once
        self.activity_clock = activity_clock
        self.session_id = session_id or str(uuid.uuid4())
        """Stable for the life of the tab, across restarts."""
        self.custom_name = name
        self.terminal = Terminal(
            cols=max(1, cols),
            rows=max(1, rows),
            scrollback_lines=scrollback_lines,
            on_reply=self._on_terminal_reply,
            on_event=self._on_terminal_event,
        )
        self.pty: PtySession | None = None
        self.start_error: str | None = None
        self.exit_status: ExitStatus | None = None
        self.activity = ActivityTracker()
        self.state: Activity = Activity.STARTING
        self.shown = True
        """False while another tab is in view: its trickle of output is read in batches."""
        self.follow_history = False
        """Set while the listener holds history line indices (scrolled back, a selection): each
        read then reports how the history moved. Asking costs a plain-text flood its fast path."""
        self.bytes_received = 0
        self.bytes_since_frame = 0
        """Output parsed since the listener last took a frame (`frame_taken`)."""
        self.last_output_at = 0.0
        self.sync_started_at: float | None = None
        """Loop time the child's current ?2026 synchronized update started; None outside one."""
        self.on_output_hook: Callable[[bytes], None] | None = None
        """Benchmarks and tests may observe the raw stream; None in normal use."""
        self._last_read_at = 0.0
        self._replied = False  # the emulator answered a query in the output being processed
        self._answered = False  # ...in the batch being read (sticky while `_batching`)
        self._batching = False
        self._resize_handle: asyncio.TimerHandle | None = None
        self._resume_handle: asyncio.TimerHandle | None = None
        self._emulator_error_reported = False

    # -- what it runs ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.pty is not None and self.pty.running

    @property
    def pid(self) -> int | None:
        return self.pty.pid if self.pty is not None else None

    @property
    def command_text(self) -> str:
        """The launched command, shortened for a label."""
        argv = self.launch.argv
        if not argv:
            return "?"
        program = Path(argv[0]).name
        return " ".join([program, *argv[1:]])[:40]

    @property
    def label(self) -> str:
        """Tab label: the child's title (sans spinner) or the command, after the tab's name if any.

        Claude Code puts its AI-made title in the terminal title; a named session shows both
        ("api-fix · Fix failing auth tests"), so the name never hides what the agent is doing.
        """
        title = self.activity.display_title
        if title in GENERIC_TITLES:
            title = ""
        if self.custom_name:
            if title and title != self.custom_name:
                return f"{self.custom_name} · {title}"
            return self.custom_name
        return title or self.activity.display_title or self.command_text

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, size: tuple[int, int] | None = None) -> None:
        """Spawn the child at `size` (cols, rows; None: the emulator's). Failures are shown in
        the terminal and the exit status (127), not raised."""
        term = self.terminal
        if size is not None and size != (term.cols, term.rows):
            term.resize(*size)
        self.exit_status = None
        self.start_error = None
        env = dict(self.launch.env)
        sessions_dir = claude_config_dir(env) / "sessions" if self._looks_like_claude() else None
        self.activity = ActivityTracker(sessions_dir=sessions_dir, session_id=self.session_id)
        self.pty = PtySession(
            self.launch.argv,
            env=env,
            cwd=self.launch.cwd,
            cols=term.cols,
            rows=term.rows,
            on_output=self.receive,
            on_exit=self._on_pty_exit,
        )
        try:
            self.pty.start()
        except OSError as exc:
            self.start_error = f"cannot start {self.launch.argv[0]!r}: {exc.strerror or exc}"
            self.pty = None
            term.feed(f"\r\n[heimdall] {self.start_error}\r\n".encode())
            self.exit_status = ExitStatus(code=127, signal=None)
            self.activity.on_exit("127")
            self._output()
            self.update_state()
            return
        self.activity.restart(self.pty.pid)
        self.update_state()
        if self.activity_clock is not None:
            self.activity_clock.request()  # "starting" decays, a status file may appear

    def _looks_like_claude(self) -> bool:
        return any(Path(part).name == "claude" for part in self.launch.argv[:2])

    async def restart(self, launch: AgentLaunch | None = None, size: tuple[int, int] | None = None) -> None:
        """End the current child (if any) and start `launch` (or the same one) in this session."""
        if self.pty is not None:
            await self.pty.close()
        if launch is not None:
            self.launch = launch
        note = f"\r\n\x1b[0m[heimdall] restarting: {self.command_text}\r\n"
        self.terminal.feed(note.encode())
        self.start(size)
        self._output()

    async def close(self) -> ExitStatus | None:
        """End the child (SIGHUP, SIGTERM, SIGKILL with timeouts) and release the PTY."""
        for handle in (self._resize_handle, self._resume_handle):
            if handle is not None:
                handle.cancel()
        if self.pty is None:
            return self.exit_status
        return await self.pty.close()

    def kill_now(self) -> None:
        """Synchronous end of the child, for interpreter shutdown."""
        if self.pty is not None:
            self.pty.kill_now()

    def send(self, data: bytes) -> None:
        """Write bytes to the child's input (no-op once it has exited)."""
        if data and self.pty is not None and self.pty.running:
            self.pty.write(data)

    def resize(self, cols: int, rows: int) -> None:
        """Give the emulator and the child a new size, once a burst of sizes has settled."""
        if self._resize_handle is not None:
            self._resize_handle.cancel()
        loop = asyncio.get_running_loop()
        self._resize_handle = loop.call_later(RESIZE_DEBOUNCE, self._apply_size, cols, rows)

    def _apply_size(self, cols: int, rows: int) -> None:
        self._resize_handle = None
        cols, rows = max(1, cols), max(1, rows)
        term = self.terminal
        if (cols, rows) == (term.cols, term.rows):
            return
        held, dropped = term.scrollback_len, term.lines_dropped
        term.resize(cols, rows)
        if self.pty is not None:
            self.pty.resize(cols, rows)
        gone = term.lines_dropped - dropped
        self._listener.session_resized(term.scrollback_len - held + gone, gone)

    def show(self) -> None:
        """The session came into view: read what waited in the kernel now, then at full speed."""
        self.shown = True
        if self._resume_handle is not None:
            self._resume_handle.cancel()
            self._resume_handle = None
            if self.pty is not None:
                # What the child wrote while its output waited in the kernel belongs in the
                # first frame: read it now rather than on the next loop iteration.
                self.pty.drain()
            self._resume_reading()
        self.activity.seen()

    def hide(self) -> None:
        """Out of view: a trickle of output is read in batches from now on."""
        self.shown = False

    # -- output path ----------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Parse bytes the child wrote (the PTY's `on_output`; tests may call it directly)."""
        now = asyncio.get_running_loop().time()
        since, self._last_read_at = now - self._last_read_at, now
        self._replied = False
        if self.shown:
            # A synchronized frame that ends inside this chunk, followed by the start of the
            # next: feed up to the end of the complete frame and let the listener take it, so a
            # child that is always inside ?2026 still gets smooth, never torn, frames. (Hidden:
            # no frames, so no split.)
            end = data.rfind(SYNC_END)
            if end >= 0 and end + len(SYNC_END) < len(data):
                cut = end + len(SYNC_END)
                self._feed(data[:cut], now)
                self._listener.session_sync_frame()
                data = data[cut:]
            self._feed(data, now)
            return
        self._feed(data, now)
        # A child that just asked the terminal something (DA1, cursor position... at startup)
        # waits for the answer and asks more: keep reading it at full speed. (A batch read on
        # the grid decides once, on all it read: see _resume_reading.)
        if self.pty is not None and not self._batching and not self._replied and is_trickle(len(data), since):
            # Hidden and trickling (an agent streaming its answer): gather output in the
            # kernel for a while and parse it in one go. Floods keep reading at full speed.
            self.pty.pause_reading()
            if self._resume_handle is not None:  # output delivered at exit, while paused
                self._resume_handle.cancel()
            self._pause_until_grid(now)

    def _pause_until_grid(self, now: float) -> None:
        due = next_on_grid(now, HIDDEN_READ_INTERVAL, HIDDEN_READ_INTERVAL / 2)
        self._resume_handle = asyncio.get_running_loop().call_at(due, self._resume_reading)

    def _resume_reading(self) -> None:
        """The grid's turn: parse what gathered in the kernel in one go, then decide on all of it.

        The kernel hands out ~4 KiB per read, so one read after a pause always looks like a
        trickle; deciding on the batch tells a flood (the kernel's buffer near full, the child
        blocked: read at full speed) from a trickle (stay paused until the next turn)."""
        self._resume_handle = None
        pty = self.pty
        if pty is None:
            return
        if self.shown:
            pty.resume_reading()
            return
        self._batching, self._answered = True, False
        try:
            got = pty.drain(HIDDEN_FLOOD_BYTES)
        finally:
            self._batching = False
        if got >= HIDDEN_FLOOD_BYTES or not got or self._answered:
            # A flood, a child waiting for our answers, or nothing yet: wait for output at full
            # speed (an idle hidden tab has no timer).
            pty.resume_reading()
        else:
            self._pause_until_grid(asyncio.get_running_loop().time())

    def _feed(self, data: bytes, now: float) -> None:
        self.bytes_received += len(data)
        self.bytes_since_frame += len(data)
        self.last_output_at = now
        term = self.terminal
        # Only a listener holding history line indices needs the history's size after each read
        # (asking makes the emulator settle a plain-text flood it holds back, see Terminal).
        follow = self.follow_history
        if follow:
            held = term.scrollback_len
            dropped = term.lines_dropped
        try:
            term.feed(data)
        except Exception as exc:  # an emulator bug must not take the whole app down
            self._report_emulator_error(exc)
        if follow:
            # Every line added to the history, and every old one dropped from a full one, moves
            # what the listener holds.
            gone = term.lines_dropped - dropped
            self._listener.session_history_moved(term.scrollback_len - held + gone, gone)
        self.activity.on_output()
        if self.activity_clock is not None:
            self.activity_clock.request()  # output may make the tab busy (screen activity)
        if term.in_sync_update:
            if self.sync_started_at is None:
                self.sync_started_at = now
        else:
            self.sync_started_at = None
        if self.on_output_hook is not None:
            self.on_output_hook(data)
        self._output()

    def frame_taken(self) -> None:
        """The listener drew a frame: output since it starts from zero, and an update that
        outlived its timeout is no longer waited for (show what we have rather than freeze)."""
        self.bytes_since_frame = 0
        if self.sync_started_at is not None and self.terminal.in_sync_update:
            self.sync_started_at = None

    def _report_emulator_error(self, exc: Exception) -> None:
        if self._emulator_error_reported:
            return
        self._emulator_error_reported = True
        self._listener.session_emulator_error(exc)

    def _on_terminal_reply(self, data: bytes) -> None:
        self._replied = self._answered = True
        if self.pty is not None:
            self.pty.write(data)

    def _on_terminal_event(self, event: TerminalEvent) -> None:
        in_view = self._listener.session_in_view()
        if isinstance(event, TitleChanged):
            shown_before = self.activity.display_title
            self.activity.on_title(event.title, visible=in_view)
            # Claude Code animates a spinner in its title several times a second: only a change
            # of the words is news for the tab bar and listeners (the badge follows the state).
            if self.activity.display_title != shown_before:
                self._listener.session_title(event.title)
        elif isinstance(event, Bell):
            self.activity.on_bell(visible=in_view)
            self._listener.session_bell(in_view)
        elif isinstance(event, Notify):
            self.activity.on_notify(visible=in_view)
            self._listener.session_notify(event.text)
        self.update_state()

    def _on_pty_exit(self, status: ExitStatus) -> None:
        self.exit_status = status
        self.activity.on_exit(status.describe())
        self.sync_started_at = None
        self._listener.session_exited(status)
        self.update_state()

    # -- activity -------------------------------------------------------------------------------

    def update_state(self) -> None:
        """Recompute the activity badge; tell the listener when it moved."""
        if self._listener.session_focused():
            self.activity.seen()
        new = self.activity.state()
        if new is not self.state:
            old, self.state = self.state, new
            self._listener.session_state_changed(old, new)

    def poll_activity(self) -> None:
        """Called about once a second by the activity poll: status file, decay of screen activity."""
        self.activity.poll_status_file(visible=self._listener.session_focused())
        self.update_state()

    def needs_poll(self) -> bool:
        """Can the badge change with time alone (so the once-a-second poll has work)?

        Yes for Claude Code (its status file), and while "starting" or "busy", which decay into
        idle; an idle, waiting or exited tab changes only on output or events, which wake it.
        """
        if self.exit_status is not None or self.pty is None:
            return False
        if self.activity.sessions_dir is not None:
            return True
        return self.state in (Activity.STARTING, Activity.BUSY)
