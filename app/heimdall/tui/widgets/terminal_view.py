"""TerminalView: one child program in a PTY, emulated by `heimdall.terminal` and drawn with the Line API.

Design (terminal reference §9, measured there):

- **Read path.** The PTY's bytes are fed to the emulator as they arrive (every byte parsed, even
  for hidden tabs); the widget only notes that it is dirty and asks the shared `FrameClock` for a
  frame.
- **One shared, on-demand frame clock** for every view: no timer exists while nothing is dirty,
  dirty views flush together, the focused view at most `max_fps` times a second and others at
  `background_fps`. Hidden views build nothing and rebuild every row once when shown.
- **Snapshots.** A frame takes the emulator's dirty rows (plus the old and new cursor rows) and
  rebuilds only their `Strip`s, so the cache always holds the last consistent frame;
  `render_line` just returns cached strips (plus cursor, selection and search highlights).
- **Synchronized output (?2026).** No frame is taken while the child is inside a synchronized
  update, for at most `SYNC_TIMEOUT`, so a half-drawn screen is never shown.
- **Input.** Keys, pastes, focus and mouse are encoded by `heimdall.process.keys` in whatever the child
  asked for (DECCKM, bracketed paste, focus events, SGR mouse); with mouse reporting off, the wheel
  scrolls our scrollback and a drag selects text that is copied to the clipboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from heimdall.process.keys import encode_focus, encode_key, encode_mouse, encode_paste
from heimdall.process.pty import ExitStatus, PtySession
from heimdall.sessions.activity import Activity, ActivityTracker, claude_config_dir
from heimdall.sessions.clocks import ActivityClock, FrameClock, next_on_grid
from heimdall.terminal import Bell, Notify, Terminal, TerminalEvent, TitleChanged, selection
from heimdall.terminal.search import SearchState
from heimdall.terminal.search import find as find_text
from heimdall.terminal.selection import Point, Selection
from heimdall.tui.messages import (
    TabBell,
    TabExited,
    TabNotification,
    TabStateChanged,
    TabTitleChanged,
)

if TYPE_CHECKING:
    from heimdall.claude.agents import AgentLaunch

SYNC_END = b"\x1b[?2026l"
HIDDEN_READ_INTERVAL = 0.5
"""A hidden tab's trickle is read about this often: each wake-up has a fixed cost larger than
parsing the half-second of output behind it (bench/terminal.py: a hidden streaming tab 0.17-0.34
-> 0.13-0.18 % of a core over the idle app, with 0.25 s and no grid before), and half a second
is still timely for a background badge or title. Reads land on a shared grid of this period, so
all hidden tabs (and the activity poll) share one wake-up: 8 hidden streaming tabs wake the app
4-5 times a second instead of 24."""
HIDDEN_FLOOD_BYTES = 8_192
"""A hidden read this big is a flood, read at full speed. The kernel holds only ~14 KB of a
PTY's output in cooked mode (~20 KB raw) before the child blocks (and Claude Code writes to its
tty synchronously): at Claude Code's peak of ~11 KB/s a half-second batch stays well under."""
HIDDEN_FLOOD_RATE = 32_768
"""...as is output arriving faster than this many bytes a second (a build: keep up with it)."""
RESIZE_DEBOUNCE = 0.030
"""A window drag produces a burst of sizes; the child only needs the last one."""
WHEEL_LINES = 3
"""Scrollback lines per wheel notch (xterm's default)."""

MODE_DECCKM = 1
MODE_CURSOR_VISIBLE = 25
MODE_FOCUS = 1004
MODE_PASTE = 2004

CURSOR_STYLE = Style(reverse=True)
SELECTION_STYLE = Style(reverse=True)
MATCH_STYLE = Style(bgcolor="yellow", color="black")
CURRENT_MATCH_STYLE = Style(bgcolor="dark_orange", color="black", bold=True)

GENERIC_TITLES = frozenset({"", "Claude Code"})
"""Titles that say nothing about the task (Claude Code's title before its first turn)."""


