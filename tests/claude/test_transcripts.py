"""Claude Code's session ids and transcripts: new, resumable or unusable; has the turn been saved."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from heimdall.claude.transcripts import (
    SessionState,
    can_resume,
    check_session_id,
    relaunch_resume,
    session_state,
    transcript_path,
    turn_saved,
    wait_turn_saved,
)

SID = "5f0c9a7e-2d41-4b8e-9c3a-71e2d6f4a810"


def test_check_session_id() -> None:
    assert check_session_id(SID.upper()) == SID
    for bad in ("not-a-uuid", "", "../../etc/passwd"):
        with pytest.raises(ValueError, match="must be a UUID"):
            check_session_id(bad)


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
