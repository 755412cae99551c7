"""First run on a fresh machine: say plainly what is missing, offer the fix, never a wall of errors.

Two things stop Claude Code tabs before they start:

1. no `claude` executable: offer to install the pinned Claude Code with npm (progress shown live,
   run only when the user presses the button), or a shell tab instead; without npm either, one
   sentence on what to install;
2. the embedded gateway forwards to Anthropic but there is no credential anywhere it could use:
   no `ANTHROPIC_API_KEY`/`ANTHROPIC_AUTH_TOKEN`/`CLAUDE_CODE_OAUTH_TOKEN`, no key stored with
   `heimdall auth set-upstream-key`, no Claude login (`~/.claude/.credentials.json` or the OS
   keychain). Then every request would fail inside each tab; this screen says what to do instead,
   including `heimdall demo`, which needs nothing.

The checks are plain functions (testable without a UI); the screens dismiss with a word the app
acts on: "installed", "shell", "demo", "continue" or "quit".
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Log, Markdown

from heimdall.claude.install import CLAUDE_CODE_PACKAGE
from heimdall.claude.login import claude_login

INSTALL_HINT = f"npm install -g {CLAUDE_CODE_PACKAGE}"


def find_npm(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return shutil.which("npm", path=env.get("PATH", os.defpath))


def install_argv(npm: str) -> list[str]:
    return [npm, "install", "-g", CLAUDE_CODE_PACKAGE]


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    source: str | None
    """Where a credential was found (for `doctor`-style output), None when none was."""

    @property
    def found(self) -> bool:
        return self.source is not None


def upstream_credential(
    environ: Mapping[str, str] | None = None, *, check_keyring: bool = True
) -> CredentialCheck:
    """Any credential Claude Code or the embedded gateway could use to reach Anthropic."""
    env = os.environ if environ is None else environ
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        if env.get(name):
            return CredentialCheck(f"environment variable {name}")
    if check_keyring:
        from heimdall.credentials import SecretName, secret_source

        source = secret_source(SecretName.UPSTREAM_KEY, dict(env))
        if source:
            return CredentialCheck(f"upstream key ({source})")
    return CredentialCheck(claude_login(env, check_keyring=check_keyring))


def needs_credential_screen(gateway_kind: str, upstream: str, check: CredentialCheck) -> bool:
    """Only the embedded gateway talking to Anthropic itself needs one of ours."""
    return gateway_kind == "embedded" and "anthropic.com" in upstream and not check.found


# -- screens ---------------------------------------------------------------------------------------


class MissingClaudeScreen(ModalScreen[str]):
    """No `claude`: install the pinned version with npm (on request), a shell tab, or quit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose('quit')", "Quit", id="first-run-quit", tooltip="Leave Heimdall"),
    ]

    def __init__(self, *, npm: str | None, argv: Sequence[str] | None = None) -> None:
        super().__init__(classes="dialog-screen -wide")
        self.npm = npm
        self.argv = list(argv) if argv is not None else (install_argv(npm) if npm else [])
        self.exit_code: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="first-run", classes="dialog"):
            yield Label(Text("Claude Code is not installed"), classes="dialog-title")
            if self.npm:
                text = (
                    "Heimdall runs **Claude Code** in each tab, but there is no `claude` program on "
                    "your PATH.\n\n"
                    "Install the version Heimdall is tested with (about 240 MB; progress shows "
                    f"below), or open a plain shell tab instead:\n\n    {INSTALL_HINT}"
                )
            else:
                text = (
                    "There is no `claude` program on your PATH, and no `npm` to install it with: "
                    "install Node.js 18 or newer (it includes npm) from https://nodejs.org or your "
                    f"package manager, then run `{INSTALL_HINT}` and start Heimdall again."
                )
            yield Markdown(text)
            yield Log(id="install-log", highlight=False)
            yield Label("", id="first-run-status", classes="dialog-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit", id="quit")
                yield Button("Open a shell tab", id="shell")
                if self.npm:
                    yield Button("Install Claude Code", id="install", variant="primary")

    @on(Button.Pressed, "#quit")
    def _quit(self) -> None:
        self.dismiss("quit")

    @on(Button.Pressed, "#shell")
    def _shell(self) -> None:
        self.dismiss("shell")

    def action_choose(self, word: str) -> None:
        self.dismiss(word)

    @on(Button.Pressed, "#install")
    def _install_pressed(self, event: Button.Pressed) -> None:
        if self.exit_code == 0:
            self.dismiss("installed")
            return
        event.button.disabled = True
        self._run_install()

    def _status(self, message: str) -> None:
        status = self.query_one("#first-run-status", Label)
        status.update(Text(message))
        status.display = True

    @work(exclusive=True, group="install-claude")
    async def _run_install(self) -> None:
        dialog = self.query_one("#first-run")
        dialog.remove_class("-install-failed")
        dialog.add_class("-installing")
        log = self.query_one("#install-log", Log)
        log.write_line("$ " + " ".join(self.argv))
        self._status("installing…")
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            self._finish(None, f"could not start npm: {exc}")
            return
        assert process.stdout is not None
        while line := await process.stdout.readline():
            log.write_line(line.decode("utf-8", "replace").rstrip())
        self._finish(await process.wait(), None)

    def _finish(self, code: int | None, error: str | None) -> None:
        self.exit_code = code
        dialog = self.query_one("#first-run")
        dialog.remove_class("-installing")
        button = self.query_one("#install", Button)
        button.disabled = False
        if code == 0:
            dialog.add_class("-installed")
            self._status("Claude Code is installed.")
            button.label = "Continue"
            button.focus()  # also scrolls it into view below the log
            return
        dialog.add_class("-install-failed")
        self._status(
            error
            or f"npm exited with code {code}. If it could not write its global folder, run "
            f"`npm config set prefix ~/.local` (and add ~/.local/bin to PATH), then try again."
        )
        button.label = "Try again"
        button.focus()


class MissingCredentialScreen(ModalScreen[str]):
    """The embedded gateway has nothing to authenticate with: explain, offer demo/shell/continue."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose('quit')", "Quit", id="credential-quit", tooltip="Leave Heimdall"),
    ]

    def __init__(self, *, upstream: str = "https://api.anthropic.com") -> None:
        super().__init__(classes="dialog-screen -wide")
        self.upstream = upstream

    def compose(self) -> ComposeResult:
        with Vertical(id="first-run", classes="dialog"):
            yield Label(Text("No Anthropic credential found"), classes="dialog-title")
            yield Markdown(
                f"Heimdall's embedded gateway forwards every tab's requests to `{self.upstream}`, "
                "but found nothing to sign them with:\n\n"
                "- no `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) in the environment,\n"
                "- no key stored with `heimdall auth set-upstream-key`,\n"
                "- no Claude login (`~/.claude/.credentials.json` or the OS keychain).\n\n"
                "Fix it with one of:\n\n"
                "- `claude login` (a Claude subscription), then start Heimdall again;\n"
                "- `heimdall auth set-upstream-key --stdin` with an API key from "
                "console.anthropic.com (kept in the OS keyring);\n"
                "- `heimdall --gateway http://host:8080` to use a Bifrost or LiteLLM gateway;\n"
                "- `heimdall demo` to try everything against a simulated model, no account needed."
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit", id="quit")
                yield Button("Open a shell tab", id="shell")
                yield Button("Continue anyway", id="continue")
                yield Button("Run the demo", id="demo", variant="primary")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "quit")

    def action_choose(self, word: str) -> None:
        self.dismiss(word)
