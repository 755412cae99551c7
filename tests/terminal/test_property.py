"""Property tests: arbitrary bytes and escape soup never raise and keep the screen consistent."""

from __future__ import annotations

from heimdall.terminal import Terminal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

ESCAPE_PIECES = [
    "\x1b[", "\x1b]", "\x1bP", "\x1b_", "\x1b\\", "\x07", "\x1b", "\x1b[?", "\x1b[>", "\x1b[<",
    "1049h", "1049l", "47h", "2026h", "2026l", "25l", "1;2r", "r", "3J", "2J", "K", "L", "M",
    "@", "P", "X", "b", "S", "T", "s", "u", "6n", "c", "$p", " q", "0;", "8;3;3t", "H", "10;5H",
    "38:2::1:2:3m", "4:3m", "8m", "28m", "m", "0m", "38;5;", "48;2;1;2;", "\r", "\n", "\t", "\b",
    "漢", "字", "❤", "\ufe0f", "\u200d", "👩", "💻", "e", "\u0301", "🇩", "🇪", "x", "abc ", "⏎",
    "\u009b", "\u0090", "\x00", "\x7f", "\x1b7", "\x1b8", "\x1bM", "\x1bD", "\x1bE", "\x1bc",
    "\x1b(0", "\x1b(B", "?7l", "?7h", "?6h", "4h", "4l", "22;0t", "23;0t", "☰", "\u3164",
]

sizes = st.tuples(st.integers(1, 12), st.integers(1, 6))
chunks = st.one_of(
    st.binary(max_size=64),
    st.lists(st.sampled_from(ESCAPE_PIECES), max_size=40).map(lambda p: "".join(p).encode()),
    st.lists(st.sampled_from(ESCAPE_PIECES), max_size=40).map(
        lambda p: "".join(p).encode("utf-16-le", "surrogatepass")[:50]
    ),
)
actions = st.lists(st.one_of(chunks, sizes), min_size=1, max_size=25)


def check(term: Terminal) -> None:
    cur = term.cursor
    assert 0 <= cur.x < term.cols and 0 <= cur.y < term.rows
    assert all(0 <= y < term.rows for y in term.take_dirty())
    for scroll in (0, term.scrollback_len):
        for y in range(term.rows):
            assert sum(cell_len(s.text) for s in term.row_segments(y, scroll)) == term.cols
    for i in range(term.total_lines):
        assert isinstance(term.text_line(i), str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, steps=actions)
def test_random_streams_and_resizes_never_break(size: tuple[int, int], steps: list) -> None:
    replies: list[bytes] = []
    events: list[object] = []
    term = Terminal(*size, scrollback_lines=20, on_reply=replies.append, on_event=events.append)
    for step in steps:
        if isinstance(step, tuple):
            term.resize(*step)
        else:
            term.feed(step)
        check(term)
    assert all(isinstance(r, bytes) for r in replies)
