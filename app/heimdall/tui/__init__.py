"""Textual only: the one `HeimdallApp`, its widgets and screens.

Everything that imports Textual lives under this package, so this is the place to set what
Textual reads at import time.
"""

import os

ESCAPE_DELAY_MS = "25"
"""How long Textual waits after a lone Esc byte for the rest of an escape sequence (its default is
100 ms). Claude Code uses Esc to interrupt, so it should arrive at once; 25 ms still joins the
bytes of a sequence sent over a slow link. Terminals with the kitty keyboard protocol (which
Textual enables) send Esc unambiguously and never wait. `ESCDELAY` in the environment wins."""

os.environ.setdefault("ESCDELAY", ESCAPE_DELAY_MS)  # before any module below imports Textual
