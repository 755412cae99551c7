"""Plain-text runs give exactly what printing every line through the grid gives.

``Terminal`` holds a run of plain lines back from the grid (``_start_plain_run``, ``_absorb``):
the lines that scroll past are compacted directly and only the last screenful is printed, when
anyone looks. These tests feed the same streams to a terminal with the fast path and one without,
split into reads at random places and looked at in between, and compare everything a user can
see: every scrollback and screen line (text and styles), the cursor, the dropped-line count, and
the rows a renderer is told to redraw.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest
from heimdall.terminal import Terminal
from heimdall.terminal.avt_backend import AvtBackend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style


def pair(cols: int, rows: int, scrollback: int = 10_000) -> tuple[Terminal, Terminal]:
    fast = Terminal(cols, rows, scrollback_lines=scrollback)
    full = Terminal(cols, rows, scrollback_lines=scrollback)
    full.plain_flood_fast_path = False
    return fast, full


def cells(segments: list[Segment]) -> list[tuple[str, Style]]:
    """Each character with its style (no style = the null style): how segments split a row and
    whether padding carries a style object are not visible."""
    return [(char, segment.style or Style()) for segment in segments for char in segment.text]


def visible_state(term: Terminal) -> tuple:
    held = term.scrollback_len
    lines = [cells(term.row_segments(0, held - index)) for index in range(held)]
    screen = [cells(term.row_segments(y)) for y in range(term.rows)]
    texts = [term.text_line(index) for index in range(term.total_lines)]
    return lines, screen, texts, term.cursor, term.lines_dropped, term.scrollback_len


def count_fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = AvtBackend.compact_plain

    def counting(self: AvtBackend, lines: list[str]) -> list[str]:
        calls.append(len(lines))
        return original(self, lines)

    monkeypatch.setattr(AvtBackend, "compact_plain", counting)
    return calls


def test_a_log_flood_takes_the_fast_path_and_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_fast_calls(monkeypatch)
    fast, full = pair(20, 5)
    lines = [
        f"{n:04d} " + "word " * (n % 9) + ('"quoted" \\path' if n % 7 == 0 else "") for n in range(400)
    ]
    data = ("\r\n".join(lines) + "\r\npartial").encode()
    for term in (fast, full):
        term.feed(b"\x1b[1;31mred start\x1b[0m\r\n")  # styled history before the flood
        for start in range(0, len(data), 4000):
            term.feed(data[start : start + 4000])
    assert visible_state(fast) == visible_state(full)
    assert sum(calls) > 380  # most lines never went through the grid
    assert fast.text_line(0) == "red start"
    cursor_line = fast.line_index_of_view_row(fast.cursor.y)
    assert fast.text_line(cursor_line) == "partial"
    assert fast.text_line(cursor_line - 2) == "0399 word word word"  # 20 columns: it wraps
    assert fast.text_line(cursor_line - 1) == '"quoted" \\path'


def test_a_flood_with_a_coloured_pen_is_printed_by_the_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_fast_calls(monkeypatch)
    fast, full = pair(10, 4)
    data = b"\x1b[44m" + b"\r\n".join(b"line %d" % n for n in range(100)) + b"\r\n"
    fast.feed(data)
    full.feed(data)
    assert calls == []  # the blue background would be lost on synthesized lines
    assert visible_state(fast) == visible_state(full)


def test_a_combining_mark_after_a_plain_run_joins_what_the_run_printed_last() -> None:
    fast, full = pair(20, 4)
    reads = [
        "\r\n".join(f"n{n}" for n in range(12)).encode() + b"\r\nxy",  # starts a run mid-line
        b"z\r\nlast",  # held in the run: "t" is printed last
        "\u0301 and more".encode(),  # joins the "t", not the "y" the run started after
    ]
    for data in reads:
        fast.feed(data)
        full.feed(data)
    assert visible_state(fast) == visible_state(full)
    assert fast.text_line(fast.line_index_of_view_row(fast.cursor.y)) == "last\u0301 and more"


def test_a_full_scrollback_drops_the_same_lines() -> None:
    fast, full = pair(12, 3, scrollback=25)
    data = "\r\n".join(f"n{n}" for n in range(300)).encode()
    fast.feed(data)
    full.feed(data)
    assert visible_state(fast) == visible_state(full)
    assert fast.lines_dropped == 300 - 3 - 25


PLAIN = st.text(alphabet=st.sampled_from(list("ab c\"\\'~!{}0")), max_size=40)
ODD_PIECES = st.sampled_from(
    [
        "\x1b[31m", "\x1b[0m", "\x1b[44m", "\x1b[1m", "\x1b[m", "\x1b[3A", "\x1b[2J", "\x1b[H",
        "\x1b[2;3r", "\x1b[r", "\x1b[?1049h", "\x1b[?1049l", "\x1b[?7l", "\x1b[?7h", "\r", "\t",
        "\x1b[K", "\x1b[4h", "\x1b[4l", "\x1b[2K", "\x1b[5G", "é", "漢", "\x1b[3J", "\n",
        "\u0301",  # a combining accent: joins whatever was printed last
    ]
)
FLOOD = st.lists(PLAIN, min_size=3, max_size=60).map("\r\n".join)
PIECE = st.one_of(FLOOD, FLOOD, PLAIN, ODD_PIECES)
LOOKS = ["paint", "cursor", "history", "text", "resize", "none"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cols=st.integers(1, 16),
    rows=st.integers(1, 6),
    pieces=st.lists(PIECE, min_size=1, max_size=12),
    cuts=st.lists(st.integers(0, 4000), max_size=16),
    scrollback=st.sampled_from([0, 7, 10_000]),
    onlcr=st.booleans(),
    looks=st.lists(st.sampled_from(LOOKS), max_size=8),
)
def test_fast_and_full_paths_agree(
    cols: int,
    rows: int,
    pieces: list[str],
    cuts: list[int],
    scrollback: int,
    onlcr: bool,
    looks: list[str],
) -> None:
    data = "\r\n".join(pieces).encode()
    if onlcr:  # CRLF text written to a tty with ONLCR: every line ends CR CR LF
        data = data.replace(b"\r\n", b"\r\r\n")
    fast, full = pair(cols, rows, scrollback)
    painted = Painted(fast)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    for step, (start, end) in enumerate(itertools.pairwise(bounds)):
        fast.feed(data[start:end])
        full.feed(data[start:end])
        if step < len(looks):
            look(fast, looks[step], painted)
            if looks[step] == "resize":
                full.resize(fast.cols, fast.rows)
    assert visible_state(fast) == visible_state(full)
    painted.update()
    assert painted.rows == [cells(fast.row_segments(y)) for y in range(rows)]


class Painted:
    """The screen as a renderer that redraws only the rows it is told are dirty has it."""

    def __init__(self, term: Terminal) -> None:
        self.term = term
        self.rows: list[list[tuple[str, Style]]] = [[] for _ in range(term.rows)]

    def update(self) -> None:
        for y in self.term.take_dirty():
            self.rows[y] = cells(self.term.row_segments(y))



def look(term: Terminal, how: str, painted: Painted) -> None:
    """What the app does between reads: draw a frame, place the cursor, follow the history."""
    if how == "paint":
        painted.update()
    elif how == "cursor":
        term.cursor  # noqa: B018 - the property settles the run
    elif how == "history":
        term.scrollback_len  # noqa: B018
    elif how == "text":
        term.text_line(max(0, term.total_lines - 1))
    elif how == "resize":  # the other terminal gets the same size
        term.resize(term.cols + 1 if term.cols < 12 else term.cols - 3, term.rows)
        painted.rows = [[] for _ in range(term.rows)]


def test_a_flood_read_by_read_keeps_lines_off_the_grid_between_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PTY hands a flood over in ~4 KiB reads: the run spans them, and a frame (every ~60 ms
    during a flood) prints only the last screenful; a hidden tab's run settles every few
    thousand lines."""
    calls = count_fast_calls(monkeypatch)
    printed: list[int] = []
    original_feed = AvtBackend.feed

    def counting_feed(self: AvtBackend, text: str) -> tuple[Iterable[int], list[str]]:
        if self is fast._backend:
            printed.append(text.count("\n"))
        return original_feed(self, text)

    monkeypatch.setattr(AvtBackend, "feed", counting_feed)
    fast, full = pair(80, 24)
    lines = [f"{n:06d} " + "log entry " * (n % 11) for n in range(20_000)]
    data = ("\r\n".join(lines) + "\r\n").encode()
    painted = Painted(fast)
    for read, start in enumerate(range(0, len(data), 4096)):
        fast.feed(data[start : start + 4096])
        full.feed(data[start : start + 4096])
        if read % 16 == 15 and start < len(data) // 2:
            painted.update()  # a frame; then hidden: nobody looks, the run settles on its own
    assert sum(calls) > 19_000  # nearly every line was compacted without the grid
    assert sum(printed) < 2_000  # the grid printed a few screenfuls, not 20,000 lines
    assert visible_state(fast) == visible_state(full)
    painted.update()
    assert painted.rows == [cells(fast.row_segments(y)) for y in range(24)]
