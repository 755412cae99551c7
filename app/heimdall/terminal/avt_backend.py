"""pyavt (asciinema's Rust ``avt``) behind our :class:`TerminalBackend` interface.

Reading rows cell by cell through pyavt costs about 20 Python attribute lookups per cell. A
``Line``'s ``str()`` is instead one native call that yields the row as SGR-coded text
(``Line("\\u{1b}[0;31mred\\u{1b}[0m   ")``, Rust debug escaping), with one SGR per attribute change;
we split that into runs. The same string, minus its wrapper, is our compact scrollback line.
A per-cell reader is kept as a fallback should that format ever change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import compress

import avt
from rich.cells import cell_len

from .backend import CompactLine, Run
from .sgr import style_for

_SGR_MARK = "\\u{1b}["
_DUMP_TOKEN = re.compile(r"\\u\{1b\}\[([0-9;:]*)m|\\u\{([0-9a-f]+)\}|\\(.)|([^\\]+)", re.S)
_ESCAPE = re.compile(r"\\(?:u\{([0-9a-f]+)\}|(.))", re.S)
_SIMPLE_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "0": "\0"}


def _unescape_one(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return chr(int(m.group(1), 16))
    ch = m.group(2)
    return _SIMPLE_ESCAPES.get(ch, ch)


def _unescape(text: str) -> str:
    return _ESCAPE.sub(_unescape_one, text)


def _decode_slow(body: str) -> list[Run]:
    runs: list[Run] = []
    params = "0"
    buf: list[str] = []
    for m in _DUMP_TOKEN.finditer(body):
        sgr, hexcode, escaped, plain = m.groups()
        if sgr is not None:
            if buf:
                runs.append(("".join(buf), params))
                buf = []
            params = sgr or "0"
        elif hexcode is not None:
            buf.append(chr(int(hexcode, 16)))
        elif escaped is not None:
            buf.append(_SIMPLE_ESCAPES.get(escaped, escaped))
        else:
            buf.append(plain)
    if buf:
        runs.append(("".join(buf), params))
    return runs


def decode_body(body: str) -> list[Run]:
    """Runs from the inside of a ``Line(...)`` debug string."""
    if "\\\\" in body:  # a literal backslash in the text: the split below would be ambiguous
        return _decode_slow(body)
    parts = body.split(_SGR_MARK)
    runs: list[Run] = []
    if parts[0]:
        runs.append((_unescape(parts[0]) if "\\" in parts[0] else parts[0], "0"))
    for part in parts[1:]:
        end = part.find("m")
        text = part[end + 1 :]
        if not text:
            continue
        if "\\" in text:
            text = _unescape(text)
        runs.append((text, part[:end] or "0"))
    return runs


_WRAP_MARK = "\u23ce"  # avt appends "⏎" to the debug form of a soft-wrapped line
_PLAIN_HEAD = 'Line("' + _SGR_MARK + "0m"  # a row whose cells all have the default pen
# Compact rows of plain text built by the host (see compact_plain): tag + text. avt's own compact
# rows always start with 'Line("', so the tags cannot be confused with them.
_PLAIN_ROW = "\x00"
_PLAIN_WRAPPED_ROW = "\x01"


def _has_wrap_mark(runs: list[Run], cells: int) -> bool:
    """Is the final "⏎" avt's wrap marker rather than a literal character in the last cell?"""
    if not runs or not runs[-1][0].endswith(_WRAP_MARK):
        return False
    return sum(cell_len(text) for text, _ in runs) > cells


def _strip_wrap_mark(runs: list[Run], cells: int) -> list[Run]:
    if _has_wrap_mark(runs, cells):
        text, params = runs[-1]
        if len(text) == 1:
            runs.pop()
        else:
            runs[-1] = (text[:-1], params)
    return runs


def _params_for_pen(pen: avt.Pen) -> str:
    """Canonical SGR parameters for a pen (fallback path only)."""
    out = ["0"]
    for flag, code in (
        (pen.bold, "1"),
        (pen.faint, "2"),
        (pen.italic, "3"),
        (pen.underline, "4"),
        (pen.blink, "5"),
        (pen.inverse, "7"),
        (pen.strikethrough, "9"),
    ):
        if flag:
            out.append(code)
    for color, base in ((pen.foreground, "38"), (pen.background, "48")):
        if isinstance(color, avt.Color.RGB):
            out.append(f"{base}:2:{color[0]}:{color[1]}:{color[2]}")
        elif isinstance(color, avt.Color.Indexed):
            out.append(f"{base}:5:{color[0]}")
    return ";".join(out)


def _runs_from_cells(line: avt.Line) -> list[Run]:
    runs: list[Run] = []
    prev_pen: avt.Pen | None = None
    buf: list[str] = []
    for cell in line.cells:
        if cell.width == 0:
            continue  # right half of a wide character
        pen = cell.pen
        if prev_pen is None or pen != prev_pen:
            if buf and prev_pen is not None:
                runs.append(("".join(buf), _params_for_pen(prev_pen)))
            buf = []
            prev_pen = pen
        buf.append(cell.char)
    if buf and prev_pen is not None:
        runs.append(("".join(buf), _params_for_pen(prev_pen)))
    return runs


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


