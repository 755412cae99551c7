"""Patterns for the host-side scan that runs in front of the native emulator.

The native backend parses and draws; this scan only picks out what the host must see or change:
DEC private modes, queries that need replies, OSC strings (titles, notifications, links),
DCS/APC/PM/SOS strings (dropped), BEL, colon SGRs, cursor shape, and C1 bytes. Everything else
passes through untouched in large slices, so plain and SGR-heavy output costs one regex search
per interesting sequence rather than per byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN_TEMPLATE = (
    r"\x1b\[(?P<pcsi>[?<>=][0-?]*[ -/]*[@-~])"  # private-prefixed CSI: modes, queries, kitty
    r"|\x1b\[(?P<icsi>[0-9;:]*[ -/]+[@-~])"  # CSI with intermediates: DECSCUSR, DECSTR, DECRQM
    r"|\x1b\[(?P<csi>[0-9;]*[cnrMthl]|3J|{sgr})"  # plain CSIs the host acts on
    r"|(?P<str>\x1b[\]P_^X])"  # OSC / DCS / APC / PM / SOS introducer
    r"|(?P<ris>\x1bc)"
    r"|(?P<bel>\x07)"
    r"|(?P<c1>[\x80-\x9f]+)"  # C1 controls (from UTF-8 U+0080..U+009F): never meaningful here
)
# Where a token may start: BEL, C1, or an ESC that does not begin one of the frequent harmless
# sequences (cursor moves, erases, plain SGR without a lone 8). ESCs are searched with a pattern
# that opens with a literal ESC, which the regex engine skips to with a fast substring search
# (a leading character class is tested character by character: twice the cost on SGR-heavy
# output); BEL and C1 are rare and found separately (see ``Candidates``).
_HARMLESS_CSI = r"[0-9;]*+[A-IKLPSTXZ@`abdefgsu]"
# An SGR none of whose parameters is a lone 8 (conceal): runs of other characters are taken in one
# step, and each 8 must touch another digit. Possessive so it never backtracks; most SGRs cost a
# few steps of the outer loop (one per 8), not one per parameter.
_HARMLESS_SGR = r"[0-79;]*+(?:(?:8(?=[0-9])|(?<=[0-9])8)[0-79;]*+)*+m"
# SGR is tried first: it is the most frequent sequence.
CANDIDATE_ESC = re.compile(rf"\x1b(?!\[(?:{_HARMLESS_SGR}|{_HARMLESS_CSI}))")
CANDIDATE_ESC_CONCEALED = re.compile(rf"\x1b(?!\[{_HARMLESS_CSI})")
C1 = re.compile(r"[\x80-\x9f]")


class Candidates:
    """Where tokens may start in one text: the next ESC candidate, BEL and C1, each searched lazily.

    Each kind's next position is kept until the scan passes it, so no stretch of text is searched
    twice however the three interleave. ``next`` must be called with non-decreasing starts.
    """

    __slots__ = ("_bel", "_c1", "_esc", "_text", "esc_search")

    def __init__(
        self,
        text: str,
        esc_search: Callable[[str, int], re.Match[str] | None],
        c1_possible: bool = True,
    ) -> None:
        self._text = text
        self.esc_search = esc_search
        # -2: not searched yet (or passed); -1: none left in the text.
        self._esc = -2
        self._bel = -2
        self._c1 = -2 if c1_possible and not text.isascii() else -1

    def set_esc_search(self, esc_search: Callable[[str, int], re.Match[str] | None]) -> None:
        """The ESC pattern changed (conceal on/off): forget the ESC position found with the old."""
        self.esc_search = esc_search
        self._esc = -2

    def next(self, start: int) -> int:
        """The first candidate position at or after ``start``, or -1 if there is none."""
        text = self._text
        esc = self._esc
        if -1 != esc < start:
            m = self.esc_search(text, start)
            esc = self._esc = m.start() if m is not None else -1
        bel = self._bel
        if -1 != bel < start:
            bel = self._bel = text.find("\x07", start)
        c1 = self._c1
        if -1 != c1 < start:
            m = C1.search(text, start)
            c1 = self._c1 = m.start() if m is not None else -1
        best = esc
        if bel >= 0 and (best < 0 or bel < best):
            best = bel
        if c1 >= 0 and (best < 0 or c1 < best):
            best = c1
        return best


# Normally only SGRs with colon sub-parameters or a candidate 8 (conceal) are the host's business;
# while concealed, every SGR is, to see the reset.
TOKEN = re.compile(
    _TOKEN_TEMPLATE.replace("{sgr}", r"[0-9;]*:[0-9;:]*m|(?:[0-9;]*;)?8(?:;[0-9;]*)?m")
)
TOKEN_CONCEALED = re.compile(_TOKEN_TEMPLATE.replace("{sgr}", r"[0-9;:]*m"))

# A proper prefix of an escape sequence at the very end of a read: held back for the next read.
PARTIAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[ -/]*)\Z")

# The longest partial sequence we hold back; anything longer is garbage and goes through.
MAX_PARTIAL = 256
# OSC payloads longer than this (e.g. huge OSC 52 clipboard writes) are dropped, not buffered.
MAX_OSC = 65_536

# DEC private modes pyavt implements itself; the host forwards only these to it.
BACKEND_DEC_MODES = frozenset({1, 6, 7, 25, 47, 1047, 1048, 1049})
ALT_SCREEN_MODES = frozenset({47, 1047, 1049})
# Modes DECRQM reports as "known but reset" (2) rather than "unknown" (0).
KNOWN_DEC_MODES = frozenset(
    {1, 6, 7, 12, 25, 47, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 1047, 1048, 1049, 2004,
     2026, 2031}
)
DEFAULT_DEC_MODES = frozenset({7, 25})

CURSOR_SHAPES = {0: "block", 1: "block", 2: "block", 3: "underline", 4: "underline", 5: "bar",
                 6: "bar"}


def conceal_change(params: str) -> bool | None:
    """True if an SGR turns conceal on, False if it turns it off, None if it leaves it."""
    values = params.split(";") if params else [""]
    result: bool | None = None
    i = 0
    while i < len(values):
        head = values[i].split(":", 1)[0]
        if head in ("38", "48", "58") and ":" not in values[i]:
            kind = values[i + 1] if i + 1 < len(values) else ""
            i += 3 if kind == "5" else 5 if kind == "2" else 1
            continue
        if head in ("", "0", "28"):
            result = False
        elif head == "8":
            result = True
        i += 1
    return result


def parse_params(params: str) -> list[int]:
    """CSI parameters as ints (missing or malformed -> 0); sub-parameters keep their head."""
    out: list[int] = []
    for part in params.split(";"):
        head = part.split(":", 1)[0]
        out.append(int(head) if head.isdigit() and len(head) < 10 else 0)
    return out
