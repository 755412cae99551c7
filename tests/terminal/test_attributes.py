"""Colours, attributes, cursor shape/visibility and the segments handed to the widget."""

from __future__ import annotations

import pytest
from rich.color import Color
from rich.style import Style

from .helpers import make, row, row_width, style_at

CSI = "\x1b["


def test_16_colours_fg_and_bg() -> None:
    h = make().feed(f"{CSI}31;42mA{CSI}91;102mB{CSI}39;49mC")
    assert style_at(h.term, 0, 0) == Style(color=Color.from_ansi(1), bgcolor=Color.from_ansi(2))
    assert style_at(h.term, 0, 1) == Style(color=Color.from_ansi(9), bgcolor=Color.from_ansi(10))
    assert style_at(h.term, 0, 2) == Style.null()


def test_256_colours() -> None:
    h = make().feed(f"{CSI}38;5;208;48;5;17mA{CSI}0m")
    assert style_at(h.term, 0, 0) == Style(color=Color.from_ansi(208), bgcolor=Color.from_ansi(17))


def test_truecolor() -> None:
    h = make().feed(f"{CSI}38;2;10;20;30;48;2;200;100;50mA")
    assert style_at(h.term, 0, 0) == Style(
        color=Color.from_rgb(10, 20, 30), bgcolor=Color.from_rgb(200, 100, 50)
    )


@pytest.mark.parametrize(
    ("sgr", "expected"),
    [
        ("38:2::255:0:0", Style(color=Color.from_rgb(255, 0, 0))),
        ("38:2:255:0:0", Style(color=Color.from_rgb(255, 0, 0))),
        ("48:2:0:1:2:3", Style(bgcolor=Color.from_rgb(1, 2, 3))),
        ("38:5:196", Style(color=Color.from_ansi(196))),
        ("4:3", Style(underline=True)),
        ("1;4:1;38:5:21", Style(bold=True, underline=True, color=Color.from_ansi(21))),
    ],
)
def test_colon_sgr(sgr: str, expected: Style) -> None:
    h = make().feed(f"ab{CSI}{sgr}mcd")
    assert row(h.term, 0) == "abcd"
    assert style_at(h.term, 0, 2) == expected
    assert style_at(h.term, 0, 0) == Style.null()


def test_colon_underline_off_and_underline_colour_ignored() -> None:
    h = make().feed(f"{CSI}1;4mA{CSI}58:2::9:9:9mB{CSI}4:0mC")
    assert style_at(h.term, 0, 0) == Style(bold=True, underline=True)
    assert style_at(h.term, 0, 1) == Style(bold=True, underline=True)  # 58 changes nothing
    assert style_at(h.term, 0, 2) == Style(bold=True)


def test_modify_other_keys_does_not_underline() -> None:
    h = make().feed(f"ab{CSI}>4;2mcd{CSI}>4m")
    assert style_at(h.term, 0, 3) == Style.null()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1", Style(bold=True)),
        ("2", Style(dim=True)),
        ("3", Style(italic=True)),
        ("4", Style(underline=True)),
        ("7", Style(reverse=True)),
        ("9", Style(strike=True)),
        ("5", Style.null()),  # blink is drawn as nothing
    ],
)
def test_attributes(code: str, expected: Style) -> None:
    h = make().feed(f"{CSI}{code}mA{CSI}0mB")
    assert style_at(h.term, 0, 0) == expected
    assert style_at(h.term, 0, 1) == Style.null()


def test_attribute_resets() -> None:
    h = make().feed(f"{CSI}1;3;4;7;9mA{CSI}22;23;24;27;29mB")
    assert style_at(h.term, 0, 1) == Style.null()


def test_runs_are_merged_and_styles_cached() -> None:
    h = make(cols=30).feed(f"{CSI}31mred{CSI}31m red{CSI}0m plain")
    segments = h.term.row_segments(0)
    assert [s.text for s in segments] == ["red red", " plain" + " " * 17]
    again = make(cols=30).feed(f"{CSI}31mx")
    assert again.term.row_segments(0)[0].style is segments[0].style


def test_row_segments_width_is_cols_with_wide_and_emoji() -> None:
    h = make(cols=12).feed(f"漢字{CSI}31m❤\ufe0f👩\u200d💻e\u0301{CSI}44m!")
    assert row_width(h.term, 0) == 12
    assert row(h.term, 0) == "漢字❤\ufe0f👩\u200d💻e\u0301!"


def test_literal_return_symbol_at_last_column_is_text() -> None:
    h = make(cols=5).feed("abcd⏎\r\nxy")
    assert row(h.term, 0) == "abcd⏎"
    assert row_width(h.term, 0) == 5


def test_cursor_visibility() -> None:
    h = make().feed(f"{CSI}?25l")
    assert not h.term.cursor.visible
    assert not h.term.mode(25)
    h.feed(f"{CSI}?25h")
    assert h.term.cursor.visible


@pytest.mark.parametrize(
    ("ps", "shape"),
    [("0", "block"), ("1", "block"), ("2", "block"), ("3", "underline"), ("4", "underline"),
     ("5", "bar"), ("6", "bar")],
)
def test_cursor_shape(ps: str, shape: str) -> None:
    h = make().feed(f"{CSI}5 q{CSI}{ps} qab")
    assert h.term.cursor.shape == shape
    assert row(h.term, 0) == "ab"


def test_cursor_stays_inside_when_wrap_pending() -> None:
    h = make(cols=5).feed("abcde")
    assert (h.term.cursor.x, h.term.cursor.y) == (4, 0)
    h.feed("f")
    assert (h.term.cursor.x, h.term.cursor.y) == (1, 1)


def test_conceal_is_blank() -> None:
    h = make().feed(f"a{CSI}8msecret{CSI}28mb{CSI}8mx{CSI}0my")
    assert row(h.term, 0) == "a      b y"


def test_conceal_keeps_cursor_moves_and_widths() -> None:
    h = make().feed(f"{CSI}8mab{CSI}5G漢{CSI}2;1Hz{CSI}0m!")
    assert row(h.term, 0) == ""
    assert row(h.term, 1) == " !"
    assert (h.term.cursor.x, h.term.cursor.y) == (2, 1)
