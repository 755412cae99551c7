"""Text selection over a terminal's screen and scrollback, and who owns the mouse.

Pure: points are (absolute line index, cell column), so a selection stays on its text while
the view scrolls; when the emulator drops old history, `shift` moves it along. The mouse is the
child's while it asked for mouse reporting (DEC modes 9/1000/1002/1003), else ours: the wheel
scrolls the history and a drag selects.
"""

from __future__ import annotations

from rich.cells import get_character_cell_size

from .terminal import Terminal

MODE_MOUSE_X10 = 9
MODE_MOUSE_CLICK = 1000
MODE_MOUSE_DRAG = 1002
MODE_MOUSE_ANY = 1003
MODE_MOUSE_SGR = 1006

Point = tuple[int, int]
"""(absolute line index, cell column)."""
Selection = tuple[Point, Point]
"""Where the drag started and where it is now, in either order; both cells included."""


def span(selection: Selection, line_index: int, cols: int) -> tuple[int, int] | None:
    """The cells [start, end) of line `line_index` inside `selection`, or None."""
    (l1, c1), (l2, c2) = sorted(selection)
    if not l1 <= line_index <= l2:
        return None
    start = c1 if line_index == l1 else 0
    end = c2 + 1 if line_index == l2 else cols
    return (start, end) if end > start else None


def selected_text(terminal: Terminal, selection: Selection) -> str:
    """The selected text, one line per line, trailing blanks removed."""
    (l1, _), (l2, _) = sorted(selection)
    lines = []
    for index in range(l1, l2 + 1):
        cells = span(selection, index, terminal.cols)
        if cells is not None:
            lines.append(cell_slice(terminal.text_line(index), cells[0], cells[1]).rstrip())
    return "\n".join(lines)


def shift(selection: Selection, gone: int) -> Selection | None:
    """`selection` after `gone` old lines were dropped from the history; None once all gone."""
    (l1, c1), (l2, c2) = selection
    l1, l2 = l1 - gone, l2 - gone
    if l1 < 0 and l2 < 0:
        return None
    return ((l1, c1) if l1 >= 0 else (0, 0), (l2, c2) if l2 >= 0 else (0, 0))


def point_at(terminal: Terminal, x: int, y: int, history_offset: int) -> Point:
    """The cell under view position (x, y), clamped to the screen, in a view scrolled back
    `history_offset` lines."""
    y = min(max(y, 0), terminal.rows - 1)
    x = min(max(x, 0), terminal.cols - 1)
    return (terminal.line_index_of_view_row(y, history_offset), x)


def cell_slice(text: str, start: int, end: int) -> str:
    """The characters of `text` in cells [start, end) (wide characters count two)."""
    out = []
    column = 0
    for char in text:
        if column >= end:
            break
        if column >= start:
            out.append(char)
        column += get_character_cell_size(char)
    return "".join(out)


def mouse_mode(terminal: Terminal) -> int | None:
    """The child's mouse reporting mode (the most inclusive one set), or None: the mouse is ours."""
    for mode in (MODE_MOUSE_ANY, MODE_MOUSE_DRAG, MODE_MOUSE_CLICK, MODE_MOUSE_X10):
        if terminal.mode(mode):
            return mode
    return None


def reports_motion(mode: int, button_held: bool) -> bool:
    """Does reporting `mode` want a motion event (1003: any motion; 1002: while dragging)?"""
    return mode == MODE_MOUSE_ANY or (mode == MODE_MOUSE_DRAG and button_held)
