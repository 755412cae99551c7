"""The server room stands alone: it imports neither gateway clients, nor the TUI, nor Textual."""

from __future__ import annotations

import subprocess
import sys

SERVER_MODULES = (
    "heimdall.server.app",
    "heimdall.server.api",
    "heimdall.server.auth",
    "heimdall.server.context",
    "heimdall.server.launcher",
    "heimdall.server.queries",
    "heimdall.server.relay",
    "heimdall.server.routing",
    "heimdall.server.upstream",
    "heimdall.commands.gateway",
)


def test_server_loads_no_gateways_tui_or_textual() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {SERVER_MODULES!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('heimdall.gateways', 'heimdall.tui')))\n"
        "print(' '.join(bad))\n"
    )
    argv = [sys.executable, "-c", script]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
