"""The terminal emulator the widget draws: a native VT grid plus the host logic it lacks.

``Terminal.feed`` decodes UTF-8 incrementally, runs a light scan (see ``scanner``) that tracks
modes, answers queries, extracts titles/notifications and fixes what the backend gets wrong,
and passes everything else to the backend in large slices. Lines scrolling off the main screen
go into a bounded, compact scrollback (text plus style codes per line, never per-cell objects).
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style

from .avt_backend import AvtBackend
from .backend import CompactLine, Run, TerminalBackend
from .events import Bell, Cursor, CursorShape, Notify, TerminalEvent, TitleChanged
from .scanner import (
    ALT_SCREEN_MODES,
    BACKEND_DEC_MODES,
    CANDIDATE_ESC,
    CANDIDATE_ESC_CONCEALED,
    CURSOR_SHAPES,
    DEFAULT_DEC_MODES,
    KNOWN_DEC_MODES,
    MAX_OSC,
    MAX_PARTIAL,
    PARTIAL_ESCAPE,
    TOKEN,
    TOKEN_CONCEALED,
    Candidates,
    conceal_change,
    parse_params,
)
from .sgr import normalize_colon_sgr, render_style_for, style_for
from .unicode import (
    CLUSTER_RE,
    JOIN_RE,
    JOINS_NEXT,
    LEADING_RE,
    NEEDS_CLUSTERING,
    ClusterTable,
    cluster_width,
)

_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]")
# A complete escape sequence of the kinds left inside text runs (CSI, or ESC + final).
_ESCAPE_SEQUENCE = re.compile(r"(\x1b(?:\[[0-?]*[ -/]*[@-~]|[ -/]*[0-~]))")

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")

PASS_LINES = 256
"""A plain run compacts its passed lines in batches of at least this many (fewer, larger calls)."""
SETTLE_LINES = 4096
"""Lines a plain run may hold off the grid before it is settled (bounds a hidden tab's memory)."""


def _plain_lines(text: str) -> tuple[list[str], str] | None:
    """ASCII ``text`` as complete plain lines and the partial last one, or None when it holds
    another control (a lone CR or LF, a tab...). CR LF through ONLCR (CR CR LF) moves the same."""
    if "\r\r" in text:
        text = text.replace("\r\r\n", "\r\n")
    lines = text.split("\r\n")
    partial = lines.pop()
    if all(map(str.isprintable, lines)) and partial.rstrip("\r").isprintable():
        return lines, partial
    return None


@dataclass(slots=True)
class _PlainRun:
    """Plain lines printed after the grid's content but not yet through it (see ``_absorb``)."""

    lines: list[str]
    """Complete lines, each followed by CR LF, not yet printed."""
    partial: str
    """The line being written (no CR LF yet; may end in CRs)."""
    passed: list[CompactLine] = field(default_factory=list)
    """Lines that scroll past entirely, compacted; they go to the history after the grid's rows."""

# A DEC private mode set/reset body ("?2026" -> "2026") parsed once: the modes, those the backend
# implements itself (forwarded), and whether the alternate screen is among them. Ink apps send
# ?2026h/?2026l around every frame.
ModeSpec = tuple[tuple[int, ...], str, bool]
_DEC_MODE_SPECS: dict[str, ModeSpec | None] = {}
_MISSING = object()


def _dec_mode_spec(inner: str) -> ModeSpec | None:
    spec: ModeSpec | None = None
    if inner.replace(";", "").isdigit():
        modes = tuple(parse_params(inner))
        forward = ";".join(str(n) for n in modes if n in BACKEND_DEC_MODES)
        spec = (modes, forward, not ALT_SCREEN_MODES.isdisjoint(modes))
    if len(_DEC_MODE_SPECS) >= 1024:
        _DEC_MODE_SPECS.clear()
    _DEC_MODE_SPECS[inner] = spec
    return spec


ReplyCallback = Callable[[bytes], None]
EventCallback = Callable[[TerminalEvent], None]


def _version() -> str:
    try:
        from heimdall import __version__

        return __version__
    except Exception:  # pragma: no cover - only when vendored without the app package
        return "0"


def _pad_runs(runs: list[Run], cols: int, base_style: Style | None = None) -> list[Segment]:
    """Segments for runs, cropped or padded to exactly ``cols`` cells."""
    # tuple.__new__: what Segment (a NamedTuple) does itself, minus a Python frame per run.
    new = tuple.__new__
    if base_style is None:
        segments = [new(Segment, (text, style_for(params), None)) for text, params in runs]
        pad_style = None
    else:
        segments = [
            new(Segment, (text, render_style_for(params, base_style), None)) for text, params in runs
        ]
        pad_style = base_style if base_style else None
    text = "".join([run[0] for run in runs])
    if text.isascii() and text.isprintable():
        # One cell per character: no per-segment width measuring (most rows of most output).
        width = len(text)
        if width == cols:
            return segments
        if width < cols:
            segments.append(Segment(" " * (cols - width), pad_style))
            return segments
    return Segment.adjust_line_length(segments, cols, style=pad_style)


class Terminal:
    """A VT terminal of ``cols`` x ``rows`` cells fed with a child's output bytes."""

    plain_flood_fast_path = True  # tests switch it off to compare against the full path

    def __init__(
        self,
        cols: int = 80,
        rows: int = 24,
        scrollback_lines: int = 10_000,
        on_reply: ReplyCallback | None = None,
        on_event: EventCallback | None = None,
        backend_factory: Callable[[int, int], TerminalBackend] = AvtBackend,
    ) -> None:
        cols, rows = max(1, int(cols)), max(1, int(rows))
        self._backend: TerminalBackend = backend_factory(cols, rows)
        self._cols, self._rows = cols, rows
        self._on_reply = on_reply
        self._on_event = on_event
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._scrollback: deque[CompactLine] = deque(maxlen=max(0, int(scrollback_lines)))
        self._lines_dropped = 0
        self._dirty: set[int] = set(range(rows))
        self._modes: set[int] = set(DEFAULT_DEC_MODES)
        self._insert_mode = False
        self._margins: tuple[int, int] | None = None  # None = full screen
        self._title = ""
        self._title_stack: list[str] = []
        self._shape: CursorShape = "block"
        self._pending = ""  # incomplete escape sequence held back from the last read
        self._string_kind: str | None = None  # "osc" or "drop" while inside a string sequence
        self._string_buf: list[str] = []
        self._string_len = 0
        self._clusters = ClusterTable()
        self._last_cluster: str | None = None  # last printed cluster, for split clusters
        self._concealed = False  # SGR 8: the backend has no conceal, so we print blanks
        self._match = TOKEN.match
        self._find = CANDIDATE_ESC.search
        self._version = _version()
        self._run: _PlainRun | None = None  # plain lines not yet printed by the grid

    # ------------------------------------------------------------------ public API

    @property
    def cols(self) -> int:
        return self._cols

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def title(self) -> str:
        return self._title

    @property
    def alt_screen(self) -> bool:
        return not self._modes.isdisjoint(ALT_SCREEN_MODES)

    @property
    def in_sync_update(self) -> bool:
        return 2026 in self._modes

    @property
    def scrollback_len(self) -> int:
        self._settle()
        return len(self._scrollback)

    @property
    def lines_dropped(self) -> int:
        """Lines ever removed from the oldest end of the history (limit reached, CSI 3J); only grows.

        Absolute line indices shift down by exactly this much, so holders of indices (a scrolled-back
        view, search matches, a selection) can follow their content.
        """
        self._settle()
        return self._lines_dropped

    @property
    def total_lines(self) -> int:
        self._settle()
        return len(self._scrollback) + self._rows

    @property
    def cursor(self) -> Cursor:
        self._settle()
        col, row, _visible = self._backend.cursor()
        return Cursor(
            x=min(max(col, 0), self._cols - 1),
            y=min(max(row, 0), self._rows - 1),
            visible=25 in self._modes,
            shape=self._shape,
        )

    def mode(self, n: int) -> bool:
        """Is DEC private mode ``n`` set?"""
        return n in self._modes

    def take_dirty(self) -> set[int]:
        """Visible rows changed since the last call (cleared on read)."""
        self._settle()
        dirty = self._dirty
        self._dirty = set()
        return {y for y in dirty if 0 <= y < self._rows}

    def feed(self, data: bytes) -> None:
        """Parse child output; any chunking works, garbage never raises."""
        held = self._decoder.getstate()[0]
        text = self._decoder.decode(data)
        if self._pending:
            text = self._pending + text
            self._pending = ""
        if text:
            if self._run is not None:
                if self._absorb(text):
                    return
                self._settle()
            # C1 controls (U+0080..U+009F) are UTF-8 C2 80..C2 9F: without a C2 byte, none can be
            # in the text, and the scan skips looking for them (a per-character search).
            self._scan(text, b"\xc2" in data or b"\xc2" in held)

    def resize(self, cols: int, rows: int) -> None:
        """Resize to ``cols`` x ``rows`` (clamped to at least 1x1), reflowing wrapped lines."""
        cols, rows = max(1, int(cols)), max(1, int(rows))
        if (cols, rows) == (self._cols, self._rows):
            return
        self._settle()
        gone = self._backend.resize(cols, rows)
        self._cols, self._rows = cols, rows
        self._margins = None  # like xterm: a resize resets the scroll region
        self._capture(gone)
        self._last_cluster = None
        self._dirty = set(range(rows))

    def row_segments(
        self, y: int, scroll: int = 0, base_style: Style | None = None
    ) -> list[Segment]:
        """View row ``y`` scrolled back ``scroll`` lines, as Segments exactly ``cols`` wide.

        With ``base_style`` (a view's own colours) the segments come ready to draw: equal to
        ``Segment.apply_style(row_segments(y, scroll), base_style)`` once Textual's truecolor
        filter has run, but with the combined styles cached (see ``sgr.render_style_for``).
        """
        index = self.line_index_of_view_row(y, scroll)  # settles
        return _pad_runs(self._restore(self._line_runs(index)), self._cols, base_style)

    def line_index_of_view_row(self, y: int, scroll: int = 0) -> int:
        self._settle()
        scroll = min(max(scroll, 0), len(self._scrollback))
        return len(self._scrollback) - scroll + y

    def text_line(self, index: int) -> str:
        """Text of absolute line ``index`` (0 = oldest scrollback line), trailing blanks removed."""
        self._settle()
        return "".join(text for text, _ in self._restore(self._line_runs(index))).rstrip()

    # ------------------------------------------------------------------ rows

    def _line_runs(self, index: int) -> list[Run]:
        held = len(self._scrollback)
        if 0 <= index < held:
            return self._backend.compact_runs(self._scrollback[index])
        row = index - held
        if 0 <= row < self._rows:
            return self._backend.row_runs(row)
        return []

    def _restore(self, runs: list[Run]) -> list[Run]:
        if not self._clusters.to_text:
            return runs
        restore = self._clusters.restore
        return [(restore(text), params) for text, params in runs]

    def _capture(self, lines: list[CompactLine]) -> None:
        if lines and not self.alt_screen and self._margins is None:
            overflow = len(self._scrollback) + len(lines) - (self._scrollback.maxlen or 0)
            if overflow > 0:
                self._lines_dropped += overflow
            self._scrollback.extend(lines)

    # ------------------------------------------------------------------ scanning

    def _feed_backend(self, text: str) -> None:
        rows, gone = self._backend.feed(text)
        self._dirty.update(rows)
        if gone:
            self._capture(gone)

    def _scan(self, text: str, c1_possible: bool = True) -> None:
        if self._string_kind is None and "\x1b" not in text and "\x07" not in text and text.isascii():
            self._text(text, whole=True)  # no sequence, BEL or C1 (plain logs): no regex scan
            return
        pos = 0
        if self._string_kind is not None:
            pos = self._continue_string(text, 0)
            if pos < 0:
                return
        scan_from = pos
        candidates = Candidates(text, self._find, c1_possible)
        while True:
            # The candidate searches run at C speed over text and harmless sequences; the full
            # token pattern is only tried where a candidate sits.
            if candidates.esc_search is not self._find:
                candidates.set_esc_search(self._find)
            c = candidates.next(scan_from)
            m = None
            while c >= 0:
                m = self._match(text, c)
                if m is None:
                    c = candidates.next(c + 1)
                elif m.lastgroup == "csi" and self._inline_sgr(m.group("csi")):
                    # An 8 that is a colour component, not conceal: the SGR stays in the text run.
                    c = candidates.next(m.end())
                    m = None
                else:
                    break
            if m is None:
                tail = text[pos:]
                esc = tail.rfind("\x1b")
                if esc >= 0 and len(tail) - esc <= MAX_PARTIAL and PARTIAL_ESCAPE.match(tail, esc):
                    self._pending = tail[esc:]
                    tail = tail[:esc]
                if tail:
                    self._text(tail)
                return
            start = m.start()
            if start > pos:
                self._text(text[pos:start])
            self._last_cluster = None
            pos = scan_from = m.end()
            kind = m.lastgroup
            if kind == "pcsi":
                self._private_csi(m.group("pcsi"), m.group(0))
            elif kind == "csi":
                self._plain_csi(m.group("csi"), m.group(0))
            elif kind == "icsi":
                self._intermediate_csi(m.group("icsi"), m.group(0))
            elif kind == "str":
                self._string_kind = "osc" if m.group("str")[1] == "]" else "drop"
                self._string_buf = []
                self._string_len = 0
                pos = scan_from = self._continue_string(text, pos)
                if pos < 0:
                    return
            elif kind == "bel":
                self._emit(Bell())
            elif kind == "ris":
                self._reset_state()
                self._feed_backend(m.group(0))
            # c1: dropped

    @staticmethod
    def _inline_sgr(body: str) -> bool:
        """Is this CSI body an SGR that may go to the backend as it is, inside a text run?"""
        return body[-1] == "m" and ":" not in body and conceal_change(body[:-1]) is None

    def _continue_string(self, text: str, pos: int) -> int:
        """Consume a string sequence's body; return where scanning resumes, -1 if unfinished."""
        is_osc = self._string_kind == "osc"
        esc = text.find("\x1b", pos)
        bel = text.find("\x07", pos) if is_osc else -1
        if bel >= 0 and (esc < 0 or bel < esc):
            end, resume = bel, bel + 1
        elif esc >= 0:
            if esc + 1 >= len(text):
                self._add_string(text[pos:esc])
                self._pending = "\x1b"  # maybe the start of ST; decide on the next read
                return -1
            end = esc
            resume = esc + 2 if text[esc + 1] == "\\" else esc  # other ESC aborts the string
        else:
            self._add_string(text[pos:])
            return -1
        self._add_string(text[pos:end])
        kind, payload = self._string_kind, "".join(self._string_buf)
        self._string_kind = None
        self._string_buf = []
        if kind == "osc" and self._string_len <= MAX_OSC:
            self._osc(payload)
        return resume

    def _add_string(self, chunk: str) -> None:
        if self._string_kind == "osc" and chunk:
            self._string_len += len(chunk)
            if self._string_len <= MAX_OSC:
                self._string_buf.append(chunk)

    def _text(self, text: str, *, whole: bool = False) -> None:
        last = self._last_cluster
        if last is not None and text and (last.endswith(JOINS_NEXT) or not text[0].isascii()):
            text = self._extend_previous(last, text)
            if not text:
                return
        clustering = not text.isascii() and NEEDS_CLUSTERING.search(text) is not None
        if clustering or self._concealed:
            if "\x1b" in text:
                # Harmless escape sequences pass through inside text runs: only the printable
                # pieces between them may be rewritten (a CSI final byte is no cluster base).
                parts = _ESCAPE_SEQUENCE.split(text)
                parts[::2] = [self._rewrite(part, clustering) for part in parts[::2]]
                text = "".join(parts)
            else:
                text = self._rewrite(text, clustering)
            if not text:
                self._last_cluster = None
                return
        if whole and "\n" in text:  # a whole read of plain text may start a plain run
            if not self._start_plain_run(text):
                self._feed_backend(text)
        elif text.count("\n") > 2 * self._rows and self._start_plain_run(text):
            self._settle()  # more output follows in this read
        else:
            self._feed_backend(text)
        self._last_cluster = self._last_printed(text)

    # ------------------------------------------------------------------ plain-text floods
    #
    # When plain lines (printable ASCII, CR LF line ends) start on a fresh bottom row with the
    # default pen, the lines that scroll off are fully known from the text: the grid need not
    # print, scroll and dump every one of them. Such a run is held as text (``_PlainRun``) after
    # the grid's content; lines that have scrolled past entirely are compacted directly, and the
    # grid prints only the last screenful when anyone looks (``_settle``: every accessor, and any
    # output that is not plain). Plain floods (logs, cat, build output) cost about a third of the
    # full path, however the PTY splits them into reads; the result is identical (a differential
    # test compares both paths, with reads and looks at random places).

    def _start_plain_run(self, text: str) -> bool:
        """Hold ``text`` as a plain run if it is one (see above). False leaves it unfed."""
        rows = self._rows
        if (
            not self.plain_flood_fast_path
            or rows < 2
            or self._margins is not None
            or self._insert_mode
            or self._concealed
            or 7 not in self._modes
            or self.alt_screen
            or not text.isascii()
        ):
            return False
        # A read may split a line break: leading CRs and LFs go through the grid as usual.
        core = text.lstrip("\r\n")
        lead = text[: len(text) - len(core)]
        split = _plain_lines(core)
        if split is None:
            return False
        lines, partial = split
        backend = self._backend
        cols = backend.size[0]
        # The grid prints lines until the cursor sits on the bottom row, up to one that shows the
        # pen is the default (a plain one-row line).
        first = max(1, rows - 1 - backend.cursor()[1])
        probe = next(
            (i for i in range(first, min(len(lines), first + 8)) if 0 < len(lines[i]) <= cols), 0
        )
        if not probe:
            return False
        self._feed_backend(lead + "\r\n".join(lines[: probe + 1]) + "\r\n")
        rest = lines[probe + 1 :]
        col, row, _ = backend.cursor()
        if (
            col == 0
            and row == rows - 1
            and backend.row_is_default(rows - 2, blank=False)
            and backend.row_is_default(rows - 1, blank=True)
        ):
            self._run = _PlainRun(rest, partial)
        else:
            self._feed_backend("".join([line + "\r\n" for line in rest]) + partial)
        return True

    def _absorb(self, text: str) -> bool:
        """Add the next read to the plain run; False (nothing changed) when it is not plain."""
        if "\x1b" in text or "\x07" in text or not text.isascii():
            return False
        run = self._run
        assert run is not None
        split = _plain_lines(run.partial + text)
        if split is None:
            return False
        lines, partial = split
        run.lines += lines
        run.partial = partial
        self._last_cluster = self._last_printed(text)  # ASCII: the last character, or None
        if len(run.lines) > PASS_LINES + 2 * self._rows:
            self._pass_lines(run)
            if len(run.passed) > SETTLE_LINES:
                self._settle()
        return True

    def _pass_lines(self, run: _PlainRun) -> None:
        """Compact the run's lines that are followed by a screenful of others."""
        lines = run.lines
        cols = self._backend.size[0]
        # A line has scrolled past once the lines after it fill every row above the cursor's.
        filled, first_kept = 0, len(lines)
        while first_kept > 0 and filled < self._rows - 1:
            first_kept -= 1
            filled += max(1, -(-len(lines[first_kept]) // cols))
        if first_kept:
            run.passed += self._backend.compact_plain(lines[:first_kept])
            del lines[:first_kept]

    def _settle(self) -> None:
        """Print the plain run's last lines through the grid, and its passed lines into history."""
        run = self._run
        if run is None:
            return
        self._run = None
        self._pass_lines(run)
        lines = run.lines
        text = ("\r\n".join(lines) + "\r\n" if lines else "") + run.partial
        if not run.passed:
            if text:
                self._feed_backend(text)
            return
        changed, gone = self._backend.feed(text)
        self._dirty.update(changed)
        # The kept lines fill every row above the cursor's, so the grid's first rows - 1 lost
        # rows are the screen as it was; the passed lines went off after them.
        cut = self._rows - 1
        self._capture(gone[:cut] + run.passed + gone[cut:])

    def _rewrite(self, text: str, clustering: bool) -> str:
        if clustering:
            text = CLUSTER_RE.sub(self._cluster_sub, text)
        if self._concealed:
            text = _PRINTABLE.sub(self._blank_sub, text)
        return text

    def _last_printed(self, text: str) -> str | None:
        """The cluster a run ended with, or None when it ended with a control or a sequence."""
        ch = text[-1]
        if ch < " " or ch == "\x7f":
            return None
        esc = text.rfind("\x1b")
        if esc >= 0:
            seq = _ESCAPE_SEQUENCE.match(text, esc)
            if seq is not None and seq.end() == len(text):
                return None
        return self._clusters.to_text.get(ord(ch), ch)

    def _blank_sub(self, m: re.Match[str]) -> str:
        ch = m.group(0)
        cluster = self._clusters.to_text.get(ord(ch), ch)
        return " " * cluster_width(cluster)

    def _set_concealed(self, on: bool) -> None:
        self._concealed = on
        self._match = (TOKEN_CONCEALED if on else TOKEN).match
        self._find = (CANDIDATE_ESC_CONCEALED if on else CANDIDATE_ESC).search

    def _cluster_sub(self, m: re.Match[str]) -> str:
        if m.group("orphan") is not None:
            return ""  # zero-width characters with nothing to attach to
        return self._clusters.placeholder(m.group(0))[0]

    def _extend_previous(self, last: str, text: str) -> str:
        """Attach zero-width characters at the start of ``text`` to the cluster printed last.

        This happens when a read boundary splits a cluster (``❤`` | ``VS16``). The previous
        cluster is redrawn in place as one placeholder, so the screen ends up exactly as if the
        cluster had arrived in one piece.
        """
        m = (JOIN_RE if last.endswith(JOINS_NEXT) else LEADING_RE).match(text)
        if m is None:
            return text
        rest = text[m.end() :]
        if self._insert_mode or 6 in self._modes:
            return rest  # rare: drop the orphan marks rather than guess the geometry
        cluster = last + m.group(0)
        col, row, _ = self._backend.cursor()
        old_width = self._backend.cell_width_before(row, col)
        placeholder, width = self._clusters.placeholder(cluster)
        base_col = max(0, col - old_width)
        seq = f"\x1b[{row + 1};{base_col + 1}H"
        if base_col + width > self._cols:
            seq += "\x1b[X"  # the wider cluster no longer fits: blank the cell, let it wrap
        self._feed_backend(seq + placeholder)
        self._last_cluster = cluster
        return rest

    # ------------------------------------------------------------------ sequences

    def _reply(self, data: str) -> None:
        if self._on_reply is not None:
            self._on_reply(data.encode())

    def _emit(self, event: TerminalEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _reset_state(self) -> None:
        self._set_concealed(False)
        self._modes = set(DEFAULT_DEC_MODES)
        self._insert_mode = False
        self._margins = None
        self._shape = "block"
        self._dirty = set(range(self._rows))

    def _private_csi(self, body: str, raw: str) -> None:
        prefix, final = body[0], body[-1]
        inner = body[1:-1]
        if prefix == "?":
            if final == "h" or final == "l":
                spec = _DEC_MODE_SPECS.get(inner, _MISSING)
                if spec is _MISSING:
                    spec = _dec_mode_spec(inner)
                if spec is not None:
                    self._set_modes(spec, final == "h")  # type: ignore[arg-type]
            elif final == "p" and inner.endswith("$"):
                self._answer_decrqm(parse_params(inner[:-1])[0])
            elif final == "n" and inner == "6":
                col, row = self._report_position()
                self._reply(f"\x1b[?{row};{col};1R")
            elif final == "r" or final == "s":
                pass  # XTRESTORE/XTSAVE of modes: not needed by our children
            # ?u (kitty query) gets no reply on purpose; ?Pm (XTQMODKEYS) etc. are dropped.
        elif prefix == ">":
            if final == "q" and inner in ("", "0"):
                self._reply(f"\x1bP>|heimdall({self._version})\x1b\\")
            elif final == "c" and inner in ("", "0"):
                self._reply("\x1b[>1;10;0c")  # DA2: VT220, firmware 10
        # "<" and "=" (kitty pop, DA3...) and ">" push/modifyOtherKeys: tolerated, dropped.

    def _set_modes(self, spec: ModeSpec, on: bool) -> None:
        modes, forward, touches_alt = spec
        was_alt = touches_alt and self.alt_screen
        if forward:
            self._feed_backend(f"\x1b[?{forward}{'h' if on else 'l'}")
        if on:
            self._modes.update(modes)
        else:
            self._modes.difference_update(modes)
        if touches_alt and was_alt != self.alt_screen:
            self._dirty = set(range(self._rows))

    def _answer_decrqm(self, mode: int) -> None:
        if mode in self._modes:
            state = 1
        elif mode in KNOWN_DEC_MODES:
            state = 2
        else:
            state = 0
        self._reply(f"\x1b[?{mode};{state}$y")

    def _report_position(self) -> tuple[int, int]:
        cur = self.cursor
        return cur.x + 1, cur.y + 1

    def _plain_csi(self, body: str, raw: str) -> None:
        final = body[-1]
        params = body[:-1]
        if final == "m":  # colon SGRs, conceal candidates, and every SGR while concealed
            change = conceal_change(params)
            if change is not None and change != self._concealed:
                self._set_concealed(change)
            if ":" in params:
                params = normalize_colon_sgr(params)
                if not params:
                    return
            self._feed_backend(f"\x1b[{params}m")
        elif final == "c":
            if params in ("", "0"):
                self._reply("\x1b[?62;22c")
        elif final == "n":
            if params == "6":
                col, row = self._report_position()
                self._reply(f"\x1b[{row};{col}R")
            elif params == "5":
                self._reply("\x1b[0n")
        elif final == "J":  # CSI 3J: erase the scrollback
            self._lines_dropped += len(self._scrollback)
            self._scrollback.clear()
            self._dirty = set(range(self._rows))
        elif final == "r":
            self._feed_backend(raw)
            values = parse_params(params) if params else []
            top = values[0] if values and values[0] > 0 else 1
            bottom = values[1] if len(values) > 1 and values[1] > 0 else self._rows
            full = top <= 1 and bottom >= self._rows
            self._margins = None if full or top >= bottom else (top - 1, bottom - 1)
        elif final == "M":  # DL never feeds the scrollback (pyavt would push the top line)
            rows, _gone = self._backend.feed(raw)
            self._dirty.update(rows)
        elif final in "hl":
            values = parse_params(params)
            if 4 in values:
                self._insert_mode = final == "h"
            self._feed_backend(raw)
        elif final == "t":
            self._window_op(parse_params(params))

    def _window_op(self, values: list[int]) -> None:
        # Never let the child resize us (pyavt would honour CSI 8;r;c t); keep the title stack
        # and answer the text-area size query. Pixel queries stay unanswered (we do not know).
        if values and values[0] == 18:
            self._reply(f"\x1b[8;{self._rows};{self._cols}t")
        elif values and values[0] == 22:
            self._title_stack.append(self._title)
            del self._title_stack[:-10]
        elif values and values[0] == 23 and self._title_stack:
            self._set_title(self._title_stack.pop())

    def _intermediate_csi(self, body: str, raw: str) -> None:
        final, inter = body[-1], body[:-1].lstrip("0123456789;:")
        params = body[: len(body) - 1 - len(inter)]
        if inter == " " and final == "q":
            value = parse_params(params)[0] if params else 0
            self._shape = CURSOR_SHAPES.get(value, "block")  # type: ignore[assignment]
        elif inter == "!" and final == "p":  # DECSTR soft reset
            self._set_concealed(False)
            self._modes -= {1, 6}
            self._modes.add(25)
            self._modes.add(7)
            self._insert_mode = False
            self._margins = None
            self._feed_backend(raw)
        elif inter == "$" and final == "p":  # ANSI-mode DECRQM
            mode = parse_params(params)[0] if params else 0
            state = (1 if self._insert_mode else 2) if mode == 4 else 0
            self._reply(f"\x1b[{mode};{state}$y")
        # everything else (DECSCA, DECRQSS pieces...) is dropped

    # ------------------------------------------------------------------ OSC

    def _set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self._emit(TitleChanged(title))

    def _osc(self, payload: str) -> None:
        code, _, rest = payload.partition(";")
        if code in ("0", "2"):
            self._set_title(_printable(rest))
        elif code == "9":
            if not (rest.startswith("4;") or rest == "4"):  # OSC 9;4 is a progress bar
                self._emit(Notify(_printable(rest)))
        elif code == "777":
            kind, _, body = rest.partition(";")
            if kind == "notify":
                title, _, text = body.partition(";")
                self._emit(Notify(_printable(text), _printable(title)))
        # OSC 8 hyperlinks: the text between the two OSC 8s is ordinary text and stays;
        # the link itself is dropped. OSC 52, 4, 10/11, 133... are ignored.


def _printable(text: str) -> str:
    """``text`` without C0 controls and DEL (titles and notifications arrive every frame)."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) is not None else text
