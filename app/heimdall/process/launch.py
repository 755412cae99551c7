"""How any program is launched in a tab: argv, environment and working directory.

Why a module of its own: the child's environment decides whether a program renders correctly (it
must see our terminal widget, not the terminal Heimdall itself runs in) and whether a secret of
Heimdall's leaks into it. The builders are pure functions of their inputs so they can be tested
without spawning anything; the PTY layer (`heimdall.process.pty`) only executes an `AgentLaunch`.
What is special about Claude Code (session flags, nested-session variables) is in
`heimdall.claude.launch`, built on these.

Rules:
- Terminal identity of the outer terminal is removed (`TMUX`, `KITTY_*`, ...): an inherited `TMUX`
  made Claude Code drop synchronized output and push the kitty keyboard protocol.
  `TERM=xterm-256color` and `COLORTERM=truecolor` describe our widget.
- Heimdall's own credentials (`HEIMDALL_BIFROST_VK`, `HEIMDALL_UPSTREAM_KEY`, ...) never reach a
  child: what a tab needs to reach the gateway comes from `GatewayClient.session_env()`.
- In a change set, a `None` value removes a variable.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from heimdall.credentials import ENV_FALLBACK

TERMINAL_IDENTITY_VARS = frozenset(
    {
        "TMUX",
        "TMUX_PANE",
        "STY",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "TERM_SESSION_ID",
        "VTE_VERSION",
        "WT_SESSION",
        "WT_PROFILE_ID",
        "COLORFGBG",
        "TEXTUAL",
        "LINES",
        "COLUMNS",
    }
)
TERMINAL_IDENTITY_PREFIXES = (
    "KITTY_",
    "WEZTERM_",
    "ITERM_",
    "ALACRITTY_",
    "GHOSTTY_",
    "LC_TERMINAL",
    "KONSOLE_",
)
HEIMDALL_SECRET_VARS = frozenset(ENV_FALLBACK.values())
"""The environment variables Heimdall reads its own credentials from (see `heimdall.credentials`)."""
CHILD_TERMINAL = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}

_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]{}~\n#]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(slots=True)
class AgentLaunch:
    """Everything needed to start a tab's child: run `argv` in `cwd` with exactly `env`."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    session_id: str | None = None
    """The Claude Code session UUID (None for plain commands)."""
    model: str | None = None
    """The model passed with `--model` (None: Claude Code's / the gateway's default)."""
    resume: bool = False
    extra_args: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
        """The command line as a user would type it (for tab labels and error messages)."""
        return shlex.join(self.argv)


def is_terminal_identity_var(name: str) -> bool:
    return name in TERMINAL_IDENTITY_VARS or name.startswith(TERMINAL_IDENTITY_PREFIXES)


def apply_env_changes(env: dict[str, str], changes: Mapping[str, str | None] | None) -> dict[str, str]:
    """`env` with `changes` applied in place (a None value removes the variable); returns `env`."""
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def child_environment(
    base_env: Mapping[str, str] | None = None,
    changes: Mapping[str, str | None] | None = None,
    *,
    drop: Iterable[str] = (),
) -> dict[str, str]:
    """The environment for a child in one of our terminals.

    `base_env` (default: this process's) minus the outer terminal's identity, Heimdall's own
    credentials and `drop`, plus our terminal's `TERM`/`COLORTERM`, then `changes` applied.
    """
    source = os.environ if base_env is None else base_env
    dropped = HEIMDALL_SECRET_VARS | set(drop)
    env = {
        name: value
        for name, value in source.items()
        if not is_terminal_identity_var(name) and name not in dropped
    }
    env.update(CHILD_TERMINAL)
    return apply_env_changes(env, changes)


def command_launch(
    command: str,
    cwd: Path,
    base_env: Mapping[str, str] | None = None,
    *,
    gateway_env: Mapping[str, str | None] | None = None,
) -> AgentLaunch:
    """Any command line (`bash`, `htop`, `vim notes.md`, `make test | less`) in a tab.

    Simple command lines are executed directly (the child owns the PTY, signals reach it);
    anything using shell syntax runs under `/bin/sh -c`.
    """
    command = command.strip()
    if not command:
        raise ValueError("empty command")
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = []
    if not argv or _ASSIGNMENT.match(argv[0]) or any(_SHELL_SYNTAX.search(t) for t in argv):
        argv = ["/bin/sh", "-c", command]
    env = child_environment(base_env, gateway_env)
    return AgentLaunch(argv=argv, env=env, cwd=Path(cwd))
