"""Switching a tab's model while keeping its conversation: the measurement behind the choice.

Two ways, each timed from the switch decision until the prompt is ready again, then one more
turn to check what the upstream receives:

- restart: end the child (SIGINT, exit 0) and relaunch `switch_model_launch(...)`, i.e.
  `claude --resume <uuid> --model <new>`;
- inject: type `/model <id>`, confirm the "Switch model?" dialog with Enter.

Both keep the history and route the next turn to the new model. Only the injection writes
`"model"` into `$CLAUDE_CONFIG_DIR/settings.json` (the default for every later session sharing
that folder, i.e. the user's own) and sends an extra billed validation call; Heimdall must never
change the user's settings, so it restarts. The figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from heimdall.claude.launch import claude_launch, switch_model_launch
from heimdall.claude.transcripts import SessionState, session_state, turn_saved
from heimdall.demo.simulated import SimulatedUpstream
from heimdall.process.launch import AgentLaunch

from tests.claude_support import ClaudeScreen, claude_binary, claude_test_env, config_dir_of

pytestmark = [pytest.mark.claude, pytest.mark.timeout(120)]


def _posts(upstream: SimulatedUpstream) -> list[dict[str, Any]]:
    return [e for e in upstream.requests() if e["method"] == "POST"]


async def _first_turn(tmp_path: Path, upstream: SimulatedUpstream) -> tuple[AgentLaunch, ClaudeScreen]:
    work = tmp_path / "work"
    work.mkdir()
    env = claude_test_env(tmp_path, upstream.url)
    launch = claude_launch(
        claude_binary(), str(uuid.uuid4()), model="model-a", resume=False, cwd=work,
        gateway_env={}, base_env=env,
    )
    screen = ClaudeScreen(launch.argv, launch.env, launch.cwd).start()
    await screen.wait_ready()
    await screen.submit("remember PINEAPPLE")
    await screen.wait_for_text("model=model-a: Hi there!")
    await screen.wait_until(lambda: screen.title.startswith("✳ Fake title"), 10, "idle title")
    return launch, screen


def _settings(launch: AgentLaunch) -> dict[str, Any] | None:
    path = config_dir_of(launch.env) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else None


def _report(how: str, seconds: float, extra_calls: int, settings: dict[str, Any] | None) -> None:
    print(
        f"\nmodel switch via {how}: ready again after {seconds * 1000:.0f} ms, "
        f"{extra_calls} extra upstream call(s), settings.json = {json.dumps(settings)}"
    )


async def _second_turn(screen: ClaudeScreen, upstream: SimulatedUpstream, session_id: str) -> dict[str, Any]:
    await screen.submit("what did I say?")
    await screen.wait_for_text("model=model-b: Hi there!", history=True)
    last = _posts(upstream)[-1]
    assert last["body"]["model"] == "model-b"
    assert last["headers"]["x-claude-code-session-id"] == session_id
    history = json.dumps(last["body"]["messages"])
    assert "remember PINEAPPLE" in history and "model=model-a: Hi there!" in history
    return last


async def test_switch_by_restart_with_resume(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    launch, screen = await _first_turn(tmp_path, fake_upstream)
    settings_before = _settings(launch)
    calls_before = len(_posts(fake_upstream))
    try:
        started = time.monotonic()
        # Claude Code saves a turn ~0.1 s after showing it; ending it earlier loses the turn.
        assert launch.session_id is not None
        config_dir = config_dir_of(launch.env)
        await screen.wait_until(lambda: turn_saved(launch.session_id, config_dir), 10, "turn saved")
        assert session_state(launch.session_id, config_dir) is SessionState.CONVERSATION
        screen.session.send_signal(signal.SIGINT)
        assert (await screen.wait_exit()).code == 0
        switched = switch_model_launch(launch, "model-b")
        assert switched.argv[1:5] == ["--resume", launch.session_id, "--model", "model-b"]
        screen = ClaudeScreen(switched.argv, switched.env, switched.cwd).start()
        await screen.wait_ready()
        elapsed = time.monotonic() - started
        # The resumed TUI redraws the earlier conversation (the replies; prompts may be folded).
        await screen.wait_for_text("model=model-a: Hi there!", history=True)
        await _second_turn(screen, fake_upstream, launch.session_id)
        extra = len(_posts(fake_upstream)) - calls_before - 1
        assert extra == 0  # no validation call, no new title call
        assert _settings(launch) == settings_before  # nothing written to settings.json
        _report("restart --resume", elapsed, extra, _settings(launch))
    finally:
        await screen.close()


async def test_switch_by_injecting_slash_model(tmp_path: Path, fake_upstream: SimulatedUpstream) -> None:
    launch, screen = await _first_turn(tmp_path, fake_upstream)
    calls_before = len(_posts(fake_upstream))
    try:
        started = time.monotonic()
        await screen.submit("/model model-b")
        await screen.wait_for_text("Switch model?")
        await asyncio.sleep(0.3)  # the dialog drops an Enter that arrives as it is drawn
        screen.write(b"\r")
        await screen.wait_for_text("Set model to", history=True)
        await screen.wait_ready()
        elapsed = time.monotonic() - started
        assert launch.session_id is not None
        await _second_turn(screen, fake_upstream, launch.session_id)
        posts = _posts(fake_upstream)
        validation = posts[calls_before]
        assert validation["body"]["max_tokens"] == 1 and validation["body"]["model"] == "model-b"
        extra = len(posts) - calls_before - 1
        settings = _settings(launch)
        # The side effect that rules this way out (revisit switch_model_launch if it changes).
        assert settings is not None and settings.get("model") == "model-b"
        _report("/model injection", elapsed, extra, settings)
    finally:
        await screen.close()
