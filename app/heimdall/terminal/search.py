"""Find text in a terminal's screen and scrollback, and step through the matches.

Pure: reads a `Terminal`'s text lines, knows nothing of drawing. Matches are cell columns (wide
characters count two), so a view can highlight them on its rows as they are.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from rich.cells import cell_len

from .terminal import Terminal

Match = tuple[int, int, int]
"""(absolute line index, start column, end column)."""


@dataclass
class SearchState:
    """Matches of the current scrollback search, as (line index, start column, end column)."""

    query: str
    matches: list[Match]
    current: int = -1
    dropped: int = 0
    """The terminal's `lines_dropped` when scanned: line indices shift down as history is dropped."""
    by_line: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    """line index -> [(match number, start, end)], so drawing a row never scans every match."""

    def __post_init__(self) -> None:
        for number, (index, start, end) in enumerate(self.matches):
            self.by_line.setdefault(index, []).append((number, start, end))

    def on_line(self, line_index: int, lines_dropped: int) -> list[tuple[int, int, int]]:
        """(match number, start, end) of the matches on absolute line `line_index` now, when
        the terminal has dropped `lines_dropped` lines in all."""
        return self.by_line.get(line_index + lines_dropped - self.dropped, [])


def scan(terminal: Terminal, query: str) -> list[Match]:
    """Every match of `query` in the whole history, oldest first; smart case (a capital in the
    query makes it case-sensitive)."""
    flags = 0 if any(ch.isupper() for ch in query) else re.IGNORECASE
    pattern = re.compile(re.escape(query), flags)
    matches: list[Match] = []
    folded = query.lower()
    for index in range(terminal.total_lines):
        text = terminal.text_line(index)
        if flags and folded not in text.lower():
            continue  # a substring test is far cheaper than the regex on the lines without it
        for found in pattern.finditer(text):
            start = cell_len(text[: found.start()])
            matches.append((index, start, start + cell_len(found.group(0))))
    return matches


def rescan(terminal: Terminal, old: SearchState, *, older: bool) -> SearchState:
    """Matches again after old history was dropped, stepping on from the same match."""
    dropped = terminal.lines_dropped
    new = SearchState(old.query, scan(terminal, old.query), dropped=dropped)
    if 0 <= old.current < len(old.matches):
        line, start, end = old.matches[old.current]
        target = (line - (dropped - old.dropped), start, end)
        position = bisect.bisect_left(new.matches, target)
        if position < len(new.matches) and new.matches[position] == target:
            new.current = position
        elif new.matches:  # the current match was dropped: step on from where it was
            new.current = position if older else (position - 1) % len(new.matches)
    return new


def find(terminal: Terminal, state: SearchState | None, query: str, *, older: bool = True) -> SearchState:
    """Search for `query` and step to the next match: the newest first, then older ones
    (`older=True`) or back towards newer (`older=False`), wrapping around.

    `state` is the previous search: the same query steps on from its current match (scanned
    again if old history was dropped since); another query starts afresh. With no match,
    `current` stays -1.
    """
    if state is None or state.query != query:
        state = SearchState(query, scan(terminal, query), dropped=terminal.lines_dropped)
    elif state.dropped != terminal.lines_dropped:
        state = rescan(terminal, state, older=older)
    count = len(state.matches)
    if not count:
        return state
    if state.current < 0:
        state.current = count - 1
    elif older:
        state.current = (state.current - 1) % count
    else:
        state.current = (state.current + 1) % count
    return state
