"""The demo stack: a throwaway Claude home without provider keys, a simulated upstream behind the
embedded gateway, and a clean stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from heimdall.config import Config
from heimdall.demo.stack import DEMO_TABS, demo_environment, demo_sessions, start_demo_stack

pytestmark = pytest.mark.timeout(60)


def test_demo_environment_is_throwaway_and_keyless(tmp_path: Path) -> None:
    env = demo_environment(tmp_path, {"ANTHROPIC_API_KEY": "sk-real", "CLAUDE_CONFIG_DIR": "/mine",
                                      "PATH": "/usr/bin"})
    assert "ANTHROPIC_API_KEY" not in env and env["PATH"] == "/usr/bin"
    assert env["HOME"] == str(tmp_path / "home")
    assert env["CLAUDE_CONFIG_DIR"] == str(tmp_path / "claude-config")
    assert json.loads((tmp_path / "claude-config" / ".claude.json").read_text())


def test_demo_sessions_follow_the_demo_tabs(tmp_path: Path) -> None:
    sessions = demo_sessions(4, tmp_path)
    assert [s.name for s in sessions] == ["api-fix", "docs", "refactor", "api-fix-4"]
    assert sessions[0].budget_usd == DEMO_TABS[0][2]
    assert len(demo_sessions(20, tmp_path)) == 9 and len(demo_sessions(0, tmp_path)) == 1


async def test_stack_serves_the_simulated_models_and_stops(tmp_path: Path) -> None:
    stack = start_demo_stack(Config(), root=tmp_path / "demo")
    try:
        assert stack.client.base_url == stack.gateway.url
        assert (await stack.client.health()).ok
        assert await stack.client.models()
        assert (stack.project / "README.md").exists()
    finally:
        await stack.client.aclose()
        stack.stop()
    assert stack.stopped
    assert (tmp_path / "demo").exists()  # a root the caller chose is kept
