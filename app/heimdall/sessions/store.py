"""Tabs that outlive Heimdall: each session's identity, launch choices and model timeline.

A session's id is the Claude Code session UUID (passed as `--session-id`, reused with `--resume`)
and also the gateway tag, so after a restart (or a crash) the same tabs come back, resume their
conversations and find their spend again. The store is one JSON file written atomically (temp
file, fsync, `os.replace`) after every change: a crash mid-write leaves the old file intact. A
file that cannot be read is moved aside and reported in one sentence; a record that does not
validate is skipped with its reason; neither ever stops the app. The shapes (pydantic) are in
`heimdall.sessions.model`.

The same file remembers, per project directory, the last model / budget / worktree choice, so the
new-session dialog opens with what the user picked last time in that project.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from heimdall import paths
from heimdall.sessions.model import STORE_VERSION, ModelSwitch, ProjectDefaults, Session, SessionsFile

SESSIONS_FILE = "sessions.json"

__all__ = [
    "SESSIONS_FILE",
    "STORE_VERSION",
    "ModelSwitch",
    "ProjectDefaults",
    "Session",
    "SessionStore",
    "atomic_write_text",
]
"""The records live in `heimdall.sessions.model`; callers may keep importing them from here."""


def _now() -> datetime:
    return datetime.now(UTC)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` so that readers see the old file or the new one, never half of either."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class SessionStore:
    """The open tabs (in tab order) and per-project defaults, persisted after every change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.data_dir() / SESSIONS_FILE
        self.sessions: list[Session] = []
        self.projects: dict[str, ProjectDefaults] = {}
        self.warnings: list[str] = []
        """Problems found while loading, worded for the user (shown once as notifications)."""

    # -- persistence -----------------------------------------------------------------------------

    def load(self) -> list[Session]:
        """Read the file. Never raises: an unreadable file is moved aside and reported."""
        self.sessions, self.projects, self.warnings = [], {}, []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"cannot read it ({exc})")
            return []
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self._set_aside(f"it is not valid JSON (line {exc.lineno}, column {exc.colno})")
            return []
        except RecursionError:
            self._set_aside("it is nested too deeply to read")
            return []
        except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
            self._set_aside("it holds a number too long to read")
            return []
        try:
            stored = SessionsFile.model_validate(data)
        except ValidationError:
            self._set_aside("it does not have the expected shape")
            return []
        seen: set[str] = set()
        for index, item in enumerate(stored.sessions):
            try:
                session = Session.from_json(item)
            except ValueError as exc:
                self.warnings.append(f"{self.path}: skipped session #{index + 1}: {exc}")
                continue
            if session.id in seen:
                self.warnings.append(f"{self.path}: skipped a duplicate of session {session.id}")
                continue
            seen.add(session.id)
            self.sessions.append(session)
        for cwd, raw in stored.projects.items():
            with contextlib.suppress(ValueError):  # a project's defaults are a convenience
                self.projects[cwd] = ProjectDefaults.from_json(raw)
        return list(self.sessions)

    def _set_aside(self, reason: str) -> None:
        stamp = _now().strftime("%Y%m%dT%H%M%SZ")
        backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, backup)
            where = f"moved to {backup}"
        except OSError as exc:
            where = f"and could not be moved aside ({exc})"
        self.warnings.append(
            f"Saved sessions in {self.path} were not restored: {reason}; {where}. "
            "Starting with no saved tabs."
        )

    def save(self) -> None:
        stored = SessionsFile(
            version=STORE_VERSION,
            sessions=[s.to_json() for s in self.sessions],
            projects={cwd: d.to_json() for cwd, d in sorted(self.projects.items())},
        )
        atomic_write_text(self.path, json.dumps(stored.model_dump(), indent=2) + "\n")

    # -- sessions --------------------------------------------------------------------------------

    def get(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)

    def add(self, session: Session) -> None:
        if self.get(session.id) is not None:
            raise ValueError(f"session {session.id} already exists")
        self.sessions.append(session)
        self.remember_defaults(session)
        self.save()

    def update(self, session: Session) -> None:
        """Persist changes made to `session` (switch_model, rename, last prompt...)."""
        for index, existing in enumerate(self.sessions):
            if existing.id == session.id:
                self.sessions[index] = session
                break
        else:
            self.sessions.append(session)
        self.save()

    def remove(self, session_id: str) -> Session | None:
        session = self.get(session_id)
        if session is not None:
            self.sessions.remove(session)
            self.save()
        return session

    def reorder(self, session_ids: list[str]) -> None:
        """Tab order changed: save it (ids not listed keep their place at the end)."""
        by_id = {s.id: s for s in self.sessions}
        ordered = [by_id.pop(sid) for sid in session_ids if sid in by_id]
        self.sessions = ordered + [s for s in self.sessions if s.id in by_id]
        self.save()

    # -- per-project defaults --------------------------------------------------------------------

    @staticmethod
    def project_key(cwd: str | Path) -> str:
        return str(Path(cwd).expanduser().resolve())

    def defaults_for(self, cwd: str | Path) -> ProjectDefaults:
        return self.projects.get(self.project_key(cwd), ProjectDefaults())

    def remember_defaults(self, session: Session) -> None:
        """The project this session was started from (its main checkout, not the worktree)."""
        self.projects[self.project_key(session.project_dir or session.cwd)] = ProjectDefaults(
            model=session.model,
            budget_usd=session.budget_usd,
            worktree=session.worktree_path is not None,
        )
