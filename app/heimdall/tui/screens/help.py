"""The key reference: every active binding, as remapped by the user's config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from heimdall.keymap import HelpRow


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close", tooltip="Close help"),
    ]

    def __init__(self, sections: Sequence[tuple[str, Sequence[HelpRow]]]) -> None:
        super().__init__(classes="dialog-screen")
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("Heimdall keys", id="help-title")
            for title, rows in self.sections:
                table = Table(title=title, title_justify="left", expand=True, box=None)
                table.add_column(Text("Keys"), no_wrap=True, style="bold")
                table.add_column(Text("Action"))
                table.add_column(Text("Binding id ([keys.bindings])"), style="dim")
                for keys, description, binding_id in rows:
                    table.add_row(Text(keys), Text(description), Text(binding_id))
                yield Static(table, classes="help-table")
            yield Label(
                "Remap in config.toml: [keys] prefix = \"ctrl+right_square_bracket\" and "
                "[keys.bindings] \"<binding id>\" = \"<keys>\".",
                id="help-footer",
                markup=False,
            )

    def action_close(self) -> None:
        self.dismiss(None)
