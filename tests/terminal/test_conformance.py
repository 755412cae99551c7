"""Conformance: feed bytes, check screen text, attributes and cursor (docs/terminal.md, Conformance
notation; issue 2).

Expected results follow xterm (and ECMA-48 for CHT/CBT); tmux agrees except where noted.
"""

from __future__ import annotations

import pytest

from .helpers import make, screen

ESC = "\x1b"
CSI = "\x1b["

SCREEN_CASES = [
    # (id, input, expected screen, expected cursor (x, y))
    ("alt_screen_1049_restores_main", f"main{CSI}?1049h{CSI}2JALT{CSI}?1049lX", "mainX", (5, 0)),
    ("alt_screen_47", f"main{CSI}?47hALT{CSI}?47lX", "main   X", (8, 0)),
    # 1047 swaps buffers but, unlike 1049, does not save/restore the cursor.
    ("alt_screen_1047", f"main{CSI}?1047h{CSI}HALT{CSI}?1047lX", "maiX", (4, 0)),
    ("scroll_region_il", f"1\r\n2\r\n3\r\n4\r\n5{CSI}2;4r{CSI}2;1H{CSI}L", "1//2/3/5", (0, 1)),
    ("scroll_region_dl", f"1\r\n2\r\n3\r\n4\r\n5{CSI}2;4r{CSI}2;1H{CSI}M", "1/3/4//5", (0, 1)),
    ("scroll_region_lf_at_bottom", f"1\r\n2\r\n3\r\n4\r\n5{CSI}2;4r{CSI}4;1H\nX", "1/3/4/X/5", (1, 3)),
    ("su", f"a\r\nb\r\nc{CSI}2S", "c", (1, 2)),
    ("sd", f"a\r\nb\r\nc{CSI}2T", "//a/b/c", (1, 2)),
    ("rep", f"x{CSI}4b|", "xxxxx|", (6, 0)),
    ("scosc_scorc", f"ab{CSI}sQ\r\nzz{CSI}uQ", "abQ/zz", (3, 0)),
    ("decsc_decrc", f"ab{ESC}7\r\nzz{ESC}8Q", "abQ/zz", (3, 0)),
    ("modify_other_keys_not_sgr", f"ab{CSI}>4;2mcd", "abcd", (4, 0)),
    ("kitty_pop_not_printed", f"ab{CSI}<ucd", "abcd", (4, 0)),
    ("kitty_push_not_printed", f"ab{CSI}>1ucd", "abcd", (4, 0)),
    ("xtqmodkeys_dropped", f"ab{CSI}?4mcd", "abcd", (4, 0)),
    ("colon_sgr_text", f"ab{CSI}38:2::255:0:0mcd", "abcd", (4, 0)),
    ("wide_char_last_column_wraps", "x" * 19 + "漢", "x" * 19 + "/漢", (2, 1)),
    ("overwrite_wide_char_half", f"漢字{CSI}1;3Hx", "漢x", (3, 0)),
    ("zwj_sequence", "👩\u200d💻x", "👩\u200d💻x", (3, 0)),
    ("vs16_emoji", "❤\ufe0fx", "❤\ufe0fx", (3, 0)),
    ("warning_vs16_keeps_rest", "⚠\ufe0f warning", "⚠\ufe0f warning", (10, 0)),
    ("combining_mark", "e\u0301x", "e\u0301x", (2, 0)),
    ("flag_pair", "🇩🇪x", "🇩🇪x", (3, 0)),
    ("skin_tone", "👍🏽x", "👍🏽x", (3, 0)),
    # Unicode 16 made these wide; rich (and so Textual) measures them as 2 cells, so do we.
    ("unicode16_wide_symbols", "☰x䷀y", "☰x䷀y", (6, 0)),
    # A mark after an escape sequence has nothing to attach to: dropped, and the CSI is intact.
    ("mark_after_sgr_is_orphan", f"e{CSI}31m\u0301x", "ex", (2, 0)),
    ("vs16_after_sgr_keeps_sequence", f"❤{CSI}0m\ufe0fx", "❤x", (2, 0)),
    ("zwj_after_cursor_move", f"👩{CSI}1C\u200d💻", "👩 💻", (5, 0)),
    ("zero_width_space_not_a_cell", "a\u200bb", "a\u200bb", (2, 0)),
    ("cht_cbt", f"a{CSI}2Ib{CSI}Zc", "a" + " " * 15 + "c", (17, 0)),
    ("dcs_xtgettcap_dropped", f"ab{ESC}P+q544e{ESC}\\cd", "abcd", (4, 0)),
    ("sixel_dropped", f"ab{ESC}Pq#0;2;0;0;0#0!10~-{ESC}\\cd", "abcd", (4, 0)),
    ("apc_kitty_graphics_dropped", f"ab{ESC}_Ga=T,f=100;AAAA{ESC}\\cd", "abcd", (4, 0)),
    ("osc8_text_kept", f"{ESC}]8;;https://example.com{ESC}\\link{ESC}]8;;{ESC}\\!", "link!", (5, 0)),
    ("osc_title_not_printed", f"a{ESC}]0;title\x07b{ESC}]2;other{ESC}\\c", "abc", (3, 0)),
    ("bel_not_printed", "a\x07b", "ab", (2, 0)),
    ("tabs_default", "a\tb\tc", "a       b       c", (17, 0)),
    ("tab_stops_set_and_clear", f"{CSI}3g{CSI}1;4H{ESC}H\ra\tb", "a  b", (4, 0)),
    ("decawm_off", f"{CSI}?7l" + "x" * 25 + "Y", "x" * 19 + "Y", (19, 0)),
    ("autowrap_on", "x" * 25, "x" * 20 + "/xxxxx", (5, 1)),
    ("irm_insert", f"abc{CSI}1;2H{CSI}4hX{CSI}4l", "aXbc", (2, 0)),
    ("ech", f"abcdef{CSI}1;2H{CSI}2X", "a  def", (1, 0)),
    ("dch", f"abcdef{CSI}1;2H{CSI}2P", "adef", (1, 0)),
    ("ich", f"abcdef{CSI}1;2H{CSI}2@", "a  bcdef", (1, 0)),
    ("il_dl", f"1\r\n2\r\n3{CSI}2;1H{CSI}L{CSI}3;1H{CSI}M", "1//3", (0, 2)),
    ("ri_at_top", f"a\r\nb{CSI}1;1H{ESC}Mz", "z/a/b", (1, 0)),
    ("el_variants", f"abcdef{CSI}1;3H{CSI}K\r\nabcdef{CSI}2;3H{CSI}1K", "ab/   def", (2, 1)),
    ("ed_below", f"ab\r\ncd\r\nef{CSI}2;2H{CSI}J", "ab/c", (1, 1)),
    ("unknown_csi_consumed", f"a{CSI}99zb{CSI}?999hc{CSI}>5;1xd{CSI}=5ue", "abcde", (5, 0)),
    ("unknown_esc_consumed", f"a{ESC}#3b{ESC}%Gc{ESC}(Bd", "abcd", (4, 0)),
    ("unknown_osc_consumed", f"a{ESC}]1337;SetMark\x07b{ESC}]52;c;aGk=\x07c", "abc", (3, 0)),
    ("c1_controls_dropped", "a\u009b31mb\u0090c", "a31mbc", (6, 0)),
    ("window_ops_do_not_resize", f"a{CSI}8;10;10tb", "ab", (2, 0)),
    ("dec_line_drawing", f"{ESC}(0qx{ESC}(Bq", "─│q", (3, 0)),
    ("cr_lf_bs", "abc\bX\r\nY", "abX/Y", (1, 1)),
    ("cup_cha_vpa", f"{CSI}3;5Ha{CSI}2Gb{CSI}1dc", "  c// b  a", (3, 0)),
]


@pytest.mark.parametrize(
    ("data", "expected", "cursor"),
    [case[1:] for case in SCREEN_CASES],
    ids=[case[0] for case in SCREEN_CASES],
)
def test_screen(data: str, expected: str, cursor: tuple[int, int]) -> None:
    h = make()
    h.feed(data)
    assert screen(h.term) == expected
    assert (h.term.cursor.x, h.term.cursor.y) == cursor
