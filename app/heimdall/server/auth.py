"""Who may use the embedded gateway: its local token, held-key mode, and the checks per route.

`/api/*` always requires `Authorization: Bearer <token>`. The inference routes pass the client's
own Anthropic credential through untouched (pass-through mode, the default), unless the gateway
holds the upstream key (held-key mode): then the client must present the token, as `x-api-key` or
a Bearer token, and the gateway sends the held key upstream in its place. `/health` and the
warm-up route are open.

The token is random, created on first use and kept in `gateway-token` (mode 0600) in the data
dir, where the TUI and `heimdall usage` find it too; this is the one secret Heimdall keeps in a
plain file, because it only guards a loopback service. `HEIMDALL_GATEWAY_TOKEN` overrides the
file (and is required for a non-loopback bind).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from heimdall import credentials, paths
from heimdall.credentials import SecretName
from heimdall.server.asgi import Scope, anthropic_error, bifrost_error

TOKEN_ENV = "HEIMDALL_GATEWAY_TOKEN"
TOKEN_FILE = "gateway-token"
_MIN_LEN = 16
HELD_KEY_ENV = "ANTHROPIC_API_KEY"
CREDENTIAL_HEADERS = frozenset({b"x-api-key", b"authorization"})
API_UNAUTHORIZED = (
    "Unauthorized: send `Authorization: Bearer <token>` with the token from the "
    "`gateway-token` file in Heimdall's data dir (or HEIMDALL_GATEWAY_TOKEN)"
)
HELD_KEY_UNAUTHORIZED = (
    "This Heimdall gateway holds the upstream key: send its local token as "
    "x-api-key or `Authorization: Bearer <token>`."
)


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


def held_key_from_environment() -> str | None:
    """The upstream key the gateway should hold: `ANTHROPIC_API_KEY`, else the stored upstream key
    (`heimdall auth set-upstream-key`: the keyring, or HEIMDALL_UPSTREAM_KEY)."""
    value = os.environ.get(HELD_KEY_ENV, "").strip()
    return value or credentials.get_secret(SecretName.UPSTREAM_KEY) or None


def presented_token(scope: Scope) -> str | None:
    """The credential a client sent (x-api-key, or a Bearer token)."""
    for key, value in scope["headers"]:
        if key == b"x-api-key":
            return value.decode("latin-1").strip()
        if key == b"authorization":
            bearer = _bearer(value)
            if bearer is not None:
                return bearer
    return None


def _bearer(value: bytes) -> str | None:
    text = value.decode("latin-1").strip()
    return text[7:].strip() if text[:7].lower() == "bearer " else None


def _same(presented: str | None, token: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())


class Access(Enum):
    """What a route asks of the caller."""

    OPEN = "open"
    """`/health` and the warm-up: nothing."""
    INFERENCE = "inference"
    """The Anthropic routes: the local token in held-key mode, else whatever upstream wants."""
    API = "api"
    """`/api/*`: `Authorization: Bearer <token>`, always (never `x-api-key`)."""


@dataclass(slots=True)
class GatewayAuth:
    token: str
    held_key: str | None = None
    """When set, the gateway sends this upstream key itself and clients must present `token`."""
    held_header: tuple[bytes, bytes] | None = field(init=False, default=None)
    """The header the relay sends upstream in place of the client's credential (held-key mode)."""

    def __post_init__(self) -> None:
        if self.held_key is not None:
            self.held_header = (b"x-api-key", self.held_key.encode("latin-1"))

    @property
    def mode(self) -> str:
        """As `/health` reports it: `held_key` or `pass_through`."""
        return "held_key" if self.held_key is not None else "pass_through"

    def token_matches(self, scope: Scope) -> bool:
        """The client presented our token (as x-api-key or a Bearer token)."""
        return _same(presented_token(scope), self.token)

    def bearer_matches(self, scope: Scope) -> bool:
        """`Authorization: Bearer <token>` (the only credential `/api/*` accepts)."""
        for key, value in scope["headers"]:
            if key == b"authorization":
                bearer = _bearer(value)
                if bearer is not None:
                    return _same(bearer, self.token)
        return False

    def refusal(self, access: Access, scope: Scope) -> dict[str, Any] | None:
        """The 401 body for a caller this access level turns away, or None to let it in."""
        if access is Access.API:
            return None if self.bearer_matches(scope) else bifrost_error(401, API_UNAUTHORIZED)
        if access is Access.INFERENCE and self.held_key is not None and not self.token_matches(scope):
            return anthropic_error(401, "authentication_error", HELD_KEY_UNAUTHORIZED)
        return None

    def upstream_headers(self, scope: Scope) -> dict[str, str]:
        """The credential for the gateway's own upstream call made on a client's behalf: the held
        key, else the client's own (unless it is our token, which upstream must never see)."""
        if self.held_key is not None:
            return {"x-api-key": self.held_key}
        if self.token_matches(scope):
            return {}
        return {
            key.decode(): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in CREDENTIAL_HEADERS
        }
