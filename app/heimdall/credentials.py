"""Gateway credentials: the OS keyring (service "heimdall"), with environment variables for CI.

Secrets never live in `config.toml`. `heimdall auth ...` writes them here; gateway clients read
them here. Headless machines often have no keyring backend: there, each secret can come from an
environment variable instead (`HEIMDALL_BIFROST_VK`, `HEIMDALL_BIFROST_ADMIN`,
`HEIMDALL_LITELLM_KEY`, `HEIMDALL_UPSTREAM_KEY`), or install `keyrings.alt` for a file backend.
An environment variable, when set, wins over the keyring: it is the more explicit of the two.

Nothing in this module prints or logs a secret value; `describe_*` helpers only say whether one
is present and where it came from.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from enum import StrEnum

import keyring
import keyring.errors

SERVICE = "heimdall"


class SecretName(StrEnum):
    VIRTUAL_KEY = "virtual-key"
    """Bifrost virtual key (`sk-bf-...`) used for inference and `/v1/models`."""
    ADMIN = "admin"
    """Bifrost admin credential for `/api/*`: a password (with ADMIN_USERNAME) or a session token."""
    ADMIN_USERNAME = "admin-username"
    LITELLM_KEY = "litellm-key"
    """LiteLLM master key (or a virtual key when LiteLLM has a database)."""
    UPSTREAM_KEY = "upstream-key"
    """Anthropic API key the embedded gateway holds for its clients (held-key mode)."""


ENV_FALLBACK: dict[SecretName, str] = {
    SecretName.VIRTUAL_KEY: "HEIMDALL_BIFROST_VK",
    SecretName.ADMIN: "HEIMDALL_BIFROST_ADMIN",
    SecretName.ADMIN_USERNAME: "HEIMDALL_BIFROST_ADMIN_USER",
    SecretName.LITELLM_KEY: "HEIMDALL_LITELLM_KEY",
    SecretName.UPSTREAM_KEY: "HEIMDALL_UPSTREAM_KEY",
}

ALIASES: dict[str, SecretName] = {"anthropic-api-key": SecretName.UPSTREAM_KEY}
"""Other names callers use for the same items (the embedded gateway asks for "anthropic-api-key")."""

NO_BACKEND_HINT = (
    "no OS keyring backend is available; install one (e.g. `pip install keyrings.alt` for a "
    "file backend, or run a Secret Service such as gnome-keyring), or set the environment "
    "variable instead: " + ", ".join(f"{v} ({k.value})" for k, v in ENV_FALLBACK.items())
)


class SecretsUnavailable(Exception):
    """The keyring cannot store or read secrets here; the message says what to do instead."""


def backend_description() -> tuple[bool, str]:
    """(usable, human description) of the active keyring backend."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend config must not crash `doctor`
        return False, f"keyring failed to load: {exc}"
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    priority = getattr(backend, "priority", 1)
    if "fail" in type(backend).__module__ or (isinstance(priority, (int, float)) and priority <= 0):
        return False, f"{name}: {NO_BACKEND_HINT}"
    return True, name


def _name(name: SecretName | str) -> SecretName:
    if isinstance(name, SecretName):
        return name
    return ALIASES.get(name) or SecretName(name)


def get_secret(name: SecretName | str, environ: dict[str, str] | None = None) -> str | None:
    """The secret from its environment variable, else the keyring, else None. Never raises
    (an unknown name is None too)."""
    try:
        name = _name(name)
    except ValueError:
        return None
    env = os.environ if environ is None else environ
    value = env.get(ENV_FALLBACK[name])
    if value:
        return value
    try:
        return keyring.get_password(SERVICE, name.value)
    except (keyring.errors.KeyringError, RuntimeError, OSError):
        return None


def secret_source(name: SecretName, environ: dict[str, str] | None = None) -> str | None:
    """Where the secret comes from ("env HEIMDALL_...", "keyring") or None when absent."""
    env = os.environ if environ is None else environ
    if env.get(ENV_FALLBACK[name]):
        return f"env {ENV_FALLBACK[name]}"
    try:
        return "keyring" if keyring.get_password(SERVICE, name.value) else None
    except (keyring.errors.KeyringError, RuntimeError, OSError):
        return None


def set_secret(name: SecretName, value: str) -> None:
    """Store a secret in the keyring. Raises `SecretsUnavailable` with advice when it cannot."""
    if not value:
        raise ValueError("refusing to store an empty secret")
    try:
        keyring.set_password(SERVICE, name.value, value)
    except keyring.errors.NoKeyringError:
        raise SecretsUnavailable(NO_BACKEND_HINT) from None
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        raise SecretsUnavailable(f"keyring refused to store {name.value}: {exc}") from None


def delete_secret(name: SecretName) -> bool:
    """Remove a secret from the keyring; False when it was not there."""
    try:
        keyring.delete_password(SERVICE, name.value)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.NoKeyringError:
        raise SecretsUnavailable(NO_BACKEND_HINT) from None
    except (keyring.errors.KeyringError, RuntimeError, OSError) as exc:
        raise SecretsUnavailable(f"keyring refused to delete {name.value}: {exc}") from None
    return True


@dataclass(frozen=True, slots=True)
class AdminCredential:
    """Bifrost management auth: Basic (username + password) or Bearer (session/API token)."""

    secret: str
    username: str | None = None

    @property
    def header(self) -> str:
        if self.username is not None:
            raw = f"{self.username}:{self.secret}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        return f"Bearer {self.secret}"

    @property
    def scheme(self) -> str:
        return "basic" if self.username is not None else "bearer"

    def __repr__(self) -> str:  # never show the secret in tracebacks or logs
        return f"AdminCredential(scheme={self.scheme!r}, username={self.username!r})"


def admin_credential(environ: dict[str, str] | None = None) -> AdminCredential | None:
    """The Bifrost admin credential. `HEIMDALL_BIFROST_ADMIN=user:password` also means Basic."""
    secret = get_secret(SecretName.ADMIN, environ)
    if not secret:
        return None
    username = get_secret(SecretName.ADMIN_USERNAME, environ)
    env = os.environ if environ is None else environ
    if username is None and env.get(ENV_FALLBACK[SecretName.ADMIN]) and ":" in secret:
        username, secret = secret.split(":", 1)
    return AdminCredential(secret=secret, username=username)
