"""Claude Code's session ids and transcripts: how a tab's conversation can be relaunched.

Heimdall chooses each tab's session id (a UUID) up front. Claude Code names the transcript after
it, `<config dir>/projects/<escaped cwd>/<uuid>.jsonl`, and what is in that file decides whether
the next launch is `--session-id` (nothing saved yet) or `--resume` (docs/claude-code.md,
Session ids). Restarting a child (model switch, restart key, restore after a crash): `await
wait_turn_saved(...)` before ending it, then `relaunch_resume(...)` for the `resume` flag.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from enum import StrEnum
from pathlib import Path


def check_session_id(session_id: str) -> str:
    """The id in canonical form; ValueError unless it is a UUID (Claude Code requires one)."""
    try:
        return str(uuid.UUID(session_id))
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"Claude Code session id must be a UUID, got {session_id!r}") from None


def transcript_path(session_id: str, config_dir: Path) -> Path | None:
    """The session's transcript (`projects/<escaped cwd>/<uuid>.jsonl`) if Claude Code wrote one.

    `--resume` only works for a session with a transcript; a tab closed before its first prompt
    has none and must be relaunched with `--session-id` again.
    """
    session_id = check_session_id(session_id)
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
    not always in file order (docs/claude-code.md, Session ids); a child ended before the batch
    lands loses the turn, or the whole session when it was the first. Before ending a child to
    restart it (model switch), wait until this is true: the newest message-like entry, by its
    `timestamp`, is the `turn_duration` marker that closes a turn.
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
