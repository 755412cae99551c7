"""Resizing: never crashes down to 1x1, reflows soft-wrapped lines, keeps the cursor inside."""

from __future__ import annotations

import pytest

from .helpers import make, row, row_width, screen


def test_resize_to_1x1_and_back() -> None:
    h = make(cols=20, rows=5).feed("hello world\r\n漢字❤\ufe0f\r\nthird")
    for cols, rows in [(1, 1), (2, 1), (1, 3), (20, 5), (3, 2), (80, 24)]:
        h.term.resize(cols, rows)
        assert (h.term.cols, h.term.rows) == (cols, rows)
        cur = h.term.cursor
        assert 0 <= cur.x < cols and 0 <= cur.y < rows
        for y in range(rows):
            assert row_width(h.term, y) == cols
        h.feed("more text 漢\r\n")


def test_resize_clamps_to_one() -> None:
    h = make()
    h.term.resize(0, -5)
    assert (h.term.cols, h.term.rows) == (1, 1)
    h.feed("abc")


def test_resize_marks_every_row_dirty() -> None:
    h = make(rows=5)
    h.term.take_dirty()
    h.term.resize(30, 7)
    assert h.term.take_dirty() == set(range(7))


def all_text(term) -> list[str]:
    return [term.text_line(i) for i in range(term.total_lines)]


def test_reflow_narrower_wraps_long_lines() -> None:
    h = make(cols=10, rows=4).feed("abcdefghij\r\n0123456789\r\nok")
    h.term.resize(5, 4)
    # The cursor's row keeps its place; rows that no longer fit above it go to the scrollback.
    assert [t for t in all_text(h.term) if t] == ["abcde", "fghij", "01234", "56789", "ok"]
    assert (h.term.cursor.x, h.term.cursor.y) == (2, 2)


def test_reflow_joins_soft_wrapped_line() -> None:
    h = make(cols=5, rows=4).feed("abcdefgh\r\nxy")
    assert screen(h.term) == "abcde/fgh/xy"
    h.term.resize(10, 4)
    assert screen(h.term) == "abcdefgh/xy"


def test_shrinking_rows_pushes_lines_to_scrollback() -> None:
    h = make(cols=10, rows=5).feed("1\r\n2\r\n3\r\n4\r\n5")
    h.term.resize(10, 2)
    assert screen(h.term) == "4/5"
    assert h.term.scrollback_len == 3
    assert [h.term.text_line(i) for i in range(3)] == ["1", "2", "3"]


def test_scrollback_rows_fit_new_width() -> None:
    h = make(cols=20, rows=2).feed("a" * 20 + "\r\nb\r\nc\r\n")
    h.term.resize(8, 2)
    assert row_width(h.term, 0, scroll=h.term.scrollback_len) == 8


def test_resize_resets_scroll_region() -> None:
    h = make(cols=10, rows=4).feed("\x1b[2;3r")
    h.term.resize(10, 4)  # same size: no-op
    h.term.resize(10, 5)
    h.feed("\x1b[5;1H\n\n")
    assert h.term.scrollback_len >= 1
    assert row(h.term, 0) != "" or h.term.scrollback_len >= 1


def test_backend_panic_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyavt 0.17 panics reflowing a wide char into one column; the backend must survive it."""
    from heimdall.terminal import avt_backend

    monkeypatch.setattr(avt_backend, "MIN_GRID_COLS", 1)  # lift the floor that normally avoids it
    backend = avt_backend.AvtBackend(20, 5)
    backend.feed("漢字")
    assert backend.resize(1, 1) == []  # the panic happened inside; a blank grid replaces it
    assert backend.size == (1, 1)
    backend.feed("ok")
    assert backend.cursor()[1] == 0
