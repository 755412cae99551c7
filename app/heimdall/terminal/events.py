"""Values the emulator hands to its host: the cursor and the out-of-band events.

Kept free of any UI import so the widget, tests and benchmarks can share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CursorShape = Literal["block", "underline", "bar"]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the child's cursor is (0-based, always inside the screen) and how to draw it."""

    x: int
    y: int
    visible: bool
    shape: CursorShape = "block"


@dataclass(frozen=True, slots=True)
class TitleChanged:
    """The child set its window title (OSC 0 or OSC 2)."""

    title: str


@dataclass(frozen=True, slots=True)
class Bell:
    """The child rang the bell (BEL outside any string sequence)."""


@dataclass(frozen=True, slots=True)
class Notify:
    """The child asked for a desktop notification (OSC 9 or OSC 777;notify)."""

    text: str
    title: str = ""


TerminalEvent = TitleChanged | Bell | Notify
