"""Scrollback search: type, Enter jumps to the next older match, Shift+Enter to the newer one.

The terminal view highlights every match in view and the current one more strongly; closing the
prompt leaves the view where it is (any key in the terminal returns to live output).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from heimdall.tui.widgets.terminal_view import TerminalView


class SearchScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="search-close", tooltip="Close the search bar"),
        Binding(
            "shift+enter,up",
            "step(False)",
            "Newer match",
            id="search-newer",
            tooltip="Jump to the next newer match",
        ),
        Binding(
            "down", "step(True)", "Older match", id="search-older", tooltip="Next older match"
        ),
    ]

    def __init__(self, view: TerminalView, query: str = "") -> None:
        super().__init__(classes="search-screen")
        self.view = view
        self.initial = query or (view.search.query if view.search else "")

    def compose(self) -> ComposeResult:
        with Horizontal(id="search-bar"):
            yield Label("Search:", id="search-label")
            yield Input(value=self.initial, placeholder="text in this tab's history", id="search-input")
            yield Label("", id="search-status", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._find(event.value, older=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        if not event.value:
            self.view.clear_search()
            self._status("")

    def action_step(self, older: bool) -> None:
        self._find(self.query_one(Input).value, older=older)

    def _find(self, query: str, *, older: bool) -> None:
        found = self.view.find(query, older=older)
        search = self.view.search
        if not query:
            self._status("")
        elif not found or search is None:
            self._status("no match")
        else:
            self._status(f"{search.current + 1}/{len(search.matches)}")

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Label).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
