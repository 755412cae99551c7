"""NewSessionScreen: validation, model list with prices, worktrees, remembered defaults."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from heimdall.sessions.store import Session, SessionStore
from heimdall.tui.screens.new_session import (
    DEFAULT_MODEL,
    NewSessionScreen,
    model_label,
    parse_budget,
    validate_directory,
)
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Label, Select, Static

from tests.tui.spend_host import HAIKU, SONNET, STYLES, screen_text

MODELS = [SONNET, HAIKU]


class DialogHost(App[None]):
    CSS_PATH = str(STYLES / "dialogs.tcss")

    def __init__(self, dialog: NewSessionScreen) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[Session | None] = []

    def compose(self) -> ComposeResult:
        yield Static("tab area")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause()


async def wait_for(pilot: Pilot[None], check) -> None:
    for _ in range(500):
        if check():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition not met")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_AUTHOR_NAME": "t",
                        "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@e"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "f").write_text("x")
    git(root, "add", "f")
    git(root, "commit", "-q", "-m", "c")
    return root


def test_field_validators(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert validate_directory(str(tmp_path)) == (tmp_path.resolve(), None)
    assert validate_directory("  ")[1] == "choose a working directory"
    assert validate_directory(str(tmp_path / "nope"))[1] == f"{tmp_path / 'nope'} does not exist"
    assert validate_directory(str(tmp_path / "file"))[1] == f"{tmp_path / 'file'} is not a directory"
    assert parse_budget("") == (None, None)
    assert parse_budget(" $1,250.5 ") == (1250.5, None)
    assert parse_budget("abc")[1] == "'abc' is not an amount in USD"
    assert parse_budget("-1")[1] == parse_budget("nan")[1] == "the budget must be a positive amount in USD"
    assert str(model_label(SONNET)) == "claude-sonnet-4-5  $3.00 in / $15.00 out per MTok"


async def test_creates_a_session_with_model_and_budget(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.json")
    app = DialogHost(NewSessionScreen(cwd=tmp_path, store=store, models=MODELS))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press(*"api-fix")
        app.screen.query_one("#session-model", Select).value = "claude-haiku-4-5"
        app.screen.query_one("#session-budget", Input).value = "2.5"
        await settle(pilot)
        assert "claude-haiku-4-5  $1.00 in / $5.00 out per MTok" in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.results)
    session = app.results[0]
    assert session is not None
    assert (session.name, session.cwd, session.model, session.budget_usd) == (
        "api-fix", str(tmp_path.resolve()), "claude-haiku-4-5", 2.5)
    assert session.worktree_path is None and session.command is None
    assert store.defaults_for(tmp_path).model == "claude-haiku-4-5"


async def test_bad_directory_and_budget_are_refused_in_place(tmp_path: Path) -> None:
    app = DialogHost(NewSessionScreen(cwd=tmp_path / "missing", models=MODELS))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#session-budget", Input).value = "lots"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await settle(pilot)
        assert app.results == []
        errors = {label.id: str(label.content) for label in app.screen.query(".field-error").results(Label)}
        assert errors["cwd-error"] == f"{tmp_path / 'missing'} does not exist"
        assert errors["budget-error"] == "'lots' is not an amount in USD"
        assert app.screen.query_one("#session-cwd", Input).has_class("-invalid")
        await pilot.press("escape")
        await settle(pilot)
    assert app.results == [None]


async def test_worktree_is_created_on_a_new_branch(repo: Path, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.json")
    app = DialogHost(NewSessionScreen(cwd=repo, store=store, models=MODELS, name="docs fix"))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#session-worktree", Checkbox).value = True
        await settle(pilot)
        branch = app.screen.query_one("#worktree-branch", Input)
        assert branch.value == "heimdall/docs-fix" and not branch.disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.results)
    session = app.results[0]
    assert session is not None
    worktree = repo.parent / "proj.worktrees" / "heimdall-docs-fix"
    assert session.cwd == str(worktree) and session.worktree_path == str(worktree)
    assert session.worktree_branch == "heimdall/docs-fix" and session.project_dir == str(repo)
    assert (worktree / "f").read_text() == "x"
    assert store.defaults_for(repo).worktree is True


async def test_worktree_outside_a_repo_is_refused_cleanly(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    app = DialogHost(NewSessionScreen(cwd=plain, models=MODELS))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#session-worktree", Checkbox).value = True
        await settle(pilot)
        await pilot.press("ctrl+s")
        label = app.screen.query_one("#worktree-error", Label)
        await wait_for(pilot, lambda: label.has_class("-shown"))
        assert str(label.content) == (
            f"{plain.resolve()} is not inside a git repository: untick the worktree box, or pick a repo")
        assert app.results == []


async def test_defaults_are_remembered_per_project(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.json")
    proj = tmp_path / "p"
    proj.mkdir()
    store.add(Session.new("old", proj, model="claude-haiku-4-5", budget_usd=3.0))
    again = SessionStore(tmp_path / "sessions.json")
    again.load()
    app = DialogHost(NewSessionScreen(cwd=proj, store=again, models=MODELS))
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#session-model", Select).value == "claude-haiku-4-5"
        assert app.screen.query_one("#session-budget", Input).value == "3"
        cwd = app.screen.query_one("#session-cwd", Input)
        cwd.value = str(tmp_path)  # another project: nothing remembered there
        await settle(pilot)
        assert app.screen.query_one("#session-budget", Input).value == ""
        assert app.screen.query_one("#session-model", Select).value == "claude-haiku-4-5"  # kept
        assert DEFAULT_MODEL != "claude-haiku-4-5"


def test_new_session_snapshot(snap_compare, tmp_path: Path) -> None:
    cwd = Path("/tmp")
    app = DialogHost(NewSessionScreen(cwd=cwd, models=MODELS, name="api-fix"))

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app.screen.query_one("#session-budget", Input).value = "5"
        await settle(pilot)

    assert snap_compare(app, terminal_size=(90, 34), run_before=run_before)
