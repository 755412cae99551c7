"""Launching children: argv, environment hygiene, session flags, finding Claude Code, its files.

The pure functions are checked directly; the environment is also checked end to end by running a
real child in a real PTY and reading what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from heimdall.claude.agents import (
    AgentLaunch,
    SessionState,
    can_resume,
    child_environment,
    claude_config_dir,
    claude_launch,
    command_launch,
    find_claude,
    relaunch_resume,
    seed_gateway_models,
    session_state,
    switch_model_launch,
    transcript_path,
    turn_saved,
    wait_turn_saved,
)
from heimdall.process.pty import PtySession

SID = "5f0c9a7e-2d41-4b8e-9c3a-71e2d6f4a810"

OUTER_TERMINAL = {
    "TMUX": "/tmp/tmux-0/default,1,0",
    "TMUX_PANE": "%3",
    "STY": "123.pts-0",
    "TERM": "screen-256color",
    "TERM_PROGRAM": "WezTerm",
    "TERM_PROGRAM_VERSION": "2024",
    "VTE_VERSION": "7600",
    "WT_SESSION": "abc",
    "COLORFGBG": "15;0",
    "TEXTUAL": "devtools",
    "LINES": "50",
    "COLUMNS": "200",
    "KITTY_WINDOW_ID": "1",
    "KITTY_PID": "9",
    "WEZTERM_PANE": "0",
    "ITERM_SESSION_ID": "w0",
    "ALACRITTY_SOCKET": "/tmp/a",
    "GHOSTTY_RESOURCES_DIR": "/x",
    "LC_TERMINAL": "iTerm2",
    "LC_TERMINAL_VERSION": "3.5",
    "KONSOLE_VERSION": "230800",
}
KEPT = {"PATH": "/usr/bin:/bin", "HOME": "/home/dev", "LANG": "C.UTF-8", "EDITOR": "vim", "LC_ALL": "C.UTF-8"}


def test_child_environment_drops_outer_terminal_identity() -> None:
    env = child_environment({**OUTER_TERMINAL, **KEPT})
    assert env == {**KEPT, "TERM": "xterm-256color", "COLORTERM": "truecolor"}


def test_child_environment_changes_set_and_remove() -> None:
    env = child_environment(
        {**KEPT, "ANTHROPIC_API_KEY": "sk-secret", "OLD": "1"},
        {"ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787/anthropic", "MISSING": None},
    )
    assert "ANTHROPIC_API_KEY" not in env and "MISSING" not in env
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8787/anthropic" and env["OLD"] == "1"


def test_child_environment_defaults_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "x")
    monkeypatch.setenv("HEIMDALL_TEST_MARKER", "yes")
    env = child_environment()
    assert "TMUX" not in env and env["HEIMDALL_TEST_MARKER"] == "yes"
    assert os.environ["TMUX"] == "x"  # the parent's environment is never modified


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


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("bash", ["bash"]),
        ("vim --cmd=set\\ nu x", ["vim", "--cmd=set nu", "x"]),
        ("  htop -d 5 ", ["htop", "-d", "5"]),
        ('vim "my notes.md"', ["vim", "my notes.md"]),
        ("make test | less", ["/bin/sh", "-c", "make test | less"]),
        ("FOO=1 env", ["/bin/sh", "-c", "FOO=1 env"]),
        ("echo $HOME", ["/bin/sh", "-c", "echo $HOME"]),
        ("ls ~", ["/bin/sh", "-c", "ls ~"]),
        ("echo 'unterminated", ["/bin/sh", "-c", "echo 'unterminated"]),
    ],
)
def test_command_launch_argv(tmp_path: Path, command: str, argv: list[str]) -> None:
    launch = command_launch(command, tmp_path, {**OUTER_TERMINAL, **KEPT})
    assert launch.argv == argv
    assert launch.env["TERM"] == "xterm-256color" and "TMUX" not in launch.env
    assert launch.session_id is None


def test_command_launch_rejects_empty(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        command_launch("   ", tmp_path)


async def test_child_sees_the_launch_environment_in_a_real_pty(tmp_path: Path) -> None:
    """Run a real child through PtySession with a launch and read back what it saw."""
    script = (
        "import json, os, sys; "
        "print('ENV=' + json.dumps({k: os.environ.get(k) for k in "
        "['TERM', 'COLORTERM', 'TMUX', 'KITTY_WINDOW_ID', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY']}) + "
        "' CWD=' + os.getcwd() + ' TTY=' + str(sys.stdout.isatty()), flush=True)"
    )
    launch = command_launch(
        f"{sys.executable} -c {json.dumps(script)}",
        tmp_path,
        {**OUTER_TERMINAL, **KEPT, "PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": "sk-leak"},
        gateway_env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:1/anthropic", "ANTHROPIC_API_KEY": None},
    )
    output = bytearray()
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    session = PtySession(
        launch.argv, env=launch.env, cwd=launch.cwd,
        on_output=output.extend, on_exit=lambda status: done.set_result(status.code or 0),
    )
    session.start()
    try:
        assert await asyncio.wait_for(done, 20) == 0
    finally:
        await session.close()
    text = output.decode()
    seen = json.loads(text.split("ENV=", 1)[1].split(" CWD=", 1)[0])
    assert seen == {
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "TMUX": None,
        "KITTY_WINDOW_ID": None,
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:1/anthropic",
        "ANTHROPIC_API_KEY": None,
    }
    assert f"CWD={tmp_path}" in text and "TTY=True" in text


def _executable(path: Path, content: str = "#!/bin/sh\necho claude\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o755)
    return path


def test_find_claude_prefers_path(tmp_path: Path) -> None:
    on_path = _executable(tmp_path / "bin" / "claude")
    _executable(tmp_path / "home" / ".local" / "bin" / "claude")
    assert find_claude({"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}) == str(on_path)


def test_find_claude_falls_back_to_known_locations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(home)}
    assert find_claude(env) is None or not find_claude(env).startswith(str(home))  # type: ignore[union-attr]
    nvm = _executable(home / ".nvm" / "versions" / "node" / "v20.1.0" / "bin" / "claude")
    assert find_claude(env) == str(nvm)
    native = _executable(home / ".local" / "bin" / "claude")
    assert find_claude(env) == str(native)


def test_find_claude_sees_through_the_npm_stub(tmp_path: Path) -> None:
    """`npm install --ignore-scripts` leaves a tiny `bin/claude.exe` stub; use the platform binary."""
    modules = tmp_path / "node_modules" / "@anthropic-ai"
    stub_script = "#!/bin/sh\necho not installed; exit 1\n"
    stub = _executable(modules / "claude-code" / "bin" / "claude.exe", stub_script)
    native = _executable(modules / "claude-code-linux-x64" / "claude", "#!/bin/sh\n" + "#" * 20000 + "\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "claude").symlink_to(stub)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}
    assert find_claude(env) == str(native)


def test_claude_config_dir() -> None:
    assert claude_config_dir({"CLAUDE_CONFIG_DIR": "/x/cfg", "HOME": "/h"}) == Path("/x/cfg")
    assert claude_config_dir({"HOME": "/h"}) == Path("/h/.claude")


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
