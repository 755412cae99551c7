"""The live spend sidebar: what every tab costs, per model, right now, as the gateway says.

It renders from three things only: a `UsageBook` (numbers), the tabs' `Session`s (names, models,
budgets) and the gateway's state; `update_view` can be called with any of them at any time. It
also drives the poll (`run_poller`): the caller's one `UsagePoller` for all tabs, run in one
`@work(exclusive=True, group="gateway-poll")` worker, posting `SpendSidebar.Polled` so the app can
notify about budget crossings. The book and the poller belong to the caller (`SessionServices`).

Every dollar shown is the gateway's number rounded half-up to the cent; the tooltip (and the
`-expanded` layout) shows six decimals. Model names and tab names come from outside (gateways,
users), so everything is drawn as `Text`, never parsed as markup. In demo mode every figure
carries "demo". State classes: `-collapsed`, `-compact`, `-expanded`, `-demo` on the sidebar;
`-active`, `-budget-half`, `-warn`, `-over-budget`, `-no-budget` on each tab card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Label, ProgressBar, Sparkline, Static

from heimdall.gateways.protocol import Health, UsageTotals
from heimdall.sessions.store import Session
from heimdall.spend.book import BudgetState, UsageBook
from heimdall.spend.money import format_rate, format_usd
from heimdall.spend.poller import GatewayState, PollResult, UsagePoller
from heimdall.tui.widgets.gateway_status import GatewayStatus

COMPACT_BELOW_COLUMNS = 100
"""Screens narrower than this get the compact layout (80x24 must stay usable)."""

BUDGET_CLASSES = {
    BudgetState.NONE: "-no-budget",
    BudgetState.OK: "-budget-ok",
    BudgetState.HALF: "-budget-half",
    BudgetState.WARN: "-warn",
    BudgetState.OVER: "-over-budget",
}


def format_tokens(count: int) -> str:
    """1234 -> 1.2k, 1234567 -> 1.23M: four significant characters at most."""
    if count < 1000:
        return str(count)
    if count < 100_000:
        return f"{count / 1000:.1f}k"
    if count < 1_000_000:
        return f"{count // 1000}k"
    return f"{count / 1_000_000:.2f}M"


def short_model(model: str | None) -> str:
    return model if model else "default model"


def _money_table(rows: Sequence[tuple[str, float]], demo: bool, indent: str = "") -> Table:
    """Label / amount rows; labels ellipsised, amounts right-aligned, all plain `Text`."""
    table = Table.grid(expand=True, padding=(0, 0, 0, 1), pad_edge=False)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column(justify="right", no_wrap=True)
    for label, amount in rows:
        table.add_row(Text(indent + label), Text(format_usd(amount, demo=demo)))
    return table


class TabSpendCard(Vertical):
    """One tab's money. Details show for the active tab, or for all when the sidebar is expanded."""

    def __init__(self, session_id: str) -> None:
        super().__init__(classes="spend-card")
        self.session_id = session_id
        self._pending: tuple[Session, UsageBook, bool, bool, bool, bool] | None = None
        self._ready = False

    def on_click(self) -> None:
        self.post_message(SpendSidebar.CardSelected(self.session_id))

    def on_mount(self) -> None:
        # nested containers compose after this card's Mount: draw once they are all there
        self.call_after_refresh(self._first_draw)

    def _first_draw(self) -> None:
        self._ready = True
        if self._pending is not None:
            session, book, active, expanded, demo, compact = self._pending
            self.show(session, book, active=active, expanded=expanded, demo=demo, compact=compact)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-head"):
            yield Label("", classes="card-name")
            yield Label("", classes="card-cost")
        yield Label("", classes="card-model")
        with Vertical(classes="card-details"):
            yield Static("", classes="card-tokens")
            with Horizontal(classes="card-burn-row"):
                yield Label("", classes="card-burn")
                yield Sparkline([], classes="card-spark")
            yield Label("", classes="card-since")
            yield Static("", classes="card-models")
        with Horizontal(classes="card-budget"):
            yield Label("", classes="card-budget-label")
            yield ProgressBar(total=100, show_eta=False, show_percentage=False,
                              classes="card-budget-bar")

    def show(self, session: Session, book: UsageBook, *, active: bool, expanded: bool,
             demo: bool, compact: bool = False) -> None:
        self._pending = (session, book, active, expanded, demo, compact)
        if not self._ready:
            return  # drawn by _first_draw
        try:
            self._draw(session, book, active=active, expanded=expanded, demo=demo, compact=compact)
        except NoMatches:  # not fully composed yet (very busy app): try again next frame
            self.call_after_refresh(self._first_draw)

    def _draw(self, session: Session, book: UsageBook, *, active: bool, expanded: bool,
              demo: bool, compact: bool) -> None:
        sid = session.id
        totals = book.session_totals(sid)
        digits = 6 if expanded else 2
        self.set_class(active, "-active")
        self.query_one(".card-name", Label).update(Text(session.name or sid[:8]))
        cost = self.query_one(".card-cost", Label)
        cost.update(Text(format_usd(totals.cost_usd, digits, demo=demo)))
        cost.tooltip = Text(f"{format_usd(totals.cost_usd, 6, demo=demo)} (gateway total)")
        model_label = self.query_one(".card-model", Label)
        model_label.update(Text(short_model(session.model)))
        model_label.tooltip = Text(session.model or "Claude Code's default model")

        self.query_one(".card-tokens", Static).update(self._token_lines(totals, compact))
        rate = format_rate(book.burn_rate(sid), demo=demo)
        if compact:  # requests share the burn line; the sparkline is hidden
            rate = f"{rate} · {totals.requests} req · {totals.errors} err"
        self.query_one(".card-burn", Label).update(Text(rate))
        self.query_one(".card-spark", Sparkline).data = book.burn_series(sid)
        since = book.since_prompt(sid)
        self.query_one(".card-since", Label).update(
            Text(f"since prompt {format_usd(since, digits, demo=demo)}")
        )
        models = book.session_models(sid)
        rows = [(m, cell.cost_usd) for m, cell in models.items()]
        models_static = self.query_one(".card-models", Static)
        show_models = len(rows) > 1 and not compact  # compact: the totals list them anyway
        models_static.display = show_models
        models_static.update(_money_table(rows, demo, indent="  ") if show_models else "")

        self._show_budget(session, book, demo)

    @staticmethod
    def _token_lines(totals: UsageTotals, compact: bool = False) -> Text:
        text = Text(
            f"in {format_tokens(totals.input_tokens)} · out {format_tokens(totals.output_tokens)}"
        )
        cached = totals.cache_read_tokens or totals.cache_write_tokens
        if cached or not compact:
            text.append(
                f"\ncache r {format_tokens(totals.cache_read_tokens)}"
                f" · w {format_tokens(totals.cache_write_tokens)}"
            )
        if not compact:
            text.append(f"\n{totals.requests} req · {totals.errors} err")
        return text

    def _show_budget(self, session: Session, book: UsageBook, demo: bool) -> None:
        budget = book.budget(session.id)
        state = book.budget_state(session.id)
        for name in BUDGET_CLASSES.values():
            self.remove_class(name)
        self.add_class(BUDGET_CLASSES[state])
        row = self.query_one(".card-budget", Horizontal)
        row.display = budget is not None
        if budget is None:
            return
        fraction = book.budget_fraction(session.id) or 0.0
        label = f"{fraction * 100:.0f}% of {format_usd(budget, demo=demo)}"
        if state is BudgetState.OVER:
            label = f"over {label}"
        self.query_one(".card-budget-label", Label).update(Text(label))
        self.query_one(".card-budget-bar", ProgressBar).update(progress=min(fraction, 1.0) * 100)


