"""`heimdall gateway`: run the embedded gateway in the foreground.

Prints exactly one ready line (`heimdall gateway ready on <url> ...`) once it accepts requests, so
a parent process (the launcher, a test, a script) can wait for it. SIGINT/SIGTERM shut it down
cleanly: in-flight requests get a few seconds, then every queued log write is committed.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heimdall.config import Config


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    from heimdall.net import is_loopback
    from heimdall.server import auth as token_mod
    from heimdall.server.app import (
        GatewaySettings,
        bind_socket,
        create_app,
        uvicorn_config,
    )
    from heimdall.server.launcher import READY_PREFIX
    from heimdall.server.store import StoreError

    emb = config.embedded
    # `heimdall gateway`'s parser (cli.py) always defines --host, --port, --upstream and --db.
    host: str = args.host or emb.host
    port: int = emb.port if args.port is None else args.port
    if not is_loopback(host) and token_mod.explicit_token() is None:
        _say(
            "\n"
            "!!! REFUSING TO START: --host "
            f"{host} would expose the gateway (and your request log) beyond this machine.\n"
            f"!!! Set {token_mod.TOKEN_ENV} to a long random secret to allow a non-loopback "
            "bind; every client must then send it.\n"
        )
        return 2
    try:
        token = token_mod.load_or_create_token()
    except token_mod.TokenError as exc:
        _say(f"heimdall gateway: {exc}")
        return 2
    settings = GatewaySettings.from_config(
        config,
        token=token,
        host=host,
        port=port,
        upstream=args.upstream,
        db=args.db,
        held_key=token_mod.held_key_from_environment(),
    )
    if not settings.upstream.startswith(("http://", "https://")):
        _say(f"heimdall gateway: --upstream must be an http(s) URL, got {settings.upstream!r}")
        return 2
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        _say(f"heimdall gateway: cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}"
    app = create_app(settings)
    mode = "held key (clients send the local token)" if settings.held_key else "pass-through auth"

    def announce() -> None:
        if not is_loopback(host):
            _say(f"WARNING: the gateway listens on {host}, reachable from other machines.")
        print(
            f"{READY_PREFIX}{url} (upstream {settings.upstream}, {mode}, log {settings.db_path})",
            flush=True,
        )

    app.on_started = announce
    server = uvicorn.Server(uvicorn_config(app, timeout_graceful_shutdown=5))
    # uvicorn re-raises the signal it caught once shut down; with these no-op handlers in place
    # that re-raise is harmless and a requested stop exits 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    try:
        server.run(sockets=[sock])
    except StoreError as exc:
        _say(f"heimdall gateway: {exc}")
        return 1
    except SystemExit:  # uvicorn exits 3 when the app's startup failed; say why below
        pass
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if app.startup_error is not None:
        _say(f"heimdall gateway: failed to start: {app.startup_error}")
        return 1
    return 0
