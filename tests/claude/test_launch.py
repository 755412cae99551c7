"""Launching Claude Code: session flags, nested-session variables, model switches."""

from __future__ import annotations

from pathlib import Path

import pytest
from heimdall.claude.launch import claude_launch, switch_model_launch
from heimdall.process.launch import AgentLaunch, command_launch

from tests.process.test_launch import KEPT, OUTER_TERMINAL

SID = "5f0c9a7e-2d41-4b8e-9c3a-71e2d6f4a810"


def test_claude_launch_new_session(tmp_path: Path) -> None:
    gateway_env = {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787/anthropic",
        "ANTHROPIC_AUTH_TOKEN": "local-token",
        "ANTHROPIC_CUSTOM_HEADERS": f"x-bf-lh-session: {SID}",
        "ANTHROPIC_API_KEY": None,
    }
    base = {**OUTER_TERMINAL, **KEPT, "ANTHROPIC_API_KEY": "sk-ant-real", "CLAUDECODE": "1"}
    launch = claude_launch(
        "/opt/claude", SID, model="claude-sonnet-4-5", resume=False, cwd=tmp_path,
        gateway_env=gateway_env, extra_args=["--permission-mode", "default"], base_env=base,
    )
    assert isinstance(launch, AgentLaunch)
    assert launch.argv == [
        "/opt/claude", "--session-id", SID, "--model", "claude-sonnet-4-5", "--permission-mode", "default",
    ]
    assert launch.cwd == tmp_path and launch.session_id == SID and launch.model == "claude-sonnet-4-5"
    assert launch.env == {
        **KEPT,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787/anthropic",
        "ANTHROPIC_AUTH_TOKEN": "local-token",
        "ANTHROPIC_CUSTOM_HEADERS": f"x-bf-lh-session: {SID}",
    }
    assert launch.display.startswith("/opt/claude --session-id ")


def test_claude_launch_resume_without_model(tmp_path: Path) -> None:
    launch = claude_launch(
        "claude", SID.upper(), model=None, resume=True, cwd=tmp_path, gateway_env={}, base_env=KEPT
    )
    assert launch.argv == ["claude", "--resume", SID]  # normalised UUID
    assert launch.resume is True and launch.model is None


@pytest.mark.parametrize(
    ("session_id", "model", "extra", "message"),
    [
        ("not-a-uuid", None, [], "must be a UUID"),
        (SID, None, ["--resume", SID], "not allowed"),
        (SID, None, ["--continue"], "not allowed"),
        (SID, None, ["--session-id=x"], "not allowed"),
        (SID, None, ["-p"], "not allowed"),
        (SID, "m", ["--model", "other"], "conflicts"),
        (SID, "--evil", [], "invalid model"),
        (SID, " ", [], "invalid model"),
    ],
)
def test_claude_launch_rejects(
    tmp_path: Path, session_id: str, model: str | None, extra: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        claude_launch(
            "claude", session_id, model=model, resume=False, cwd=tmp_path, gateway_env={}, extra_args=extra
        )


def test_model_in_extra_args_is_fine_without_a_tab_model(tmp_path: Path) -> None:
    launch = claude_launch(
        "claude", SID, model=None, resume=False, cwd=tmp_path, gateway_env={},
        extra_args=["--model", "x"], base_env={},
    )
    assert launch.argv[-2:] == ["--model", "x"]


def test_switch_model_launch_resumes_same_session(tmp_path: Path) -> None:
    first = claude_launch(
        "/opt/claude", SID, model="model-a", resume=False, cwd=tmp_path,
        gateway_env={"ANTHROPIC_BASE_URL": "http://a"}, extra_args=["--permission-mode", "default"],
        base_env=KEPT,
    )
    new_gateway = {"ANTHROPIC_BASE_URL": "http://b", "X": None}
    switched = switch_model_launch(first, "model-b", gateway_env=new_gateway)
    assert switched.argv == [
        "/opt/claude", "--resume", SID, "--model", "model-b", "--permission-mode", "default",
    ]
    assert switched.model == "model-b" and switched.resume and switched.session_id == SID
    assert switched.env["ANTHROPIC_BASE_URL"] == "http://b" and switched.cwd == tmp_path
    assert first.argv[1] == "--session-id"  # the original is untouched
    with pytest.raises(ValueError):
        switch_model_launch(command_launch("bash", tmp_path, KEPT), "m")
    with pytest.raises(ValueError):
        switch_model_launch(first, "")
