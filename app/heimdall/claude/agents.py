"""How a tab's child process is launched: argv, environment and working directory.

Why a module of its own: the child's environment decides whether Claude Code renders correctly
(it must see our terminal widget, not the terminal Heimdall itself runs in), which gateway it
talks to, which session id it carries and whether any provider key leaks into it. The launch
builders are pure functions of their inputs so they can be tested without spawning anything; the
PTY layer (`heimdall.process.pty`) only executes an `AgentLaunch`. The helpers at the end read Claude
Code's own files (transcripts) to decide how a session can be relaunched.

Rules:
- Terminal identity of the outer terminal is removed (`TMUX`, `KITTY_*`, ...): an inherited `TMUX`
  made Claude Code drop synchronized output and push the kitty keyboard protocol.
  `TERM=xterm-256color` and `COLORTERM=truecolor` describe our widget.
- Gateway variables come from `GatewayClient.session_env()`; a `None` value removes a variable.
- Heimdall picks each session's UUID: `--session-id <uuid>` for a new conversation,
  `--resume <uuid>` to continue one (after a restart or a model switch).
- Nothing here writes the user's Claude Code settings. Switching a model restarts the child with
  `--resume <uuid> --model <new>` (measured against injecting `/model`, which rewrites
  `settings.json`; see `switch_model_launch`).
- Restarting a Claude Code child (model switch, restart key, restore after a crash):
  `await wait_turn_saved(...)` before ending it (Claude Code saves a turn ~0.1 s after showing
  it), then `relaunch_resume(...)` for the `resume` flag.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shlex
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

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
# Set when Heimdall itself runs inside a Claude Code session (or its IDE bridge): a child that
# inherited them would think it is nested or try to reach the parent's IDE.
NESTED_CLAUDE_VARS = frozenset(
    {"CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SSE_PORT", "CLAUDE_AGENT_SDK_VERSION"}
)
CHILD_TERMINAL = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}

# Flags Heimdall owns: the session identity must stay the one Heimdall chose.
_SESSION_FLAGS = frozenset(
    {"--session-id", "--resume", "-r", "--continue", "-c", "--fork-session", "--print", "-p"}
)
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]{}~\n#]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_GATEWAY_MODEL_ID = re.compile(r"^(claude|anthropic)", re.IGNORECASE)


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


CLAUDE_CODE_VERSION = "2.1.197"
"""The Claude Code release Heimdall is tested against (scripts/install-test-deps.sh pins it too)."""
CLAUDE_OFFLINE_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
    "CLAUDE_CODE_MAX_RETRIES": "2",
}
"""Every Claude Code switch that would reach the internet, off (claude-code.md §2.1): for the
demo and the tests, which run it against a simulated upstream."""


def claude_dot_json(
    *, api_key: str | None = None, trusted: Sequence[str] = ("/",)
) -> dict[str, object]:
    """A throwaway `.claude.json` that pre-answers onboarding, trust and key-approval dialogs
    (claude-code.md §2.3)."""
    data: dict[str, object] = {
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": CLAUDE_CODE_VERSION,
        "theme": "dark",
        "projects": {
            folder: {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
            for folder in trusted
        },
    }
    if api_key:
        data["customApiKeyResponses"] = {"approved": [api_key[-20:]], "rejected": []}
    return data


def is_terminal_identity_var(name: str) -> bool:
    return name in TERMINAL_IDENTITY_VARS or name.startswith(TERMINAL_IDENTITY_PREFIXES)


def child_environment(
    base_env: Mapping[str, str] | None = None,
    changes: Mapping[str, str | None] | None = None,
    *,
    drop: Iterable[str] = (),
) -> dict[str, str]:
    """The environment for a child in one of our terminals.

    `base_env` (default: this process's) minus the outer terminal's identity and `drop`, plus our
    terminal's `TERM`/`COLORTERM`, then `changes` applied (None removes a variable).
    """
    source = os.environ if base_env is None else base_env
    dropped = set(drop)
    env = {
        name: value
        for name, value in source.items()
        if not is_terminal_identity_var(name) and name not in dropped
    }
    env.update(CHILD_TERMINAL)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _check_session_id(session_id: str) -> str:
    try:
        return str(uuid.UUID(session_id))
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"Claude Code session id must be a UUID, got {session_id!r}") from None


def _check_extra_args(extra_args: Sequence[str], model: str | None) -> list[str]:
    args = list(extra_args)
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in _SESSION_FLAGS:
            raise ValueError(
                f"extra argument {arg!r} is not allowed: Heimdall sets the session "
                "(--session-id / --resume) and runs Claude Code interactively"
            )
        if flag == "--model" and model is not None:
            raise ValueError(f"extra argument {arg!r} conflicts with the tab's model {model!r}")
    return args


def claude_launch(
    claude_bin: str,
    session_id: str,
    *,
    model: str | None,
    resume: bool,
    cwd: Path,
    gateway_env: Mapping[str, str | None],
    extra_args: Sequence[str] = (),
    base_env: Mapping[str, str] | None = None,
) -> AgentLaunch:
    """Claude Code for one tab: `claude --session-id|--resume <uuid> [--model M] [extra...]`."""
    if not claude_bin:
        raise ValueError("no Claude Code binary given")
    session_id = _check_session_id(session_id)
    if model is not None and (not model.strip() or model.startswith("-")):
        raise ValueError(f"invalid model id {model!r}")
    args = _check_extra_args(extra_args, model)
    argv = [claude_bin, "--resume" if resume else "--session-id", session_id]
    if model is not None:
        argv += ["--model", model]
    argv += args
    env = child_environment(base_env, gateway_env, drop=NESTED_CLAUDE_VARS)
    return AgentLaunch(
        argv=argv,
        env=env,
        cwd=Path(cwd),
        session_id=session_id,
        model=model,
        resume=resume,
        extra_args=args,
    )


def switch_model_launch(
    launch: AgentLaunch, new_model: str, *, gateway_env: Mapping[str, str | None] | None = None
) -> AgentLaunch:
    """The launch that continues `launch`'s conversation on `new_model`.

    Restart with `--resume <same uuid> --model <new>`: the whole history goes to the new model and
    the session id (hence the gateway tag) is unchanged. Chosen over typing `/model <id>` into the
    running TUI because `/model` saves the model as the default in `$CLAUDE_CONFIG_DIR/settings.json`
    (a side effect on the user's files) and needs a confirm dialog that swallows typed text; the
    restart costs about one Claude Code startup (measured in tests/e2e/test_model_switch.py).
    """
    if launch.session_id is None:
        raise ValueError("only Claude Code tabs can switch models")
    if not new_model or new_model.startswith("-"):
        raise ValueError(f"invalid model id {new_model!r}")
    env = dict(launch.env)
    for name, value in (gateway_env or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    argv = [launch.argv[0], "--resume", launch.session_id, "--model", new_model, *launch.extra_args]
    return replace(launch, argv=argv, env=env, model=new_model, resume=True)


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


# -- finding Claude Code -------------------------------------------------------------------

_PLATFORM_PACKAGE = "claude-code-linux-x64"
_STUB_MAX_BYTES = 16_384  # npm's placeholder `bin/claude.exe` when postinstall did not run


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _real_binary(path: Path) -> Path | None:
    """`path`, or the platform binary next to an npm stub that `--ignore-scripts` left behind."""
    resolved = path.resolve()
    if (
        resolved.name == "claude.exe"
        and resolved.parent.name == "bin"
        and resolved.stat().st_size < _STUB_MAX_BYTES
    ):
        candidates = sorted(resolved.parent.parent.parent.glob("claude-code-*/claude"))
        native = [c for c in candidates if c.parent.name == _PLATFORM_PACKAGE] + candidates
        for candidate in native:
            if _usable(candidate):
                return candidate
        return None
    return path


def claude_search_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where Claude Code is usually installed, after PATH (native installer, npm, nvm, volta...)."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    paths = [
        home / ".local" / "bin" / "claude",
        home / ".claude" / "local" / "claude",
        home / ".npm-global" / "bin" / "claude",
        home / ".volta" / "bin" / "claude",
        home / ".bun" / "bin" / "claude",
        Path("/usr/local/bin/claude"),
        Path("/opt/homebrew/bin/claude"),
    ]
    prefix = env.get("NPM_CONFIG_PREFIX") or env.get("npm_config_prefix")
    if prefix:
        paths.insert(0, Path(prefix) / "bin" / "claude")
    nvm = sorted(glob.glob(str(home / ".nvm" / "versions" / "node" / "*" / "bin" / "claude")))
    paths += [Path(p) for p in reversed(nvm)]
    return paths


def find_claude(env: Mapping[str, str] | None = None) -> str | None:
    """The Claude Code executable: `claude` on PATH, then the usual install locations."""
    env = os.environ if env is None else env
    on_path = shutil.which("claude", path=env.get("PATH", os.defpath))
    candidates = ([Path(on_path)] if on_path else []) + claude_search_paths(env)
    for candidate in candidates:
        if _usable(candidate):
            real = _real_binary(candidate)
            if real is not None:
                return str(real)
    return None


# -- Claude Code's files -------------------------------------------------------------------


def claude_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$CLAUDE_CONFIG_DIR`, else `~/.claude` (where transcripts and settings live)."""
    env = os.environ if env is None else env
    override = env.get("CLAUDE_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".claude"


def transcript_path(session_id: str, config_dir: Path) -> Path | None:
    """The session's transcript (`projects/<escaped cwd>/<uuid>.jsonl`) if Claude Code wrote one.

    `--resume` only works for a session with a transcript; a tab closed before its first prompt
    has none and must be relaunched with `--session-id` again.
    """
    session_id = _check_session_id(session_id)
    matches = sorted((config_dir / "projects").glob(f"*/{session_id}.jsonl"))
    return matches[0] if matches else None


class SessionState(StrEnum):
    """What Claude Code has on disk for a session id, which decides how a tab can restart."""

    NEW = "new"
    """No transcript: launch with `--session-id <uuid>`."""
    CONVERSATION = "conversation"
    """At least one message saved: launch with `--resume <uuid>`."""
    UNUSABLE = "unusable"
    """A transcript without messages (e.g. only the AI title was saved before the child was
    killed): Claude Code answers "Session ID ... is already in use" to `--session-id` and
    "No conversation found" to `--resume`, so the tab needs a fresh session id."""


_MESSAGE_TYPES = frozenset({"user", "assistant"})


def _transcript_entries(path: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written right now
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def session_state(session_id: str, config_dir: Path) -> SessionState:
    path = transcript_path(session_id, config_dir)
    if path is None:
        return SessionState.NEW
    if any(entry.get("type") in _MESSAGE_TYPES for entry in _transcript_entries(path)):
        return SessionState.CONVERSATION
    return SessionState.UNUSABLE


def can_resume(session_id: str, config_dir: Path) -> bool:
    return session_state(session_id, config_dir) is SessionState.CONVERSATION


def relaunch_resume(session_id: str, config_dir: Path) -> bool:
    """The `resume` flag for relaunching a session, repairing an unusable one on the way.

    CONVERSATION -> True (`--resume`). NEW -> False (`--session-id`). UNUSABLE -> the message-less
    transcript (Heimdall's own session, only an AI title in it) is renamed to
    `<uuid>.jsonl.empty`, after which Claude Code accepts `--session-id <uuid>` again -> False.
    """
    state = session_state(session_id, config_dir)
    if state is SessionState.UNUSABLE:
        path = transcript_path(session_id, config_dir)
        if path is not None:
            path.replace(path.with_name(path.name + ".empty"))
    return state is SessionState.CONVERSATION


def turn_saved(session_id: str, config_dir: Path) -> bool:
    """Whether the last turn has reached the transcript.

    Claude Code writes a turn's entries in a batch ~0.02-0.2 s *after* the reply is on screen,
    not always in file order (measured, 2.1.197); a child ended before the batch lands loses the
    turn, or the whole session when it was the first. Before ending a child to restart it (model
    switch), wait until this is true: the newest message-like entry, by its `timestamp`, is the
    `turn_duration` marker that closes a turn.
    """
    path = transcript_path(session_id, config_dir)
    if path is None:
        return False
    newest: tuple[str, int, dict[str, object]] | None = None
    for order, entry in enumerate(_transcript_entries(path)):
        if entry.get("type") not in ("user", "assistant", "system"):
            continue
        key = (str(entry.get("timestamp") or ""), order, entry)
        if newest is None or key[:2] >= newest[:2]:
            newest = key
    if newest is None:
        return False
    last = newest[2]
    return last.get("type") == "system" and last.get("subtype") == "turn_duration"


async def wait_turn_saved(
    session_id: str, config_dir: Path, timeout: float = 2.0, interval: float = 0.05
) -> bool:
    """Poll `turn_saved` for up to `timeout` seconds (call before ending a child to restart it).

    Returns False on timeout (e.g. a turn interrupted before Claude Code closed it); the caller
    restarts anyway and `session_state` then says whether `--resume` is possible.
    """
    deadline = time.monotonic() + timeout
    while True:
        if turn_saved(session_id, config_dir):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


def seed_gateway_models(
    config_dir: Path,
    base_url: str,
    models: Iterable[tuple[str, str | None]],
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Write Claude Code's gateway model cache so its `/model` picker lists the gateway's models.

    Claude Code only fetches the list itself with nonessential traffic enabled; a pre-seeded
    `cache/gateway-models.json` is used regardless. Only for config dirs Heimdall manages (tests,
    `heimdall demo`): refuses the user's own (`~/.claude` or this process's `CLAUDE_CONFIG_DIR`).
    Keeps only ids Claude Code accepts (`claude*` / `anthropic*`).
    """
    environ = os.environ if environ is None else environ
    target = Path(config_dir).expanduser().resolve()
    users = {(Path.home() / ".claude").resolve()}
    if environ.get("CLAUDE_CONFIG_DIR"):
        users.add(Path(environ["CLAUDE_CONFIG_DIR"]).expanduser().resolve())
    if target in users:
        raise ValueError(f"refusing to write into the user's Claude Code config dir {target}")
    entries = [
        {"id": model_id, "display_name": name or model_id}
        for model_id, name in models
        if _GATEWAY_MODEL_ID.match(model_id)
    ]
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    payload = {
        "baseUrl": base_url,
        "fetchedAt": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "models": entries,
    }
    path = target / "cache" / "gateway-models.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
