"""`heimdall` (no subcommand): the full-screen app with one tab per session."""

from __future__ import annotations

import argparse
import atexit

from app.config import Config


def run(args: argparse.Namespace, config: Config) -> int:
    from app.ui.app import HeimdallApp, TabRequest

    app = HeimdallApp(config, initial_tabs=[TabRequest()], handle_signals=True)
    # No child may outlive Heimdall, whatever way the process ends.
    atexit.register(app.kill_children_now)
    result = app.run()
    app.kill_children_now()
    return int(result or 0)
