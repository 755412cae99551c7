"""The real Claude Code in print mode (`claude -p`) against the simulated upstream.

Checks the contract both ways: Claude Code accepts our JSON/SSE replies (reply text, usage,
tool calls, errors), and what it sends is what Heimdall relies on: the session id header, the
custom headers that carry the gateway tag, the model, and the full history after `--resume`.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from heimdall.claude.transcripts import SessionState, relaunch_resume, session_state, transcript_path
from heimdall.demo.simulated import SimulatedUpstream

from tests.claude_support import claude_binary, claude_test_env

pytestmark = [pytest.mark.claude, pytest.mark.timeout(120)]

TAG_HEADERS = "x-session-tag: tab-1\nx-bf-lh-session: heimdall-tab-1"


def _run(
    tmp_path: Path, upstream: SimulatedUpstream, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    extra = {"ANTHROPIC_CUSTOM_HEADERS": TAG_HEADERS, **(extra or {})}
    env = claude_test_env(tmp_path, upstream.url, extra=extra)
    return subprocess.run(
        [claude_binary(), "-p", *args, "--output-format", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )


def _model_calls(upstream: SimulatedUpstream) -> list[dict[str, Any]]:
    return [e for e in upstream.requests() if e["method"] == "POST" and e["path"].startswith("/v1/messages?")]


def test_print_mode_round_trip(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    session_id = str(uuid.uuid4())
    result = _run(tmp_path, fake_upstream, "say hi", "--model", "fake-sonnet", "--session-id", session_id)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    [call] = _model_calls(fake_upstream)
    assert output["result"] == f"FAKE-REPLY #{call['n']} from model=fake-sonnet: Hi there!"
    assert output["session_id"] == session_id
    # Claude Code read the usage we streamed (message_start + cumulative message_delta).
    usage = output["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (1200, 345)

    assert call["path"] == "/v1/messages?beta=true" and call["note"] == "stream"
    headers = call["headers"]
    assert headers["x-claude-code-session-id"] == session_id
    assert headers["x-session-tag"] == "tab-1" and headers["x-bf-lh-session"] == "heimdall-tab-1"
    assert headers["authorization"] == "Bearer dummy"
    assert headers["anthropic-version"] == "2023-06-01"
    assert call["body"]["model"] == "fake-sonnet" and call["body"]["stream"] is True
    assert json.loads(call["body"]["metadata"]["user_id"])["session_id"] == session_id


def test_resume_with_another_model_sends_the_history(
    tmp_path: Path, fake_upstream: SimulatedUpstream
) -> None:
    session_id = str(uuid.uuid4())
    first = _run(
        tmp_path, fake_upstream, "remember PINEAPPLE", "--model", "model-a", "--session-id", session_id
    )
    assert first.returncode == 0, first.stderr
    second = _run(tmp_path, fake_upstream, "what did I say?", "--model", "model-b", "--resume", session_id)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["result"].endswith("model=model-b: Hi there!")
    last = _model_calls(fake_upstream)[-1]
    assert last["body"]["model"] == "model-b"
    assert last["headers"]["x-claude-code-session-id"] == session_id
    history = json.dumps(last["body"]["messages"])
    assert "remember PINEAPPLE" in history and "model=model-a: Hi there!" in history


def test_tool_use_round_trip(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    prompt = 'run it FAKE_TOOL_USE {"name": "Bash", "input": {"command": "echo TOOL-RAN-$((6*7))"}}'
    result = _run(tmp_path, fake_upstream, prompt, "--model", "fake-sonnet", "--allowedTools", "Bash")
    assert result.returncode == 0, result.stderr
    calls = _model_calls(fake_upstream)
    assert [c["note"] for c in calls] == ["stream tool_use", "stream"]
    tool_results = [
        block
        for message in calls[1]["body"]["messages"]
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]
    assert "TOOL-RAN-42" in json.dumps(tool_results)
    assert json.loads(result.stdout)["result"].startswith(f"FAKE-REPLY #{calls[1]['n']} ")


def test_upstream_error_is_reported(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    result = _run(tmp_path, fake_upstream, "FAKE_ERROR_529", "--model", "fake-sonnet")
    assert result.returncode == 1
    assert "529" in result.stdout + result.stderr
    # CLAUDE_CODE_MAX_RETRIES=2 in the test env: the first try plus two retries.
    assert [c["status"] for c in _model_calls(fake_upstream)] == [529, 529, 529]


def test_an_unusable_session_is_repaired_for_relaunch(
    tmp_path: Path, fake_upstream: SimulatedUpstream
) -> None:
    """A child killed before Claude Code saved its first turn leaves a transcript holding only
    the AI title: `--session-id` then says "already in use" and `--resume` finds nothing.
    `relaunch_resume` moves it aside so the same id starts again."""
    session_id = str(uuid.uuid4())
    first = _run(tmp_path, fake_upstream, "hello", "--session-id", session_id)
    assert first.returncode == 0, first.stderr
    config_dir = tmp_path / "claude-config"
    transcript = transcript_path(session_id, config_dir)
    assert transcript is not None
    title = {"type": "ai-title", "aiTitle": "Fake title 1", "sessionId": session_id}
    transcript.write_text(json.dumps(title) + "\n")  # what such a kill leaves behind
    assert session_state(session_id, config_dir) is SessionState.UNUSABLE
    refused = _run(tmp_path, fake_upstream, "again", "--session-id", session_id)
    assert refused.returncode == 1 and "already in use" in refused.stdout + refused.stderr

    assert relaunch_resume(session_id, config_dir) is False
    again = _run(tmp_path, fake_upstream, "again", "--session-id", session_id)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["session_id"] == session_id
    assert session_state(session_id, config_dir) is SessionState.CONVERSATION
