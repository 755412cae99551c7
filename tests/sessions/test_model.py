"""Session records as pydantic models: tolerant of old and partial records, precise about bad ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from heimdall.sessions.model import ModelSwitch, ProjectDefaults, Session, SessionsFile

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SID = "5f0c9a7e-2d41-4b8e-9c3a-71e2d6f4a810"


def test_a_minimal_record_gets_defaults() -> None:
    session = Session.from_json({"id": SID, "name": "n", "cwd": "/w", "created_at": None,
                                 "model_history": None, "someday": "a newer field"})
    assert session.model is None and session.model_history == [] and session.started is False
    assert session.created_at.tzinfo is not None and session.budget_usd is None


def test_timestamps_are_utc_and_written_as_rfc3339() -> None:
    session = Session.from_json({"id": SID, "name": "n", "cwd": "/w", "created_at": "2026-11-27T12:00:00",
                                 "model_history": [{"at": "2026-11-27T13:00:00+01:00", "model": "m"}]})
    assert session.created_at == T0 and session.model_history == [ModelSwitch(T0, "m")]
    data = session.to_json()
    assert data["created_at"] == "2026-11-27T12:00:00Z"
    assert data["model_history"] == [{"at": "2026-11-27T12:00:00Z", "model": "m"}]


def test_numbers_and_flags() -> None:
    base = {"id": SID, "name": "n", "cwd": "/w"}
    assert Session.from_json({**base, "budget_usd": 3}).budget_usd == 3.0
    assert Session.from_json({**base, "started": 1}).started is True
    defaults = ProjectDefaults.from_json({"worktree": "yes", "budget_usd": 0.5})
    assert defaults == ProjectDefaults(None, 0.5, True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "x"}, "id: not a UUID: 'x'"),
        ({"name": None}, "name: expected text, got None"),
        ({"budget_usd": "2"}, "budget_usd: expected a number, got '2'"),
        ({"budget_usd": False}, "budget_usd: expected a number, got False"),
        ({"budget_usd": float("inf")}, "budget_usd: expected a finite number"),
        ({"model_history": {}}, "model_history: expected a list"),
        ({"model_history": [{"model": "m"}]}, "model_history[0].at: missing"),
        ({"last_prompt_at": "yesterday"}, "last_prompt_at: expected a timestamp, got 'yesterday'"),
    ],
)
def test_bad_fields_are_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Session.from_json({"id": SID, "name": "n", "cwd": "/w", **change})
    assert str(caught.value).startswith(message)


def test_not_an_object() -> None:
    for value in ("nonsense", [1, 2], None, 5):
        with pytest.raises(ValueError, match=r"^expected an object$"):
            Session.from_json(value)


def test_the_envelope_tolerates_what_version_1_tolerated() -> None:
    assert SessionsFile.model_validate({}).sessions == []
    assert SessionsFile.model_validate({"sessions": [], "projects": [1]}).projects == {}
    assert SessionsFile.model_validate({"sessions": [1, "x"], "extra": True}).sessions == [1, "x"]
    with pytest.raises(ValueError):
        SessionsFile.model_validate({"sessions": 5})
