"""Tabs that outlive Heimdall: each session's identity, launch choices and model timeline.

A session's id is the Claude Code session UUID (passed as `--session-id`, reused with `--resume`)
and also the gateway tag, so after a restart (or a crash) the same tabs come back, resume their
conversations and find their spend again. The store is one JSON file written atomically (temp
file, fsync, `os.replace`) after every change: a crash mid-write leaves the old file intact. A
file that cannot be read is moved aside and reported in one sentence; it never stops the app.

The same file remembers, per project directory, the last model / budget / worktree choice, so the
new-session dialog opens with what the user picked last time in that project.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from heimdall import paths

STORE_VERSION = 1
SESSIONS_FILE = "sessions.json"


def _now() -> datetime:
    return datetime.now(UTC)


def _time_to_json(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _time_from_json(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected text, got {value!r}")
    return value


def _optional_float(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class ModelSwitch:
    """One point on a tab's model timeline."""

    at: datetime
    model: str | None
    """None: Claude Code's own default (no `--model`)."""


@dataclass(slots=True)
class Session:
    id: str
    """Claude Code session UUID; also the gateway's session tag."""
    name: str
    cwd: str
    model: str | None = None
    """Current model (`--model`); None lets Claude Code / the gateway decide."""
    command: str | None = None
    """A plain command line instead of Claude Code (e.g. `bash`); None runs Claude Code."""
    budget_usd: float | None = None
    worktree_path: str | None = None
    worktree_branch: str | None = None
    project_dir: str | None = None
    """The directory the user picked; differs from `cwd` when a worktree was made from it."""
    created_at: datetime = field(default_factory=_now)
    model_history: list[ModelSwitch] = field(default_factory=list)
    """Every model this tab has used, oldest first; the first entry is the launch model."""
    last_prompt_at: datetime | None = None
    started: bool = False
    """True once Claude Code has run with `--session-id`: later launches must use `--resume`."""

    @classmethod
    def new(
        cls,
        name: str,
        cwd: str | Path,
        *,
        model: str | None = None,
        command: str | None = None,
        budget_usd: float | None = None,
        worktree_path: str | Path | None = None,
        worktree_branch: str | None = None,
        project_dir: str | Path | None = None,
        at: datetime | None = None,
    ) -> Session:
        created = at or _now()
        return cls(
            id=str(uuid.uuid4()),
            name=name,
            cwd=str(cwd),
            model=model,
            command=command,
            budget_usd=budget_usd,
            worktree_path=str(worktree_path) if worktree_path else None,
            worktree_branch=worktree_branch,
            project_dir=str(project_dir) if project_dir else None,
            created_at=created,
            model_history=[ModelSwitch(created, model)],
        )

    @property
    def is_claude(self) -> bool:
        return self.command is None

    def switch_model(self, model: str | None, at: datetime | None = None) -> None:
        """Record a model switch on the timeline (the caller restarts the tab)."""
        if model == self.model:
            return
        self.model = model
        self.model_history.append(ModelSwitch(at or _now(), model))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cwd": self.cwd,
            "model": self.model,
            "command": self.command,
            "budget_usd": self.budget_usd,
            "worktree_path": self.worktree_path,
            "worktree_branch": self.worktree_branch,
            "project_dir": self.project_dir,
            "created_at": _time_to_json(self.created_at),
            "model_history": [
                {"at": _time_to_json(s.at), "model": s.model} for s in self.model_history
            ],
            "last_prompt_at": _time_to_json(self.last_prompt_at),
            "started": self.started,
        }

    @classmethod
    def from_json(cls, data: Any) -> Session:
        """Raises ValueError (with the field name) on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("expected an object")
        sid = data.get("id")
        if not isinstance(sid, str):
            raise ValueError("id: missing")
        try:
            uuid.UUID(sid)
        except ValueError:
            raise ValueError(f"id: not a UUID: {sid!r}") from None
        name = data.get("name")
        cwd = data.get("cwd")
        if not isinstance(name, str) or not isinstance(cwd, str):
            raise ValueError("name/cwd: missing")
        history_raw = data.get("model_history") or []
        if not isinstance(history_raw, list):
            raise ValueError("model_history: expected a list")
        history: list[ModelSwitch] = []
        for item in history_raw:
            if not isinstance(item, dict):
                raise ValueError("model_history: expected objects")
            at = _time_from_json(item.get("at"))
            if at is None:
                raise ValueError("model_history: missing time")
            history.append(ModelSwitch(at, _optional_str(item, "model")))
        return cls(
            id=sid,
            name=name,
            cwd=cwd,
            model=_optional_str(data, "model"),
            command=_optional_str(data, "command"),
            budget_usd=_optional_float(data, "budget_usd"),
            worktree_path=_optional_str(data, "worktree_path"),
            worktree_branch=_optional_str(data, "worktree_branch"),
            project_dir=_optional_str(data, "project_dir"),
            created_at=_time_from_json(data.get("created_at")) or _now(),
            model_history=history,
            last_prompt_at=_time_from_json(data.get("last_prompt_at")),
            started=bool(data.get("started", False)),
        )


@dataclass(slots=True)
class ProjectDefaults:
    """What the new-session dialog pre-fills for a project directory."""

    model: str | None = None
    budget_usd: float | None = None
    worktree: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "budget_usd": self.budget_usd, "worktree": self.worktree}

    @classmethod
    def from_json(cls, data: Any) -> ProjectDefaults:
        if not isinstance(data, dict):
            raise ValueError("expected an object")
        return cls(
            model=_optional_str(data, "model"),
            budget_usd=_optional_float(data, "budget_usd"),
            worktree=bool(data.get("worktree", False)),
        )


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
        if not isinstance(data, dict) or not isinstance(data.get("sessions", []), list):
            self._set_aside("it does not have the expected shape")
            return []
        seen: set[str] = set()
        for index, item in enumerate(data.get("sessions", [])):
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
        projects = data.get("projects", {})
        if isinstance(projects, dict):
            for cwd, raw in projects.items():
                with contextlib.suppress(ValueError):
                    self.projects[str(cwd)] = ProjectDefaults.from_json(raw)
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
        data = {
            "version": STORE_VERSION,
            "sessions": [s.to_json() for s in self.sessions],
            "projects": {cwd: d.to_json() for cwd, d in sorted(self.projects.items())},
        }
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")

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
