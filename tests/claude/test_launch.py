"""Launching Claude Code: session flags, model switches; finding Claude Code; its files."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from heimdall.claude.launch import (
    SessionState,
    can_resume,
    claude_launch,
    relaunch_resume,
    session_state,
    switch_model_launch,
    transcript_path,
    turn_saved,
    wait_turn_saved,
)
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


def test_transcript_lookup(tmp_path: Path) -> None:
    assert transcript_path(SID, tmp_path) is None and not can_resume(SID, tmp_path)
    transcript = tmp_path / "projects" / "-home-dev-repo" / f"{SID}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text('{"type": "user", "message": {"role": "user", "content": "hi"}}\n')
    assert transcript_path(SID, tmp_path) == transcript and can_resume(SID, tmp_path)
    assert not can_resume(str(uuid.uuid4()), tmp_path)


def _transcript(config_dir: Path, *entries: dict[str, object]) -> Path:
    path = config_dir / "projects" / "-work" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def test_session_state_and_turn_saved(tmp_path: Path) -> None:
    assert session_state(SID, tmp_path) is SessionState.NEW and not turn_saved(SID, tmp_path)
    title = {"type": "ai-title", "aiTitle": "Fake title 2", "sessionId": SID}
    _transcript(tmp_path, title)
    assert session_state(SID, tmp_path) is SessionState.UNUSABLE  # killed before the turn was saved
    assert not can_resume(SID, tmp_path)
    user = {"type": "user", "message": {"role": "user", "content": "hi"}}
    assistant = {"type": "assistant", "message": {"role": "assistant", "content": []}}
    done = {"type": "system", "subtype": "turn_duration", "durationMs": 90}
    path = _transcript(tmp_path, title, user)
    assert session_state(SID, tmp_path) is SessionState.CONVERSATION and not turn_saved(SID, tmp_path)
    _transcript(tmp_path, title, user, assistant, done, {"type": "last-prompt", "lastPrompt": "hi"})
    assert turn_saved(SID, tmp_path)
    with path.open("a") as fh:  # next turn in flight, plus a half-written line
        fh.write(json.dumps(user) + "\n" + '{"type": "assis')
    assert not turn_saved(SID, tmp_path) and can_resume(SID, tmp_path)


def test_relaunch_resume(tmp_path: Path) -> None:
    assert relaunch_resume(SID, tmp_path) is False  # new session
    path = _transcript(tmp_path, {"type": "ai-title", "aiTitle": "t"})
    assert relaunch_resume(SID, tmp_path) is False  # unusable: moved aside, id free again
    assert not path.exists() and path.with_name(path.name + ".empty").exists()
    assert session_state(SID, tmp_path) is SessionState.NEW
    _transcript(tmp_path, {"type": "user", "message": {"role": "user", "content": "hi"}})
    assert relaunch_resume(SID, tmp_path) is True
    assert path.exists()


def test_turn_saved_orders_by_timestamp(tmp_path: Path) -> None:
    """Claude Code sometimes writes a turn's entries out of order; timestamps decide."""

    def at(second: int, **entry: object) -> dict[str, object]:
        return {**entry, "timestamp": f"2026-11-27T15:37:{second:02d}.000Z"}

    user = at(1, type="user", message={"role": "user", "content": "hi"})
    assistant = at(2, type="assistant", message={"role": "assistant", "content": []})
    done = at(3, type="system", subtype="turn_duration")
    _transcript(tmp_path, assistant, done, {"type": "file-history-snapshot"}, user)
    assert turn_saved(SID, tmp_path)
    _transcript(tmp_path, assistant, done, user, at(4, type="user", message={"content": "next"}))
    assert not turn_saved(SID, tmp_path)


async def test_wait_turn_saved(tmp_path: Path) -> None:
    user = {"type": "user", "message": {"role": "user", "content": "hi"}}
    path = _transcript(tmp_path, user)
    assert await wait_turn_saved(SID, tmp_path, timeout=0.1, interval=0.01) is False

    async def finish_turn() -> None:
        await asyncio.sleep(0.05)
        with path.open("a") as fh:
            fh.write(json.dumps({"type": "system", "subtype": "turn_duration"}) + "\n")

    writer = asyncio.create_task(finish_turn())
    assert await wait_turn_saved(SID, tmp_path, timeout=5, interval=0.01) is True
    await writer
