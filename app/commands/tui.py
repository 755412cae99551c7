"""`heimdall` (no subcommand): the full-screen app with one tab per session."""

from __future__ import annotations

import argparse
import atexit
import os

from app.config import Config

ESCAPE_DELAY_MS = "25"
"""How long Textual waits after a lone Esc byte for the rest of an escape sequence (its default is
100 ms). Claude Code uses Esc to interrupt, so it should arrive at once; 25 ms still joins the
bytes of a sequence sent over a slow link. Terminals with the kitty keyboard protocol (which
Textual enables) send Esc unambiguously and never wait. `ESCDELAY` in the environment wins."""


def run(args: argparse.Namespace, config: Config) -> int:
    os.environ.setdefault("ESCDELAY", ESCAPE_DELAY_MS)  # read when Textual is first imported
    from app.ui.app import HeimdallApp, TabRequest

    app = HeimdallApp(config, initial_tabs=[TabRequest()], handle_signals=True)
    # No child may outlive Heimdall, whatever way the process ends.
    atexit.register(app.kill_children_now)
    result = app.run()
    app.kill_children_now()
    return int(result or 0)
