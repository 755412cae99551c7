"""`heimdall` (no subcommand): the full-screen app with one tab per session."""

from __future__ import annotations

import argparse
import os

from heimdall.config import Config

ESCAPE_DELAY_MS = "25"
"""How long Textual waits after a lone Esc byte for the rest of an escape sequence (its default is
100 ms). Claude Code uses Esc to interrupt, so it should arrive at once; 25 ms still joins the
bytes of a sequence sent over a slow link. Terminals with the kitty keyboard protocol (which
Textual enables) send Esc unambiguously and never wait. `ESCDELAY` in the environment wins."""


def run(args: argparse.Namespace, config: Config) -> int:
    os.environ.setdefault("ESCDELAY", ESCAPE_DELAY_MS)  # read when Textual is first imported
    from heimdall.tui.sessions_app import run_tui

    return run_tui(args, config)
