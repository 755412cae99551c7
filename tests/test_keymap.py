"""The command registry: one key parser, remaps, collisions refused at load, help shows bound keys."""

from __future__ import annotations

import pytest
from heimdall.config import ConfigError, KeysConfig
from heimdall.keymap import (
    COMMANDS,
    Keymap,
    KeymapError,
    display_keys,
    display_pair,
    parse_keys,
)


def keys(**bindings: str) -> KeysConfig:
    return KeysConfig(bindings=bindings)


def test_one_parser_names_single_characters_like_textual() -> None:
    assert parse_keys("ctrl+pagedown, f8") == ("ctrl+pagedown", "f8")
    assert parse_keys("<,>,/,?,:,-") == (
        "less_than_sign", "greater_than_sign", "slash", "question_mark", "colon", "minus")
    assert parse_keys("c,C, ,") == ("c", "C")


def test_display() -> None:
    assert display_keys("ctrl+right_square_bracket,f8") == "Ctrl+], F8"
    assert display_keys(("less_than_sign", "shift+pageup")) == "<, Shift+PgUp"
    assert display_pair("Ctrl+PgUp", "Ctrl+PgDn") == "Ctrl+PgUp/PgDn"
    assert display_pair("F7", "Ctrl+PgDn") == "F7/Ctrl+PgDn"


def test_defaults_load_without_collisions_and_ids_are_unique() -> None:
    keymap = Keymap.load()
    assert len({command.id for command in COMMANDS}) == len(COMMANDS)
    assert keymap.after_prefix("c") is not None and keymap.after_prefix("c").action == "new_tab"
    assert keymap.after_prefix("<") is keymap.after_prefix("less_than_sign")
    assert keymap.after_prefix("z") is None
    assert keymap.textual_keymap()["prefix"] == "ctrl+right_square_bracket"
    assert keymap.keys_in_scope("terminal") == {"shift+pageup", "shift+pagedown"}


def test_remaps_apply_to_prefix_commands_direct_keys_and_the_prefix() -> None:
    remaps = {"next-tab": "f8", "prefix-refresh-usage": "-"}
    keymap = Keymap.load(KeysConfig(prefix="ctrl+a", bindings=remaps))
    assert keymap.prefix_keys == ("ctrl+a",)
    assert keymap.textual_keymap()["next-tab"] == "f8"
    # one parser for every remap: a session command's `-` is the key Textual reports
    refresh = keymap.after_prefix("minus")
    assert refresh is not None and refresh.id == "prefix-refresh-usage"
    assert keymap.shown("prefix-refresh-usage") == "Ctrl+a -"


def test_help_shows_remapped_keys() -> None:
    keymap = Keymap.load(keys(**{"next-tab": "f8", "prefix-new-tab": "t", "prefix-shell-tab": "T"}))
    sections = dict(keymap.help_sections())
    prefixed = {row[2]: row[0] for row in sections["Prefix commands"]}
    assert prefixed["prefix-new-tab"] == "Ctrl+] t"
    direct = {row[2]: row[0] for row in sections["Direct keys"]}
    assert direct["next-tab"] == "F8" and direct["prev-tab"] == "Ctrl+PgUp"
    sessions = {row[2]: row[0] for row in sections["Sessions and spend"]}
    assert sessions["prefix-shell-tab"] == "Ctrl+] T"
    assert list(sections) == ["Prefix commands", "Direct keys", "Mouse and more", "Sessions and spend"]


def test_a_remap_onto_another_commands_key_is_a_config_error_naming_both() -> None:
    with pytest.raises(KeymapError) as caught:
        Keymap.load(keys(**{"prefix-new-tab": "x"}))
    message = str(caught.value)
    assert "prefix-new-tab" in message and "prefix-close-tab" in message and "Ctrl+] x" in message
    assert isinstance(caught.value, ConfigError)  # the CLI exits 2 on it


def test_direct_collisions_and_reserved_keys_after_the_prefix() -> None:
    with pytest.raises(KeymapError, match=r"next-tab and scrollback-page-up .*Shift\+PgUp"):
        Keymap.load(keys(**{"next-tab": "shift+pageup"}))
    with pytest.raises(KeymapError, match=r"prefix-new-tab and jump-to-tab .*Ctrl\+\] 3"):
        Keymap.load(keys(**{"prefix-new-tab": "3"}))
    with pytest.raises(KeymapError, match="send-prefix"):
        Keymap.load(KeysConfig(prefix="ctrl+a", bindings={"prefix-help": "ctrl+a"}))
    # moving a command onto a key another remap frees is fine
    swapped = Keymap.load(keys(**{"prefix-new-tab": "x", "prefix-close-tab": "c"}))
    assert swapped.after_prefix("x").id == "prefix-new-tab"


def test_unknown_binding_ids_are_refused() -> None:
    with pytest.raises(KeymapError, match=r"unknown binding id.*prefix-new-tabb"):
        Keymap.load(keys(**{"prefix-new-tabb": "c"}))
