"""Launching any program: argv, environment hygiene (outer terminal, Heimdall's secrets).

The pure functions are checked directly; the environment is also checked end to end by running a
real child in a real PTY and reading what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from heimdall.process.launch import HEIMDALL_SECRET_VARS, child_environment, command_launch
from heimdall.process.pty import PtySession

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


def test_child_environment_never_passes_heimdalls_own_credentials() -> None:
    secrets = {"HEIMDALL_BIFROST_VK": "sk-bf-1", "HEIMDALL_BIFROST_ADMIN": "pw",
               "HEIMDALL_BIFROST_ADMIN_USER": "admin", "HEIMDALL_LITELLM_KEY": "sk-master",
               "HEIMDALL_UPSTREAM_KEY": "sk-ant-held"}
    assert set(secrets) == HEIMDALL_SECRET_VARS
    env = child_environment({**KEPT, **secrets, "HEIMDALL_DATA_DIR": "/d"})
    assert env == {**KEPT, "HEIMDALL_DATA_DIR": "/d", "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    assert command_launch("bash", Path("/"), {**KEPT, **secrets}).env.keys().isdisjoint(secrets)


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


