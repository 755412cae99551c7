"""Claude Code's config dir (one answer for every caller) and the files written into managed ones."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from heimdall.claude.settings import claude_config_dir, claude_dot_json, seed_gateway_models

APP = Path(__file__).resolve().parents[2] / "app" / "heimdall"


def test_claude_config_dir() -> None:
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": "/x/cfg", "HOME": "/h"}) == Path("/x/cfg")
    assert claude_config_dir({"HOME": "/h"}) == Path("/h/.claude")


def test_claude_config_dir_from_env(tmp_path: Path) -> None:
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": str(tmp_path)}) == tmp_path
    assert claude_config_dir({"HOME": "/home/x"}) == Path("/home/x/.claude")


def test_claude_config_dir_expands_tilde_against_the_childs_home() -> None:
    """The two former copies disagreed here: sessions/activity.py kept `~/cfg` literally (the
    live status files were then looked for in a folder named `~`), claude/agents.py expanded it."""
    env = {"CLAUDE_CONFIG_DIR": "~/cfg", "HOME": "/home/x"}
    assert claude_config_dir(env) == Path("/home/x/cfg")
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": "~", "HOME": "/home/x"}) == Path("/home/x")
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": "", "HOME": "/home/x"}) == Path("/home/x/.claude")
    assert claude_config_dir({}) == Path.home() / ".claude"


def test_every_caller_uses_the_one_claude_config_dir() -> None:
    """Transcripts (sessions_app: resume or not) and live status files (terminal_view: busy or
    idle) once read two different functions; now only claude/settings.py defines one and both
    call sites import it from there."""
    defining = sorted(
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if re.search(r"^def claude_config_dir\(", path.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert defining == ["claude/settings.py"]
    users = [path for path in APP.rglob("*.py") if "claude_config_dir(" in path.read_text(encoding="utf-8")]
    assert len(users) >= 3  # settings itself, the transcript caller, the status-file caller
    for path in users:
        text = path.read_text(encoding="utf-8")
        if path.name != "settings.py":
            assert "from heimdall.claude.settings import" in text and "claude_config_dir" in text, path


def test_claude_dot_json_pre_answers_dialogs() -> None:
    data = claude_dot_json(api_key="sk-ant-" + "x" * 30, trusted=("/work",))
    assert data["hasCompletedOnboarding"] is True
    trusted = {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
    assert data["projects"] == {"/work": trusted}
    assert data["customApiKeyResponses"] == {"approved": ["x" * 20], "rejected": []}
    assert "customApiKeyResponses" not in claude_dot_json()
    json.dumps(data)


def test_seed_gateway_models(tmp_path: Path) -> None:
    config_dir = tmp_path / "claude-config"
    path = seed_gateway_models(
        config_dir,
        "http://127.0.0.1:8787/anthropic",
        [("claude-sonnet-4-5", "Claude Sonnet 4.5"), ("gpt-4o", None), ("Anthropic-x", None)],
        now=datetime(2026, 10, 14, 9, 20, tzinfo=UTC),
        environ={},
    )
    assert path == config_dir.resolve() / "cache" / "gateway-models.json"
    assert json.loads(path.read_text()) == {
        "baseUrl": "http://127.0.0.1:8787/anthropic",
        "fetchedAt": "2026-10-14T09:20:00.000Z",
        "models": [
            {"id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5"},
            {"id": "Anthropic-x", "display_name": "Anthropic-x"},
        ],
    }


def test_seed_gateway_models_refuses_the_users_config_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="refusing"):
        seed_gateway_models(Path.home() / ".claude", "http://x", [("claude-a", None)], environ={})
    users = tmp_path / "users-claude"
    with pytest.raises(ValueError, match="refusing"):
        seed_gateway_models(users, "http://x", [], environ={"CLAUDE_CONFIG_DIR": str(users)})
    assert not users.exists()
