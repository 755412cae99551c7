"""Whether Claude Code is logged in on this machine (a claude.ai subscription login).

Claude Code keeps its login in `<config dir>/.credentials.json` (`claudeAiOauth` with an access
or refresh token) or, on macOS, in the keychain item "Claude Code-credentials". Heimdall only
asks whether one exists, to tell a new user what is missing; it never reads the token out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import keyring

from heimdall.claude.settings import claude_config_dir

CLAUDE_KEYCHAIN_SERVICE = "Claude Code-credentials"
"""Where Claude Code keeps its login in the macOS keychain."""


def claude_login_file(env: Mapping[str, str]) -> Path:
    return claude_config_dir(env) / ".credentials.json"


def login_file_has_token(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    return isinstance(oauth, dict) and bool(oauth.get("accessToken") or oauth.get("refreshToken"))


def keychain_login(env: Mapping[str, str]) -> bool:
    user = env.get("USER") or env.get("LOGNAME") or ""
    try:
        return bool(keyring.get_password(CLAUDE_KEYCHAIN_SERVICE, user))
    except Exception:  # no backend, locked keychain, a D-Bus error...: treated as "not found"
        return False


def claude_login(env: Mapping[str, str], *, check_keyring: bool = True) -> str | None:
    """Where a Claude login was found, worded for the user ("Claude login (...)"), or None."""
    login = claude_login_file(env)
    if login_file_has_token(login):
        return f"Claude login ({login})"
    if check_keyring and keychain_login(env):
        return "Claude login (OS keychain)"
    return None
