"""End to end: real Claude Code tabs -> embedded gateway -> simulated upstream, the sidebar's exact
money, a model switch that keeps the conversation, and tabs that come back after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from heimdall.commands.demo import build_demo_app
from heimdall.config import Config
from heimdall.demo.stack import start_demo_stack
from heimdall.gateways.protocol import ModelInfo
from heimdall.services.sessions import SessionServices
from heimdall.sessions.store import SessionStore
from heimdall.spend.money import format_usd
from heimdall.tui.app import HeimdallApp
from heimdall.tui.screens.model_menu import ModelMenu, claude_model_id
from heimdall.tui.widgets.spend_sidebar import TabSpendCard
from heimdall.tui.widgets.terminal_view import TerminalView
from textual.widgets import DataTable, Label

from tests.claude_support import claude_binary

pytestmark = [pytest.mark.claude, pytest.mark.timeout(240)]

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


def tab_text(view: TerminalView) -> str:
    term = view.terminal
    return "\n".join(term.text_line(i) for i in range(term.total_lines))


async def wait_until(pilot, check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def ready(view: TerminalView) -> bool:
    """The prompt footer is on screen since the last (re)start of the tab's child."""
    return "? for shortcuts" in tab_text(view).rsplit("[heimdall] restarting", 1)[-1]


def unit_cost(info: ModelInfo) -> float:
    """One simulated request: 1200 in, 345 out, 2048 cache read (the demo's fixed usage)."""
    assert info.input_per_mtok is not None and info.output_per_mtok is not None
    assert info.cache_read_per_mtok is not None
    return (1200 * info.input_per_mtok + 345 * info.output_per_mtok
            + 2048 * info.cache_read_per_mtok) / 1e6


