"""Selection geometry and text, following dropped history, and who owns the mouse."""

from __future__ import annotations

from heimdall.terminal import Terminal
from heimdall.terminal.selection import (
    MODE_MOUSE_ANY,
    MODE_MOUSE_CLICK,
    MODE_MOUSE_DRAG,
    MODE_MOUSE_X10,
    cell_slice,
    mouse_mode,
    point_at,
    reports_motion,
    selected_text,
    shift,
    span,
)


def term_with(*lines: str, cols: int = 20, rows: int = 4, scrollback: int = 100) -> Terminal:
    term = Terminal(cols, rows, scrollback_lines=scrollback)
    term.feed("\r\n".join(lines).encode())
    return term


def test_span_of_one_line_and_of_several_in_either_drag_direction() -> None:
    assert span(((3, 2), (3, 5)), 3, 20) == (2, 6)  # both ends included
    assert span(((3, 5), (3, 2)), 3, 20) == (2, 6)  # dragged leftwards
    backwards = ((5, 1), (3, 4))
    assert span(backwards, 3, 20) == (4, 20)  # first line: to the end
    assert span(backwards, 4, 20) == (0, 20)  # middle line: whole
    assert span(backwards, 5, 20) == (0, 2)  # last line: from the start
    assert span(backwards, 2, 20) is None and span(backwards, 6, 20) is None


def test_selected_text_is_one_line_per_line_without_trailing_blanks() -> None:
    term = term_with("alpha beta gamma", "second line", "third")
    assert selected_text(term, ((0, 6), (0, 9))) == "beta"
    assert selected_text(term, ((2, 2), (0, 11))) == "gamma\nsecond line\nthi"  # both end cells included
    assert selected_text(term, ((0, 17), (0, 19))) == ""  # only blanks


def test_wide_characters_count_two_cells() -> None:
    assert cell_slice("日本語 ok", 2, 6) == "本語"
    assert cell_slice("日本語 ok", 7, 9) == "ok"
    term = term_with("日本語 ok")
    assert selected_text(term, ((0, 0), (0, 3))) == "日本"


def test_shift_follows_dropped_lines_and_forgets_a_selection_all_gone() -> None:
    assert shift(((10, 2), (12, 4)), 3) == ((7, 2), (9, 4))
    assert shift(((1, 2), (5, 4)), 3) == ((0, 0), (2, 4))  # its start was dropped
    assert shift(((1, 2), (2, 4)), 3) is None


def test_point_at_clamps_to_the_screen_and_follows_the_scroll() -> None:
    term = term_with(*(f"line {n}" for n in range(10)), cols=10, rows=3)
    held = term.scrollback_len
    assert point_at(term, 4, 1, 0) == (held + 1, 4)
    assert point_at(term, 50, 9, 0) == (held + 2, 9)  # beyond the view: its last cell
    assert point_at(term, -3, -1, 0) == (held, 0)
    assert point_at(term, 0, 0, 2) == (held - 2, 0)  # scrolled back two lines
    line, _ = point_at(term, 0, 0, 2)
    assert term.text_line(line) == "line 5"


def test_the_mouse_is_ours_until_the_child_asks_for_reporting() -> None:
    term = Terminal(20, 4)
    assert mouse_mode(term) is None
    term.feed(b"\x1b[?1000h")
    assert mouse_mode(term) == MODE_MOUSE_CLICK
    term.feed(b"\x1b[?1003h")
    assert mouse_mode(term) == MODE_MOUSE_ANY  # the most inclusive mode set wins
    term.feed(b"\x1b[?1003l\x1b[?1000l\x1b[?9h")
    assert mouse_mode(term) == MODE_MOUSE_X10


def test_motion_is_reported_for_any_motion_or_while_dragging() -> None:
    assert reports_motion(MODE_MOUSE_ANY, False)
    assert reports_motion(MODE_MOUSE_DRAG, True)
    assert not reports_motion(MODE_MOUSE_DRAG, False)
    assert not reports_motion(MODE_MOUSE_CLICK, True)
