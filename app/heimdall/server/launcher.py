"""Find or start the embedded gateway for the TUI and the CLI.

`ensure_embedded_gateway(config)` reuses a healthy Heimdall gateway already listening on the
configured port (it must be ours and accept our token), else starts `python -P -m heimdall gateway`
detached (its own session, so closing the TUI or its terminal does not stop it; output to
`gateway.log` in the data dir) and waits until it answers. Every failure is a
`GatewayStartError` whose message says what to do (gateways/embedded.py turns it into the
`GatewayError` the TUI and CLI print: the server room knows nothing of gateway clients).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from heimdall import paths
from heimdall.server.auth import TokenError, load_or_create_token

if TYPE_CHECKING:
    from heimdall.config import Config

LOG_FILE = "gateway.log"
_STARTED: list[subprocess.Popen[bytes]] = []
"""Gateways this process started: kept referenced so no "still running" warning fires when the
handle would be collected; the gateway is meant to outlive us."""
SERVICE_NAME = "heimdall-gateway"  # what /health reports (see heimdall.server.app)
READY_PREFIX = "heimdall gateway ready on "


@dataclass(frozen=True, slots=True)
class EmbeddedGatewayHandle:
    url: str
    token: str
    started: bool
    """True when this call started the process (False: an already running one was reused)."""
    held_key: bool = False
    """The gateway holds the upstream key: clients must send `token` as their credential."""


class GatewayStartError(Exception):
    """The embedded gateway could not be reached or started."""


def log_path() -> Path:
    return paths.data_dir() / LOG_FILE


def _connect_host(host: str) -> str:
    if host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _probe(url: str, token: str, timeout: float) -> tuple[str, bool]:
    """("absent" | "ours" | "foreign" | "badtoken", held_key)."""
    try:
        health = httpx.get(url + "/health", timeout=timeout, trust_env=False)
    except httpx.HTTPError:
        return "absent", False
    try:
        info = health.json()
    except ValueError:
        info = None
    if not isinstance(info, dict) or info.get("service") != SERVICE_NAME:
        return "foreign", False
    held = info.get("auth_mode") == "held_key"
    try:
        check = httpx.get(
            url + "/api/logs",
            params={"limit": "1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            trust_env=False,
        )
    except httpx.HTTPError:
        return "absent", held
    return ("ours" if check.status_code == 200 else "badtoken"), held


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def ensure_embedded_gateway(
    config: Config, *, timeout_s: float = 20.0, python: str | None = None
) -> EmbeddedGatewayHandle:
    """Reuse the running embedded gateway on the configured port, or start one detached."""
    emb = config.embedded
    try:
        token = load_or_create_token()
    except TokenError as exc:
        raise GatewayStartError(str(exc)) from exc
    if emb.port != 0:
        url = f"http://{_connect_host(emb.host)}:{emb.port}"
        state, held = _probe(url, token, timeout=1.0)
        if state == "ours":
            return EmbeddedGatewayHandle(url=url, token=token, started=False, held_key=held)
        if state == "badtoken":
            raise GatewayStartError(
                f"a Heimdall gateway is running on {url} but refuses this token: it was started "
                "with another HEIMDALL_GATEWAY_TOKEN or data dir. Stop it, or set the same token."
            )
        if state == "foreign":
            raise GatewayStartError(
                f"port {emb.port} on {emb.host} is taken by something that is not a Heimdall "
                "gateway; set [embedded] port in the config to a free port."
            )

    log = log_path()
    # -P and a fixed working directory: the user's folder (which may hold a package of any name,
    # e.g. a Flask project's `app/`) must never be on the detached gateway's sys.path.
    argv = [python or sys.executable, "-P", "-m", "heimdall", "gateway", "--host", emb.host]
    argv += ["--port", str(emb.port), "--upstream", emb.upstream]
    if emb.db:
        argv += ["--db", emb.db]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    with open(log, "ab") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {argv!r}\n".encode())
        out.flush()
        offset = out.tell()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            start_new_session=True,
            close_fds=True,
            cwd=paths.data_dir(),
        )
    deadline = time.monotonic() + timeout_s
    url = f"http://{_connect_host(emb.host)}:{emb.port}" if emb.port else ""
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise GatewayStartError(
                f"the embedded gateway exited with code {code} while starting. "
                f"Last lines of {log}:\n{_tail(log)}"
            )
        if not url:
            url = _ready_url(log, offset) or ""
        if url:
            state, held = _probe(url, token, timeout=0.5)
            if state == "ours":
                _STARTED.append(proc)
                return EmbeddedGatewayHandle(url=url, token=token, started=True, held_key=held)
            if state == "badtoken":
                proc.terminate()
                proc.wait(5)
                raise GatewayStartError(f"the gateway started on {url} refuses our token")
        time.sleep(0.05)
    proc.terminate()
    proc.wait(5)
    raise GatewayStartError(
        f"the embedded gateway did not become ready within {timeout_s:.0f} s. "
        f"Last lines of {log}:\n{_tail(log)}"
    )


def _ready_url(log: Path, offset: int) -> str | None:
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(READY_PREFIX):
            return line[len(READY_PREFIX) :].split()[0]
    return None
