"""Every command a key reaches, in one registry, with one key parser and the user's remaps checked.

A focused terminal must receive every key its child understands, and Claude Code uses most of them
(Ctrl+C/D/R/O/T/G/B/L/V/Z/J, Esc, Esc Esc, Shift+Tab, Alt+...). So Heimdall takes only:

- a **prefix** key (Ctrl+] by default, `[keys] prefix`) followed by one command key; the prefix
  twice sends it to the child, Esc after it cancels, 1-9 after it jump to a tab;
- two direct keys no terminal program needs: Ctrl+PgDn / Ctrl+PgUp (next / previous tab);
- Shift+PgUp / Shift+PgDn for scrollback, as in most terminals (bound by the terminal widget).

Every command has an id; `[keys.bindings]` maps ids to keys (comma-separated). `Keymap.load`
applies those remaps and refuses, as a `ConfigError` (the CLI exits 2), an unknown id or a key two
commands would share, naming both commands and the key. The help screen, the command palette and
the status bar all read the loaded `Keymap`, so they show the keys actually bound.

No Textual here (the app turns the registry into Textual bindings); key names are Textual's
(`ctrl+right_square_bracket`, `question_mark`), and a single character in the config is turned
into its name the way Textual does it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from heimdall.config import ConfigError, KeysConfig

Scope = Literal["app", "terminal", "prefix"]
"""Where a command's keys are read: `prefix` after the prefix key; `app` anywhere (priority
bindings of the app); `terminal` while a terminal has focus (the terminal widget's bindings)."""

HelpRow = tuple[str, str, str]
"""(keys as the user presses them, what it does, binding id for config.toml)."""

PREFIX_SECTION = "Prefix commands"
DIRECT_SECTION = "Direct keys"
SESSIONS_SECTION = "Sessions and spend"
MORE_SECTION = "Mouse and more"


@dataclass(frozen=True, slots=True)
class Command:
    """One thing a key can do."""

    id: str
    """Binding id, the name used in `[keys.bindings]` (kebab-case, `prefix-` for prefix commands)."""
    title: str
    """What it does, for help and the command palette."""
    keys: tuple[str, ...]
    """Default keys (Textual key names)."""
    action: str
    """The app action it runs (`new_tab` runs `action_new_tab`)."""
    section: str
    """Help section."""
    scope: Scope = "prefix"
    tooltip: str = ""

    @property
    def in_status(self) -> bool:
        """Listed in the status bar while the prefix is armed (the tab engine's own commands)."""
        return self.scope == "prefix" and self.section == PREFIX_SECTION


def _prefix(id: str, key: str, action: str, title: str, section: str = PREFIX_SECTION) -> Command:
    return Command(f"prefix-{id}", title, (key,), action, section)


COMMANDS: tuple[Command, ...] = (
    Command("prefix", "Prefix key", ("ctrl+right_square_bracket",), "prefix", DIRECT_SECTION, "app",
            "Prefix key: press it, then a command key (? lists them); twice sends it"),
    Command("next-tab", "Next tab", ("ctrl+pagedown",), "next_tab", DIRECT_SECTION, "app",
            "Switch to the next tab"),
    Command("prev-tab", "Previous tab", ("ctrl+pageup",), "prev_tab", DIRECT_SECTION, "app",
            "Switch to the previous tab"),
    Command("scrollback-page-up", "Scroll back", ("shift+pageup",), "scroll_page(-1)", DIRECT_SECTION,
            "terminal", "Scroll the tab's history up one page (any other key returns to live)"),
    Command("scrollback-page-down", "Scroll forward", ("shift+pagedown",), "scroll_page(1)",
            DIRECT_SECTION, "terminal", "Scroll the tab's history down one page"),
    _prefix("new-tab", "c", "new_tab", "New tab running the default agent"),
    _prefix("new-command", "C", "new_tab_prompt", "New tab running a command…"),
    _prefix("close-tab", "x", "close_tab", "Close tab (asks if still running)"),
    _prefix("next-tab", "n", "next_tab", "Next tab"),
    _prefix("prev-tab", "p", "prev_tab", "Previous tab"),
    _prefix("move-tab-left", "less_than_sign", "move_tab_left", "Move tab left"),
    _prefix("move-tab-right", "greater_than_sign", "move_tab_right", "Move tab right"),
    _prefix("rename", "r", "rename_tab", "Rename tab (empty: follow the title)"),
    _prefix("restart", "R", "restart_tab", "Restart the tab's program"),
    _prefix("search", "slash", "search", "Search this tab's scrollback"),
    _prefix("help", "question_mark", "help", "This help"),
    _prefix("model-menu", "m", "model_menu", "Model menu (switch model)"),
    _prefix("sidebar", "s", "toggle_sidebar", "Show / hide the sidebar"),
    _prefix("quit", "q", "quit", "Quit Heimdall (ends every tab's program)"),
    _prefix("palette", "colon", "command_palette", "Command palette (every action)"),
    _prefix("refresh-usage", "u", "refresh_usage", "Refresh spend from the gateway now", SESSIONS_SECTION),
    _prefix("expand-sidebar", "e", "expand_sidebar", "Sidebar: more digits and details", SESSIONS_SECTION),
    _prefix("collapse-sidebar", "S", "collapse_sidebar", "Sidebar: collapse to the total", SESSIONS_SECTION),
    _prefix("shell-tab", "t", "shell_tab", "New tab with a shell (no session)", SESSIONS_SECTION),
)
"""Every command, in help order."""

JUMP = "jump-to-tab"
SEND_PREFIX = "send-prefix"
CANCEL_PREFIX = "cancel-prefix"
RESERVED_AFTER_PREFIX: Mapping[str, str] = {
    **{str(n): JUMP for n in range(1, 10)},
    "escape": CANCEL_PREFIX,
}
"""Keys after the prefix that no command may take (the prefix key itself is reserved as well)."""

_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
"""Textual's short names for some characters (`textual.keys.KEY_NAME_REPLACEMENTS`)."""


def key_name(key: str) -> str:
    """One key as Textual names it: `<` -> `less_than_sign`, `/` -> `slash`; names stay names."""
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    if key == "\t":
        return "tab"
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return _REPLACEMENTS.get(name, name)


def parse_keys(spec: str) -> tuple[str, ...]:
    """`"ctrl+pagedown, f8, <"` -> `("ctrl+pagedown", "f8", "less_than_sign")`. The one parser
    for every key the user writes (prefix, direct and prefix-command remaps alike)."""
    return tuple(key_name(part) for part in spec.split(",") if part.strip())


_DISPLAY = {
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "slash": "/",
    "question_mark": "?",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "colon": ":",
    "minus": "-",
    "backslash": "\\",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "ctrl": "Ctrl",
    "shift": "Shift",
    "alt": "Alt",
    "space": "Space",
    "escape": "Esc",
    "enter": "Enter",
}


def display_key(key: str) -> str:
    """`ctrl+right_square_bracket` -> `Ctrl+]`, `f8` -> `F8` (for help and the status bar)."""
    words = [
        _DISPLAY.get(part, part.upper() if len(part) <= 3 and part[:1] == "f" else part)
        for part in key.strip().split("+")
        if part
    ]
    return "+".join(words)


def display_keys(keys: str | Iterable[str]) -> str:
    """`ctrl+right_square_bracket,f8` (or a tuple of names) -> `Ctrl+], F8`."""
    names = keys.split(",") if isinstance(keys, str) else keys
    return ", ".join(display_key(key) for key in names)


def display_pair(first: str, second: str) -> str:
    """`Ctrl+PgUp`, `Ctrl+PgDn` -> `Ctrl+PgUp/PgDn`: a shared modifier is written once."""
    head = first.rpartition("+")[0]
    if head and second.startswith(head + "+"):
        return f"{first}/{second[len(head) + 1:]}"
    return f"{first}/{second}"


class KeymapError(ConfigError):
    """A `[keys]` remap that cannot work: an unknown id or a key two commands would share."""


@dataclass(frozen=True)
class Keymap:
    """The registry with the user's remaps applied and checked (build it with `Keymap.load`)."""

    commands: tuple[Command, ...]
    bound: Mapping[str, tuple[str, ...]]
    """Command id -> the keys it is bound to now."""

    @classmethod
    def load(cls, keys: KeysConfig | None = None, commands: tuple[Command, ...] = COMMANDS) -> Keymap:
        """Apply `[keys]` to the registry; raise `KeymapError` on an unknown id or a collision."""
        keys = keys or KeysConfig()
        by_id = {command.id: command for command in commands}
        unknown = sorted(set(keys.bindings) - set(by_id))
        if unknown:
            raise KeymapError(
                f"[keys.bindings] has unknown binding id(s) {', '.join(unknown)}; "
                "the help screen (prefix then ?) lists the ids"
            )
        overrides = {"prefix": keys.prefix, **keys.bindings}
        bound: dict[str, tuple[str, ...]] = {}
        for command in commands:
            spec = overrides.get(command.id)
            bound[command.id] = parse_keys(spec) if spec is not None else command.keys
            if not bound[command.id] and command.id == "prefix":
                raise KeymapError("[keys] prefix is empty: Heimdall needs a prefix key")
        keymap = cls(commands, bound)
        keymap._check(set(overrides) & set(by_id))
        return keymap

    def _check(self, remapped: set[str]) -> None:
        """Two commands on one key (in the same scope) is an error, worded with both names."""
        prefix = self.bound.get("prefix", ())
        direct: dict[str, str] = {}
        after_prefix: dict[str, str] = {key: SEND_PREFIX for key in prefix}
        after_prefix.update(RESERVED_AFTER_PREFIX)
        for command in self.commands:
            table = after_prefix if command.scope == "prefix" else direct
            for key in self.bound[command.id]:
                other = table.get(key)
                if other is not None and other != command.id:
                    where = f"{display_keys(prefix)} {display_key(key)}" if table is after_prefix else (
                        display_key(key))
                    first, second = (other, command.id) if other in remapped else (command.id, other)
                    raise KeymapError(
                        f"[keys] {first} and {second} are both bound to {where} ({key}); "
                        f"remap one of them in [keys.bindings]"
                    )
                table[key] = command.id

    # -- reading ----------------------------------------------------------------------------------

    def get(self, command_id: str) -> Command:
        return next(command for command in self.commands if command.id == command_id)

    def keys_of(self, command_id: str) -> tuple[str, ...]:
        return self.bound.get(command_id, ())

    @property
    def prefix_keys(self) -> tuple[str, ...]:
        return self.keys_of("prefix")

    def in_scope(self, scope: Scope) -> tuple[Command, ...]:
        return tuple(command for command in self.commands if command.scope == scope)

    def keys_in_scope(self, scope: Scope) -> frozenset[str]:
        """Every key bound in `scope` (e.g. what a focused terminal keeps for its own bindings)."""
        return frozenset(key for command in self.in_scope(scope) for key in self.bound[command.id])

    def after_prefix(self, key: str) -> Command | None:
        """The prefix command on `key` (a Textual key name or a single character), if any."""
        name = key_name(key)
        for command in self.in_scope("prefix"):
            if name in self.bound[command.id]:
                return command
        return None

    def textual_keymap(self) -> dict[str, str]:
        """Binding id -> keys for Textual's `App.set_keymap` (the app's and the terminal's)."""
        return {
            command.id: ",".join(self.bound[command.id])
            for command in self.commands
            if command.scope != "prefix" and self.bound[command.id]
        }

    def shown(self, command_id: str) -> str:
        """How to press it: `Ctrl+] c` for a prefix command, `Ctrl+PgDn` for a direct one."""
        command = self.get(command_id)
        keys = display_keys(self.bound[command.id])
        if command.scope == "prefix":
            return f"{display_keys(self.prefix_keys)} {keys}"
        return keys

    def help_sections(self) -> list[tuple[str, list[HelpRow]]]:
        """Every binding as bound now, grouped for the help screen (and the README)."""
        prefix = display_keys(self.prefix_keys)
        sections: dict[str, list[HelpRow]] = {PREFIX_SECTION: [], DIRECT_SECTION: []}
        for command in self.commands:
            title = command.tooltip or command.title
            sections.setdefault(command.section, []).append((self.shown(command.id), title, command.id))
        sections[PREFIX_SECTION] += [
            (f"{prefix} 1-9", "Jump to tab 1-9", ""),
            (f"{prefix} {prefix}", "Send the prefix key itself", ""),
        ]
        sections[MORE_SECTION] = [
            ("Enter (in an ended tab)", "Restart its program", ""),
            ("Mouse wheel", "Scroll history (forwarded when the program uses the mouse)", ""),
            ("Mouse drag", "Select text and copy it to the clipboard", ""),
            ("Click on a tab", "Switch to it", ""),
        ]
        order = [PREFIX_SECTION, DIRECT_SECTION, MORE_SECTION]
        order += [name for name in sections if name not in order]
        return [(name, sections[name]) for name in order]
