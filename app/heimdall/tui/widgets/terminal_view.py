"""TerminalView: a `TerminalSession` drawn with Textual's Line API, and the keys and mouse sent to it.

The session (`heimdall.sessions.terminal_session`) owns the child, the emulator and the activity
badge, and calls this widget's `session_*` methods as things happen; the widget draws frames,
encodes input, and turns the session's news into `Tab*` messages for the app.

- **Frames** (docs/terminal.md, Read path and frames). New output only marks the view dirty and
  asks the app's shared `FrameClock` for a frame. A frame takes the emulator's dirty rows (plus
  the old and new cursor rows) and rebuilds only their `Strip`s, so the cache always holds the
  last consistent frame; `render_line` just returns cached strips (plus cursor, selection and
  search highlights).
- **Hidden tabs** (docs/terminal.md, Hidden tabs). A hidden view builds nothing and rebuilds
  every row once when shown.
- **Synchronized output** (docs/terminal.md, Synchronized output). No frame is taken while the
  child is inside a ?2026 update, for at most `SYNC_TIMEOUT`, so a half-drawn screen is never shown.
- **Input** (docs/terminal.md, Input encoding). Keys, pastes, focus and mouse are encoded by
  `heimdall.process.keys` in whatever the child asked for (DECCKM, bracketed paste, focus events,
  SGR mouse); with mouse reporting off, the wheel scrolls our scrollback and a drag selects text
  (`heimdall.terminal.selection`) that is copied to the clipboard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from heimdall.process.keys import encode_focus, encode_key, encode_mouse, encode_paste
from heimdall.process.pty import ExitStatus, PtySession
from heimdall.sessions.activity import Activity, ActivityTracker
from heimdall.sessions.clocks import ActivityClock, FrameClock
from heimdall.sessions.terminal_session import TerminalSession
from heimdall.terminal import selection
from heimdall.terminal.search import SearchState
from heimdall.terminal.search import find as find_text
from heimdall.terminal.selection import Point, Selection
from heimdall.tui.keys import KeyRouter
from heimdall.tui.messages import (
    TabBell,
    TabExited,
    TabNotification,
    TabStateChanged,
    TabTitleChanged,
)

if TYPE_CHECKING:
    from heimdall.process.launch import AgentLaunch

# The app still imports the clocks from here; their home is heimdall.sessions.clocks.
__all__ = ["ActivityClock", "FrameClock", "TerminalView"]

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


class TerminalView(Widget, can_focus=True):
    """A tab's terminal on screen: draws its `TerminalSession` and sends it the user's input.

    Args:
        launch: What to run (`AgentLaunch`: argv, env, cwd).
        clock: The app's shared `FrameClock`.
        activity_clock: The app's shared activity poll; None: whoever owns the view polls it.
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
        keys: KeyRouter | None = None,
        session_id: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self.keys = keys
        """The app's prefix handling and remapped scrollback keys; None for a view on its own."""
        self.shown = True
        """False while another tab is in view: parse, but build nothing."""
        self.last_frame_at = 0.0
        self._history_offset = 0
        self._selected: Selection | None = None
        self.search: SearchState | None = None
        self._strips: list[Strip | None] = []
        self._row_segments: list[list[Segment] | None] = []
        """What each cached strip was built from: unchanged rows are not rebuilt or refreshed."""
        self._full_rebuild = True
        self._cursor_row: int | None = None
        self._base_style = Style()
        self._base_style_cache: Style | None = None
        self._selecting = False
        self._mouse_buttons_down: set[int] = set()
        self.session = TerminalSession(
            launch,
            listener=self,
            activity_clock=activity_clock,
            scrollback_lines=scrollback_lines,
            session_id=session_id,
            name=name,
        )
        self.terminal = self.session.terminal
        """The session's emulator (the same one for the life of the tab)."""

    # -- the session, as the app and tests see it ---------------------------------------------------

    @property
    def launch(self) -> AgentLaunch:
        return self.session.launch

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def custom_name(self) -> str | None:
        return self.session.custom_name

    @custom_name.setter
    def custom_name(self, name: str | None) -> None:
        self.session.custom_name = name

    @property
    def pty(self) -> PtySession | None:
        return self.session.pty

    @property
    def activity(self) -> ActivityTracker:
        return self.session.activity

    @property
    def state(self) -> Activity:
        return self.session.state

    @property
    def start_error(self) -> str | None:
        return self.session.start_error

    @property
    def exit_status(self) -> ExitStatus | None:
        return self.session.exit_status

    @property
    def bytes_received(self) -> int:
        return self.session.bytes_received

    @property
    def on_output_hook(self) -> Callable[[bytes], None] | None:
        return self.session.on_output_hook

    @on_output_hook.setter
    def on_output_hook(self, hook: Callable[[bytes], None] | None) -> None:
        self.session.on_output_hook = hook

    @property
    def running(self) -> bool:
        return self.session.running

    @property
    def pid(self) -> int | None:
        return self.session.pid

    @property
    def command_text(self) -> str:
        return self.session.command_text

    @property
    def label(self) -> str:
        return self.session.label

    def start(self) -> None:
        """Spawn the child at the widget's current size. Failures are shown in the tab, not raised."""
        self.session.start(self._size_for_child())

    async def restart(self, launch: AgentLaunch | None = None) -> None:
        """End the current child (if any) and start `launch` (or the same one) in this tab."""
        await self.session.restart(launch, self._size_for_child())

    def _size_for_child(self) -> tuple[int, int] | None:
        width, height = self.size
        return (width, height) if width > 0 and height > 0 else None

    async def close(self) -> ExitStatus | None:
        """End the child (SIGHUP, SIGTERM, SIGKILL with timeouts) and release the PTY."""
        self.clock.discard(self)
        return await self.session.close()

    def kill_now(self) -> None:
        """Synchronous end of the child, for interpreter shutdown."""
        self.session.kill_now()

    def send(self, data: bytes) -> None:
        """Write bytes to the child's input (no-op once it has exited)."""
        self.session.send(data)

    def update_state(self) -> None:
        """Recompute the activity badge; post `TabStateChanged` when it moved."""
        self.session.update_state()

    def poll_activity(self) -> None:
        """Called about once a second by the app: status file, decay of screen activity."""
        self.session.poll_activity()

    def needs_poll(self) -> bool:
        """Can the badge change with time alone (so the once-a-second poll has work)?"""
        return self.session.needs_poll()

    # -- what the session tells us (SessionListener) ----------------------------------------------

    def session_output(self) -> None:
        if not self.shown:
            # Hidden: parse only. No timer, no strips; everything is rebuilt once on show().
            self._full_rebuild = True
            return
        if self.is_attached:
            self.clock.request(self)

    def session_sync_frame(self) -> None:
        if self.clock.frame_due(self):
            self.clock.flush_now(self)

    def session_history_moved(self, grown: int, gone: int) -> None:
        if self._history_offset:
            # Keep the history the user is reading in place while new output arrives (or a
            # reflow pushes rows into it): every line added, and every old one dropped from a
            # full history, moves it up by one.
            self.history_offset = min(self._history_offset + grown, self.terminal.scrollback_len)
        if gone and self._selection is not None:
            self._shift_selection(gone)

    def session_resized(self, grown: int, gone: int) -> None:
        self.session_history_moved(grown, gone)
        self._full_rebuild = True
        self._request_frame()

    def session_title(self, title: str) -> None:
        self.post_message(TabTitleChanged(self, title))

    def session_bell(self, in_view: bool) -> None:
        if in_view:
            self.app.bell()  # the tab in view rings the real terminal's bell
        self.post_message(TabBell(self, background=not in_view))

    def session_notify(self, text: str) -> None:
        self.post_message(TabNotification(self, text))

    def session_exited(self, status: ExitStatus) -> None:
        self._request_frame()
        self.post_message(TabExited(self, status))

    def session_state_changed(self, old: Activity, new: Activity) -> None:
        if self.is_attached:
            self.post_message(TabStateChanged(self, old, new))

    def session_emulator_error(self, exc: Exception) -> None:
        self.log.error("terminal emulator error", exc)
        with contextlib.suppress(Exception):
            self.app.notify(
                f"{self.label}: the terminal emulator failed on this output ({exc!r}); "
                "the screen may be incomplete.",
                severity="error",
                markup=False,
            )

    def session_in_view(self) -> bool:
        return self.shown and self.app_has_focus()

    def session_focused(self) -> bool:
        return self.shown and self.has_focus

    def app_has_focus(self) -> bool:
        try:
            return bool(self.app.app_focus)
        except Exception:
            return True

    # -- what the view holds of the history ------------------------------------------------------

    @property
    def history_offset(self) -> int:
        """Lines scrolled back from live (0 = live)."""
        return self._history_offset

    @history_offset.setter
    def history_offset(self, offset: int) -> None:
        self._history_offset = offset
        self.session.follow_history = bool(offset) or self._selected is not None

    @property
    def _selection(self) -> Selection | None:
        """The text selected with the mouse (absolute lines: it stays on its text). Drawing
        reads `_selected` (and `_history_offset`): a plain attribute per row is cheaper."""
        return self._selected

    @_selection.setter
    def _selection(self, value: Selection | None) -> None:
        self._selected = value
        self.session.follow_history = bool(self._history_offset) or value is not None

    # -- frames ---------------------------------------------------------------------------------

    def _request_frame(self) -> None:
        self.session_output()

    def flush_frame(self, now: float | None = None) -> None:
        """Rebuild the strips of dirty rows and refresh them (called by the FrameClock)."""
        self.last_frame_at = now if now is not None else asyncio.get_running_loop().time()
        self.session.frame_taken()
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
        if self._history_offset:
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
            segments = term.row_segments(y, self._history_offset, self._base_style)
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
        segments = self.terminal.row_segments(y, self._history_offset, self._base_style)
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
        """The tab came into view: up to date at once (the session reads what waited), rebuilt once."""
        self.shown = True
        self.session.show()
        self._full_rebuild = True
        self._request_frame()
        self.update_state()

    def hide(self) -> None:
        self.shown = False
        self.session.hide()
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
            line_index = self.terminal.line_index_of_view_row(y, self._history_offset)
            for number, start, end in self.search.on_line(line_index, self.terminal.lines_dropped):
                style = CURRENT_MATCH_STYLE if number == self.search.current else MATCH_STYLE
                strip = _restyle(strip, start, end, style)
        if self._selected is not None:
            if line_index is None:
                line_index = self.terminal.line_index_of_view_row(y, self._history_offset)
            span = selection.span(self._selected, line_index, self.terminal.cols)
            if span is not None:
                strip = _restyle(strip, span[0], span[1], SELECTION_STYLE)
        cursor = self.terminal.cursor
        if (
            y == cursor.y
            and self._history_offset == 0
            and self.has_focus
            and cursor.visible
            and self.terminal.mode(MODE_CURSOR_VISIBLE)
            and self.session.exit_status is None
        ):
            x = min(max(cursor.x, 0), max(self.terminal.cols - 1, 0))
            style = Style(underline=True) if cursor.shape == "underline" else CURSOR_STYLE
            strip = _restyle(strip, x, x + 1, style)
        return strip

    # -- size -----------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.session.resize(event.size.width, event.size.height)

    # -- keyboard -------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        if self.keys is not None and self.keys.handle_prefix_key(event):
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

    def _own_keys(self) -> frozenset[str] | set[str]:
        """Keys our own bindings take (scrollback), after the user's keymap is applied."""
        if self.keys is not None:
            return self.keys.terminal_keys
        return set(self._bindings.key_to_bindings)

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
