"""Pick the active tab's model knowing what it costs.

Lists the gateway's models with their prices per million tokens (input, output, cache read,
cache write), what this tab has already spent on each, and what this tab's tokens so far would
have cost on each one (`ModelInfo.estimate_cost`): the question a user actually has when
switching is "would haiku have done this for a tenth of the price?".

Choosing a model dismisses the screen with its id; the app restarts the tab with
`--resume <session> --model <id>` (the conversation is kept) and records the switch on the tab's
timeline. When the tab is busy the menu asks once more before returning. Model names come from the
gateway: every cell is a `Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from heimdall.gateways.protocol import GatewayClient, GatewayError, ModelInfo
from heimdall.sessions.store import Session
from heimdall.spend.book import UsageBook
from heimdall.spend.money import format_price, format_usd

COLUMNS = ("model", "in", "out", "cache r", "cache w", "spent here", "this tab on it")


def claude_model_id(model_id: str) -> str:
    """The id to pass to `claude --model`: Bifrost-style `anthropic/claude-x` lists become
    `claude-x` (the `/anthropic` endpoints take bare ids); other providers keep their prefix."""
    return model_id.removeprefix("anthropic/")


def model_rows(
    models: Sequence[ModelInfo], session: Session, book: UsageBook, *, demo: bool = False
) -> list[tuple[str, list[Text]]]:
    """(id for `--model`, cells) per model, in gateway order, the tab's current model marked."""
    spent = book.session_models(session.id)
    totals = book.session_totals(session.id)
    rows: list[tuple[str, list[Text]]] = []
    for info in models:
        target = claude_model_id(info.id)
        current = session.model in (info.id, target)
        name = Text(("● " if current else "  ") + info.id, style="bold" if current else "")
        cell = spent.get(info.id) or spent.get(target)
        estimate = info.estimate_cost(totals)
        rows.append(
            (
                target,
                [
                    name,
                    Text(format_price(info.input_per_mtok), justify="right"),
                    Text(format_price(info.output_per_mtok), justify="right"),
                    Text(format_price(info.cache_read_per_mtok), justify="right"),
                    Text(format_price(info.cache_write_per_mtok), justify="right"),
                    Text(format_usd(cell.cost_usd, demo=demo) if cell else "—", justify="right"),
                    Text(
                        format_usd(estimate, 4, demo=demo) if estimate is not None else "no price",
                        justify="right",
                    ),
                ],
            )
        )
    return rows


class ModelMenu(ModalScreen[str | None]):
    """Dismisses with the chosen model id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="model-menu-cancel", tooltip="Keep the model"),
        Binding("y", "confirm", "Switch anyway", show=False, id="model-menu-confirm"),
        Binding("n", "cancel_confirm", "Don't switch", show=False, id="model-menu-refuse"),
    ]

    def __init__(
        self,
        session: Session,
        book: UsageBook,
        *,
        models: Sequence[ModelInfo] | None = None,
        client: GatewayClient | None = None,
        busy: bool = False,
        demo: bool = False,
    ) -> None:
        super().__init__(classes="dialog-screen -wide")
        if models is None and client is None:
            raise ValueError("ModelMenu needs models or a client to ask")
        self.session = session
        self.book = book
        self.models: list[ModelInfo] = list(models or [])
        self.client = client
        self.busy = busy
        self.demo = demo
        self.pending: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="model-menu", classes="dialog"):
            title = Text(f"Model for {self.session.name}")
            if self.demo:
                title.append(" · demo prices")
            yield Label(title, classes="dialog-title")
            totals = self.book.session_totals(self.session.id)
            summary = Text(
                f"now: {self.session.model or 'default model'} · spent "
                f"{format_usd(totals.cost_usd, demo=self.demo)} over {totals.requests} requests · "
                "prices per million tokens"
            )
            yield Label(summary, id="model-menu-summary", classes="dialog-hint")
            table: DataTable[Text] = DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
            yield table
            yield Label("", id="model-menu-status", classes="dialog-status")
            hint = "Enter switch (the conversation is kept: --resume) · Esc cancel"
            yield Label(Text(hint), classes="dialog-hint")

    def on_mount(self) -> None:
        # nested containers may compose after this screen's Mount: set up on the next frame
        self.call_after_refresh(self._setup)

    def _setup(self) -> None:
        table = self.query_one("#model-table", DataTable)
        for column in COLUMNS:
            table.add_column(Text(column), key=column)
        if self.models:
            self._fill()
        else:
            self._set_status("asking the gateway for its models…")
            self._load_models()
        table.focus()

    @work(exclusive=True, group="model-menu")
    async def _load_models(self) -> None:
        assert self.client is not None
        try:
            self.models = await self.client.models()
        except GatewayError as exc:
            self._set_status(f"cannot list models: {exc.message}", error=True)
            return
        if not self.models:
            self._set_status("the gateway lists no models", error=True)
            return
        self._set_status("")
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#model-table", DataTable)
        table.clear()
        current_row = 0
        for index, (model_id, cells) in enumerate(
            model_rows(self.models, self.session, self.book, demo=self.demo)
        ):
            table.add_row(*cells, key=model_id)
            if model_id == self.session.model:
                current_row = index
        table.move_cursor(row=current_row)

    def _set_status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#model-menu-status", Label)
        status.update(Text(message))
        status.set_class(error, "-error")
        status.display = bool(message)

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        model_id = str(event.row_key.value)
        if model_id == self.session.model:
            self.dismiss(None)
            return
        if self.busy and self.pending != model_id:
            self.pending = model_id
            self.add_class("-confirming")
            self._set_status(
                f"{self.session.name} is busy: switching restarts it now (the conversation is "
                f"kept). Switch to {model_id}? y / n"
            )
            return
        self.dismiss(model_id)

    def action_confirm(self) -> None:
        if self.pending is not None:
            self.dismiss(self.pending)

    def action_cancel_confirm(self) -> None:
        if self.pending is not None:
            self.pending = None
            self.remove_class("-confirming")
            self._set_status("")

    def action_cancel(self) -> None:
        self.dismiss(None)
