"""How a Claude Code tab is launched: its command line and environment.

Built on the generic launch in `heimdall.process.launch` (terminal identity out, Heimdall's
secrets out, our `TERM` in); what is Claude Code's own is here:
- Gateway variables come from `GatewayClient.session_env()`; a `None` value removes a variable.
  Variables saying "you run inside another Claude Code" are removed too.
- Heimdall picks each session's UUID: `--session-id <uuid>` for a new conversation,
  `--resume <uuid>` to continue one (after a restart or a model switch); flags that would change
  the session (`--continue`, `--fork-session`, `-p`) are refused in extra arguments.
- Nothing here writes the user's Claude Code settings. Switching a model restarts the child with
  `--resume <uuid> --model <new>` (rather than injecting `/model`, which rewrites `settings.json`;
  see `switch_model_launch`).
- Restarting a Claude Code child (model switch, restart key, restore after a crash):
  `await wait_turn_saved(...)` before ending it, then `relaunch_resume(...)` for the `resume` flag
  (both in `heimdall.claude.transcripts`).
- `CLAUDE_OFFLINE_ENV` turns off every switch that would reach the internet (demo and tests).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

from heimdall.process.launch import AgentLaunch, apply_env_changes, child_environment

# Set when Heimdall itself runs inside a Claude Code session (or its IDE bridge): a child that
# inherited them would think it is nested or try to reach the parent's IDE.
NESTED_CLAUDE_VARS = frozenset(
    {"CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SSE_PORT", "CLAUDE_AGENT_SDK_VERSION"}
)

# Flags Heimdall owns: the session identity must stay the one Heimdall chose.
_SESSION_FLAGS = frozenset(
    {"--session-id", "--resume", "-r", "--continue", "-c", "--fork-session", "--print", "-p"}
)


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
    env = apply_env_changes(dict(launch.env), gateway_env)
    argv = [launch.argv[0], "--resume", launch.session_id, "--model", new_model, *launch.extra_args]
    return replace(launch, argv=argv, env=env, model=new_model, resume=True)


# -- Claude Code's files -------------------------------------------------------------------


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