class SpendSidebar(Vertical):
    """Per-tab spend, totals, per-model totals, today, and the gateway status line."""

    BINDING_GROUP_TITLE = "Spend sidebar"

    class Polled(Message):
        """A poll finished (good or not): budget crossings and the gateway state, for notices."""

        def __init__(self, sidebar: SpendSidebar, result: PollResult) -> None:
            super().__init__()
            self.sidebar = sidebar
            self.result = result

        @property
        def control(self) -> SpendSidebar:
            return self.sidebar

    class CardSelected(Message):
        """The user clicked a tab's card (the app switches to that tab)."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, *, book: UsageBook | None = None, demo: bool = False, tz: tzinfo | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.demo = demo
        self.tz = tz
        self.book = book or UsageBook()
        """The numbers drawn (the app's `SessionServices.book`; the sidebar only reads it)."""
        self.sessions: list[Session] = []
        self.active_id: str | None = None
        self.gateway: GatewayState | None = None
        self.poller: UsagePoller | None = None
        self._session_source: Callable[[], Sequence[Session]] | None = None
        self.set_class(demo, "-demo")

    def compose(self) -> ComposeResult:
        title = "Spend · DEMO (simulated)" if self.demo else "Spend"
        yield Label(Text(title), id="spend-title")
        yield Label("", id="spend-collapsed-summary")
        with VerticalScroll(id="spend-tabs"):
            yield Label(Text("no tabs yet"), id="spend-empty")
        with Vertical(id="spend-totals"):
            yield Static("", id="spend-totals-main")
            yield Static("", id="spend-totals-models")
        yield GatewayStatus(tz=self.tz, id="gateway-status")

    # -- public API ------------------------------------------------------------------------------

    def update_view(
        self,
        book: UsageBook | None = None,
        sessions: Sequence[Session] | None = None,
        health: GatewayState | Health | None = None,
        *,
        active_id: str | None = None,
    ) -> None:
        """Redraw from the given state; omitted arguments keep their previous value."""
        if book is not None:
            self.book = book
        if sessions is not None:
            self.sessions = list(sessions)
        self._sync_budgets()
        if isinstance(health, Health):
            previous = self.gateway
            health = GatewayState.from_health(
                health, previous.kind if previous else "", previous.url if previous else ""
            )
        if health is not None:
            self.gateway = health
        if active_id is not None:
            self.active_id = active_id
        if not self.is_mounted:
            return
        self._apply_compact()
        self._sync_cards()
        self._show_totals()
        if self.gateway is not None:
            status = self.query_one(GatewayStatus)
            status.tz = self.tz
            status.compact = self.has_class("-compact")
            status.update_state(self.gateway)

    def _sync_budgets(self) -> None:
        """The book needs budgets before it sees a report, to tell crossings."""
        for session in self.sessions:
            if self.book.budget(session.id) != session.budget_usd:
                self.book.set_budget(session.id, session.budget_usd)

    def set_active(self, session_id: str | None) -> None:
        self.active_id = session_id
        self.update_view()

    def toggle_collapsed(self) -> None:
        self.toggle_class("-collapsed")

    def toggle_expanded(self) -> None:
        self.toggle_class("-expanded")
        self.update_view()

    @property
    def collapsed(self) -> bool:
        return self.has_class("-collapsed")

    # -- polling -----------------------------------------------------------------------------------

    def run_poller(self, poller: UsagePoller, sessions: Callable[[], Sequence[Session]]) -> None:
        """Run `poller` (owned by the caller) in this widget's worker, redrawing after each poll
        with the sessions `sessions()` returns."""
        self.poller = poller
        self.book = poller.book
        self._session_source = sessions
        self.gateway = GatewayState(kind=poller.client.kind, url=poller.client.base_url)
        self._poll_worker()

    def refresh_now(self) -> None:
        """Manual refresh (the app's refresh key)."""
        if self.poller is not None:
            self.poller.refresh_now()

    @work(exclusive=True, group="gateway-poll")
    async def _poll_worker(self) -> None:
        assert self.poller is not None
        await self.poller.run(self._on_poll)

    def _on_poll(self, result: PollResult) -> None:
        try:
            sessions = list(self._session_source()) if self._session_source else None
            self.update_view(self.book, sessions, result.state)
        except Exception as exc:  # drawing must never stop the polling worker (or the app)
            self.log.error(f"spend sidebar: cannot draw: {exc!r}")
        self.post_message(self.Polled(self, result))

    # -- drawing -------------------------------------------------------------------------------------

    def _apply_compact(self) -> None:
        try:
            width = self.app.size.width
        except Exception:  # not attached to a running app (yet)
            return
        self.set_class(width < COMPACT_BELOW_COLUMNS, "-compact")

    def _sync_cards(self) -> None:
        container = self.query_one("#spend-tabs", VerticalScroll)
        wanted = [s.id for s in self.sessions]
        present = [card.session_id for card in container.query(TabSpendCard)]
        if present != wanted:
            # tabs opened, closed or moved (rare): rebuild in tab order
            container.query(TabSpendCard).remove()
            if wanted:
                container.mount_all([TabSpendCard(sid) for sid in wanted])
        self.query_one("#spend-empty", Label).display = not wanted
        self._fill_cards()

    def _fill_cards(self) -> None:
        expanded = self.has_class("-expanded")
        compact = self.has_class("-compact") and not expanded
        by_id = {s.id: s for s in self.sessions}
        for card in self.query(TabSpendCard):
            session = by_id.get(card.session_id)
            if session is None:
                continue
            card.show(session, self.book, active=card.session_id == self.active_id,
                      expanded=expanded, demo=self.demo, compact=compact)

    def _show_totals(self) -> None:
        ids = [s.id for s in self.sessions]
        book = self.book
        totals = book.totals(ids)
        digits = 6 if self.has_class("-expanded") else 2
        main = Table.grid(expand=True, padding=(0, 0, 0, 1), pad_edge=False)
        main.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        main.add_column(justify="right", no_wrap=True)
        main.add_row(Text("All tabs", style="bold"),
                     Text(format_usd(totals.cost_usd, digits, demo=self.demo), style="bold"))
        today = book.today(ids)
        today_label = "Today (≥)" if book.today_partial else "Today"
        main.add_row(Text(today_label), Text(format_usd(today, digits, demo=self.demo)))
        main.add_row(Text("Burn"), Text(format_rate(book.burn_rate(None) if ids else None,
                                                    demo=self.demo)))
        self.query_one("#spend-totals-main", Static).update(main)
        models = book.model_totals(ids)
        rows = [(m, cell.cost_usd) for m, cell in models.items()]
        self.query_one("#spend-totals-models", Static).update(
            _money_table(rows, self.demo) if rows else Text("no spend yet")
        )
        summary = self.query_one("#spend-collapsed-summary", Label)
        summary.update(Text(format_usd(totals.cost_usd, demo=self.demo)))
        summary.tooltip = Text(f"All tabs {format_usd(totals.cost_usd, 6, demo=self.demo)}")
