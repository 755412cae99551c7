"""Claude Code's own busy/idle signals: its window title and its live session file.

1. **The window title** (OSC 0): a braille spinner frame (U+2800-U+28FF) in front of the title while
   a turn streams, `✳` when idle (docs/claude-code.md, Title spinner). Cheap, arrives with the
   output, works through any wrapper script.
2. **`$CLAUDE_CONFIG_DIR/sessions/<pid>.json`**: `"status": "busy" | "idle"`, written by Claude Code
   itself once it is up (docs/claude-code.md, Status line). Authoritative when present; matched by
   pid or by session id.

`heimdall.sessions.activity` folds these (status file first) with its fallbacks for any program.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

SPINNER_FIRST, SPINNER_LAST = 0x2800, 0x28FF
IDLE_GLYPHS = frozenset("✳✻✽✶✢·*")


class StatusSignal(StrEnum):
    """What Claude Code says about itself; the values match `heimdall.sessions.activity.Activity`."""

    BUSY = "busy"
    IDLE = "idle"


def title_signal(title: str) -> StatusSignal | None:
    """BUSY for a title that starts with a braille spinner frame, IDLE for `✳ ...`, else None."""
    stripped = title.lstrip()
    if not stripped:
        return None
    first = ord(stripped[0])
    if SPINNER_FIRST <= first <= SPINNER_LAST:
        return StatusSignal.BUSY
    if stripped[0] in IDLE_GLYPHS and (len(stripped) == 1 or stripped[1] == " "):
        return StatusSignal.IDLE
    return None


def clean_title(title: str) -> str:
    """The title without Claude Code's leading status glyph (our badge shows that)."""
    stripped = title.strip()
    if stripped and title_signal(stripped) is not None:
        stripped = stripped[1:].strip()
    return stripped


def status_file_signal(status: str | None) -> StatusSignal | None:
    """The signal in a session file's `status` (`"waiting"`, for a permission prompt, is idle)."""
    if status == "busy":
        return StatusSignal.BUSY
    if status in ("idle", "waiting"):
        return StatusSignal.IDLE
    return None


def read_claude_status(sessions_dir: Path, pid: int | None, session_id: str | None) -> str | None:
    """`status` from Claude Code's live session file for this pid (or session id), if any."""
    if not sessions_dir.is_dir():
        return None
    candidates: list[Path] = []
    if pid is not None:
        candidates.append(sessions_dir / f"{pid}.json")
    data = _load_json(candidates[0]) if candidates else None
    if data is None and session_id:
        # A wrapper (shell, npx) may sit between us and claude: match the session id instead.
        try:
            entries = list(sessions_dir.glob("*.json"))
        except OSError:
            entries = []
        for entry in entries:
            found = _load_json(entry)
            if found is not None and found.get("sessionId") == session_id:
                data = found
                break
    if data is None:
        return None
    status = data.get("status")
    return status if isinstance(status, str) else None


def _load_json(path: Path) -> dict[str, object] | None:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
