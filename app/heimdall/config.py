"""Heimdall's configuration: one TOML file, validated by pydantic, overridable from the environment.

Sources, later wins:

1. Defaults below (every field documents itself).
2. `config.toml` in the platformdirs config dir, or the file named by `HEIMDALL_CONFIG`.
   A missing file is fine; a malformed one is a `ConfigError` naming file, line and key.
3. Environment: `HEIMDALL_<SECTION>__<KEY>` for any key (e.g. `HEIMDALL_TERMINAL__SCROLLBACK_LINES`),
   plus the short forms `HEIMDALL_AGENT`, `HEIMDALL_MODEL`, `HEIMDALL_GATEWAY_URL`,
   `HEIMDALL_GATEWAY_KIND`.
4. Command-line flags (applied by `heimdall.cli`).

Secrets never live here: credentials go to the OS keyring (`heimdall auth ...`).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heimdall import paths

GatewayKind = Literal["auto", "embedded", "bifrost", "litellm"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AgentConfig(_Section):
    command: str = "claude"
    """Program each new tab runs. `claude` by default; any command line works (`bash`, `htop`)."""
    default_model: str | None = None
    """Model passed as `--model` to Claude Code; None lets the gateway/Claude Code decide."""
    cwd: str | None = None
    """Working directory for new tabs; None means the directory Heimdall was started in."""
    extra_args: list[str] = Field(default_factory=list)
    """Extra arguments appended to every Claude Code launch (e.g. `["--permission-mode", "default"]`)."""


class TerminalConfig(_Section):
    scrollback_lines: int = Field(default=10_000, ge=100, le=1_000_000)
    """Lines of history kept per tab."""
    max_fps: int = Field(default=60, ge=5, le=240)
    """Upper bound on repaints per second for the focused tab."""
    background_fps: int = Field(default=20, ge=1, le=120)
    """Upper bound on repaints per second for visible but unfocused terminals."""


class KeysConfig(_Section):
    prefix: str = "ctrl+right_square_bracket"
    """Leader key (Ctrl+]): press it, then a command key (`?` for the list). Claude Code never uses it."""
    bindings: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys (comma-separated), e.g. `"next-tab" = "ctrl+pagedown,f8"`."""


class GatewayConfig(_Section):
    kind: GatewayKind = "auto"
    """`auto` uses `url` when set (kind guessed from the server), else the embedded gateway."""
    url: str | None = None
    """Base URL of the gateway (Bifrost `http://localhost:8080`, LiteLLM `http://localhost:4000`)."""
    refresh_seconds: float = Field(default=2.0, ge=0.25, le=600)
    """How often the sidebar polls the gateway (one request per refresh for all tabs)."""
    timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    """Timeout of every gateway HTTP call."""
    litellm_user_header: str = "x-heimdall-session"
    """Header LiteLLM is configured to read as the end user (`general_settings.user_header_name`)."""
    pass_provider_keys: bool = False
    """Let tabs inherit `ANTHROPIC_API_KEY` / `ANTHROPIC_AUTH_TOKEN` from Heimdall's environment."""
    per_session_virtual_keys: bool = False
    """Bifrost with an admin credential: create one virtual key (with budget) per tab."""
    keep_virtual_keys: bool = False
    """Keep per-tab Bifrost virtual keys when the tab closes (default: delete them)."""


class EmbeddedGatewayConfig(_Section):
    host: str = "127.0.0.1"
    """Bind address. Anything but loopback requires a token and says so loudly."""
    port: int = Field(default=8787, ge=0, le=65535)
    upstream: str = "https://api.anthropic.com"
    """Where requests go: Anthropic's API, or any Anthropic-compatible endpoint."""
    db: str | None = None
    """SQLite file for the request log; default `gateway.db` in the data dir."""
    daily_budget_usd: float | None = Field(default=None, gt=0)
    """Refuse requests (HTTP 402 `billing_error`) once today's spend reaches this."""
    session_budget_usd: float | None = Field(default=None, gt=0)
    """Default per-session budget; a tab's own budget wins."""


class ModelPrice(_Section):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    cache_write_1h: float | None = Field(default=None, ge=0)


class PricingConfig(_Section):
    overrides: dict[str, ModelPrice] = Field(default_factory=dict)
    """Per-model prices that beat the price library, e.g. `[pricing.overrides."my-model"]`."""


class UIConfig(_Section):
    theme: str = "textual-dark"
    sidebar: bool = True
    """Show the spend sidebar at start (toggle with the prefix key, then `s`)."""
    desktop_notifications: bool = False
    """Also send OSC 9 notifications to the host terminal."""


class Config(_Section):
    agent: AgentConfig = Field(default_factory=AgentConfig)
    terminal: TerminalConfig = Field(default_factory=TerminalConfig)
    keys: KeysConfig = Field(default_factory=KeysConfig)
    gateway: GatewayConfig = Field(default_factory=GatewayConfig)
    embedded: EmbeddedGatewayConfig = Field(default_factory=EmbeddedGatewayConfig)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    ui: UIConfig = Field(default_factory=UIConfig)

    source: Path | None = Field(default=None, exclude=True)
    """The file this was read from (None when no file exists)."""


class ConfigError(Exception):
    """A config problem, worded for one line of output. The CLI exits 2 on it."""


_SHORT_ENV = {
    "HEIMDALL_AGENT": ("agent", "command"),
    "HEIMDALL_MODEL": ("agent", "default_model"),
    "HEIMDALL_GATEWAY_URL": ("gateway", "url"),
    "HEIMDALL_GATEWAY_KIND": ("gateway", "kind"),
}
_ENV_PREFIX = "HEIMDALL_"


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration. Raises `ConfigError`."""
    environ = dict(os.environ if environ is None else environ)
    path = path or paths.config_path()
    raw: dict[str, Any] = {}
    text = ""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, text)) from None
    env_layer = _env_overrides(environ)
    merged = _deep_merge(raw, env_layer)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, Path("environment"), "", env=True)) from None
    config.source = path if path.exists() else None
    return config


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, (section, key) in _SHORT_ENV.items():
        if environ.get(name):
            layer.setdefault(section, {})[key] = environ[name]
    for name, value in environ.items():
        if not name.startswith(_ENV_PREFIX) or "__" not in name:
            continue
        parts = name[len(_ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            continue
        section, key = parts
        layer.setdefault(section, {})[key] = _env_value(value)
    return layer


def _env_value(value: str) -> Any:
    """Environment strings become lists when they look like TOML arrays; pydantic coerces the rest."""
    if value.startswith("["):
        try:
            return tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            return value
    return value


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(exc: ValidationError, path: Path, text: str, env: bool = False) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    dotted = ".".join(loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    if env:
        name = "HEIMDALL_" + "__".join(loc[:2]).upper()
        return f"environment: {name} ({dotted}): {message}"
    line = _line_of(text, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {dotted}: {message}"


def _line_of(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a key in TOML text: tracks [table] headers, matches `key =`."""
    table: list[str] = []
    best: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
        if header:
            table = [part.strip().strip('"').strip("'") for part in header.group(1).split(".")]
            if table == loc:
                best = best or number
            continue
        key = re.match(r"^([A-Za-z0-9_\-\"'. ]+?)\s*=", stripped)
        if not key:
            continue
        keys = [part.strip().strip('"').strip("'") for part in key.group(1).split(".")]
        full = table + keys
        if full == loc[: len(full)] and len(full) >= min(len(loc), 1):
            if full == loc:
                return number
            best = best or number
    return best
