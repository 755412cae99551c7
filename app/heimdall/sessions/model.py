"""The stored shape of sessions: pydantic models for each record and for the file around them.

`sessions.json` is written by Heimdall but read back after upgrades, crashes and the odd hand
edit, so reading is tolerant and precise: a record that does not validate costs only itself
(`SessionStore.load` skips it with a one-line reason naming the field), unknown keys are ignored
(a newer Heimdall may add some), and fields older files lack get their defaults. The on-disk
format is unchanged from version 1 (the test fixture `tests/sessions/fixtures/sessions-v1.json`
was written before these models existed and must round-trip byte for byte).

The records are pydantic dataclasses: they validate JSON input like models yet stay the plain
mutable objects the app edits (`session.started = True`) and compare by value.
"""

from __future__ import annotations

import uuid
from dataclasses import field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.dataclasses import dataclass

STORE_VERSION = 1


def _now() -> datetime:
    return datetime.now(UTC)


def _time_to_json(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_assume_utc), PlainSerializer(_time_to_json)]
"""RFC 3339 in the file (`2026-11-27T12:00:00Z`); always timezone-aware in memory (naive = UTC)."""
Money = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A JSON number (not a string, not a boolean, not NaN / infinity), in US dollars."""
Flag = Annotated[bool, BeforeValidator(bool)]
"""Any JSON value, read by its truth value (as version 1 files were)."""


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


def _now_if_missing(value: Any) -> Any:
    return _now() if value is None else value


@dataclass(frozen=True, slots=True)
class ModelSwitch:
    """One point on a tab's model timeline."""

    at: Timestamp
    model: str | None = None
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
    budget_usd: Money | None = None
    worktree_path: str | None = None
    worktree_branch: str | None = None
    project_dir: str | None = None
    """The directory the user picked; differs from `cwd` when a worktree was made from it."""
    created_at: Annotated[Timestamp, BeforeValidator(_now_if_missing)] = field(default_factory=_now)
    model_history: Annotated[list[ModelSwitch], BeforeValidator(_list_or_empty)] = field(
        default_factory=list
    )
    """Every model this tab has used, oldest first; the first entry is the launch model."""
    last_prompt_at: Timestamp | None = None
    started: Flag = False
    """True once Claude Code has run with `--session-id`: later launches must use `--resume`."""

    @field_validator("id")
    @classmethod
    def _is_uuid(cls, value: str) -> str:
        # Kept as written (not normalised): the id is also the tag the gateway has seen.
        try:
            uuid.UUID(value)
        except ValueError:
            raise ValueError(f"not a UUID: {_short(value)}") from None
        return value

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
        return _SESSION.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, data: Any) -> Session:
        """Raises ValueError naming the field (`budget_usd: expected a number, got 'lots'`)."""
        return _validated(_SESSION, data)


@dataclass(slots=True)
class ProjectDefaults:
    """What the new-session dialog pre-fills for a project directory."""

    model: str | None = None
    budget_usd: Money | None = None
    worktree: Flag = False

    def to_json(self) -> dict[str, Any]:
        return _PROJECT.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, data: Any) -> ProjectDefaults:
        return _validated(_PROJECT, data)


def _dict_or_empty(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


class SessionsFile(BaseModel):
    """The envelope of `sessions.json`. Records stay raw here and are validated one at a time,
    so one bad record costs only itself; only a file that is not this shape is set aside."""

    model_config = ConfigDict(extra="ignore")

    version: int = STORE_VERSION
    sessions: list[Any] = Field(default_factory=list)
    """Session records in tab order (`Session.to_json()`)."""
    projects: Annotated[dict[str, Any], BeforeValidator(_dict_or_empty)] = Field(default_factory=dict)
    """Project directory -> `ProjectDefaults.to_json()`; anything else here is ignored."""


T = TypeVar("T")

_SESSION = TypeAdapter(Session)
_PROJECT = TypeAdapter(ProjectDefaults)

_PLAIN_WORDS = {
    "missing": "missing",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "dataclass_type": "expected an object",
    "dataclass_args_type": "expected an object",
    "model_type": "expected an object",
}
_PLAIN_WORDS_WITH_INPUT = {
    "string_type": "expected text",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "int_type": "expected a number",
    "int_parsing": "expected a number",
    "finite_number": "expected a finite number",
}


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validated(adapter: TypeAdapter[T], data: Any) -> T:
    """`adapter`'s model from `data`, or a ValueError naming the field."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """The first problem, in the store's words: `model_history[1].at: expected a timestamp`."""
    error = exc.errors(include_url=False)[0]
    where = ""
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    kind = error["type"]
    if kind == "value_error":
        what = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind.startswith(("datetime", "timezone")):
        what = f"expected a timestamp, got {_short(error['input'])}"
    elif kind in _PLAIN_WORDS_WITH_INPUT:
        what = f"{_PLAIN_WORDS_WITH_INPUT[kind]}, got {_short(error['input'])}"
    else:
        what = _PLAIN_WORDS.get(kind, error["msg"])
    return f"{where}: {what}" if where else what