# avt 0.17 panics when reflowing a wide character into a single column, so the grid is never
# narrower than two cells; a 1-column view shows the first column of it.
MIN_GRID_COLS = 2


class AvtBackend:
    """The visible grid lives in avt with no scrollback of its own (the host keeps that)."""

    def __init__(self, cols: int, rows: int) -> None:
        self._cols, self._rows = max(cols, MIN_GRID_COLS), rows
        self._vt = avt.Vt(self._cols, rows, scrollback_limit=0)
        self._fast = self._debug_format_ok()

    def _debug_format_ok(self) -> bool:
        probe = avt.Vt(4, 1, scrollback_limit=0)
        probe.feed_str("\x1b[1;38;2;1;2;3ma\x1b[0mb")
        raw = str(probe[0])
        if not (raw.startswith('Line("') and raw.endswith('")')):
            return False
        fast = [(text, style_for(params)) for text, params in decode_body(raw[6:-2])]
        slow = [(text, style_for(params)) for text, params in _runs_from_cells(probe[0])]
        return fast == slow

    @property
    def size(self) -> tuple[int, int]:
        return self._cols, self._rows

    def _compact(self, lines: list[avt.Line]) -> list[CompactLine]:
        if self._fast:
            # Stored as avt printed it; trimming and the wrap marker are dealt with on decode,
            # which only happens for the few lines anyone scrolls back to.
            return [str(line) for line in lines]
        return [
            'Line("' + "".join(f"{_SGR_MARK}{p}m{t}" for t, p in _runs_from_cells(line)) + '")'
            for line in lines
        ]

    def feed(self, text: str) -> tuple[Iterable[int], list[CompactLine]]:
        try:
            rows, gone = self._vt.feed_str(text)
        except BaseException as exc:  # a Rust panic surfaces as a BaseException subclass
            if not _is_panic(exc):
                raise
            self._vt = avt.Vt(self._cols, self._rows, scrollback_limit=0)
            return range(self._rows), []
        return rows, (self._compact(gone) if gone else [])

    def resize(self, cols: int, rows: int) -> list[CompactLine]:
        cols = max(cols, MIN_GRID_COLS)
        try:
            _, gone = self._vt.resize(cols, rows)
        except BaseException as exc:
            if not _is_panic(exc):
                raise
            # Losing the screen beats losing the tab: start a blank grid of the new size.
            self._vt = avt.Vt(cols, rows, scrollback_limit=0)
            gone = []
        self._cols, self._rows = cols, rows
        return self._compact(gone) if gone else []

    def compact_plain(self, lines: list[str]) -> list[CompactLine]:
        # Our own compact form for such rows: a one-character tag and the text, unpadded (avt's
        # form needs printing, scrolling and a dump: ~1.7 µs a row, this ~0.05 µs). Rows that
        # wrap are the only ones needing Python work; C-level iteration finds them.
        cols = self._cols
        tag = _PLAIN_ROW.__add__
        out: list[CompactLine] = []
        done = 0
        for i in compress(range(len(lines)), map(cols.__lt__, map(len, lines))):
            out += map(tag, lines[done:i])
            line = lines[i]
            last = (len(line) - 1) // cols * cols
            if last == cols:  # the usual long line: two rows
                out.append(_PLAIN_WRAPPED_ROW + line[:cols])
            else:
                out += [_PLAIN_WRAPPED_ROW + line[at : at + cols] for at in range(0, last, cols)]
            out.append(_PLAIN_ROW + line[last:])
            done = i + 1
        out += map(tag, lines[done:])
        return out

    def row_is_default(self, row: int, *, blank: bool) -> bool:
        if not self._fast:
            return False
        raw = str(self._vt[row])
        if blank:
            return raw == _PLAIN_HEAD + " " * self._cols + '")'
        return raw.startswith(_PLAIN_HEAD) and raw.count(_SGR_MARK) == 1 and not raw.endswith(
            _WRAP_MARK + '")'
        )

    def cursor(self) -> tuple[int, int, bool]:
        cur = self._vt.cursor
        return cur.col, cur.row, cur.visible

    def cell_width_before(self, row: int, col: int) -> int:
        if col >= 2 and self._vt[row][col - 1].width == 0:
            return 2
        return 1

    def row_runs(self, row: int) -> list[Run]:
        line = self._vt[row]
        if self._fast:
            return _strip_wrap_mark(decode_body(str(line)[6:-2]), len(line))
        return _runs_from_cells(line)

    def row_text(self, row: int) -> str:
        return self._vt[row].text

    def compact_runs(self, line: CompactLine) -> list[Run]:
        tag = line[:1]
        if tag in (_PLAIN_ROW, _PLAIN_WRAPPED_ROW):
            return [(line[1:], "0")] if len(line) > 1 else []
        runs = decode_body(line[6:-2])
        if runs and runs[-1][0].endswith(_WRAP_MARK):
            # The line's width at capture time is not kept, so a trailing "⏎" is taken as avt's
            # wrap marker (a literal one in the very last column of an unwrapped line is lost).
            text, params = runs[-1]
            runs[-1] = (text[:-1], params)
        return runs
