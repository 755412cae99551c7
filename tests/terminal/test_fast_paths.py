"""Differential tests: each fast path of the emulator against a slow, obvious reference.

The scan finds token candidates with three lazy searches (``scanner.Candidates``) that skip
harmless sequences; the reference tries the token pattern at every ESC, BEL and C1 byte. Both must
give the same screen, history, replies and events on any input.
"""

from __future__ import annotations

import random
import re

from heimdall.terminal import Terminal, scanner, sgr
from heimdall.terminal.scanner import Candidates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.style import Style

from .test_split import CORPUS, snapshot

# The candidate test as one pattern, the way the scanner used to search (per-parameter SGR walk).
_OLD_SGR = r"(?:;|[0-79][0-9]*+|8[0-9]++)*+m"
OLD_CANDIDATE = re.compile(
    rf"[\x1b\x07\x80-\x9f](?:(?<=\x1b)(?!\[(?:{_OLD_SGR}|{scanner._HARMLESS_CSI}))|(?<!\x1b))"
)
OLD_CANDIDATE_CONCEALED = re.compile(
    rf"[\x1b\x07\x80-\x9f](?:(?<=\x1b)(?!\[{scanner._HARMLESS_CSI})|(?<!\x1b))"
)
EVERY_ESC = re.compile(r"\x1b")


