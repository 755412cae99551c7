"""The small interface our terminal needs from a native VT emulator (docs/terminal.md, Emulator
backend).

The host (:class:`~heimdall.terminal.Terminal`) owns everything the backend may lack or get
wrong: byte decoding, mode flags, query replies, titles, grapheme clusters and the scrollback. A
backend only has to keep a grid of cells for the visible screen, interpret the sequences the
host passes on, and say which rows changed. Another emulator can be swapped in by implementing
this protocol.

Rows leave the backend as *runs*: ``(text, sgr_params)`` pairs where ``sgr_params`` is the
canonical SGR parameter string of the run's attributes (``"0"`` for defaults). Lines that scroll
off the top are returned as opaque *compact lines* (a string per line, text plus style codes)
that the host stores in its scrollback and later hands back to the backend to decode.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

Run = tuple[str, str]
CompactLine = str


class TerminalBackend(Protocol):
    """A VT grid fed with already-decoded, already-filtered text."""

    @property
    def size(self) -> tuple[int, int]:
        """(cols, rows)."""
        ...

    def feed(self, text: str) -> tuple[Iterable[int], list[CompactLine]]:
        """Interpret ``text``; return (changed visible rows, lines that scrolled off the top)."""
        ...

    def resize(self, cols: int, rows: int) -> list[CompactLine]:
        """Resize and reflow; return the lines pushed off the top."""
        ...

    def cursor(self) -> tuple[int, int, bool]:
        """(col, row, visible). ``col`` may equal ``cols`` while a wrap is pending."""
        ...

    def cell_width_before(self, row: int, col: int) -> int:
        """Width (1 or 2) of the character that ends just before ``col`` on ``row``."""
        ...

    def row_runs(self, row: int) -> list[Run]:
        """The visible row as merged runs covering exactly ``cols`` cells."""
        ...

    def row_text(self, row: int) -> str:
        """The visible row's text (wide characters once, no padding cells)."""
        ...

    def compact_runs(self, line: CompactLine) -> list[Run]:
        """Decode a compact line produced by this backend."""
        ...

    # The plain-text flood fast path (see ``Terminal._start_plain_run``): the host computes
    # the lines a flood of plain text pushes off the screen itself, instead of making the
    # backend print and hand back every one of them.

    def compact_plain(self, lines: list[str]) -> list[CompactLine]:
        """Compact rows for logical lines of printable ASCII printed with the default pen on fresh
        rows: each wraps at ``cols`` into the rows the backend would have pushed off, which must
        decode (``compact_runs``) to the same text and attributes."""
        ...

    def row_is_default(self, row: int, *, blank: bool) -> bool:
        """Does visible ``row`` hold only default-attribute cells (and, with ``blank``, only
        spaces), without a soft-wrap mark?"""
        ...
