"""Grapheme clusters the way Ink (Claude Code's renderer) and rich measure them.

The native backend gives every code point its own cell, so a combining accent, a ZWJ emoji
sequence (``👩‍💻``) or a VS16 emoji (``❤️``) would spill over several cells. We instead map
each multi-code-point cluster to one private placeholder code point that the backend stores in
a single cell of the right width (2 for emoji presentation, ZWJ sequences and flags, like Ink
and rich), and map placeholders back to the real text when rows are read out.

Wide placeholders come from unassigned plane-3 code points (East Asian Width "W", so the backend
gives them two cells); narrow ones from Supplementary Private Use Area-B (one cell).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rich.cells import cell_len

_WIDE_FIRST, _WIDE_LAST = 0x38000, 0x3FFFD
_NARROW_FIRST, _NARROW_LAST = 0x100000, 0x10FFFD
PLACEHOLDER_MIN = "\U00038000"
_ZERO_CATEGORIES = frozenset({"Mn", "Me", "Mc", "Cf"})


def _zero_width_ranges() -> list[tuple[int, int]]:
    """Code points rich measures as zero cells: marks, format characters and emoji modifiers.

    Only the Basic Multilingual Plane is taken by category: Python's regex engine checks a BMP
    class with a bitmap but walks astral ranges one by one, and the hundreds of astral mark
    ranges (historic scripts) made the scan 20x slower. The astral ones that matter for emoji
    are listed explicitly.
    """
    zero: list[int] = [
        cp for cp in range(0x300, 0x10000) if unicodedata.category(chr(cp)) in _ZERO_CATEGORIES
    ]
    zero.extend(range(0x1160, 0x1200))  # Hangul medial vowels / final consonants
    zero.extend(range(0xD7B0, 0xD800))
    zero.extend((0x3164, 0xFFA0))  # Hangul fillers
    zero.extend(range(0x1F3FB, 0x1F400))  # emoji skin-tone modifiers
    zero.extend(range(0xE0000, 0xE0080))  # tags (subdivision flags)
    zero.extend(range(0xE0100, 0xE01F0))  # variation selectors supplement
    # Format characters that terminals draw one cell wide.
    shown = {0xAD, *range(0x600, 0x606), 0x6DD, 0x70F, 0x8E2}
    return _compress(set(zero) - shown)


def _compress(code_points: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted code points as inclusive (first, last) ranges."""
    ranges: list[tuple[int, int]] = []
    for cp in sorted(set(code_points)):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


_EXT = _char_class(_zero_width_ranges())
_RI = "\U0001f1e6-\U0001f1ff"
# Symbols Unicode 16 made wide (trigrams, hexagrams, Tai Xuan Jing, counting rods) that older
# tables, like the backend's, still call narrow: drawn through a wide placeholder so the cell
# count agrees with rich's (and so with Textual's) measurement.
_RESIZED = _char_class(
    _compress(
        cp
        for first, last in ((0x2630, 0x2637), (0x268A, 0x268F), (0x4DC0, 0x4DFF), (0x1D300, 0x1D376))
        for cp in range(first, last + 1)
        if cell_len(chr(cp)) == 2
    )
)
_BASE = f"[^\x00-\x1f\x7f-\x9f{_EXT}]"
# A cluster worth special handling: anything followed by at least one zero-width character (ZWJ
# joins the next base), a regional-indicator pair, a resized symbol; or an "orphan" run of
# zero-width characters with no base before it (after a control or escape sequence): dropped.
CLUSTER_RE = re.compile(
    f"(?:[{_RI}]{{2}}|{_BASE})(?:\u200d{_BASE}?|[{_EXT}])+|[{_RI}]{{2}}"
    + (f"|[{_RESIZED}]" if _RESIZED else "")
    + f"|(?P<orphan>[{_EXT}]+)"
)
# Zero-width characters opening a run: they extend the cluster printed just before.
LEADING_RE = re.compile(f"(?:\u200d{_BASE}?|[{_EXT}])+")
# After a cluster ending in ZWJ, the next base character (and its marks) joins it.
JOIN_RE = re.compile(f"{_BASE}(?:\u200d{_BASE}?|[{_EXT}])*")
# Quick test: does a non-ASCII run need cluster handling at all?
NEEDS_CLUSTERING = re.compile(f"[{_EXT}{_RI}{_RESIZED}]")
JOINS_NEXT = "\u200d"


def cluster_width(cluster: str) -> int:
    """Cells a cluster occupies, as Ink and rich count it (1 or 2)."""
    return 2 if cell_len(cluster) >= 2 else 1


class ClusterTable:
    """Interns clusters as placeholder code points; bounded, never reused while alive."""

    def __init__(self) -> None:
        self._by_cluster: dict[str, str] = {}
        self.to_text: dict[int, str] = {}
        self._next_wide = _WIDE_FIRST
        self._next_narrow = _NARROW_FIRST

    def placeholder(self, cluster: str) -> tuple[str, int]:
        """Placeholder character and width for ``cluster``."""
        width = cluster_width(cluster)
        found = self._by_cluster.get(cluster)
        if found is not None:
            return found, width
        if width == 2 and self._next_wide <= _WIDE_LAST:
            cp = self._next_wide
            self._next_wide += 1
        elif width == 1 and self._next_narrow <= _NARROW_LAST:
            cp = self._next_narrow
            self._next_narrow += 1
        else:
            # Table full (tens of thousands of distinct clusters): keep the base character.
            return cluster[0], cluster_width(cluster[0])
        char = chr(cp)
        self._by_cluster[cluster] = char
        self.to_text[cp] = cluster
        return char, width

    def restore(self, text: str) -> str:
        """Replace placeholders in backend text by the clusters they stand for."""
        if self.to_text and text and max(text) >= PLACEHOLDER_MIN:
            return text.translate(self.to_text)
        return text
