"""row_segments(..., base_style) must draw exactly what apply_style(base) + Textual's filter drew.

The view asks the terminal for ready-to-draw segments (base colours merged, 256-colour indices
resolved to RGB) to save per-segment work; what reaches the screen must not change.
"""

from __future__ import annotations

import io

import pytest
from heimdall.terminal import Terminal
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import MONOKAI
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.strip import Strip

SAMPLE = "".join(
    f"\x1b[{params}m{text}"
    for params, text in [
        ("0", "plain "),
        ("1;31", "bold red "),
        ("38;5;3", "std3 "),
        ("38;5;100;48;5;16", "c100/16 "),
        ("2;38;5;200", "dim200 "),
        ("7;48;5;255", "rev255 "),
        ("4;91;101", "bright "),
        ("38:2::1:2:3", "colon "),
        ("9;38;2;255;0;0", "strike "),
        ("3;2;38;5;17;48;5;4", "mix "),
        ("0", "界 end"),
    ]
)


def _rendered(strip: Strip) -> str:
    console = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True, width=200)
    return strip.render(console)


@pytest.mark.parametrize(
    "base",
    [Style(color="#e0e0e0", bgcolor="#101010"), Style(), Style(color="red", bold=True)],
)
def test_ready_to_draw_segments_match_apply_style_then_filter(base: Style) -> None:
    term = Terminal(cols=60, rows=3)
    term.feed((SAMPLE + "\r\n" + SAMPLE[::-1].replace("\x1b", "")).encode())
    truecolor = ANSIToTruecolor(MONOKAI)
    background = Color.parse("#101010")
    for y in range(term.rows):
        old = Strip(Segment.apply_style(term.row_segments(y), base), term.cols)
        new = Strip(term.row_segments(y, 0, base), term.cols)
        assert new.cell_length == term.cols
        old_drawn = old.apply_filter(truecolor, background)
        new_drawn = new.apply_filter(truecolor, background)
        assert list(new_drawn) == list(old_drawn)
        assert _rendered(new_drawn) == _rendered(old_drawn)


def test_256_colours_resolved_but_16_colours_left_to_the_theme() -> None:
    term = Terminal(cols=10, rows=1)
    term.feed(b"\x1b[38;5;100ma\x1b[31mb")
    first, second = term.row_segments(0, 0, Style())[:2]
    assert first.style is not None and first.style.color is not None
    assert first.style.color.triplet is not None  # 100 is a fixed xterm palette entry
    assert second.style is not None and second.style.color is not None
    assert second.style.color.number == 1 and second.style.color.triplet is None
