"""`heimdall demo`: the whole app, working, with no account: a simulated model behind our gateway.

The composition root of the demo: it starts the demo stack (`heimdall.demo.stack`: simulated
upstream, in-process embedded gateway, throwaway folder), builds `SessionServices` on it and runs
the one `HeimdallApp`. The stack is removed on exit.
"""

from __future__ import annotations

import argparse
import atexit

from heimdall.config import Config
from heimdall.demo.stack import DemoStack, demo_sessions, start_demo_stack
from heimdall.keymap import Keymap
from heimdall.services.sessions import SessionServices
from heimdall.sessions.store import SessionStore
from heimdall.tui.app import HeimdallApp


def build_demo_app(config: Config, stack: DemoStack, *, tabs: int = 2, claude_bin: str | None = None,
                   freeze_gc: bool = True, handle_signals: bool = False) -> HeimdallApp:
    config.gateway.kind = "embedded"
    services = SessionServices(
        config,
        stack.client,
        SessionStore(stack.root / "sessions.json"),
        claude_bin=claude_bin,
        base_env=stack.env,
        demo=True,
        restore=False,
        first_sessions=demo_sessions(tabs, stack.project),
    )
    return HeimdallApp(config, services, freeze_gc=freeze_gc, handle_signals=handle_signals)


def run(args: argparse.Namespace, config: Config) -> int:
    Keymap.load(config.keys)  # a bad [keys] remap is a config error (exit 2) before anything starts
    try:
        stack = start_demo_stack(config)
    except Exception as exc:
        print(f"heimdall demo: could not start the simulated gateway: {exc}")
        return 1
    atexit.register(stack.stop)
    try:
        app = build_demo_app(config, stack, tabs=args.tabs, handle_signals=True)
        atexit.register(app.kill_children_now)
        result = app.run()
        app.kill_children_now()
        return int(result or 0)
    finally:
        stack.stop()
