"""The embedded gateway's local access token.

`/api/*` (and, when the gateway holds the upstream key, the inference routes) require
`Authorization: Bearer <token>`. The token is random, created on first use and kept in
`gateway-token` (mode 0600) in the data dir, where the TUI and `heimdall usage` find it too; this
is the one secret Heimdall keeps in a plain file, because it only guards a loopback service.
`HEIMDALL_GATEWAY_TOKEN` overrides the file (and is required for a non-loopback bind).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from heimdall import paths

TOKEN_ENV = "HEIMDALL_GATEWAY_TOKEN"
TOKEN_FILE = "gateway-token"
_MIN_LEN = 16


class TokenError(Exception):
    """The token file is unreadable or unsafe."""


def token_path() -> Path:
    return paths.data_dir() / TOKEN_FILE


def explicit_token() -> str | None:
    """The token from `HEIMDALL_GATEWAY_TOKEN`, if set and non-empty."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None


def load_or_create_token() -> str:
    """The env token, else the token file's (creating it, mode 0600, on first use)."""
    env = explicit_token()
    if env is not None:
        if len(env) < _MIN_LEN:
            raise TokenError(f"{TOKEN_ENV} is too short: use at least {_MIN_LEN} characters")
        return env
    path = token_path()
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    except OSError as exc:
        raise TokenError(f"cannot read the gateway token {path}: {exc}") from exc
    if existing:
        with contextlib.suppress(OSError):
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        return existing
    token = "hmd-" + secrets.token_urlsafe(32)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        try:
            os.link(tmp, path)  # atomic create-if-absent: a racing process keeps its own token
        except FileExistsError:
            return path.read_text(encoding="utf-8").strip() or token
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise TokenError(f"cannot write the gateway token {path}: {exc}") from exc
    return token
