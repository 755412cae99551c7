"""SpendSidebar, GatewayStatus and the poller, driven by real reports and a real HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from heimdall.gateways.bifrost import BifrostClient
from heimdall.gateways.protocol import Health, HealthStatus
from heimdall.sessions.store import Session
from heimdall.spend.book import UsageBook
from heimdall.spend.money import format_usd
from heimdall.spend.poller import GatewayState, UsagePoller
from heimdall.tui.widgets.gateway_status import GatewayStatus
from heimdall.tui.widgets.spend_sidebar import SpendSidebar, TabSpendCard, format_tokens
from textual.pilot import Pilot
from textual.widgets import Label

from tests.tui.spend_host import (
    HAIKU,
    SONNET,
    T0,
    LogServer,
    SidebarHost,
    cell,
    log_row,
    report,
    screen_text,
)

HOSTILE = "[bold red]x[/]"
PER_SONNET = 0.008775  # 1200 in + 345 out at $3 / $15 per MTok
PER_HAIKU = 0.002925


def sessions() -> list[Session]:
    return [
        Session.new("api-fix", "/tmp", model="claude-sonnet-4-5", budget_usd=None, at=T0),
        Session.new("docs", "/tmp", model="claude-haiku-4-5", at=T0),
        Session.new(HOSTILE, "/tmp", model=HOSTILE, at=T0),
    ]


def card(app: SidebarHost, session_id: str) -> TabSpendCard:
    return next(c for c in app.query(TabSpendCard) if c.session_id == session_id)


def text_of(widget: Label) -> str:
    return str(widget.content)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause()


def test_token_formatting() -> None:
    assert [format_tokens(n) for n in (0, 999, 1234, 99_999, 123_456, 2_345_678)] == [
        "0", "999", "1.2k", "100.0k", "123k", "2.35M"]


async def test_cards_show_exact_cents_tokens_and_totals() -> None:
    app = SidebarHost()
    tabs = sessions()
    a, b, c = (s.id for s in tabs)
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{a: {"claude-sonnet-4-5": cell(SONNET, 1)}}))
    book.feed(report(T0 + timedelta(minutes=1),
                     **{a: {"claude-sonnet-4-5": cell(SONNET, 7, cr=2000, cw=100, errors=1)},
                        b: {"claude-haiku-4-5": cell(HAIKU, 3)},
                        c: {HOSTILE: cell(HAIKU, 1)}}))
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(book, tabs, GatewayState("embedded", "http://127.0.0.1:8787",
                                                     HealthStatus.OK, as_of=book.as_of),
                            active_id=a)
        await settle(pilot)
        a_cost = 7 * (PER_SONNET + 2000 * 0.30e-6 + 100 * 3.75e-6)
        assert book.spent(a) == pytest.approx(a_cost, abs=1e-9)
        card_a = card(app, a)
        assert text_of(card_a.query_one(".card-cost", Label)) == format_usd(a_cost) == "$0.07"
        assert str(card_a.query_one(".card-cost", Label).tooltip) == "$0.068250 (gateway total)"
        assert text_of(card(app, b).query_one(".card-cost", Label)) == "$0.01"
        screen = screen_text(app)
        assert "in 8.4k · out 2.4k" in screen
        assert "cache r 14.0k · w 700" in screen
        assert "7 req · 1 err" in screen
        # burn: 6 sonnet requests (+cache) in the minute after the first report
        assert book.burn_rate(a) == pytest.approx((a_cost - PER_SONNET) * 60, abs=1e-9)
        assert f"{format_usd((a_cost - PER_SONNET) * 60)}/h" in screen
        all_tabs = a_cost + 3 * PER_HAIKU + PER_HAIKU
        assert f"All tabs {format_usd(all_tabs):>{len(screen)}}".split()[0] == "All"
        line = next(x for x in screen.splitlines() if "All tabs" in x)
        assert line.rstrip().endswith(format_usd(all_tabs))
        assert "Today" in screen and "● embedded · healthy" in screen and "as of 12:01:00" in screen
        # details only for the active tab
        assert card_a.query_one(".card-details").display
        assert not card(app, b).has_class("-active")

        sidebar.toggle_expanded()
        await settle(pilot)
        assert text_of(card_a.query_one(".card-cost", Label)) == "$0.068250"
        assert "in 3.6k · out 1.0k" in screen_text(app)  # every card shows details when expanded


@pytest.mark.parametrize(
    ("requests", "css_class", "label"),
    [(2, "-budget-ok", "35% of $0.05"), (3, "-budget-half", "53% of $0.05"),
     (5, "-warn", "88% of $0.05"), (6, "-over-budget", "over 105% of $0.05")],
)
async def test_budget_states_set_classes(requests: int, css_class: str, label: str) -> None:
    app = SidebarHost()
    tab = Session.new("api-fix", "/tmp", model="claude-sonnet-4-5", budget_usd=0.05, at=T0)
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tab.id: {"claude-sonnet-4-5": cell(SONNET, requests)}}))
    async with app.run_test(size=(120, 30)) as pilot:
        app.query_one(SpendSidebar).update_view(book, [tab], active_id=tab.id)
        await settle(pilot)
        tab_card = card(app, tab.id)
        assert tab_card.has_class(css_class)
        others = {"-budget-ok", "-budget-half", "-warn", "-over-budget", "-no-budget"} - {css_class}
        assert not any(tab_card.has_class(name) for name in others)
        assert text_of(tab_card.query_one(".card-budget-label", Label)) == label


async def test_budget_crossing_events_through_the_sidebar_book() -> None:
    app = SidebarHost()
    tab = Session.new("api-fix", "/tmp", budget_usd=10 * PER_SONNET, at=T0)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(sessions=[tab])  # budgets reach the book before any report
        assert sidebar.book.feed(report(T0, **{tab.id: {"s": cell(SONNET, 1)}})) == []
        crossings = sidebar.book.feed(report(T0 + timedelta(seconds=2),
                                             **{tab.id: {"s": cell(SONNET, 8)}}))
        assert [c.state.label for c in crossings] == ["80%"]
        await settle(pilot)


async def test_unreachable_since_and_auth_failed_are_shown() -> None:
    app = SidebarHost()
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        down = GatewayState("bifrost", "http://127.0.0.1:8080", HealthStatus.UNREACHABLE,
                            message="connection refused", since=T0 + timedelta(seconds=70),
                            as_of=T0, failures=3)
        sidebar.update_view(UsageBook(), [], down)
        await settle(pilot)
        status = app.query_one(GatewayStatus)
        assert status.has_class("-down") and not status.has_class("-ok")
        screen = screen_text(app)
        assert "unreachable since 12:01:10" in screen
        assert "as of 12:00:00 · 3 fails" in screen
        assert "connection refused" in str(status.tooltip)
        sidebar.update_view(health=Health(HealthStatus.AUTH_FAILED, "key refused"))
        await settle(pilot)
        assert status.has_class("-auth-failed")
        assert "bifrost · auth failed" in screen_text(app)  # kind/URL kept from before


async def test_hostile_names_are_shown_literally() -> None:
    app = SidebarHost()
    tabs = sessions()
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tabs[2].id: {HOSTILE: cell(HAIKU, 1)}}))
    async with app.run_test(size=(120, 30)) as pilot:
        app.query_one(SpendSidebar).update_view(
            book, tabs, GatewayState(HOSTILE, "http://x/[link]", HealthStatus.OK), active_id=tabs[2].id
        )
        await settle(pilot)
        screen = screen_text(app)
        assert screen.count(HOSTILE) >= 4  # card name, card model, per-model total, gateway kind
        assert "http://x/[link]" in screen


async def test_80x24_is_compact_and_shows_the_essentials() -> None:
    app = SidebarHost()
    tabs = sessions()
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tabs[0].id: {"claude-sonnet-4-5": cell(SONNET, 7)}}))
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(book, tabs, GatewayState("embedded", "http://127.0.0.1:8787",
                                                     HealthStatus.OK, as_of=T0),
                            active_id=tabs[0].id)
        await settle(pilot)
        assert sidebar.has_class("-compact")
        assert sidebar.region.width <= 28
        screen = screen_text(app)
        assert "api-fix" in screen and "$0.06" in screen and "All tabs" in screen
        assert "embedded · healthy" in screen and "as of 12:00:00" in screen
        assert app.query_one(GatewayStatus).region.bottom <= 24
        await pilot.resize_terminal(140, 40)
        sidebar.update_view()
        await settle(pilot)
        assert not sidebar.has_class("-compact")


async def test_collapse_and_demo_labels() -> None:
    app = SidebarHost(demo=True)
    tab = Session.new("api-fix", "/tmp", model="claude-sonnet-4-5", budget_usd=1.0, at=T0)
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tab.id: {"claude-sonnet-4-5": cell(SONNET, 7)}}))
    book.mark_prompt(tab.id, T0)
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(book, [tab], active_id=tab.id)
        await settle(pilot)
        screen = screen_text(app)
        assert "DEMO" in screen
        money_lines = [line for line in screen.splitlines() if "$" in line]
        assert money_lines and all("demo" in line for line in money_lines)
        sidebar.toggle_collapsed()
        await settle(pilot)
        assert sidebar.collapsed
        assert "$0.06 demo" in screen_text(app)
        assert not app.query_one("#spend-tabs").display or "All tabs" not in screen_text(app)


async def test_cards_follow_tab_changes() -> None:
    app = SidebarHost()
    tabs = sessions()
    clicked: dict[int, str] = {}  # the hook sees a bubbling message once per node: key by identity

    def hook(message: object) -> None:
        if isinstance(message, SpendSidebar.CardSelected):
            clicked[id(message)] = message.session_id

    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(UsageBook(), tabs)
        await settle(pilot)
        assert [c.session_id for c in app.query(TabSpendCard)] == [s.id for s in tabs]
        await pilot.click(card(app, tabs[1].id))
        assert list(clicked.values()) == [tabs[1].id]  # the app switches to that tab
        sidebar.update_view(sessions=[tabs[2], tabs[0]])
        await settle(pilot)
        assert [c.session_id for c in app.query(TabSpendCard)] == [tabs[2].id, tabs[0].id]
        sidebar.update_view(sessions=[])
        await settle(pilot)
        assert not app.query(TabSpendCard)
        assert "no tabs yet" in screen_text(app)


# -- polling over real HTTP -------------------------------------------------------------------


@pytest.fixture
def log_server():
    server = LogServer()
    yield server
    server.stop()


async def test_poller_makes_one_usage_request_per_refresh(log_server: LogServer) -> None:
    now = datetime.now(UTC)
    log_server.add(log_row("r1", "tab-a", SONNET, now), log_row("r2", "tab-b", HAIKU, now))
    client = BifrostClient(log_server.url, timeout=2)
    book = UsageBook()
    tabs = ["tab-a", "tab-b", "tab-c"]
    poller = UsagePoller(client, book, lambda: tabs, refresh_seconds=2)
    try:
        for n in range(1, 6):
            result = await poller.poll_once()
            assert result.error is None
            assert log_server.usage_requests() == n  # three tabs, still one request
        assert book.spent("tab-a") == pytest.approx(PER_SONNET, abs=1e-9)
        assert book.spent("tab-b") == pytest.approx(PER_HAIKU, abs=1e-9)
        log_server.add(log_row("r3", "tab-a", SONNET, datetime.now(UTC)))
        await poller.poll_once()
        assert book.spent("tab-a") == pytest.approx(2 * PER_SONNET, abs=1e-9)
        assert poller.state.status is HealthStatus.OK and poller.state.version == "v-test"
        health_calls = sum(1 for path, _ in log_server.requests if path == "/health")
        assert health_calls == 1  # at start only (then every HEALTH_EVERY polls)
    finally:
        await client.aclose()


async def test_poller_bounds_the_read_by_the_oldest_tab_and_shows_partial_views(
    log_server: LogServer,
) -> None:
    """The oldest open tab's start is the `since` of every usage call: a gateway with a long
    history is not read from its beginning. A report's note (what the gateway cannot show)
    reaches the status line."""
    now = datetime.now(UTC)
    log_server.add(log_row("r1", "tab-a", SONNET, now))
    client = BifrostClient(log_server.url, timeout=2)
    oldest = now - timedelta(hours=3)
    poller = UsagePoller(client, UsageBook(), lambda: ["tab-a"], refresh_seconds=2,
                         since=lambda: oldest)
    try:
        result = await poller.poll_once()
        assert result.error is None
        starts = [q["start_time"][0] for path, q in log_server.requests
                  if path == "/api/logs" and "start_time" in q]
        assert starts, "usage was read without a time bound"
        assert min(datetime.fromisoformat(s.replace("Z", "+00:00")) for s in starts) >= oldest - timedelta(
            minutes=1
        )
    finally:
        await client.aclose()
    state = GatewayState(kind="litellm", url="http://127.0.0.1:4000", status=HealthStatus.OK,
                         as_of=T0, note="counters reset when the proxy restarts")
    status = GatewayStatus()
    async with SidebarHost().run_test() as pilot:
        await pilot.app.mount(status)
        status.update_state(state)
        await settle(pilot)
        assert "partial view" in str(status.content)
        assert "counters reset" in str(status.tooltip)


async def test_poller_backs_off_while_down_and_recovers(log_server: LogServer) -> None:
    log_server.add(log_row("r1", "tab-a", SONNET, datetime.now(UTC)))
    clock_value = [T0]
    client = BifrostClient(log_server.url, timeout=2)
    book = UsageBook()
    poller = UsagePoller(client, book, lambda: ["tab-a"], refresh_seconds=2, max_backoff=30,
                         clock=lambda: clock_value[0])
    try:
        await poller.poll_once()
        assert poller.next_delay() == 2
        port = log_server.port
        log_server.stop()
        delays = []
        for step in range(6):
            clock_value[0] = T0 + timedelta(seconds=10 + step)
            result = await poller.poll_once()
            assert result.error is not None and result.report is None
            delays.append(poller.next_delay())
        assert poller.state.status is HealthStatus.UNREACHABLE
        assert poller.state.since == T0 + timedelta(seconds=10)  # the first failure
        assert delays == [4, 8, 16, 30, 30, 30]
        assert book.spent("tab-a") == pytest.approx(PER_SONNET, abs=1e-9)  # numbers kept
        revived = LogServer(port)
        try:
            revived.add(log_row("r1", "tab-a", SONNET, datetime.now(UTC)),
                        log_row("r2", "tab-a", SONNET, datetime.now(UTC)))
            clock_value[0] = T0 + timedelta(seconds=60)
            result = await poller.poll_once()
            assert result.error is None
            assert poller.state.status is HealthStatus.OK and poller.next_delay() == 2
            assert book.spent("tab-a") == pytest.approx(2 * PER_SONNET, abs=1e-9)
        finally:
            revived.stop()
    finally:
        await client.aclose()


async def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_sidebar_worker_polls_and_manual_refresh(log_server: LogServer) -> None:
    now = datetime.now(UTC)
    tabs = sessions()
    log_server.add(log_row("r1", tabs[0].id, SONNET, now), log_row("r2", tabs[1].id, HAIKU, now))
    client = BifrostClient(log_server.url, timeout=2)
    app = SidebarHost()
    polled: list[SpendSidebar.Polled] = []

    def hook(message: object) -> None:
        if isinstance(message, SpendSidebar.Polled):
            polled.append(message)

    try:
        async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
            sidebar = app.query_one(SpendSidebar)
            sidebar.active_id = tabs[0].id
            poller = UsagePoller(client, sidebar.book, lambda: [t.id for t in tabs], refresh_seconds=600)
            sidebar.run_poller(poller, lambda: tabs)
            await wait_until(lambda: len(polled) >= 1)
            await settle(pilot)
            assert text_of(card(app, tabs[0].id).query_one(".card-cost", Label)) == "$0.01"
            assert "healthy" in screen_text(app)
            log_server.add(log_row("r3", tabs[0].id, SONNET, datetime.now(UTC), inp=100_000))
            sidebar.refresh_now()  # the 600 s wait is cut short
            await wait_until(lambda: len(polled) >= 2)
            await settle(pilot)
            assert log_server.usage_requests() == poller.polls == 2
            expected = 2 * PER_SONNET + 100_000 * 3e-6 - 1200 * 3e-6
            assert sidebar.book.spent(tabs[0].id) == pytest.approx(expected, abs=1e-9)
            assert text_of(card(app, tabs[0].id).query_one(".card-cost", Label)) == format_usd(expected)
    finally:
        await client.aclose()


# -- snapshots ---------------------------------------------------------------------------------


def _snapshot_state(app: SidebarHost, *, budget: float | None, health: GatewayState,
                    expanded: bool = False, collapsed: bool = False) -> Callable[[Pilot[None]], object]:
    tabs = [
        Session.new("api-fix", "/tmp", model="claude-sonnet-4-5", budget_usd=budget, at=T0),
        Session.new("docs", "/tmp", model="claude-haiku-4-5", at=T0),
        Session.new(HOSTILE, "/tmp", model=None, at=T0),
    ]
    tabs[0].id, tabs[1].id, tabs[2].id = "a" * 8, "b" * 8, "c" * 8
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tabs[0].id: {"claude-sonnet-4-5": cell(SONNET, 1)}}))
    book.mark_prompt(tabs[0].id, T0)
    book.feed(report(T0 + timedelta(minutes=1),
                     **{tabs[0].id: {"claude-sonnet-4-5": cell(SONNET, 5, cr=3000),
                                     "claude-haiku-4-5": cell(HAIKU, 2)},
                        tabs[1].id: {"claude-haiku-4-5": cell(HAIKU, 3)}}))

    async def run_before(pilot: Pilot[None]) -> None:
        sidebar = app.query_one(SpendSidebar)
        if expanded:
            sidebar.toggle_class("-expanded")
        if collapsed:
            sidebar.toggle_collapsed()
        sidebar.update_view(book, tabs, health, active_id=tabs[0].id)
        await settle(pilot)

    return run_before


HEALTHY = GatewayState("embedded", "http://127.0.0.1:8787", HealthStatus.OK,
                       as_of=T0 + timedelta(minutes=1))
DOWN = GatewayState("bifrost", "http://127.0.0.1:8080", HealthStatus.UNREACHABLE,
                    since=T0 + timedelta(minutes=1, seconds=4), as_of=T0 + timedelta(minutes=1),
                    failures=2)


@pytest.mark.parametrize(
    ("name", "size", "budget", "health", "demo", "expanded", "collapsed"),
    [
        ("healthy-warn", (120, 34), 0.07, HEALTHY, False, False, False),
        ("over-budget-unreachable", (120, 34), 0.05, DOWN, False, False, False),
        ("compact-80x24", (80, 24), 0.2, HEALTHY, False, False, False),
        ("demo-expanded", (120, 40), None, HEALTHY, True, True, False),
        ("collapsed", (80, 24), None, HEALTHY, False, False, True),
    ],
    ids=["healthy-warn", "over-budget-unreachable", "compact-80x24", "demo-expanded", "collapsed"],
)
def test_sidebar_snapshots(snap_compare, name: str, size: tuple[int, int], budget: float | None,
                           health: GatewayState, demo: bool, expanded: bool,
                           collapsed: bool) -> None:
    app = SidebarHost(demo=demo)
    run_before = _snapshot_state(app, budget=budget, health=health, expanded=expanded,
                                 collapsed=collapsed)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_tiny_terminal_does_not_break_the_sidebar() -> None:
    app = SidebarHost()
    tabs = sessions()
    book = UsageBook(tz=UTC)
    book.feed(report(T0, **{tabs[0].id: {"claude-sonnet-4-5": cell(SONNET, 7)}}))
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one(SpendSidebar)
        sidebar.update_view(book, tabs, HEALTHY, active_id=tabs[0].id)
        for size in ((1, 1), (12, 3), (40, 8), (80, 24)):
            await pilot.resize_terminal(*size)
            sidebar.update_view()
            await settle(pilot)
        assert "All tabs" in screen_text(app)


async def test_a_client_bug_becomes_an_error_state_not_a_crash() -> None:
    class BrokenClient:
        kind = "bifrost"
        base_url = "http://127.0.0.1:9"

        async def health(self) -> Health:
            raise RuntimeError("boom in health")

        async def usage(self, session_ids=None, since=None):  # type: ignore[no-untyped-def]
            raise KeyError("boom in usage")

    poller = UsagePoller(BrokenClient(), UsageBook(), lambda: ["a"])  # type: ignore[arg-type]
    result = await poller.poll_once()
    assert result.error is not None and "unexpected KeyError" in result.error.message
    assert poller.state.status is HealthStatus.ERROR and poller.next_delay() == 4