async def test_three_tabs_exact_spend_model_switch_and_restart(tmp_path: Path) -> None:
    claude = claude_binary()
    config = Config()
    config.gateway.refresh_seconds = 0.5
    stack = start_demo_stack(config, root=tmp_path / "demo")
    try:
        prices = {claude_model_id(m.id): m for m in await stack.client.models()}
        app = build_demo_app(config, stack, tabs=3, claude_bin=claude, freeze_gc=False)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, lambda: len(app.tabs) == 3 and all(map(ready, app.tabs)),
                             "three Claude Code prompts")
            sessions = app.open_sessions()
            assert [s.name for s in sessions] == ["api-fix", "docs", "refactor"]
            for index, view in enumerate(app.tabs):
                app.activate(view)
                await pilot.pause()
                await pilot.press(*f"hello {index}", "enter")
            for view in app.tabs:
                await wait_until(pilot, lambda v=view: "FAKE-REPLY" in tab_text(v), "a reply")
            expected = {}
            gateway_report = None
            for _ in range(400):
                app.spend.refresh_now()
                await pilot.pause(0.1)
                gateway_report = await stack.client.usage([s.id for s in sessions])
                book = app.spend.book
                if all(book.session_totals(s.id).requests >= 1 for s in sessions) and all(
                    book.spent(s.id) == gateway_report.sessions[s.id].totals.cost_usd
                    or abs(book.spent(s.id) - gateway_report.sessions[s.id].totals.cost_usd) < 1e-12
                    for s in sessions
                ):
                    break
            book = app.spend.book
            for session in sessions:
                cells = book.session_models(session.id)
                assert list(cells) == [session.model], cells  # every request on the tab's model
                requests = cells[session.model].requests
                expected[session.id] = requests * unit_cost(prices[session.model])
                assert book.spent(session.id) == pytest.approx(expected[session.id], abs=1e-9)
                card = next(c for c in app.query(TabSpendCard) if c.session_id == session.id)
                shown = str(card.query_one(".card-cost", Label).content)
                assert shown == format_usd(expected[session.id], demo=True)
            by_model = book.model_totals()
            assert by_model[SONNET].cost_usd == pytest.approx(
                expected[sessions[0].id] + expected[sessions[2].id], abs=1e-9)
            assert by_model[HAIKU].cost_usd == pytest.approx(expected[sessions[1].id], abs=1e-9)
            assert book.totals().cost_usd == pytest.approx(gateway_report.total_cost_usd, abs=1e-9)

            # switch tab 2 (haiku) to sonnet from the model menu
            docs_view, docs = app.tabs[1], sessions[1]
            app.activate(docs_view)
            await pilot.pause()
            app.open_model_menu(docs_view)
            await wait_until(pilot, lambda: isinstance(app.screen, ModelMenu)
                             and bool(app.screen.query(DataTable)), "the model menu")
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count > 0, "the gateway's models")
            keys = [str(k.value) for k in table.rows]
            table.move_cursor(row=keys.index(SONNET))
            await pilot.press("enter")
            await wait_until(pilot, lambda: docs.model == SONNET and docs_view.running
                             and ready(docs_view) and "--resume" in docs_view.launch.argv,
                             "the tab restarted on sonnet")
            assert docs_view.launch.argv[-2:] == ["--model", SONNET] or SONNET in docs_view.launch.argv
            assert [m.model for m in docs.model_history] == [HAIKU, SONNET]
            before = len(stack.upstream.requests())
            await pilot.press(*"again", "enter")
            await wait_until(pilot, lambda: f"from model={SONNET}" in tab_text(docs_view),
                             "a sonnet reply in tab 2")
            main_calls = [r for r in stack.upstream.requests()[before:]
                          if r["path"].startswith("/v1/messages") and "again" in json.dumps(r["body"])]
            assert main_calls and main_calls[-1]["body"]["model"] == SONNET
            assert "hello 1" in json.dumps(main_calls[-1]["body"]["messages"])  # conversation kept
            for _ in range(400):
                app.spend.refresh_now()
                await pilot.pause(0.1)
                if set(app.spend.book.session_models(docs.id)) == {HAIKU, SONNET}:
                    break
            split = app.spend.book.session_models(docs.id)
            assert set(split) == {HAIKU, SONNET}
            assert split[HAIKU].cost_usd == pytest.approx(expected[docs.id], abs=1e-9)
            ids = [s.id for s in sessions]
            await app.shutdown()

        # restart: the same three sessions come back, resumed, with their spend
        store = SessionStore(stack.root / "sessions.json")
        assert [s.id for s in store.load()] == ids
        again = HeimdallApp(config, SessionServices(config, stack.client, store, claude_bin=claude,
                                                    base_env=stack.env, demo=True), freeze_gc=False)
        async with again.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, lambda: len(again.tabs) == 3 and all(map(ready, again.tabs)),
                             "three resumed tabs")
            assert [v.session_id for v in again.tabs] == ids
            assert all("--resume" in v.launch.argv for v in again.tabs)
            assert SONNET in again.tabs[1].launch.argv
            await wait_until(pilot, lambda: again.spend.book.spent(ids[0]) > 0, "spend after restart")
            assert again.spend.book.spent(ids[0]) == pytest.approx(expected[ids[0]], abs=1e-9)
            await again.shutdown()
    finally:
        await stack.client.aclose()
        stack.stop()


