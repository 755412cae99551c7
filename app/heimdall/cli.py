"""Command line: `heimdall` (the TUI) and its scriptable subcommands.

Each subcommand lives in `heimdall.commands.<name>` as `run(args, config) -> exit code` and is imported
only when used, so `heimdall usage` never pays for Textual's import.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from heimdall import __version__
from heimdall.config import Config, ConfigError, load_config

EPILOG = """\
keys (defaults; remap in config.toml [keys]):
  Ctrl+]  then a key     leader: c new tab, x close, n/p next/prev, 1-9 jump,
                         r rename, m model menu, s sidebar, / search, ? help,
                         Ctrl+] sends Ctrl+] itself to the program in the tab
  Ctrl+PgDn / Ctrl+PgUp  next / previous tab

config: %(config)s (HEIMDALL_CONFIG overrides). Docs: README.md.
"""


def _add_gateway_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gateway", metavar="URL", help="gateway base URL (overrides config)")
    parser.add_argument(
        "--gateway-kind",
        choices=["bifrost", "litellm", "embedded"],
        help="which gateway the URL points at (default: guessed from the server)",
    )


def build_parser() -> argparse.ArgumentParser:
    from heimdall import paths

    parser = argparse.ArgumentParser(
        prog="heimdall",
        description=(
            "Run several Claude Code sessions side by side, one per tab, each routed through an "
            "LLM gateway, with a live sidebar of what every session spends."
        ),
        epilog=EPILOG % {"config": paths.config_path()},
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"heimdall {__version__}")
    _add_gateway_flags(parser)
    parser.add_argument("--model", help="model for new Claude Code tabs (passed as --model)")
    parser.add_argument("--cwd", help="working directory for new tabs")
    parser.add_argument(
        "--agent", metavar="CMD", help="command for new tabs instead of `claude` (e.g. 'bash')"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start without restoring the previous tabs"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gw = sub.add_parser(
        "gateway",
        help="run the embedded gateway (Anthropic pass-through with per-session metering)",
        description="Run Heimdall's embedded gateway in the foreground.",
    )
    gw.add_argument("--host", help="bind address (default 127.0.0.1)")
    gw.add_argument("--port", type=int, help="port (default 8787; 0 picks a free one)")
    gw.add_argument("--upstream", metavar="URL", help="Anthropic-compatible upstream")
    gw.add_argument("--db", metavar="PATH", help="SQLite request log (default: data dir)")

    usage = sub.add_parser(
        "usage",
        help="spend and tokens per session or per model, from the gateway",
        description="Show what each session (or model) has spent, as the gateway reports it.",
    )
    _add_gateway_flags(usage)
    usage.add_argument("--json", action="store_true", help="stable JSON (see README)")
    usage.add_argument("--by", choices=["session", "model"], default="session")
    usage.add_argument(
        "--since", default="24h", metavar="DURATION", help="window: 30m, 1h, 24h, 7d (default 24h)"
    )

    models = sub.add_parser("models", help="models the gateway serves, with prices")
    _add_gateway_flags(models)
    models.add_argument("--json", action="store_true", help="JSON output")

    doctor = sub.add_parser(
        "doctor", help="check config, keyring, gateway, and the Claude Code binary"
    )
    _add_gateway_flags(doctor)
    doctor.add_argument("--json", action="store_true", help="JSON output")

    auth = sub.add_parser("auth", help="store gateway credentials in the OS keyring")
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    vk = auth_sub.add_parser("set-virtual-key", help="Bifrost virtual key for inference")
    vk.add_argument("--stdin", action="store_true", help="read the key from standard input")
    admin = auth_sub.add_parser("set-admin", help="Bifrost admin credential for /api/*")
    admin.add_argument("--username", help="Basic auth user (password read from stdin/prompt)")
    admin.add_argument("--stdin", action="store_true", help="read the secret from standard input")
    master = auth_sub.add_parser("set-litellm-key", help="LiteLLM master key")
    master.add_argument("--stdin", action="store_true", help="read the key from standard input")
    upstream = auth_sub.add_parser(
        "set-upstream-key", help="Anthropic API key the embedded gateway holds for its clients"
    )
    upstream.add_argument("--stdin", action="store_true", help="read the key from standard input")
    auth_sub.add_parser("status", help="which credentials are stored (never their values)")
    clear = auth_sub.add_parser("clear", help="remove a stored credential")
    clear.add_argument("name", choices=["virtual-key", "admin", "litellm-key", "upstream-key"])

    demo = sub.add_parser(
        "demo",
        help="the full app against a built-in simulated upstream (no account needed)",
        description="Everything works, against a simulated model: costs are labelled 'demo'.",
    )
    demo.add_argument("--tabs", type=int, default=2, help="tabs to open (default 2)")
    # Every attribute a command reads exists whichever command was chosen (`heimdall` runs the
    # demo when the user picks it on the credential screen): no getattr(args, ...) guesswork.
    parser.set_defaults(command=None, tabs=2)
    return parser


def apply_flags(config: Config, args: argparse.Namespace) -> Config:
    """Command-line flags beat the config file and the environment.

    `args` comes from `build_parser`, whose top-level flags exist for every subcommand."""
    if args.gateway:
        config.gateway.url = args.gateway
    if args.gateway_kind:
        config.gateway.kind = args.gateway_kind
    if args.model:
        config.agent.default_model = args.model
    if args.cwd:
        config.agent.cwd = args.cwd
    if args.agent:
        config.agent.command = args.agent
    return config


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = apply_flags(load_config(), args)
    except ConfigError as exc:
        print(f"heimdall: config error: {exc}", file=sys.stderr)
        return 2
    command = args.command or "tui"
    module = importlib.import_module(f"heimdall.commands.{command}")
    try:
        return int(module.run(args, config) or 0)
    except ConfigError as exc:  # found while building (e.g. two commands on one key in [keys])
        print(f"heimdall: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
