"""`heimdall auth ...`: put gateway credentials in the OS keyring (never in config, never printed).

Secrets are read from standard input with `--stdin` (scripts: `printf %s "$KEY" | heimdall auth
set-virtual-key --stdin`) or typed at a hidden prompt. `status` says which are present and where
from (environment or keyring), never their values.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from heimdall import credentials as secrets
from heimdall.config import Config
from heimdall.credentials import SecretName, SecretsUnavailable
from heimdall.gateways.commandline import fail, format_table

TARGETS = {
    "set-virtual-key": (SecretName.VIRTUAL_KEY, "Bifrost virtual key"),
    "set-admin": (SecretName.ADMIN, "Bifrost admin credential"),
    "set-litellm-key": (SecretName.LITELLM_KEY, "LiteLLM key"),
    "set-upstream-key": (SecretName.UPSTREAM_KEY, "Anthropic upstream key for the embedded gateway"),
}
CLEAR_NAMES = {
    "virtual-key": [SecretName.VIRTUAL_KEY],
    "admin": [SecretName.ADMIN, SecretName.ADMIN_USERNAME],
    "litellm-key": [SecretName.LITELLM_KEY],
    "upstream-key": [SecretName.UPSTREAM_KEY],
}


def _read_secret(args: argparse.Namespace, what: str) -> str:
    if args.stdin:
        return sys.stdin.read().strip()
    if not sys.stdin.isatty():
        raise ValueError("standard input is not a terminal: pass --stdin to read the secret from it")
    return getpass.getpass(f"{what}: ").strip()


def _store(args: argparse.Namespace) -> int:
    name, what = TARGETS[args.auth_command]
    label = "password" if args.auth_command == "set-admin" and args.username else what
    try:
        value = _read_secret(args, label)
    except (ValueError, EOFError) as exc:
        return fail(str(exc) or "no input", code=2)
    if not value:
        return fail(f"empty {what}: nothing stored", code=2)
    if "\n" in value or "\r" in value:
        return fail(f"the {what} must be one line", code=2)
    try:
        secrets.set_secret(name, value)
        if args.auth_command == "set-admin":
            if args.username:
                secrets.set_secret(SecretName.ADMIN_USERNAME, args.username)
            else:  # a token: drop any stale username so Bearer is used
                secrets.delete_secret(SecretName.ADMIN_USERNAME)
    except SecretsUnavailable as exc:
        return fail(str(exc), code=2)
    scheme = ""
    if args.auth_command == "set-admin":
        scheme = f" (Basic auth as {args.username})" if args.username else " (Bearer token)"
    if name is SecretName.VIRTUAL_KEY and not value.startswith("sk-bf-"):
        print("warning: Bifrost virtual keys normally start with sk-bf-", file=sys.stderr)
    print(f"stored {what}{scheme} in the keyring (service {secrets.SERVICE!r}, item {name.value!r})")
    return 0


def _status(as_json: bool) -> int:
    usable, backend = secrets.backend_description()
    rows = []
    for name in SecretName:
        source = secrets.secret_source(name)
        rows.append(
            {
                "name": name.value,
                "present": source is not None,
                "source": source,
                "env": secrets.ENV_FALLBACK[name],
            }
        )
    if as_json:
        print(json.dumps({"keyring": {"usable": usable, "backend": backend}, "secrets": rows}, indent=2))
        return 0
    print(f"keyring: {backend}" if usable else f"keyring: unavailable: {backend}")
    table = [[str(r["name"]), "yes" if r["present"] else "no", str(r["source"] or "-"), str(r["env"])]
             for r in rows]
    print(format_table(["secret", "stored", "from", "env override"], table, [False] * 4))
    return 0


def run(args: argparse.Namespace, config: Config) -> int:
    command = args.auth_command
    if command in TARGETS:
        return _store(args)
    if command == "status":
        return _status(bool(getattr(args, "json", False)))
    if command == "clear":
        removed = False
        try:
            for name in CLEAR_NAMES[args.name]:
                removed = secrets.delete_secret(name) or removed
        except SecretsUnavailable as exc:
            return fail(str(exc), code=2)
        print(f"removed {args.name} from the keyring" if removed else f"{args.name} was not stored")
        return 0
    return fail(f"unknown auth action {command!r}", code=2)
