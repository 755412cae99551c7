"""SessionServices without Textual: start-up choices, launches, renames, closes, notices, polling."""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from heimdall.config import Config
from heimdall.gateways.protocol import Health, HealthStatus, ModelInfo, SessionRef, UsageReport
from heimdall.services.sessions import SessionServices
from heimdall.sessions.activity import Activity
from heimdall.sessions.store import Session, SessionStore
from heimdall.spend.book import BudgetCrossing, BudgetState
from heimdall.spend.poller import GatewayState, PollResult


class RecordingClient:
    """A `GatewayClient` that answers nothing and remembers what it was asked."""

    kind = "embedded"
    base_url = "http://127.0.0.1:9"

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.usage_calls: list[list[str]] = []

    async def models(self) -> list[ModelInfo]:
        return []

    def session_env(self, session: SessionRef, environ: Mapping[str, str] | None = None
                    ) -> dict[str, str | None]:
        return {"ANTHROPIC_BASE_URL": self.base_url, "ANTHROPIC_CUSTOM_HEADERS": f"x-tag: {session.id}"}

    async def usage(self, session_ids: Collection[str] | None = None, since: datetime | None = None
                    ) -> UsageReport:
        self.usage_calls.append(list(session_ids or []))
        return UsageReport(as_of=datetime.now(UTC), sessions={})

    async def health(self) -> Health:
        return Health(HealthStatus.OK)

    async def open_session(self, session: SessionRef) -> None:
        self.opened.append(session.id)

    async def close_session(self, session: SessionRef) -> None:
        self.closed.append(session.id)

    async def aclose(self) -> None:
        return None


def services_with(tmp_path: Path, *sessions: Session, restore: bool = True,
                  first: tuple[Session, ...] = (), claude_bin: str | None = "/bin/false"
                  ) -> tuple[SessionServices, RecordingClient]:
    store = SessionStore(tmp_path / "sessions.json")
    for session in sessions:
        store.add(session)
    client = RecordingClient()
    services = SessionServices(Config(), client, store, claude_bin=claude_bin, base_env={"SHELL": "/bin/sh"},
                               restore=restore, first_sessions=first)
    return services, client


def test_initial_sessions_restore_then_add_the_first_ones(tmp_path: Path) -> None:
    saved = Session.new("saved", tmp_path, command="bash")
    new = Session.new("new", tmp_path)
    services, _ = services_with(tmp_path, saved, first=(new,))
    assert [s.name for s in services.initial_sessions()] == ["saved", "new"]
    assert [s.name for s in SessionStore(tmp_path / "sessions.json").load()] == ["saved", "new"]
    fresh, _ = services_with(tmp_path / "b", saved, restore=False, first=(new,))
    assert [s.name for s in fresh.initial_sessions()] == ["new"]


def test_claude_is_needed_only_for_claude_sessions(tmp_path: Path) -> None:
    shell = Session.new("shell", tmp_path, command="bash")
    without, _ = services_with(tmp_path, shell, claude_bin=None)
    without.claude_bin = None  # find_claude may find one on this machine
    assert not without.needs_claude()
    claude, _ = services_with(tmp_path / "b", Session.new("agent", tmp_path), claude_bin=None)
    claude.claude_bin = None
    assert claude.needs_claude()


async def test_launches_commands_and_claude_sessions_through_the_gateway(tmp_path: Path) -> None:
    shell = Session.new("shell", tmp_path, command="bash -l")
    agent = Session.new("agent", tmp_path, model="claude-haiku-4-5")
    services, client = services_with(tmp_path, shell, agent, claude_bin=sys.executable)
    launch = await services.launch(shell)
    assert launch.argv == ["bash", "-l"]
    assert client.opened == []  # no gateway resources for a plain command
    launch = await services.launch(agent)
    assert client.opened == [agent.id]
    assert launch.argv[0] == sys.executable and agent.id in launch.argv
    assert launch.env["ANTHROPIC_CUSTOM_HEADERS"] == f"x-tag: {agent.id}"
    assert agent.started and SessionStore(tmp_path / "sessions.json").load()[1].started
    services.claude_bin = None
    with pytest.raises(RuntimeError, match="not installed"):
        await services.launch(Session.new("other", tmp_path))


async def test_open_sessions_follow_the_tabs_rename_forget_and_release(tmp_path: Path) -> None:
    a, b = Session.new("a", tmp_path, budget_usd=1.0), Session.new("b", tmp_path)
    services, client = services_with(tmp_path, a, b)
    tabs = [b.id, "not-a-session", a.id]
    services.follow_tabs(lambda: tabs)
    assert [s.name for s in services.open_sessions()] == ["b", "a"]
    assert services.rename(a.id, "api-fix") and not services.rename(a.id, "api-fix")
    assert not services.rename(a.id, None)
    assert [s.name for s in SessionStore(tmp_path / "sessions.json").load()] == ["api-fix", "b"]
    forgotten = services.forget(b.id)
    assert forgotten is b and services.session(b.id) is None
    await services.release(forgotten)
    assert client.closed == [b.id]
    assert services.forget(None) is None


async def test_one_poll_covers_every_open_tab_and_knows_their_budgets(tmp_path: Path) -> None:
    a, b = Session.new("a", tmp_path, budget_usd=2.0), Session.new("b", tmp_path)
    services, client = services_with(tmp_path, a, b)
    services.follow_tabs(lambda: [a.id, b.id])
    result = await services.poller.poll_once()
    assert client.usage_calls == [[a.id, b.id]]
    assert result.error is None and services.book.budget(a.id) == 2.0


def test_notices_carry_the_sessions_name_and_prompt_marks_reach_the_book(tmp_path: Path) -> None:
    a = Session.new("api-fix", tmp_path, model="claude-sonnet-4-5-20250929")
    services, _ = services_with(tmp_path, a)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    services.mark_prompt(a.id, at)
    assert a.last_prompt_at == at
    notice = services.activity_notice(a.id, Activity.BUSY, Activity.WAITING, background=True)
    assert notice is not None and notice.message.startswith("api-fix waiting")
    assert services.activity_notice("unknown", Activity.BUSY, Activity.WAITING, background=True) is None
    crossing = BudgetCrossing(a.id, BudgetState.OK, BudgetState.HALF, 1.0, 2.0)
    result = PollResult(GatewayState(kind="embedded", url=""), crossings=[crossing])
    assert [n.message for n in services.budget_notices(result)] == [
        "api-fix used 50% of its budget: $1.00 of $2.00"]


def test_the_domain_behind_the_ui_loads_no_textual() -> None:
    import subprocess

    modules = "heimdall.services.sessions, heimdall.keymap, heimdall.spend.notices, heimdall.spend.money"
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
