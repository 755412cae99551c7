"""Scrollback capture, limits, clearing, scrolled views and absolute line indexes."""

from __future__ import annotations

from rich.color import Color
from rich.style import Style

from .helpers import make, row, row_width, screen, style_at

CSI = "\x1b["


def lines(n: int, start: int = 0) -> str:
    return "\r\n".join(f"line {i}" for i in range(start, start + n))


def test_lines_scrolled_off_are_kept_in_order() -> None:
    h = make(rows=3).feed(lines(10))
    assert h.term.scrollback_len == 7
    assert [h.term.text_line(i) for i in range(h.term.total_lines)] == [
        f"line {i}" for i in range(10)
    ]
    assert screen(h.term) == "line 7/line 8/line 9"


def test_scrolled_view_and_index_mapping() -> None:
    h = make(rows=3).feed(lines(10))
    assert h.term.line_index_of_view_row(0, 0) == 7
    assert h.term.line_index_of_view_row(0, 5) == 2
    assert h.term.text_line(h.term.line_index_of_view_row(1, 5)) == "line 3"
    segs = h.term.row_segments(0, scroll=5)
    assert "".join(s.text for s in segs).rstrip() == "line 2"
    # Scrolling further than the scrollback clamps to the oldest line.
    assert h.term.line_index_of_view_row(0, 999) == 0


def test_scrollback_keeps_styles_and_width() -> None:
    h = make(cols=10, rows=2).feed(f"{CSI}38;2;1;2;3mred{CSI}0m x\r\n\r\n\r\n")
    assert h.term.scrollback_len >= 1
    assert style_at(h.term, 0, 0, scroll=h.term.scrollback_len) == Style(
        color=Color.from_rgb(1, 2, 3)
    )
    assert row_width(h.term, 0, scroll=h.term.scrollback_len) == 10


def test_scrollback_limit() -> None:
    h = make(rows=2, scrollback=50).feed(lines(500))
    assert h.term.scrollback_len == 50
    assert h.term.text_line(0) == "line 448"


def test_default_limit_is_ten_thousand() -> None:
    from heimdall.terminal import Terminal

    term = Terminal(20, 2)
    term.feed(("x\r\n" * 12_000).encode())
    assert term.scrollback_len == 10_000


def test_csi_3j_clears_scrollback() -> None:
    h = make(rows=2).feed(lines(20))
    h.term.take_dirty()
    h.feed(f"{CSI}3J")
    assert h.term.scrollback_len == 0
    assert h.term.take_dirty() == {0, 1}
    assert screen(h.term) == "line 18/line 19"


def test_nothing_collected_on_alt_screen() -> None:
    h = make(rows=2).feed(f"main{CSI}?1049h" + lines(20) + f"{CSI}?1049l")
    assert h.term.scrollback_len == 0
    assert screen(h.term) == "main"


def test_partial_scroll_region_not_collected() -> None:
    h = make(rows=4).feed(f"{CSI}1;3r{CSI}3;1H" + lines(10) + f"{CSI}r")
    assert h.term.scrollback_len == 0


def test_delete_line_at_top_not_collected() -> None:
    h = make(rows=3).feed(f"a\r\nb\r\nc{CSI}1;1H{CSI}M")
    assert h.term.scrollback_len == 0
    assert screen(h.term) == "b/c"


def test_full_screen_region_collects() -> None:
    h = make(rows=3).feed(f"{CSI}1;3r" + lines(5))
    assert h.term.scrollback_len == 2


def test_scrollback_is_compact_strings() -> None:
    h = make(cols=120, rows=2).feed(lines(100))
    stored = h.term._scrollback  # the compact form: one string per line, never cell objects
    assert all(isinstance(line, str) for line in stored)
    assert max(len(line) for line in stored) < 200


def test_wide_and_cluster_text_survive_scrollback() -> None:
    h = make(rows=2).feed("漢字 ❤\ufe0f e\u0301\r\n\r\n\r\n")
    assert h.term.text_line(0) == "漢字 ❤\ufe0f e\u0301"
    assert row_width(h.term, 0, scroll=h.term.scrollback_len) == 20
    assert row(h.term, 0) == ""


def test_lines_dropped_counts_lines_pushed_out_of_a_full_scrollback() -> None:
    h = make(rows=3, scrollback=100).feed(lines(50))
    assert h.term.lines_dropped == 0
    h.feed("\r\n" + lines(100, start=50))
    # 150 lines printed, 3 on screen (the last is the cursor line), 100 kept: 47 dropped.
    assert h.term.scrollback_len == 100
    assert h.term.lines_dropped == 150 - 3 - 100
    # An absolute index minus the dropped count names the same content as before.
    first_kept = h.term.lines_dropped
    assert h.term.text_line(0) == f"line {first_kept}"
    h.feed("\r\n" + lines(10, start=150))
    assert h.term.lines_dropped == first_kept + 10
    assert h.term.text_line(0) == f"line {first_kept + 10}"


def test_lines_dropped_includes_an_erased_scrollback_and_never_decreases() -> None:
    h = make(rows=3, scrollback=100).feed(lines(20))
    held = h.term.scrollback_len
    h.feed(f"{CSI}3J")
    assert h.term.scrollback_len == 0
    assert h.term.lines_dropped == held
    h.feed("\r\n" + lines(5))
    assert h.term.lines_dropped == held
