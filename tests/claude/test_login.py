"""Claude login detection: the credentials file in the (one) config dir, and the keychain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from heimdall.claude import login
from heimdall.claude.login import claude_login, claude_login_file, keychain_login, login_file_has_token


def test_login_file_follows_the_config_dir(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    assert claude_login_file(home) == tmp_path / ".claude" / ".credentials.json"
    assert claude_login_file({**home, "CLAUDE_CONFIG_DIR": "~/cfg"}) == tmp_path / "cfg" / ".credentials.json"


def test_login_file_needs_a_token(tmp_path: Path) -> None:
    path = tmp_path / ".credentials.json"
    assert not login_file_has_token(path)
    for content in ("{not json", "[1]", '{"claudeAiOauth": "x"}', '{"claudeAiOauth": {"accessToken": ""}}'):
        path.write_text(content)
        assert not login_file_has_token(path), content
    path.write_text(json.dumps({"claudeAiOauth": {"refreshToken": "r"}}))
    assert login_file_has_token(path)


def test_claude_login_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOME": str(tmp_path), "USER": "dev"}
    asked: list[tuple[str, str]] = []

    def get_password(service: str, user: str) -> str | None:
        asked.append((service, user))
        return "secret"

    monkeypatch.setattr(login.keyring, "get_password", get_password)
    assert claude_login(env, check_keyring=False) is None and asked == []
    assert claude_login(env) == "Claude login (OS keychain)"
    assert asked == [("Claude Code-credentials", "dev")]
    file = tmp_path / ".claude" / ".credentials.json"
    file.parent.mkdir()
    file.write_text(json.dumps({"claudeAiOauth": {"accessToken": "a"}}))
    assert claude_login(env) == f"Claude login ({file})"


def test_a_broken_keyring_is_no_login(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(service: str, user: str) -> str | None:
        raise RuntimeError("no D-Bus")

    monkeypatch.setattr(login.keyring, "get_password", broken)
    assert keychain_login({}) is False
