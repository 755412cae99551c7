"""ModelMenu: prices, this tab's spend per model, what-if estimates, choosing and confirming."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from heimdall.gateways.protocol import ModelInfo
from heimdall.sessions.store import Session
from heimdall.spend.book import UsageBook
from heimdall.tui.screens.model_menu import ModelMenu, claude_model_id, model_rows
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, Static

from tests.tui.spend_host import HAIKU, SONNET, STYLES, T0, cell, report, screen_text

HOSTILE = ModelInfo("[bold red]x[/]", input_per_mtok=0.5, output_per_mtok=2.0)
NO_PRICE = ModelInfo("mystery-model")
OPUS = ModelInfo("claude-opus-4-1", input_per_mtok=15.0, output_per_mtok=75.0,
                 cache_read_per_mtok=1.5, cache_write_per_mtok=18.75)
MODELS = [SONNET, HAIKU, OPUS, HOSTILE, NO_PRICE]


class MenuHost(App[None]):
    CSS_PATH = str(STYLES / "dialogs.tcss")

    def __init__(self, menu: ModelMenu) -> None:
        super().__init__()
        self.menu = menu
        self.results: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("tab area")

    def on_mount(self) -> None:
        self.push_screen(self.menu, self.results.append)


def tab_with_spend() -> tuple[Session, UsageBook]:
    session = Session.new("api-fix", "/tmp", model="claude-sonnet-4-5", at=T0)
    session.id = "a" * 8
    book = UsageBook(tz=UTC)
    # 4 sonnet requests (1200 in, 345 out, 1000 cache read each) and 2 haiku after a switch
    book.feed(report(T0 + timedelta(minutes=1), **{session.id: {
        "claude-sonnet-4-5": cell(SONNET, 4, cr=1000),
        "claude-haiku-4-5": cell(HAIKU, 2, cr=1000),
    }}))
    return session, book


def test_rows_hold_prices_spend_and_estimates() -> None:
    session, book = tab_with_spend()
    rows = dict(model_rows(MODELS, session, book))
    totals = book.session_totals(session.id)
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (7200, 2070, 6000)
    plain = {model: [str(c) for c in cells] for model, cells in rows.items()}
    assert plain["claude-sonnet-4-5"][:6] == ["● claude-sonnet-4-5", "$3.00", "$15.00", "$0.30",
                                               "$3.75", "$0.04"]
    assert plain["claude-haiku-4-5"][0] == "  claude-haiku-4-5"
    assert plain["claude-haiku-4-5"][5] == "$0.01"
    # what this tab's 7200 in / 2070 out / 6000 cache-read tokens cost on each model
    assert OPUS.estimate_cost(totals) == pytest.approx((7200 * 15 + 2070 * 75 + 6000 * 1.5) / 1e6, abs=1e-12)
    assert plain["claude-opus-4-1"][6] == "$0.2723"
    assert plain["claude-haiku-4-5"][6] == "$0.0182"
    assert plain["mystery-model"][1:7] == ["—", "—", "—", "—", "—", "no price"]
    assert plain["[bold red]x[/]"][0] == "  [bold red]x[/]"
    assert all(isinstance(c, Text) for cells in rows.values() for c in cells)


def test_bifrost_style_ids_match_bare_usage_ids() -> None:
    session, book = tab_with_spend()
    listed = ModelInfo("anthropic/claude-sonnet-4-5", input_per_mtok=3.0, output_per_mtok=15.0)
    (key, cells), = model_rows([listed], session, book)
    assert key == "claude-sonnet-4-5"
    assert str(cells[0]) == "● anthropic/claude-sonnet-4-5" and str(cells[5]) == "$0.04"
    assert claude_model_id("openai/gpt-4o") == "openai/gpt-4o"


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_choosing_a_model_returns_its_id() -> None:
    session, book = tab_with_spend()
    app = MenuHost(ModelMenu(session, book, models=MODELS))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 5
        assert table.cursor_row == 0  # on the current model
        screen = screen_text(app)
        assert "spent $0.04 over 6 requests" in screen
        assert "[bold red]x[/]" in screen  # hostile id shown literally
        await pilot.press("down", "down", "enter")
        await settle(pilot)
    assert app.results == ["claude-opus-4-1"]


async def test_current_model_and_escape_return_none() -> None:
    session, book = tab_with_spend()
    app = MenuHost(ModelMenu(session, book, models=MODELS))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.push_screen(ModelMenu(session, book, models=MODELS), app.results.append)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    assert app.results == [None, None]


async def test_busy_tab_asks_first() -> None:
    session, book = tab_with_spend()
    app = MenuHost(ModelMenu(session, book, models=MODELS, busy=True))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.results == []
        assert app.screen.has_class("-confirming")
        status = app.screen.query_one("#model-menu-status", Label)
        assert "api-fix is busy" in str(status.content) and "claude-haiku-4-5" in str(status.content)
        await pilot.press("n")
        await settle(pilot)
        assert not app.screen.has_class("-confirming")
        await pilot.press("enter", "y")
        await settle(pilot)
    assert app.results == ["claude-haiku-4-5"]


class ListingClient:
    """Minimal `GatewayClient` over the embedded gateway's real HTTP `/v1/models`."""

    kind = "embedded"

    def __init__(self, url: str, token: str) -> None:
        import httpx

        self.base_url = url
        self.http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"})

    async def models(self) -> list[ModelInfo]:
        from heimdall.gateways.bifrost import _model_from_v1

        body = (await self.http.get("/v1/models")).json()
        return [_model_from_v1(entry) for entry in body["data"]]


@pytest.mark.timeout(60)
async def test_menu_lists_the_embedded_gateways_models(tmp_path: Path) -> None:
    from heimdall.demo.simulated import SimulatedUpstream
    from heimdall.server.app import GatewaySettings, RunningGateway

    upstream = SimulatedUpstream()
    upstream_url = upstream.start()
    gateway = RunningGateway(GatewaySettings(token="t" * 24, db_path=tmp_path / "gw.db", port=0,
                                             upstream=upstream_url)).start()
    client: Any = ListingClient(gateway.url, "t" * 24)
    try:
        expected = await client.models()
        assert expected, "the embedded gateway lists no models"
        session, book = tab_with_spend()
        app = MenuHost(ModelMenu(session, book, client=client))
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.screen.query_one(DataTable)
            for _ in range(200):
                if table.row_count:
                    break
                await pilot.pause(0.02)
            assert table.row_count == len(expected)
            ids = [str(key.value) for key in table.rows]
            assert ids == [claude_model_id(m.id) for m in expected]
            assert "claude-sonnet-4-5-20250929" in ids  # `anthropic/` dropped for --model
    finally:
        await client.http.aclose()
        gateway.stop()
        upstream.stop()


def test_model_menu_snapshot(snap_compare) -> None:
    session, book = tab_with_spend()
    app = MenuHost(ModelMenu(session, book, models=MODELS))

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 24), run_before=run_before)
