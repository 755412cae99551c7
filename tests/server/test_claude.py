"""The real Claude Code (`claude -p`) through the embedded gateway to the simulated upstream."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.claude_support import claude_binary, claude_test_env
from tests.fakes.anthropic import SimulatedUpstream, SimulatedUsage
from tests.server.conftest import GatewayUnderTest

pytestmark = [pytest.mark.claude, pytest.mark.timeout(150)]

USAGE = SimulatedUsage(
    input_tokens=1200,
    output_tokens=345,
    cache_creation_input_tokens=2000,
    cache_read_input_tokens=20000,
    cache_creation_1h_input_tokens=500,
)
# claude-sonnet-4-5 per MTok: $3 in, $15 out, $0.30 cache read, $3.75 5m write, $6 1h write.
EXPECTED_COST = (1200 * 3 + 345 * 15 + 20000 * 0.30 + 1500 * 3.75 + 500 * 6) / 1e6


def run_claude(tmp_path: Path, base_url: str, tag: str, session_id: str, token: str) -> dict:
    extra = {"ANTHROPIC_CUSTOM_HEADERS": f"x-bf-lh-session: {tag}"}
    env = claude_test_env(tmp_path, base_url, auth_token=token, extra=extra)
    args = ["-p", "say hi", "--model", "claude-sonnet-4-5", "--session-id", session_id]
    result = subprocess.run(
        [claude_binary(), *args, "--output-format", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


@pytest.mark.parametrize("held_key", [False, True], ids=["pass-through", "held-key"])
def test_claude_code_turn_is_metered_with_its_session_tag(
    tmp_path: Path,
    fake_upstream: SimulatedUpstream,
    start_gateway: Callable[..., GatewayUnderTest],
    held_key: bool,
) -> None:
    fake_upstream.usage = USAGE
    gw = start_gateway(fake_upstream.url, held_key="sk-ant-held" if held_key else None)
    tag, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    output = run_claude(tmp_path, gw.url + "/anthropic", tag, session_id, gw.token if held_key else "dummy")
    assert "FAKE-REPLY" in output["result"] and "model=claude-sonnet-4-5" in output["result"]

    rows = gw.wait_settled(1, metadata_session=tag)
    [row] = [r for r in rows if r["object"] == "responses_stream"]
    assert row["status"] == "success" and row["model"] == "claude-sonnet-4-5"
    assert row["metadata"]["session"] == tag
    assert row["heimdall"]["claude_code_session_id"] == session_id
    assert row["cost"] == pytest.approx(EXPECTED_COST, abs=1e-9)
    stats = gw.get("/api/logs/stats", metadata_session=tag)
    assert stats["total_cost"] == pytest.approx(EXPECTED_COST, abs=1e-9)

    calls = [e for e in fake_upstream.requests() if e["path"].startswith("/v1/messages")]
    assert calls, "nothing reached the upstream"
    for call in calls:
        assert "x-bf-lh-session" not in call["headers"]
        assert call["headers"]["x-claude-code-session-id"] == session_id
        if held_key:
            assert call["headers"]["x-api-key"] == "sk-ant-held"
            assert "authorization" not in call["headers"]
        else:
            assert call["headers"]["authorization"] == "Bearer dummy"