async def test_budget_refusal_and_gateway_outage(tmp_path: Path) -> None:
    from heimdall.server.app import GatewaySettings, RunningGateway
    from heimdall.sessions.store import Session
    from heimdall.tui.widgets.gateway_status import GatewayStatus

    claude = claude_binary()
    config = Config()
    config.gateway.refresh_seconds = 0.3
    stack = start_demo_stack(config, root=tmp_path / "demo")
    revived = None
    try:
        session = Session.new("api-fix", stack.project, model=SONNET, budget_usd=0.02)
        services = SessionServices(config, stack.client, SessionStore(stack.root / "sessions.json"),
                                   claude_bin=claude, base_env=stack.env, demo=True, restore=False,
                                   first_sessions=[session])
        app = HeimdallApp(config, services, freeze_gc=False)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, lambda: len(app.tabs) == 1 and ready(app.tabs[0]), "a prompt")
            view = app.tabs[0]
            for turn in range(8):
                await pilot.press(*f"turn {turn}", "enter")
                await wait_until(pilot, lambda t=turn: f"turn {t}" in tab_text(view)
                                 and ("Budget exceeded" in tab_text(view)
                                      or tab_text(view).count("FAKE-REPLY") > t), "an answer")
                if "Budget exceeded" in tab_text(view):
                    break
            assert "Budget exceeded for session" in tab_text(view)  # the gateway's own words
            card = app.query_one(TabSpendCard)
            await wait_until(pilot, lambda: card.has_class("-over-budget"), "the over-budget state")
            assert app.spend.book.spent(session.id) >= 0.02
            messages = [n.message for n in app._notifications]
            assert any("api-fix reached its budget" in m for m in messages), messages

            # the gateway dies: the sidebar says so within a refresh, the tab keeps running
            port = int(stack.gateway.url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
            spent = app.spend.book.spent(session.id)
            stack.gateway.stop()  # type: ignore[attr-defined]
            status = app.query_one(GatewayStatus)
            await wait_until(pilot, lambda: status.has_class("-down"), "unreachable")
            assert "unreachable since" in str(status.render())
            assert view.running and app.spend.book.spent(session.id) == spent  # numbers kept
            revived = RunningGateway(GatewaySettings(
                token=stack.client.token, db_path=stack.root / "gateway.db",  # type: ignore[attr-defined]
                port=port, upstream=stack.upstream.url)).start()  # type: ignore[attr-defined]
            app.spend.refresh_now()
            await wait_until(pilot, lambda: status.has_class("-ok"), "healthy again", timeout=60)
            assert app.spend.book.spent(session.id) == pytest.approx(spent, abs=1e-9)
            await app.shutdown()
    finally:
        if revived is not None:
            revived.stop()
        await stack.client.aclose()
        with contextlib.suppress(Exception):  # the gateway may be stopped already
            stack.stop()


async def test_bifrost_contract_fake_tabs_show_bifrosts_own_costs(tmp_path: Path) -> None:
    """The same sidebar over Bifrost (its contract fake): each tab's money is Bifrost's `cost`."""
    from heimdall.demo.stack import demo_environment
    from heimdall.gateways.bifrost import BifrostClient
    from heimdall.sessions.store import Session

    from tests.fakes.bifrost import PRICES, BifrostFake, FakeUsage, fake_cost

    claude = claude_binary()
    fake = BifrostFake()
    fake.start()
    vk = fake.create_vk("heimdall")
    client = BifrostClient(fake.url, virtual_key=vk["value"])
    config = Config()
    config.gateway.refresh_seconds = 0.3
    env = demo_environment(tmp_path / "env")
    project = tmp_path / "project"
    project.mkdir()
    tabs = [Session.new("api-fix", project, model=SONNET), Session.new("docs", project, model=HAIKU)]
    services = SessionServices(config, client, SessionStore(tmp_path / "sessions.json"), claude_bin=claude,
                               base_env=env, restore=False, first_sessions=tabs)
    app = HeimdallApp(config, services, freeze_gc=False)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, lambda: len(app.tabs) == 2 and all(map(ready, app.tabs)),
                             "two prompts")
            for view in app.tabs:
                app.activate(view)
                await pilot.pause()
                await pilot.press(*"hello", "enter")
                await wait_until(pilot, lambda v=view: "FAKE-REPLY from model=" in tab_text(v),
                                 "a Bifrost reply")
            book = app.spend.book
            for _ in range(300):
                app.spend.refresh_now()
                await pilot.pause(0.1)
                done = [r for r in fake.state.logs if r.get("status") == "success"]
                seen = sum(book.session_totals(t.id).requests for t in tabs)
                if done and seen == len(done):
                    break
            for tab in tabs:
                cells = book.session_models(tab.id)
                assert list(cells) == [tab.model]
                requests = cells[tab.model].requests
                assert requests >= 1
                expected = requests * fake_cost(tab.model, FakeUsage(), PRICES)
                assert book.spent(tab.id) == pytest.approx(expected, abs=1e-9)
                card = next(c for c in app.query(TabSpendCard) if c.session_id == tab.id)
                assert str(card.query_one(".card-cost", Label).content) == format_usd(expected)
            status = app.spend.gateway
            assert status is not None and status.kind == "bifrost" and status.ok
            await app.shutdown()
    finally:
        await client.aclose()
        fake.stop()
