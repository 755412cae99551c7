"""SessionStore: sessions survive restarts and crashes; a bad file never stops the app."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from heimdall.sessions.store import ModelSwitch, ProjectDefaults, Session, SessionStore, atomic_write_text

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.json")
    session = Session.new("api-fix", tmp_path, model="claude-sonnet-4-5", budget_usd=2.5,
                          worktree_path=tmp_path / "wt", worktree_branch="fix/api",
                          project_dir=tmp_path, at=T0)
    session.switch_model("claude-haiku-4-5", at=T0 + timedelta(minutes=3))
    session.last_prompt_at = T0 + timedelta(minutes=4)
    session.started = True
    store.add(session)
    store.add(Session.new("shell", tmp_path, command="bash", at=T0))

    again = SessionStore(tmp_path / "sessions.json")
    loaded = again.load()
    assert again.warnings == []
    assert [s.name for s in loaded] == ["api-fix", "shell"]
    assert loaded[0] == session
    assert loaded[0].model_history == [ModelSwitch(T0, "claude-sonnet-4-5"),
                                       ModelSwitch(T0 + timedelta(minutes=3), "claude-haiku-4-5")]
    assert loaded[1].is_claude is False and loaded[0].is_claude is True


def test_file_is_private_and_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    store = SessionStore(path)
    store.add(Session.new("a", tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["sessions.json"]  # no temp file left


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    atomic_write_text(path, "old\n")

    with pytest.raises(TypeError):
        atomic_write_text(path, 12345)  # type: ignore[arg-type]  # write() raises mid-way
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sessions.json"]


def test_switch_model_records_the_timeline_once(tmp_path: Path) -> None:
    session = Session.new("a", tmp_path, model="m1", at=T0)
    session.switch_model("m1", at=T0 + timedelta(seconds=1))  # same model: no entry
    session.switch_model("m2", at=T0 + timedelta(seconds=2))
    session.switch_model(None, at=T0 + timedelta(seconds=3))
    assert [s.model for s in session.model_history] == ["m1", "m2", None]
    assert session.model is None


def test_corrupt_file_is_moved_aside_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    path.write_text('{"version": 1, "sessions": [{"id": ')
    store = SessionStore(path)
    assert store.load() == []
    assert len(store.warnings) == 1
    assert "not valid JSON (line 1" in store.warnings[0]
    backups = list(tmp_path.glob("sessions.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text().startswith('{"version"')
    assert not path.exists()
    store.add(Session.new("fresh", tmp_path))  # and the app goes on
    assert SessionStore(path).load()[0].name == "fresh"


@pytest.mark.parametrize("content", [b"[1, 2]", b'{"sessions": 5}', b"\xff\xfe\x00garbage"])
def test_wrong_shapes_and_garbage_bytes_are_set_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "sessions.json"
    path.write_bytes(content)
    store = SessionStore(path)
    assert store.load() == []
    assert store.warnings and "were not restored" in store.warnings[0]
    assert list(tmp_path.glob("sessions.json.corrupt-*"))


def test_bad_entries_are_skipped_and_named(tmp_path: Path) -> None:
    good = Session.new("good", tmp_path, at=T0).to_json()
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps({"version": 1, "sessions": [
        {"id": "not-a-uuid", "name": "x", "cwd": "/"},
        good,
        {**good, "budget_usd": "lots"},
        good,
        "nonsense",
    ]}))
    store = SessionStore(path)
    loaded = store.load()
    assert [s.name for s in loaded] == ["good"]
    joined = "\n".join(store.warnings)
    assert "#1: id: not a UUID" in joined
    assert "#3: budget_usd: expected a number" in joined
    assert "duplicate" in joined
    assert "#5: expected an object" in joined
    assert path.exists()  # partly good files stay where they are


def test_unreadable_file_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    path.mkdir()  # reading a directory raises IsADirectoryError
    store = SessionStore(path)
    assert store.load() == []
    assert store.warnings


def test_missing_file_is_an_empty_store(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "nope" / "sessions.json")
    assert store.load() == [] and store.warnings == []


def test_update_remove_reorder_persist(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    store = SessionStore(path)
    a, b, c = (Session.new(n, tmp_path) for n in "abc")
    for s in (a, b, c):
        store.add(s)
    b.name = "renamed"
    store.update(b)
    store.reorder([c.id, a.id])
    assert store.remove(a.id) is a
    assert store.remove("missing") is None
    assert [s.name for s in SessionStore(path).load()] == ["c", "renamed"]
    with pytest.raises(ValueError):
        store.add(c)


def test_defaults_are_remembered_per_project(tmp_path: Path) -> None:
    proj1, proj2 = tmp_path / "p1", tmp_path / "p2"
    proj1.mkdir()
    proj2.mkdir()
    path = tmp_path / "sessions.json"
    store = SessionStore(path)
    store.add(Session.new("x", proj1, model="claude-haiku-4-5", budget_usd=1.0))
    store.add(Session.new("y", proj2 / "..wt", model="m2", worktree_path=proj2 / "..wt",
                          worktree_branch="b", project_dir=proj2))
    again = SessionStore(path)
    again.load()
    assert again.defaults_for(proj1) == ProjectDefaults("claude-haiku-4-5", 1.0, False)
    assert again.defaults_for(str(proj1) + "/") == ProjectDefaults("claude-haiku-4-5", 1.0, False)
    assert again.defaults_for(proj2) == ProjectDefaults("m2", None, True)
    assert again.defaults_for(tmp_path) == ProjectDefaults()


def test_default_location_is_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEIMDALL_DATA_DIR", str(tmp_path / "data"))
    store = SessionStore()
    store.add(Session.new("a", tmp_path))
    assert (tmp_path / "data" / "sessions.json").exists()
    assert os.stat(tmp_path / "data").st_mode & 0o777 == 0o700


FIXTURE = Path(__file__).parent / "fixtures" / "sessions-v1.json"
"""A sessions file written by the store before it used pydantic models (version 1)."""


def test_todays_file_format_loads_and_saves_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    path.write_bytes(FIXTURE.read_bytes())
    store = SessionStore(path)
    loaded = store.load()
    assert store.warnings == []
    assert [s.name for s in loaded] == ["api-fix", "shell", "notes"]
    fix = loaded[0]
    assert fix.id == "5f0c9a7e-2d41-4b8e-9c3a-71e2d6f4a810" and fix.started and fix.is_claude
    assert fix.model is None and fix.budget_usd == 2.5 and fix.worktree_branch == "fix/api"
    assert fix.project_dir == "/home/dev/shop" and fix.created_at == T0
    assert fix.model_history == [
        ModelSwitch(T0, "claude-sonnet-4-5"),
        ModelSwitch(T0 + timedelta(minutes=3, seconds=1, microseconds=250000), "claude-haiku-4-5"),
        ModelSwitch(T0 + timedelta(minutes=9), None),
    ]
    assert fix.last_prompt_at == T0 + timedelta(minutes=10)
    assert loaded[1].command == "bash" and not loaded[1].is_claude and loaded[1].last_prompt_at is None
    assert store.defaults_for("/home/dev/shop") == ProjectDefaults("claude-sonnet-4-5", 2.5, True)
    store.save()
    assert path.read_bytes() == FIXTURE.read_bytes()  # the format itself is unchanged
