"""SessionStore: sessions survive restarts and crashes; a bad file never stops the app."""

from __future__ import annotations

import json
import math
import os
import random
import stat
import time
import uuid
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


# -- hostile files ---------------------------------------------------------------------------------

FUZZ_SEED = 20261127
FUZZ_SECONDS = 8.0


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 2**63, -(2**70), 10**30, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.5, -2.25, 1e308, -1e-300, math.nan, math.inf, rng.uniform(-1e6, 1e6)])
    if kind == "str":
        alphabet = "abc-:TZ0129 é✳\u2800\ud800\x00\n\"\\{}[]"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["id", "name", "at", "x", "", "model"]) + str(i): _random_json(rng, depth + 1)
            for i in range(rng.randint(0, 4))}


def _mutated_record(rng: random.Random, good: dict[str, object]) -> object:
    record: dict[str, object] = json.loads(json.dumps(good))
    for _ in range(rng.randint(1, 3)):
        action = rng.random()
        key = rng.choice(sorted(record) or ["id"])
        if action < 0.5:
            record[key] = _random_json(rng)
        elif action < 0.7:
            record.pop(key, None)
        elif action < 0.85:
            record["model_history"] = [_random_json(rng) for _ in range(rng.randint(0, 3))]
        else:
            record[f"unknown_{rng.randint(0, 9)}"] = _random_json(rng)
    return record if rng.random() < 0.9 else _random_json(rng)


def _hostile_bytes(rng: random.Random, good_file: str) -> bytes:
    choice = rng.randrange(7)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if choice == 1:
        return good_file[: rng.randint(0, len(good_file))].encode()  # a torn write
    if choice == 2:
        return b"[" * 200_000 + b"]" * 200_000  # nesting deeper than any recursion limit
    if choice == 3:
        return b'{"version": 1, "sessions": [], "x": ' + b"9" * 50_000 + b"}"  # over int-digit limits
    if choice == 4:
        return json.dumps(_random_json(rng)).encode()
    if choice == 5:
        envelope = {key: _random_json(rng) for key in ("version", "sessions", "projects")}
        return json.dumps(envelope).encode()
    return good_file.replace('"', rng.choice(["'", "", '""']), 1).encode()


@pytest.mark.timeout(120)
def test_hostile_files_never_crash_loading(tmp_path: Path) -> None:
    """Random, malformed, huge and wrong-typed files (fixed seed, bounded time): loading never
    raises, a bad record is skipped with a reason naming it, good records are kept."""
    rng = random.Random(FUZZ_SEED)
    good = [Session.new(f"good-{i}", tmp_path, model="m", at=T0) for i in range(2)]
    good_file = json.dumps({"version": 1, "sessions": [s.to_json() for s in good], "projects": {}})
    deadline = time.monotonic() + FUZZ_SECONDS
    rounds = 0
    while time.monotonic() < deadline or rounds < 50:
        rounds += 1
        folder = tmp_path / f"round-{rounds}"
        folder.mkdir()
        path = folder / "sessions.json"
        mixed = rounds % 2 == 0
        if mixed:  # good, hostile, good: the good ones must survive
            hostile = [_mutated_record(rng, good[0].to_json() | {"id": str(uuid.uuid4())})
                       for _ in range(rng.randint(1, 3))]
            records = [good[0].to_json(), *hostile, good[1].to_json()]
            projects = {"/p": _random_json(rng), "/q": {"model": "m", "budget_usd": 1, "worktree": True}}
            path.write_text(json.dumps({"version": 1, "sessions": records, "projects": projects}))
        else:
            path.write_bytes(_hostile_bytes(rng, good_file))
        store = SessionStore(path)
        loaded = store.load()  # must not raise
        assert all(isinstance(s, Session) for s in loaded)
        for session in loaded:
            assert Session.from_json(json.loads(json.dumps(session.to_json()))) == session
        if mixed:
            ids = [s.id for s in loaded]
            assert ids[0] == good[0].id and ids[-1] == good[1].id, store.warnings
            assert len(loaded) + len(store.warnings) == len(records)
            assert all(w.startswith(f"{path}: skipped ") for w in store.warnings)
            assert store.defaults_for("/q") == ProjectDefaults("m", 1.0, True)
        store.save()  # whatever was kept can be written back and read again
        assert [s.id for s in SessionStore(path).load()] == [s.id for s in loaded]
    assert rounds >= 50


def test_a_huge_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    big = Session.new("x" * 1_000_000, tmp_path, at=T0).to_json()
    many = [Session.new(f"s{i}", tmp_path, at=T0).to_json() for i in range(2000)]
    path.write_text(json.dumps({"version": 1, "sessions": [big, *many]}))
    store = SessionStore(path)
    loaded = store.load()
    assert len(loaded) == 2001 and store.warnings == [] and len(loaded[0].name) == 1_000_000
