"""The new-session dialog: name, directory, model (with prices), optional worktree and budget.

It returns a ready `Session` (or None): the directory is checked before anything starts, a
requested worktree is created here (`git worktree add -b`) so a refusal ("not a git repository",
"branch exists") is shown next to the field instead of as a dead tab, and the project's last
choices (model, budget, worktree) come back pre-filled from the `SessionStore`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from heimdall.gateways.protocol import GatewayClient, GatewayError, ModelInfo
from heimdall.sessions.store import ProjectDefaults, Session, SessionStore
from heimdall.sessions.worktree import WorktreeError, create_worktree, is_git_repo
from heimdall.tui.screens.model_menu import claude_model_id, format_price

DEFAULT_MODEL = "__default__"
"""Select value for "let Claude Code / the gateway decide" (no `--model`)."""


def model_label(info: ModelInfo) -> Text:
    """`claude-sonnet-4-5  $3.00 in / $15.00 out per MTok` as plain text (ids are untrusted)."""
    label = Text(info.id)
    if info.input_per_mtok is not None or info.output_per_mtok is not None:
        label.append(
            f"  {format_price(info.input_per_mtok)} in / {format_price(info.output_per_mtok)} out"
            " per MTok"
        )
    return label


def validate_directory(text: str) -> tuple[Path | None, str | None]:
    """(resolved path, None) or (None, one-line reason)."""
    if not text.strip():
        return None, "choose a working directory"
    path = Path(text.strip()).expanduser()
    if not path.exists():
        return None, f"{path} does not exist"
    if not path.is_dir():
        return None, f"{path} is not a directory"
    return path.resolve(), None


def parse_budget(text: str) -> tuple[float | None, str | None]:
    """(budget or None for no budget, None) or (None, reason)."""
    raw = text.strip().lstrip("$").replace(",", "")
    if not raw:
        return None, None
    try:
        value = float(raw)
    except ValueError:
        return None, f"{text.strip()!r} is not an amount in USD"
    if value != value or value <= 0 or value == float("inf"):
        return None, "the budget must be a positive amount in USD"
    return value, None


class NewSessionScreen(ModalScreen[Session | None]):
    """Dismisses with the new `Session` (worktree already created), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="new-session-cancel", tooltip="Open no tab"),
        Binding("ctrl+s", "create", "Create", id="new-session-create", tooltip="Open the tab"),
    ]

    def __init__(
        self,
        *,
        cwd: str | Path,
        store: SessionStore | None = None,
        models: Sequence[ModelInfo] | None = None,
        client: GatewayClient | None = None,
        name: str = "",
        command: str | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen -wide")
        self.store = store
        self.models: list[ModelInfo] = list(models or [])
        self.client = client
        self.initial_cwd = str(cwd)
        self.initial_name = name
        self.command = command
        self._touched: set[str] = set()
        self._from_defaults: dict[str, object] = {}
        """Values the defaults put in a field: a Changed event carrying one is not the user."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="new-session", classes="dialog"):
            yield Label(Text("New session"), classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Name", classes="field-label")
                yield Input(self.initial_name, placeholder="e.g. api-fix", id="session-name")
            with Horizontal(classes="field-row"):
                yield Label("Directory", classes="field-label")
                yield Input(self.initial_cwd, id="session-cwd")
            yield Label("", id="cwd-error", classes="field-error")
            with Horizontal(classes="field-row"):
                yield Label("Model", classes="field-label")
                yield Select[str](self._model_options(), value=DEFAULT_MODEL, allow_blank=False,
                                  id="session-model")
            with Horizontal(classes="field-row"):
                yield Label("Budget USD", classes="field-label")
                yield Input(placeholder="none (optional)", id="session-budget")
            yield Label("", id="budget-error", classes="field-error")
            with Horizontal(classes="field-row", id="worktree-row"):
                yield Checkbox("Worktree", id="session-worktree")
                yield Input(placeholder="new branch name", id="worktree-branch", disabled=True)
            yield Label("", id="worktree-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Label(Text("Ctrl+S create · Esc cancel"), classes="dialog-hint")
                yield Button("Cancel", id="cancel")
                yield Button("Create", id="create", variant="primary")

    def _model_options(self) -> list[tuple[Text, str]]:
        options: list[tuple[Text, str]] = [(Text("Claude Code's default"), DEFAULT_MODEL)]
        options += [(model_label(info), claude_model_id(info.id)) for info in self.models]
        return options

    def on_mount(self) -> None:
        # nested rows may compose after this screen's Mount: set up on the next frame
        self.call_after_refresh(self._setup)

    def _setup(self) -> None:
        self._apply_defaults(self.initial_cwd)
        if not self.models and self.client is not None:
            self._load_models()
        self.query_one("#session-name", Input).focus()

    @work(exclusive=True, group="new-session-models")
    async def _load_models(self) -> None:
        assert self.client is not None
        try:
            self.models = await self.client.models()
        except GatewayError as exc:
            self.notify(f"Models unavailable: {exc.message}", severity="warning")
            return
        select = self.query_one("#session-model", Select)
        current = select.value
        select.set_options(self._model_options())
        known = {claude_model_id(info.id) for info in self.models} | {DEFAULT_MODEL}
        select.value = current if current in known else DEFAULT_MODEL
        self._apply_defaults(self.query_one("#session-cwd", Input).value)

    # -- defaults ----------------------------------------------------------------------------------

    def _apply_defaults(self, cwd_text: str) -> None:
        if self.store is None:
            return
        path, error = validate_directory(cwd_text)
        if error or path is None:
            return
        defaults: ProjectDefaults = self.store.defaults_for(path)
        if "model" not in self._touched and defaults.model:
            select = self.query_one("#session-model", Select)
            ids = {claude_model_id(info.id) for info in self.models}
            if defaults.model not in ids and not self.models:
                # the gateway list is not here (yet): keep the remembered id selectable
                self.models.append(ModelInfo(defaults.model))
                select.set_options(self._model_options())
            if defaults.model in {claude_model_id(info.id) for info in self.models}:
                self._from_defaults["model"] = defaults.model
                select.value = defaults.model
        if "budget" not in self._touched:
            value = f"{defaults.budget_usd:g}" if defaults.budget_usd else ""
            self._from_defaults["budget"] = value
            self.query_one("#session-budget", Input).value = value
        if "worktree" not in self._touched:
            self._from_defaults["worktree"] = defaults.worktree
            self.query_one("#session-worktree", Checkbox).value = defaults.worktree

    def _user_changed(self, field: str, value: object) -> None:
        if self._from_defaults.get(field, object()) != value:
            self._touched.add(field)

    @on(Input.Changed, "#session-cwd")
    def _cwd_changed(self, event: Input.Changed) -> None:
        self._show_error("cwd-error", None)
        self._apply_defaults(event.value)

    @on(Input.Changed, "#session-budget")
    def _budget_changed(self, event: Input.Changed) -> None:
        self._user_changed("budget", event.value)
        self._show_error("budget-error", None)

    @on(Select.Changed, "#session-model")
    def _model_changed(self, event: Select.Changed) -> None:
        self._user_changed("model", event.value)

    @on(Checkbox.Changed, "#session-worktree")
    def _worktree_toggled(self, event: Checkbox.Changed) -> None:
        self._user_changed("worktree", event.value)
        branch = self.query_one("#worktree-branch", Input)
        branch.disabled = not event.value
        branch.set_class(not event.value, "-disabled")
        self._show_error("worktree-error", None)
        if event.value and not branch.value:
            name = self.query_one("#session-name", Input).value.strip()
            branch.value = "heimdall/" + ("-".join(name.split()) or "session")

    # -- submit ------------------------------------------------------------------------------------

    def _show_error(self, label_id: str, message: str | None) -> None:
        label = self.query_one(f"#{label_id}", Label)
        label.update(Text(message or ""))
        label.set_class(bool(message), "-shown")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def action_create(self) -> None:
        self._create()

    @work(exclusive=True, group="new-session-create")
    async def _create(self) -> None:
        session = await self.build_session()
        if session is not None:
            self.dismiss(session)

    async def build_session(self) -> Session | None:
        """Validate every field, make the worktree if asked; None (with messages) on problems."""
        cwd_input = self.query_one("#session-cwd", Input)
        path, cwd_error = validate_directory(cwd_input.value)
        self._show_error("cwd-error", cwd_error)
        cwd_input.set_class(bool(cwd_error), "-invalid")
        budget_input = self.query_one("#session-budget", Input)
        budget, budget_error = parse_budget(budget_input.value)
        self._show_error("budget-error", budget_error)
        budget_input.set_class(bool(budget_error), "-invalid")
        if cwd_error or budget_error or path is None:
            return None
        model_value = self.query_one("#session-model", Select).value
        model = None if model_value in (DEFAULT_MODEL, Select.BLANK) else str(model_value)
        name = self.query_one("#session-name", Input).value.strip() or path.name or "session"
        worktree_path: Path | None = None
        branch: str | None = None
        if self.query_one("#session-worktree", Checkbox).value:
            branch = self.query_one("#worktree-branch", Input).value.strip()
            if not await asyncio.to_thread(is_git_repo, path):
                self._show_error(
                    "worktree-error",
                    f"{path} is not inside a git repository: untick the worktree box, or pick a repo",
                )
                return None
            try:
                worktree_path = await asyncio.to_thread(create_worktree, path, branch)
            except WorktreeError as exc:
                self._show_error("worktree-error", exc.message)
                return None
        session = Session.new(
            name,
            worktree_path or path,
            model=model,
            command=self.command,
            budget_usd=budget,
            worktree_path=worktree_path,
            worktree_branch=branch if worktree_path else None,
            project_dir=path,
        )
        if self.store is not None:
            self.store.remember_defaults(session)
            self.store.save()
        return session