class ReferenceTerminal(Terminal):
    """Tries the token pattern at every ESC (and BEL, C1): no harmless sequence is skipped, and
    every SGR the token pattern takes goes through the host's SGR handling."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._find = EVERY_ESC.search

    def _set_concealed(self, on: bool) -> None:
        super()._set_concealed(on)
        self._find = EVERY_ESC.search

    @staticmethod
    def _inline_sgr(body: str) -> bool:
        return False

    def feed(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if self._pending:
            text = self._pending + text
            self._pending = ""
        if text:
            self._scan(text, True)  # C1 always searched for


# SGRs whose 8s are colour components, attribute numbers or real conceal, and everything else.
SGR_PIECES = [
    "\x1b[38;2;8;8;8m", "\x1b[48;5;8m", "\x1b[1;38;2;128;8;80m", "\x1b[8m", "\x1b[1;8m",
    "\x1b[8;1m", "\x1b[18m", "\x1b[80m", "\x1b[;8m", "\x1b[8;m", "\x1b[28m", "\x1b[0m",
    "\x1b[38;5;88;48;2;8;0;8m", "\x1b[38;7;8m", "\x1b[38;2;1;8m", "\x1b[58;2;8;8;8m", "\x1b[m",
    "\x1b[4:3m", "\x1b[38:2::8:8:8m", "\x1b[8;8H", "\x1b[8A", "\x1b[?8h", "\x1b[8t", "\x1b[88;8r",
    "\x07", "\u0085", "\u009b31m", "\x1b]0;t\x07", "\x1b]2;8\x1b\\", "\x1bP8\x1b\\", "\x1b[6n",
    "\x1b[?25l", "\x1b[?25h", "\x1b[?1049h", "\x1b[?1049l", "\x1b[?2026h", "\x1b[?2026l",
    "\x1b[2J", "\x1b[3J", "\x1b[K", "\x1b[H", "\x1b[", "\x1b", "8", ";", "m", "x", "漢", "❤",
    "\ufe0f", "e\u0301", " ", "\r\n", "abc", "©",
]
streams = st.lists(st.sampled_from(SGR_PIECES), max_size=60).map("".join)


def run(term_class: type[Terminal], data: bytes, cuts: list[int]) -> tuple:
    replies: list[bytes] = []
    events: list[object] = []
    term = term_class(12, 4, scrollback_lines=20, on_reply=replies.append, on_event=events.append)
    prev = 0
    for cut in [*cuts, len(data)]:
        term.feed(data[prev:cut])
        prev = cut
    return snapshot(term), replies, events


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=streams, seed=st.integers(0, 2**16))
def test_scan_matches_reference(text: str, seed: int) -> None:
    data = text.encode()
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), min(max(len(data) - 1, 0), rng.randint(0, 5))))
    assert run(Terminal, data, cuts) == run(ReferenceTerminal, data, cuts)


def test_scan_matches_reference_on_corpus() -> None:
    data = CORPUS.encode()
    assert run(Terminal, data, []) == run(ReferenceTerminal, data, [])
    cuts = list(range(1, len(data)))
    assert run(Terminal, data, cuts) == run(ReferenceTerminal, data, cuts)


def _old_positions(text: str, concealed: bool) -> list[int]:
    pattern = OLD_CANDIDATE_CONCEALED if concealed else OLD_CANDIDATE
    return [m.start() for m in pattern.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(text=streams, concealed=st.booleans(), step=st.integers(1, 7))
def test_candidates_match_the_one_pattern_search(text: str, concealed: bool, step: int) -> None:
    """Candidates.next gives exactly what the former single character-class search gave."""
    search = (scanner.CANDIDATE_ESC_CONCEALED if concealed else scanner.CANDIDATE_ESC).search
    expected = _old_positions(text, concealed)
    found = Candidates(text, search)
    for start in range(0, len(text) + 1, step):
        want = next((p for p in expected if p >= start), -1)
        assert found.next(start) == want


def test_candidates_skip_c1_search_only_when_told_there_is_none() -> None:
    text = "a\u0085b\x1b[?25hc"
    assert Candidates(text, scanner.CANDIDATE_ESC.search).next(0) == 1
    assert Candidates(text, scanner.CANDIDATE_ESC.search, c1_possible=False).next(0) == 3


def test_colour_component_8_is_not_conceal_and_stays_in_the_run() -> None:
    fed: list[str] = []
    term = Terminal(20, 2)
    feed_backend = term._feed_backend

    def spy(text: str) -> None:
        fed.append(text)
        feed_backend(text)

    term._feed_backend = spy  # type: ignore[method-assign]
    term.feed(b"a\x1b[38;2;8;8;8mb\x1b[48;5;8mc")
    assert fed == ["a\x1b[38;2;8;8;8mb\x1b[48;5;8mc"]
    assert term.text_line(0) == "abc"
    term.feed(b"\x1b[1;8md\x1b[0me")
    assert term.text_line(0) == "abc e"


# -- styles: memoised per-parameter effects and directly assembled Styles --------------------------

_ATTR_NAMES = {"1": "bold", "2": "dim", "3": "italic", "4": "underline", "7": "reverse",
               "8": "conceal", "9": "strike"}


def _reference_style(params: str, resolve_256: bool) -> Style | None:
    """The obvious way: parse every parameter, build with ``Style(**attributes)``."""
    color = bgcolor = None
    attrs: dict[str, bool] = {}
    for param in params.split(";"):
        if ":" in param:
            head, _, spec = param.partition(":")
            parts = spec.split(":")
            new = None
            if parts[0] == "2" and len(parts) >= 4 and all(p.isdigit() or not p for p in parts):
                new = RichColor.from_rgb(*(int(p or 0) & 0xFF for p in parts[-3:]))
            elif parts[0] == "5" and len(parts) >= 2 and parts[1].isdigit():
                new = RichColor.from_ansi(int(parts[1]) & 0xFF)
                if resolve_256 and new.number is not None and new.number >= 16:
                    new = RichColor.from_triplet(new.get_truecolor())
            if head == "38":
                color = new
            elif head == "48":
                bgcolor = new
        elif param in _ATTR_NAMES:
            attrs[_ATTR_NAMES[param]] = True
        elif param.isdigit() and len(param) <= 3:
            n = int(param)
            for low, target, offset in ((30, "fg", 0), (40, "bg", 0), (90, "fg", 8), (100, "bg", 8)):
                if low <= n <= low + 7:
                    new = RichColor.from_ansi(n - low + offset)
                    if target == "fg":
                        color = new
                    else:
                        bgcolor = new
    if not attrs and color is None and bgcolor is None:
        return None
    return Style(color=color, bgcolor=bgcolor, **attrs)


PARAMS = [
    "0", "", "1", "2", "3", "4", "5", "7", "8", "9", "22", "31", "97", "40", "107", "38:5:3",
    "38:5:100", "48:5:255", "38:2:1:2:3", "48:2:255:0:128", "38:2::9:8:7", "38:2:0:1:2:3",
    "38:5:x", "58:2:1:2:3", "4:3", "1234", "38:9", "48:5", "38:2:1:2",
]
param_strings = st.lists(st.sampled_from(PARAMS), min_size=1, max_size=6).map(";".join)


@settings(max_examples=400, deadline=None)
@given(params=param_strings)
def test_styles_match_the_obvious_construction(params: str) -> None:
    for resolve in (False, True):
        sgr._EFFECTS[resolve].clear()  # build from scratch, then again from the memo
        for _ in range(2):
            got = sgr._build_style(params, resolve_256=resolve)
            want = _reference_style(params, resolve)
            assert got == want
            if want is not None:
                assert got is not None
                assert got._null == want._null
                assert got.render("x", color_system=ColorSystem.TRUECOLOR) == want.render(
                    "x", color_system=ColorSystem.TRUECOLOR
                )


def test_every_attribute_combination_is_assembled_like_style_init() -> None:
    names = ["bold", "dim", "italic", "underline", "reverse", "conceal", "strike"]
    bits = [1, 2, 4, 8, 64, 128, 256]
    fg, bg = RichColor.from_rgb(1, 2, 3), RichColor.from_ansi(4)
    for mask in range(1 << len(names)):
        chosen = [i for i in range(len(names)) if mask >> i & 1]
        for color, bgcolor in ((None, None), (fg, None), (fg, bg)):
            want = Style(color=color, bgcolor=bgcolor, **{names[i]: True for i in chosen})
            got = sgr._make_style(color, bgcolor, sum(bits[i] for i in chosen))
            assert got == want and hash(got) == hash(want)
            assert (got._attributes, got._set_attributes, got._null) == (
                want._attributes, want._set_attributes, want._null
            )
            assert str(got) == str(want)


# -- host-side sequence handling: memoised DEC mode bodies, control stripping -----------------------


def test_mode_bodies_parsed_once_act_the_same_every_time() -> None:
    term = Terminal(10, 3)
    for _ in range(3):  # first use parses, later ones come from the memo
        term.feed(b"ab\x1b[?25;1049;2026h")
        assert term.mode(25) and term.mode(1049) and term.mode(2026)
        assert term.alt_screen and term.in_sync_update
        assert term.text_line(term.line_index_of_view_row(0)) == ""  # alternate screen: blank
        term.take_dirty()
        term.feed(b"\x1b[?1049;2026l")
        assert not term.alt_screen and not term.in_sync_update and term.mode(25)
        assert term.take_dirty() == {0, 1, 2}  # back on the main screen: every row redrawn
        assert term.text_line(term.line_index_of_view_row(0)).startswith("ab")
        term.feed(b"\r\x1b[K\x1b[?2026h\x1b[?2026l\x1b[?9:1h")
        assert not term.in_sync_update


@given(text=st.text(alphabet=st.sampled_from(["a", "é", " ", "\x00", "\x07", "\x1b", "\x1f",
                                              "\x7f", "\x80", "\u2028", "漢", ";"])))
def test_printable_drops_exactly_c0_and_del(text: str) -> None:
    from heimdall.terminal.terminal import _printable

    assert _printable(text) == "".join(ch for ch in text if ch >= " " and ch != "\x7f")


# -- rows to segments: widths of printable-ASCII rows counted, not measured --------------------------

run_lists = st.lists(
    st.tuples(
        st.sampled_from(["", "a", "abc def", " " * 7, "~!", "漢字", "é", "\x07", "\x7f", "x\u0301"]),
        st.sampled_from(["0", "1;38:2:1:2:3", "48:5:200", "7"]),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(runs=run_lists, cols=st.integers(1, 30), base=st.sampled_from([None, Style(), Style(bgcolor="red")]))
def test_padded_rows_match_rich_adjust_line_length(runs: list, cols: int, base: Style | None) -> None:
    from heimdall.terminal.terminal import _pad_runs
    from rich.segment import Segment

    if base is None:
        styled = [Segment(text, sgr.style_for(params)) for text, params in runs]
        want = Segment.adjust_line_length(styled, cols)
    else:
        styled = [Segment(text, sgr.render_style_for(params, base)) for text, params in runs]
        want = Segment.adjust_line_length(styled, cols, style=base if base else None)
    assert _pad_runs(runs, cols, base) == want
