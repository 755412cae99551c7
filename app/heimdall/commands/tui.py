"""`heimdall` (no subcommand): the full-screen app with one tab per session.

The composition root of the TUI: it picks the gateway (starting the embedded one when needed),
loads the saved sessions, builds the `SessionServices` and hands them to the one `HeimdallApp`.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
from pathlib import Path

from heimdall.config import Config
from heimdall.gateways import make_client
from heimdall.gateways.protocol import GatewayError
from heimdall.keymap import Keymap
from heimdall.services.sessions import SessionServices
from heimdall.sessions.store import Session, SessionStore
from heimdall.tui.app import RUN_DEMO_EXIT, HeimdallApp
from heimdall.tui.screens.first_run import needs_credential_screen, upstream_credential


def build_services(args: argparse.Namespace, config: Config) -> SessionServices:
    """The configured gateway (embedded one started if needed) and the saved sessions.

    Raises `GatewayError` with a one-line message when the gateway cannot be reached/started, and
    `KeymapError` (a `ConfigError`: exit 2) on a bad `[keys]` remap, before anything starts.
    """
    Keymap.load(config.keys)
    handle = None
    kind = config.gateway.kind
    if kind == "embedded" or (kind == "auto" and not config.gateway.url):
        from heimdall.gateways.embedded import ensure_embedded_gateway

        handle = ensure_embedded_gateway(config)
        config.gateway.kind = "embedded"
    client = make_client(config, embedded=handle)
    store = SessionStore()
    store.load()
    restore = not args.fresh
    first: list[Session] = []
    if not (restore and store.sessions):
        cwd = Path(config.agent.cwd or os.getcwd()).resolve()
        command = None if Path(config.agent.command).name == "claude" else config.agent.command
        first.append(Session.new(cwd.name or "session", cwd, model=config.agent.default_model,
                                 command=command, project_dir=cwd))
    missing = (
        handle is not None
        and not handle.held_key
        and needs_credential_screen("embedded", config.embedded.upstream, upstream_credential())
    )
    claude_bin = None
    if Path(config.agent.command).name == "claude":
        claude_bin = shutil.which(config.agent.command)  # `--agent /path/to/claude` is Claude Code too
    return SessionServices(config, client, store, claude_bin=claude_bin, restore=restore,
                           first_sessions=first, credential_missing=missing,
                           upstream=config.embedded.upstream)


def build_tui_app(args: argparse.Namespace, config: Config) -> HeimdallApp:
    """The real `heimdall`: see `build_services`; the app ends its children on SIGTERM/SIGHUP."""
    return HeimdallApp(config, build_services(args, config), handle_signals=True)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        app = build_tui_app(args, config)
    except GatewayError as exc:
        print(f"heimdall: {exc.message}", file=sys.stderr)
        return 1
    atexit.register(app.kill_children_now)
    result = app.run()
    app.kill_children_now()
    if result == RUN_DEMO_EXIT:
        from heimdall.commands import demo

        return demo.run(args, config)
    return int(result or 0)
