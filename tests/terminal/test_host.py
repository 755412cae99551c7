"""What the host adds on top of the backend: modes, query replies, titles, bell, notifications."""

from __future__ import annotations

import pytest
from heimdall import __version__
from heimdall.terminal import Bell, Notify, TitleChanged

from .helpers import make, screen

CSI = "\x1b["
ESC = "\x1b"


@pytest.mark.parametrize(
    "mode", [1, 7, 25, 47, 1000, 1002, 1003, 1004, 1006, 1047, 1049, 2004, 2026, 2031]
)
def test_dec_private_modes_are_tracked(mode: int) -> None:
    h = make()
    h.feed(f"{CSI}?{mode}h")
    assert h.term.mode(mode)
    h.feed(f"{CSI}?{mode}l")
    assert not h.term.mode(mode)


def test_defaults_and_combined_mode_lists() -> None:
    h = make()
    assert h.term.mode(7) and h.term.mode(25)
    assert not h.term.mode(1) and not h.term.mode(2004)
    h.feed(f"{CSI}?1000;1006;2004h")
    assert h.term.mode(1000) and h.term.mode(1006) and h.term.mode(2004)
    h.feed(f"{CSI}?1000;1006l")
    assert not h.term.mode(1000) and h.term.mode(2004)


def test_sync_update_flag() -> None:
    h = make()
    h.feed(f"{CSI}?2026hframe")
    assert h.term.in_sync_update
    h.feed(f"{CSI}?2026l")
    assert not h.term.in_sync_update


def test_alt_screen_flag_and_dirty_all_rows() -> None:
    h = make(rows=4)
    h.term.take_dirty()
    h.feed(f"{CSI}?1049h")
    assert h.term.alt_screen
    assert h.term.take_dirty() == {0, 1, 2, 3}
    h.feed(f"{CSI}?1049l")
    assert not h.term.alt_screen
    assert h.term.take_dirty() == {0, 1, 2, 3}


def test_ris_resets_modes() -> None:
    h = make().feed(f"{CSI}?1;2004;25lhello{ESC}c")
    assert h.term.mode(25) and not h.term.mode(1) and not h.term.mode(2004)
    assert screen(h.term) == ""


def test_decckm_reaches_backend_and_flag() -> None:
    h = make().feed(f"{CSI}?1h")
    assert h.term.mode(1)


@pytest.mark.parametrize(
    ("query", "reply"),
    [
        (f"{CSI}c", b"\x1b[?62;22c"),
        (f"{CSI}0c", b"\x1b[?62;22c"),
        (f"{CSI}>c", b"\x1b[>1;10;0c"),
        (f"{CSI}5n", b"\x1b[0n"),
        (f"{CSI}>0q", f"\x1bP>|heimdall({__version__})\x1b\\".encode()),
        (f"{CSI}>q", f"\x1bP>|heimdall({__version__})\x1b\\".encode()),
        (f"{CSI}?2026$p", b"\x1b[?2026;2$y"),
        (f"{CSI}?2004$p", b"\x1b[?2004;2$y"),
        (f"{CSI}?25$p", b"\x1b[?25;1$y"),
        (f"{CSI}?4242$p", b"\x1b[?4242;0$y"),
        (f"{CSI}4$p", b"\x1b[4;2$y"),
        (f"{CSI}?u", b""),  # kitty keyboard query: deliberately unanswered
        (f"{ESC}P+q544e{ESC}\\", b""),  # XTGETTCAP: dropped
    ],
)
def test_query_replies(query: str, reply: bytes) -> None:
    h = make().feed(f"ab{query}cd")
    assert h.reply_bytes == reply
    assert screen(h.term) == "abcd"


def test_decrqm_reports_set_modes() -> None:
    h = make().feed(f"{CSI}?2026h{CSI}?2026$p{CSI}?2004h{CSI}?2004$p")
    assert h.replies == [b"\x1b[?2026;1$y", b"\x1b[?2004;1$y"]


def test_cursor_position_report() -> None:
    h = make().feed(f"{CSI}3;7H{CSI}6n")
    assert h.replies == [b"\x1b[3;7R"]
    h.replies.clear()
    h.feed(f"x{CSI}?6n")
    assert h.replies == [b"\x1b[?3;8;1R"]


def test_cpr_reflects_text_fed_in_same_chunk() -> None:
    h = make().feed("hello\r\nworld!" + f"{CSI}6n")
    assert h.replies == [b"\x1b[2;7R"]


def test_titles() -> None:
    h = make().feed(f"{ESC}]0;first\x07{ESC}]2;second{ESC}\\{ESC}]2;second\x07{ESC}]1;icon\x07")
    assert h.term.title == "second"
    assert h.events == [TitleChanged("first"), TitleChanged("second")]


def test_title_with_bel_terminator_is_not_a_bell() -> None:
    h = make().feed(f"{ESC}]0;✳ Claude Code\x07")
    assert h.events == [TitleChanged("✳ Claude Code")]


def test_title_control_characters_removed() -> None:
    h = make().feed(f"{ESC}]0;a\x01b\x7fc\x07")
    assert h.term.title == "abc"


def test_title_stack() -> None:
    h = make().feed(f"{ESC}]0;one\x07{CSI}22;0t{ESC}]0;two\x07{CSI}23;0t")
    assert h.term.title == "one"


def test_bell() -> None:
    h = make().feed("a\x07b\x07")
    assert h.events == [Bell(), Bell()]


def test_notifications() -> None:
    h = make().feed(
        f"{ESC}]9;Build done\x07{ESC}]777;notify;Claude;Needs input{ESC}\\{ESC}]9;4;1;50\x07"
    )
    assert h.events == [Notify("Build done"), Notify("Needs input", "Claude")]


def test_huge_osc_is_dropped_without_output() -> None:
    payload = "A" * 200_000
    h = make().feed(f"x{ESC}]52;c;{payload}\x07y")
    assert screen(h.term) == "xy"


def test_unterminated_osc_aborted_by_escape() -> None:
    h = make().feed(f"a{ESC}]0;broken{CSI}31mb")
    assert screen(h.term) == "ab"


def test_text_area_size_query() -> None:
    h = make(cols=33, rows=7).feed(f"{CSI}18t{CSI}14t")
    assert h.replies == [b"\x1b[8;7;33t"]


def test_decstr_soft_reset() -> None:
    h = make(rows=5).feed(f"{CSI}?1h{CSI}?25l{CSI}4h{CSI}2;3r{CSI}!pab")
    assert not h.term.mode(1) and h.term.mode(25)
    h.feed(f"{CSI}1;1HX")  # insert mode is off again: X overwrites
    assert screen(h.term) == "Xb"


def test_origin_mode_positions_inside_region() -> None:
    h = make(rows=5).feed(f"{CSI}2;4r{CSI}?6h{CSI}1;1HA{CSI}6n")
    assert screen(h.term) == "/A"
    assert h.term.mode(6)
