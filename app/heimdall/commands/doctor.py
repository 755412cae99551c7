"""`heimdall doctor`: is everything Heimdall needs in place? One line per check, exit 1 on failure.

Checks: the config file, the keyring backend and stored credentials, the gateway (reachable,
credentials accepted, version, latency; for LiteLLM which usage mode is active and what it cannot
show), and the Claude Code binary with its version. Warnings (`warn`) do not fail: e.g. no
keyring when nothing needs one, or the embedded gateway not running yet (`heimdall` starts it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass

from heimdall import credentials as secrets
from heimdall.claude.install import find_claude
from heimdall.config import Config
from heimdall.credentials import SecretName
from heimdall.gateways.commandline import EMBEDDED_NOT_RUNNING, printable
from heimdall.gateways.litellm import LiteLLMClient
from heimdall.gateways.protocol import GatewayClient, GatewayError, HealthStatus

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str
    detail: str


def check_config(config: Config) -> Check:
    from heimdall import paths

    if config.source is None:
        return Check("config", OK, f"no file at {paths.config_path()}; using defaults")
    return Check("config", OK, f"{config.source} (valid)")


def check_keyring(config: Config) -> Check:
    usable, backend = secrets.backend_description()
    if usable:
        return Check("keyring", OK, backend)
    needed = _needed_secrets(config)
    if needed and all(secrets.secret_source(n) for n in needed):
        backend += "; the credentials this gateway needs come from the environment"
    return Check("keyring", WARN, backend)


def _needed_secrets(config: Config) -> list[SecretName]:
    kind = config.gateway.kind
    if kind == "litellm":
        return [SecretName.LITELLM_KEY]
    if kind == "bifrost":
        return [SecretName.VIRTUAL_KEY, SecretName.ADMIN]
    return []


def check_credentials(client: GatewayClient) -> Check:
    if client.kind == "bifrost":
        names = [SecretName.VIRTUAL_KEY, SecretName.ADMIN]
    elif client.kind == "litellm":
        names = [SecretName.LITELLM_KEY]
    else:
        return Check("credentials", OK, "embedded gateway: local token file in the data dir")
    parts = []
    for name in names:
        source = secrets.secret_source(name)
        parts.append(f"{name.value}: {source or 'not stored'}")
    status = OK if all(secrets.secret_source(n) for n in names) else WARN
    return Check("credentials", status, "; ".join(parts) + " (`heimdall auth status`)")


async def check_gateway(client: GatewayClient) -> list[Check]:
    health = await client.health()
    where = f"{client.kind} at {client.base_url}"
    checks: list[Check] = []
    if health.ok:
        extra = []
        if health.version:
            extra.append(f"version {health.version}")
        if health.latency_ms is not None:
            extra.append(f"{health.latency_ms:.0f} ms")
        detail = f"{where}: {health.message}" + (f" ({', '.join(extra)})" if extra else "")
        checks.append(Check("gateway", OK, printable(detail)))
    elif client.kind == "embedded" and health.status is HealthStatus.UNREACHABLE:
        checks.append(Check("gateway", WARN, EMBEDDED_NOT_RUNNING.format(url=client.base_url)))
    else:
        checks.append(Check("gateway", FAIL, printable(f"{where}: {health.status.value}: {health.message}")))
    if isinstance(client, LiteLLMClient) and client.mode:  # known once health() has asked
        label = "spend database" if client.mode == "database" else "Prometheus /metrics/ (no database)"
        detail = f"usage from {label}; cannot show: {client.limits}"
        checks.append(Check("litellm mode", OK if health.ok else WARN, detail))
    return checks


def check_claude(config: Config) -> Check:
    command = shlex.split(config.agent.command or "claude") or ["claude"]
    if command[0] != "claude" and not command[0].endswith("/claude"):
        found = shutil.which(command[0])
        status = OK if found else FAIL
        return Check("agent", status, f"agent command {command[0]!r}: {found or 'not found on PATH'}")
    binary = command[0] if "/" in command[0] else _find_claude()
    if not binary:
        return Check("claude", FAIL, "Claude Code not found (install it, or put `claude` on PATH)")
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("claude", FAIL, f"{binary}: cannot run --version: {exc}")
    version = (out.stdout or out.stderr).strip().splitlines()
    if out.returncode != 0 or not version:
        return Check("claude", FAIL, f"{binary} --version exited {out.returncode}")
    return Check("claude", OK, printable(f"{binary}: {version[0]}"))


def _find_claude() -> str | None:
    return find_claude()


def run(args: argparse.Namespace, config: Config) -> int:
    from heimdall.gateways import make_client

    checks = [check_config(config), check_keyring(config)]
    client: GatewayClient | None = None
    try:
        client = make_client(config)
    except GatewayError as exc:
        checks.append(Check("gateway", FAIL, printable(exc.message)))
    if client is not None:
        checks.append(check_credentials(client))

        async def probe(client: GatewayClient) -> list[Check]:
            try:
                return await check_gateway(client)
            finally:
                await client.aclose()

        checks.extend(asyncio.run(probe(client)))
    checks.append(check_claude(config))
    failures = [c for c in checks if c.status == FAIL]
    if args.json:  # `heimdall doctor`'s parser (cli.py) always defines --json
        print(json.dumps({"ok": not failures, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(f"{c.status:<4}  {c.name:<{width}}  {c.detail}")
    if failures:
        print(f"heimdall doctor: {failures[0].name}: {failures[0].detail}", file=sys.stderr)
        return 1
    return 0
