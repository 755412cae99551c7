"""Shared helpers for the emulator tests: build a terminal, read its screen back."""

from __future__ import annotations

from dataclasses import dataclass, field

from heimdall.terminal import Terminal, TerminalEvent
from rich.cells import cell_len
from rich.style import Style


@dataclass
class Harness:
    term: Terminal
    replies: list[bytes] = field(default_factory=list)
    events: list[TerminalEvent] = field(default_factory=list)

    def feed(self, data: bytes | str) -> Harness:
        self.term.feed(data.encode() if isinstance(data, str) else data)
        return self

    @property
    def reply_bytes(self) -> bytes:
        return b"".join(self.replies)


def make(cols: int = 20, rows: int = 5, scrollback: int = 100) -> Harness:
    h = Harness(term=None)  # type: ignore[arg-type]
    h.term = Terminal(
        cols, rows, scrollback_lines=scrollback, on_reply=h.replies.append, on_event=h.events.append
    )
    return h


def screen(term: Terminal) -> str:
    """Visible rows joined by '/', trailing blanks removed (docs/terminal.md, Conformance notation)."""
    rows = [term.text_line(term.line_index_of_view_row(y)) for y in range(term.rows)]
    while rows and not rows[-1]:
        rows.pop()
    return "/".join(rows)


def row(term: Terminal, y: int) -> str:
    return term.text_line(term.line_index_of_view_row(y))


def style_at(term: Terminal, y: int, x: int, scroll: int = 0) -> Style:
    """The style of the cell at column ``x`` of view row ``y`` (null style for defaults)."""
    col = 0
    for seg in term.row_segments(y, scroll):
        width = cell_len(seg.text)
        if col <= x < col + width:
            return seg.style or Style.null()
        col += width
    raise IndexError(x)


def row_width(term: Terminal, y: int, scroll: int = 0) -> int:
    return sum(cell_len(seg.text) for seg in term.row_segments(y, scroll))
