"""Any chunking of the same bytes gives the same terminal: whole, 1 byte at a time, random cuts."""

from __future__ import annotations

import random

import pytest
from heimdall.terminal import Terminal

from .helpers import make
from .test_conformance import SCREEN_CASES

CSI = "\x1b["
ESC = "\x1b"

# A stream touching every host-side feature: modes, queries, OSC/DCS strings, colon SGR,
# conceal, clusters (combining, VS16, ZWJ, flags), wide characters, scrolling into scrollback.
RICH_STREAM = "".join(
    [
        f"{ESC}]0;✳ title one\x07{CSI}?25l{CSI}?2004h{CSI}?1004h{CSI}?2031h{CSI}>0q{CSI}c",
        f"{CSI}?2026$p{CSI}>1u{CSI}>4;2m{CSI}?u",
        *[
            f"{CSI}38;2;{i};{255 - i};9m line {i} {CSI}1;4:3m漢字 ❤\ufe0f 👩\u200d💻 e\u0301"
            f" 🇩🇪 ⚠\ufe0f {CSI}0m{CSI}38:5:{i}mdone{CSI}m\x07\r\n"
            for i in range(0, 60, 3)
        ],
        f"{CSI}?2026h{CSI}H{CSI}2Jframe {CSI}8mhidden{CSI}28m shown{CSI}6n{CSI}?2026l",
        f"{ESC}]8;;http://x{ESC}\\link{ESC}]8;;{ESC}\\ {ESC}P+q544e{ESC}\\ {ESC}_Gx=1;AAA{ESC}\\",
        f"{CSI}5 q{ESC}]777;notify;T;body{ESC}\\{ESC}]9;done\x07tail\u0301{CSI}<u{CSI}3J",
        f"{CSI}?1049h alt {CSI}6n{CSI}?1049l after",
    ]
)
CORPUS = RICH_STREAM + "".join(case[1] for case in SCREEN_CASES)


def snapshot(term: Terminal) -> tuple:
    rows = tuple(
        tuple((seg.text, seg.style) for seg in term.row_segments(y)) for y in range(term.rows)
    )
    history = tuple(term.text_line(i) for i in range(term.scrollback_len))
    modes = tuple(n for n in (1, 25, 1004, 1049, 2004, 2026, 2031) if term.mode(n))
    return rows, history, term.cursor, modes, term.title


def run(data: bytes, cuts: list[int]) -> tuple:
    h = make(cols=30, rows=8)
    prev = 0
    for cut in [*cuts, len(data)]:
        h.term.feed(data[prev:cut])
        prev = cut
    return snapshot(h.term), h.reply_bytes, tuple(h.events)


@pytest.mark.parametrize("name", ["rich_stream", "corpus"])
def test_one_byte_at_a_time_matches_whole(name: str) -> None:
    data = (RICH_STREAM if name == "rich_stream" else CORPUS).encode()
    whole = run(data, [])
    assert whole[0][0]  # sanity: something on screen
    assert run(data, list(range(1, len(data)))) == whole


def test_random_chunkings_match_whole() -> None:
    data = CORPUS.encode()
    whole = run(data, [])
    rng = random.Random(1234)
    for _ in range(25):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, 60)))
        assert run(data, cuts) == whole


@pytest.mark.parametrize("case", SCREEN_CASES, ids=[c[0] for c in SCREEN_CASES])
def test_each_conformance_case_byte_by_byte(case: tuple) -> None:
    data = case[1].encode()
    assert run(data, list(range(1, len(data)))) == run(data, [])


def test_split_utf8_and_split_escape() -> None:
    h = make()
    for piece in [b"\xe6", b"\xbc", b"\xa2", b"\x1b", b"[", b"3", b"1", b"m", b"x"]:
        h.term.feed(piece)
    assert h.term.text_line(h.term.line_index_of_view_row(0)) == "漢x"