class TerminalView(Widget, can_focus=True):
    """A tab's terminal: child process + emulator + rendering + input encoding.

    Args:
        launch: What to run (`AgentLaunch`: argv, env, cwd).
        clock: The app's shared `FrameClock`.
        scrollback_lines: History kept by the emulator.
        session_id: Stable id of this tab (Claude Code's session id for agent tabs).
        name: User-given tab name (rename), or None to follow the child's title.
    """

    ALLOW_SELECT = False  # our own selection: Textual's would not know the scrollback
    BINDING_GROUP_TITLE = "Terminal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "shift+pageup",
            "scroll_page(-1)",
            "Scroll back",
            id="scrollback-page-up",
            tooltip="Scroll the tab's history up one page (any other key returns to live)",
            show=False,
        ),
        Binding(
            "shift+pagedown",
            "scroll_page(1)",
            "Scroll forward",
            id="scrollback-page-down",
            tooltip="Scroll the tab's history down one page",
            show=False,
        ),
    ]
    DEFAULT_CSS = """
    TerminalView {
        width: 1fr;
        height: 1fr;
        overflow: hidden hidden;
    }
    """

    def __init__(
        self,
        launch: AgentLaunch,
        *,
        clock: FrameClock,
        activity_clock: ActivityClock | None = None,
        scrollback_lines: int = 10_000,
        session_id: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.launch = launch
        self.clock = clock
        self.activity_clock = activity_clock
        """The app's shared activity poll; None: whoever owns the view polls it."""
        self.scrollback_lines = scrollback_lines
        self.session_id = session_id or str(uuid.uuid4())
        """Stable for the life of the tab, across restarts."""
        self.custom_name = name
        self.terminal = self._new_terminal(80, 24)
        self.pty: PtySession | None = None
        self.start_error: str | None = None
        self.exit_status: ExitStatus | None = None
        self.activity = ActivityTracker()
        self.state: Activity = Activity.STARTING
        self.shown = True
        """False while another tab is in view: parse, but build nothing."""
        self.last_frame_at = 0.0
        self.sync_started_at: float | None = None
        self.history_offset = 0
        """Lines scrolled back from live (0 = live)."""
        self.search: SearchState | None = None
        self.bytes_received = 0
        self.bytes_since_frame = 0
        self.last_output_at = 0.0
        self._last_read_at = 0.0
        self._replied = False  # the emulator answered a query in the output being processed
        self._strips: list[Strip | None] = []
        self._row_segments: list[list[Segment] | None] = []
        """What each cached strip was built from: unchanged rows are not rebuilt or refreshed."""
        self._full_rebuild = True
        self._cursor_row: int | None = None
        self._base_style = Style()
        self._base_style_cache: Style | None = None
        self._resize_handle: asyncio.TimerHandle | None = None
        self._resume_handle: asyncio.TimerHandle | None = None
        self._emulator_error_reported = False
        self._selection: Selection | None = None
        self._selecting = False
        self._mouse_buttons_down: set[int] = set()
        self.on_output_hook: Callable[[bytes], None] | None = None
        """Benchmarks and tests may observe the raw stream; None in normal use."""

    # -- process lifecycle ----------------------------------------------------------------------

    def _new_terminal(self, cols: int, rows: int) -> Terminal:
        return Terminal(
            cols=max(1, cols),
            rows=max(1, rows),
            scrollback_lines=self.scrollback_lines,
            on_reply=self._on_terminal_reply,
            on_event=self._on_terminal_event,
        )

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

    def start(self) -> None:
        """Spawn the child at the widget's current size. Failures are shown in the tab, not raised."""
        cols, rows = self.terminal.cols, self.terminal.rows
        if self.size.width > 0 and self.size.height > 0:
            cols, rows = self.size.width, self.size.height
            if (cols, rows) != (self.terminal.cols, self.terminal.rows):
                self.terminal.resize(cols, rows)
        self.exit_status = None
        self.start_error = None
        env = dict(self.launch.env)
        sessions_dir = claude_config_dir(env) / "sessions" if self._looks_like_claude() else None
        self.activity = ActivityTracker(sessions_dir=sessions_dir, session_id=self.session_id)
        self.pty = PtySession(
            self.launch.argv,
            env=env,
            cwd=self.launch.cwd,
            cols=cols,
            rows=rows,
            on_output=self._on_pty_output,
            on_exit=self._on_pty_exit,
        )
        try:
            self.pty.start()
        except OSError as exc:
            self.start_error = f"cannot start {self.launch.argv[0]!r}: {exc.strerror or exc}"
            self.pty = None
            message = f"\r\n[heimdall] {self.start_error}\r\n"
            self.terminal.feed(message.encode())
            self.exit_status = ExitStatus(code=127, signal=None)
            self.activity.on_exit("127")
            self._request_frame()
            self.update_state()
            return
        self.activity.restart(self.pty.pid)
        self.update_state()
        if self.activity_clock is not None:
            self.activity_clock.request()  # "starting" decays, a status file may appear

    def _looks_like_claude(self) -> bool:
        return any(Path(part).name == "claude" for part in self.launch.argv[:2])

    async def restart(self, launch: AgentLaunch | None = None) -> None:
        """End the current child (if any) and start `launch` (or the same one) in this tab."""
        if self.pty is not None:
            await self.pty.close()
        if launch is not None:
            self.launch = launch
        note = f"\r\n\x1b[0m[heimdall] restarting: {self.command_text}\r\n"
        self.terminal.feed(note.encode())
        self.start()
        self._request_frame()

    async def close(self) -> ExitStatus | None:
        """End the child (SIGHUP, SIGTERM, SIGKILL with timeouts) and release the PTY."""
        self.clock.discard(self)
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

    # -- output path ----------------------------------------------------------------------------

    def _on_pty_output(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        since, self._last_read_at = now - self._last_read_at, now
        self._replied = False
        self._process_output(data)
        # A child that just asked the terminal something (DA1, cursor position... at startup)
        # waits for the answer and asks more: keep reading it at full speed.
        if (
            not self.shown
            and self.pty is not None
            and not self._replied
            and is_trickle(len(data), since)
        ):
            # Hidden and trickling (an agent streaming its answer): gather output in the
            # kernel for a while and parse it in one go. Floods keep reading at full speed.
            self.pty.pause_reading()
            if self._resume_handle is not None:  # output delivered at exit, while paused
                self._resume_handle.cancel()
            due = next_on_grid(now, HIDDEN_READ_INTERVAL, HIDDEN_READ_INTERVAL / 2)
            self._resume_handle = loop.call_at(due, self._resume_reading)

    def _resume_reading(self) -> None:
        self._resume_handle = None
        if self.pty is not None:
            self.pty.resume_reading()

    def _process_output(self, data: bytes) -> None:
        # A synchronized frame that ends inside this chunk, followed by the start of the next:
        # feed up to the end of the complete frame and take it if a frame is due, so a child
        # that is always inside ?2026 still gets smooth, never torn, frames.
        end = data.rfind(SYNC_END) if self.shown else -1  # hidden: no frames, so no split
        if end >= 0 and end + len(SYNC_END) < len(data):
            cut = end + len(SYNC_END)
            self._feed(data[:cut])
            if self.clock.frame_due(self):
                self.clock.flush_now(self)
            data = data[cut:]
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        self.bytes_received += len(data)
        self.bytes_since_frame += len(data)
        self.last_output_at = asyncio.get_running_loop().time()
        # Only a scrolled-back view or a selection needs the history's size after each read
        # (asking makes the emulator settle a plain-text flood it holds back, see Terminal).
        follow = bool(self.history_offset) or self._selection is not None
        if follow:
            held = self.terminal.scrollback_len
            dropped = self.terminal.lines_dropped
        try:
            self.terminal.feed(data)
        except Exception as exc:  # an emulator bug must not take the whole app down
            self._report_emulator_error(exc)
        if follow:
            gone = self.terminal.lines_dropped - dropped
            if self.history_offset:
                # Keep the history the user is reading in place while new output arrives: every
                # line added to the history, and every old one dropped from a full one, moves it
                # up by one.
                grown = self.terminal.scrollback_len - held + gone
                self.history_offset = min(self.history_offset + grown, self.terminal.scrollback_len)
            if gone and self._selection is not None:
                self._shift_selection(gone)
        self.activity.on_output()
        if self.activity_clock is not None:
            self.activity_clock.request()  # output may make the tab busy (screen activity)
        if self.terminal.in_sync_update:
            if self.sync_started_at is None:
                self.sync_started_at = asyncio.get_running_loop().time()
        else:
            self.sync_started_at = None
        if self.on_output_hook is not None:
            self.on_output_hook(data)
        self._request_frame()

    def _report_emulator_error(self, exc: Exception) -> None:
        if self._emulator_error_reported:
            return
        self._emulator_error_reported = True
        self.log.error("terminal emulator error", exc)
        with contextlib.suppress(Exception):
            self.app.notify(
                f"{self.label}: the terminal emulator failed on this output ({exc!r}); "
                "the screen may be incomplete.",
                severity="error",
                markup=False,
            )

    def _on_terminal_reply(self, data: bytes) -> None:
        self._replied = True
        if self.pty is not None:
            self.pty.write(data)

    def _on_terminal_event(self, event: TerminalEvent) -> None:
        visible = self.shown and self.app_has_focus()
        if isinstance(event, TitleChanged):
            shown_before = self.activity.display_title
            self.activity.on_title(event.title, visible=visible)
            # Claude Code animates a spinner in its title several times a second: only a change
            # of the words is news for the tab bar and listeners (the badge follows the state).
            if self.activity.display_title != shown_before:
                self.post_message(TabTitleChanged(self, event.title))
        elif isinstance(event, Bell):
            if visible:
                self.app.bell()  # the tab in view rings the real terminal's bell
            self.activity.on_bell(visible=visible)
            self.post_message(TabBell(self, background=not visible))
        elif isinstance(event, Notify):
            self.activity.on_notify(visible=visible)
            self.post_message(TabNotification(self, event.text))
        self.update_state()

    def app_has_focus(self) -> bool:
        try:
            return bool(self.app.app_focus)
        except Exception:
            return True

    def _on_pty_exit(self, status: ExitStatus) -> None:
        self.exit_status = status
        self.activity.on_exit(status.describe())
        self.sync_started_at = None
        self._request_frame()
        self.post_message(TabExited(self, status))
        self.update_state()

    def update_state(self) -> None:
        """Recompute the activity badge; post `TabStateChanged` when it moved."""
        if self.shown and self.has_focus:
            self.activity.seen()
        new = self.activity.state()
        if new is not self.state:
            old, self.state = self.state, new
            if self.is_attached:
                self.post_message(TabStateChanged(self, old, new))

    def poll_activity(self) -> None:
        """Called about once a second by the app: status file, decay of screen activity."""
        self.activity.poll_status_file(visible=self.shown and self.has_focus)
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

    # -- frames ---------------------------------------------------------------------------------

    def _request_frame(self) -> None:
        if not self.shown:
            # Hidden: parse only. No timer, no strips; everything is rebuilt once on show().
            self._full_rebuild = True
            return
        if self.is_attached:
            self.clock.request(self)

    def flush_frame(self, now: float | None = None) -> None:
        """Rebuild the strips of dirty rows and refresh them (called by the FrameClock)."""
        self.last_frame_at = now if now is not None else asyncio.get_running_loop().time()
        self.bytes_since_frame = 0
        if self.terminal.in_sync_update and self.sync_started_at is not None:
            self.sync_started_at = None  # timed out: show what we have rather than freeze
        if not self.shown or not self.display:
            self._full_rebuild = True  # nothing built while hidden; everything on show
            self.terminal.take_dirty()
            return
        self._snapshot()

    def _snapshot(self) -> None:
        term = self.terminal
        rows = term.rows
        base = self.base_style
        dirty = term.take_dirty()
        if base != self._base_style or len(self._strips) != rows:
            self._base_style = base
            self._full_rebuild = True
        cursor = term.cursor
        if self.history_offset:
            # History view: new output shifts what is shown; keep the user's place anchored.
            self._full_rebuild = True
        cursor_rows = {cursor.y}
        if self._full_rebuild:
            self._strips = [None] * rows
            self._row_segments = [None] * rows
            changed: Iterable[int] = range(rows)
        else:
            changed = set(dirty)
            if self._cursor_row is not None:
                cursor_rows.add(self._cursor_row)
            changed |= cursor_rows
        refresh: list[int] = []
        cols = term.cols
        for y in changed:
            if not 0 <= y < rows:
                continue
            segments = term.row_segments(y, self.history_offset, self._base_style)
            if segments == self._row_segments[y] and self._strips[y] is not None:
                # Rewritten with the same content (a TUI redrawing its status lines each frame):
                # keep the strip, and let Textual keep its line unless the cursor moved on it.
                if y in cursor_rows:
                    refresh.append(y)
                continue
            self._row_segments[y] = segments
            self._strips[y] = Strip(segments, cols)
            refresh.append(y)
        self._cursor_row = cursor.y
        if self._full_rebuild or len(refresh) > rows // 2:
            self.refresh()
        else:
            width = self.size.width
            for y in refresh:
                self.refresh(Region(0, y, width, 1))
        self._full_rebuild = False

    def _build_strip(self, y: int) -> Strip:
        segments = self.terminal.row_segments(y, self.history_offset, self._base_style)
        if y < len(self._row_segments):
            self._row_segments[y] = segments
        return Strip(segments, self.terminal.cols)

    @property
    def base_style(self) -> Style:
        """The widget's own colours (from CSS/theme), cached: `rich_style` walks the DOM."""
        if self._base_style_cache is None:
            self._base_style_cache = self.rich_style
        return self._base_style_cache

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style_cache = None  # theme or CSS changed: recolour on the next frame
        self._full_rebuild = True

    def show(self) -> None:
        """The tab came into view: rebuild everything once."""
        self.shown = True
        if self._resume_handle is not None:
            self._resume_handle.cancel()
            self._resume_handle = None
            if self.pty is not None:
                # What the child wrote while its output waited in the kernel belongs in the
                # first frame: read it now rather than on the next loop iteration.
                self.pty.drain()
            self._resume_reading()
        self._full_rebuild = True
        self.activity.seen()
        self._request_frame()
        self.update_state()

    def hide(self) -> None:
        self.shown = False
        self._strips = []
        self._row_segments = []

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y >= len(self._strips) or self._strips[y] is None:
            if self.shown and self._full_rebuild is False and y < self.terminal.rows:
                self._strips[y] = self._build_strip(y)
            else:
                return Strip.blank(width, self.base_style)
        strip = self._strips[y]
        assert strip is not None
        strip = self._decorate(y, strip)
        if strip.cell_length != width:
            strip = strip.crop_extend(0, width, self.base_style)
        return strip

    def _decorate(self, y: int, strip: Strip) -> Strip:
        """Search matches, selection and cursor on top of the cached row."""
        line_index: int | None = None
        if self.search is not None and self.search.matches:
            line_index = self.terminal.line_index_of_view_row(y, self.history_offset)
            for number, start, end in self.search.on_line(line_index, self.terminal.lines_dropped):
                style = CURRENT_MATCH_STYLE if number == self.search.current else MATCH_STYLE
                strip = _restyle(strip, start, end, style)
        if self._selection is not None:
            if line_index is None:
                line_index = self.terminal.line_index_of_view_row(y, self.history_offset)
            span = selection.span(self._selection, line_index, self.terminal.cols)
            if span is not None:
                strip = _restyle(strip, span[0], span[1], SELECTION_STYLE)
        cursor = self.terminal.cursor
        if (
            y == cursor.y
            and self.history_offset == 0
            and self.has_focus
            and cursor.visible
            and self.terminal.mode(MODE_CURSOR_VISIBLE)
            and self.exit_status is None
        ):
            x = min(max(cursor.x, 0), max(self.terminal.cols - 1, 0))
            style = Style(underline=True) if cursor.shape == "underline" else CURSOR_STYLE
            strip = _restyle(strip, x, x + 1, style)
        return strip

    # -- size -----------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        if self._resize_handle is not None:
            self._resize_handle.cancel()
        loop = asyncio.get_running_loop()
        self._resize_handle = loop.call_later(RESIZE_DEBOUNCE, self._apply_size, event.size)

    def _apply_size(self, size: Size) -> None:
        self._resize_handle = None
        cols, rows = max(1, size.width), max(1, size.height)
        if (cols, rows) == (self.terminal.cols, self.terminal.rows):
            return
        term = self.terminal
        held, dropped = term.scrollback_len, term.lines_dropped
        term.resize(cols, rows)
        if self.pty is not None:
            self.pty.resize(cols, rows)
        gone = term.lines_dropped - dropped
        if self.history_offset:
            # Rows the reflow pushed into the history (and old ones it dropped) would move the
            # lines the user is reading: keep the same line at the top of the view.
            grown = term.scrollback_len - held + gone
            self.history_offset = min(self.history_offset + grown, term.scrollback_len)
        if gone and self._selection is not None:
            self._shift_selection(gone)
        self._full_rebuild = True
        self._request_frame()

    # -- keyboard -------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        handler = getattr(self.app, "handle_prefix_key", None)
        if handler is not None and handler(event):
            event.stop()
            event.prevent_default()
            return
        if event.key in self._own_keys():
            return  # our bindings (scrollback) run after this handler
        event.stop()
        event.prevent_default()
        if self.history_offset or self._selection is not None:
            self.scroll_to_live()
        if not self.running:
            if event.key == "enter" and self.exit_status is not None:
                await self.restart()  # Enter in an ended tab runs it again
            return
        data = encode_key(event.key, event.character, app_cursor=self.terminal.mode(MODE_DECCKM))
        if data:
            self.activity.on_input()
            self.send(data)

    def _own_keys(self) -> set[str]:
        """Keys our own bindings take (scrollback), after the user's keymap is applied."""
        bindings = self._bindings.copy()
        keymap = getattr(self.app, "_keymap", None)
        if keymap:
            bindings.apply_keymap(keymap)
        return set(bindings.key_to_bindings)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if not event.text:
            return
        self.scroll_to_live()
        self.activity.on_input()
        self.send(encode_paste(event.text, bracketed=self.terminal.mode(MODE_PASTE)))

    def on_focus(self, event: events.Focus) -> None:
        self._focus_changed(True)

    def on_blur(self, event: events.Blur) -> None:
        self._focus_changed(False)

    def _focus_changed(self, focused: bool) -> None:
        if self.terminal.mode(MODE_FOCUS):
            self.send(encode_focus(focused))
        if focused:
            self.activity.seen()
            self.update_state()
        self._refresh_cursor_row()

    def _refresh_cursor_row(self) -> None:
        y = self.terminal.cursor.y
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # -- scrollback, search, selection ----------------------------------------------------------

    def action_scroll_page(self, direction: int) -> None:
        self.scroll_by(direction * max(1, self.terminal.rows - 1))

    def scroll_by(self, lines: int) -> None:
        """Positive: towards live; negative: into history."""
        if self.terminal.alt_screen:
            return
        offset = min(max(self.history_offset - lines, 0), self.terminal.scrollback_len)
        if offset != self.history_offset:
            self.history_offset = offset
            self._full_rebuild = True
            self._request_frame()

    def scroll_to_live(self) -> None:
        changed = self.history_offset != 0 or self._selection is not None
        self.history_offset = 0
        self._selection = None
        if changed:
            self._full_rebuild = True
            self._request_frame()

    def find(self, query: str, *, older: bool = True) -> bool:
        """Search the whole history for `query` (smart case) and jump to the next match.

        Returns False when nothing matches. Repeated calls with the same query step through the
        matches, newest first (`older=True`) or back (`older=False`).
        """
        if not query:
            self.clear_search()
            return False
        self.search = find_text(self.terminal, self.search, query, older=older)
        if not self.search.matches:
            self._full_rebuild = True
            self._request_frame()
            return False
        self.reveal_line(self.search.matches[self.search.current][0])
        return True

    def _shift_selection(self, gone: int) -> None:
        """Follow the selected text after `gone` old lines were dropped; forget it once all gone."""
        assert self._selection is not None
        self._selection = selection.shift(self._selection, gone)
        if self._selection is None:
            self._selecting = False

    def clear_search(self) -> None:
        if self.search is not None:
            self.search = None
            self._full_rebuild = True
            self._request_frame()

    def reveal_line(self, index: int) -> None:
        """Scroll so that absolute line `index` is in view (centered when in history)."""
        term = self.terminal
        first_live = term.line_index_of_view_row(0, 0)
        offset = 0 if index >= first_live else first_live - index + term.rows // 2
        self.history_offset = min(max(offset, 0), term.scrollback_len)
        self._full_rebuild = True
        self._request_frame()

    def visible_text(self) -> list[str]:
        """The rows currently in view as text (scrolled-back aware); for tests and search."""
        term = self.terminal
        return [
            term.text_line(term.line_index_of_view_row(y, self.history_offset))
            for y in range(term.rows)
        ]

    def selected_text(self) -> str:
        if self._selection is None:
            return ""
        return selection.selected_text(self.terminal, self._selection)

    # -- mouse ----------------------------------------------------------------------------------

    def _forward_mouse(self, kind: str, event: events.MouseEvent, button: int) -> bool:
        mode = selection.mouse_mode(self.terminal)
        if mode is None or not self.running:
            return False
        if kind == "motion":
            held = bool(self._mouse_buttons_down)
            if not selection.reports_motion(mode, held):
                return True  # reporting is on, but not for this motion: swallow it
        self.send(
            encode_mouse(
                kind,
                button,
                max(0, event.x),
                max(0, event.y),
                shift=event.shift,
                alt=event.meta,
                ctrl=event.ctrl,
                sgr=self.terminal.mode(selection.MODE_MOUSE_SGR),
            )
        )
        return True

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        if not self.has_focus:
            self.focus()
        button = _button_index(event.button)
        if self._forward_mouse("press", event, button):
            self._mouse_buttons_down.add(button)
            return
        if event.button == 1:
            point = self._point(event)
            self._selection = (point, point)
            self._selecting = True
            self.capture_mouse()
            self._full_rebuild = True
            self._request_frame()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        event.stop()
        button = _button_index(event.button)
        if selection.mouse_mode(self.terminal) is not None and self.running:
            self._forward_mouse("release", event, button)
            self._mouse_buttons_down.discard(button)
            return
        if self._selecting:
            self._selecting = False
            self.release_mouse()
            assert self._selection is not None
            if self._selection[0] == self._selection[1]:
                self._selection = None  # a click, not a drag
                self._full_rebuild = True
                self._request_frame()
                return
            text = self.selected_text()
            if text:
                self.app.copy_to_clipboard(text)
                self.app.notify(f"Copied {len(text)} characters", timeout=2)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if selection.mouse_mode(self.terminal) is not None and self.running:
            button = next(iter(self._mouse_buttons_down), 3)
            self._forward_mouse("motion", event, button)
            return
        if self._selecting and self._selection is not None:
            self._selection = (self._selection[0], self._point(event))
            self._full_rebuild = True
            self._request_frame()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self._wheel("wheel_up", event, -WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self._wheel("wheel_down", event, WHEEL_LINES)

    def _wheel(self, kind: str, event: events.MouseEvent, lines: int) -> None:
        if self._forward_mouse(kind, event, 0):
            return
        if self.terminal.alt_screen and self.running:
            # Full-screen programs without mouse reporting (less, man): wheel as arrow keys.
            key = "up" if lines < 0 else "down"
            data = encode_key(key, None, app_cursor=self.terminal.mode(MODE_DECCKM)) or b""
            self.send(data * abs(lines))
            return
        self.scroll_by(lines)

    def _point(self, event: events.MouseEvent) -> Point:
        return selection.point_at(self.terminal, event.x, event.y, self.history_offset)

def is_trickle(size: int, seconds_since_last_read: float) -> bool:
    """A hidden tab's read that may wait for the next batch: small, and not part of a flood."""
    if size >= HIDDEN_FLOOD_BYTES:
        return False  # the kernel's buffer may be near full: the child would block
    return size < HIDDEN_FLOOD_RATE * seconds_since_last_read


def _button_index(textual_button: int) -> int:
    """Textual numbers buttons 1 left, 2 middle, 3 right; the xterm protocol 0, 1, 2."""
    return {1: 0, 2: 1, 3: 2}.get(textual_button, 0)


def _restyle(strip: Strip, start: int, end: int, style: Style) -> Strip:
    """Strip with cells [start, end) restyled on top of their own style."""
    length = strip.cell_length
    start, end = max(0, start), min(end, length)
    if end <= start:
        return strip
    parts = list(strip.divide([start, end, length]))
    before, middle = parts[0], parts[1]
    after = parts[2] if len(parts) > 2 else Strip([], 0)
    middle = Strip(Segment.apply_style(list(middle), post_style=style), middle.cell_length)
    return Strip.join([before, middle, after])
