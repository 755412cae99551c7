"""Key, paste, mouse and focus encoding against xterm's tables (docs/terminal.md, Input encoding)."""

from __future__ import annotations

import pytest
from heimdall.process.keys import encode_focus, encode_key, encode_mouse, encode_paste


@pytest.mark.parametrize(
    ("key", "char", "expected"),
    [
        # printable characters, including non-ASCII, arrive as UTF-8
        ("a", "a", b"a"),
        ("A", "A", b"A"),
        ("shift+a", None, b"A"),
        ("exclamation_mark", "!", b"!"),
        ("full_stop", None, b"."),
        ("space", " ", b" "),
        ("é", "é", "é".encode()),
        ("ü", "ü", "ü".encode()),
        ("漢", "漢", "漢".encode()),
        # enter / tab / backspace / escape
        ("enter", "\r", b"\r"),
        ("shift+enter", None, b"\x1b\r"),
        ("alt+enter", None, b"\x1b\r"),
        ("tab", "\t", b"\t"),
        ("shift+tab", None, b"\x1b[Z"),
        ("backspace", "\x7f", b"\x7f"),
        ("ctrl+backspace", None, b"\x08"),
        ("alt+backspace", None, b"\x1b\x7f"),
        ("escape", "\x1b", b"\x1b"),
        # ctrl + letter and punctuation (C0 controls)
        ("ctrl+a", None, b"\x01"),
        ("ctrl+c", None, b"\x03"),
        ("ctrl+d", None, b"\x04"),
        ("ctrl+z", None, b"\x1a"),
        ("ctrl+shift+r", None, b"\x12"),
        ("ctrl+space", None, b"\x00"),
        ("ctrl+@", None, b"\x00"),
        ("ctrl+backslash", None, b"\x1c"),
        ("ctrl+right_square_bracket", None, b"\x1d"),
        ("ctrl+circumflex_accent", None, b"\x1e"),
        ("ctrl+underscore", None, b"\x1f"),
        # alt = ESC prefix
        ("alt+b", "b", b"\x1bb"),
        ("alt+f", None, b"\x1bf"),
        ("alt+shift+a", None, b"\x1bA"),
        ("alt+ctrl+a", None, b"\x1b\x01"),
        ("alt+full_stop", None, b"\x1b."),
        # editing keys
        ("insert", None, b"\x1b[2~"),
        ("delete", None, b"\x1b[3~"),
        ("pageup", None, b"\x1b[5~"),
        ("pagedown", None, b"\x1b[6~"),
        ("ctrl+pageup", None, b"\x1b[5;5~"),
        ("shift+delete", None, b"\x1b[3;2~"),
        # function keys
        ("f1", None, b"\x1bOP"),
        ("f2", None, b"\x1bOQ"),
        ("f3", None, b"\x1bOR"),
        ("f4", None, b"\x1bOS"),
        ("f5", None, b"\x1b[15~"),
        ("f6", None, b"\x1b[17~"),
        ("f7", None, b"\x1b[18~"),
        ("f8", None, b"\x1b[19~"),
        ("f9", None, b"\x1b[20~"),
        ("f10", None, b"\x1b[21~"),
        ("f11", None, b"\x1b[23~"),
        ("f12", None, b"\x1b[24~"),
        ("shift+f1", None, b"\x1b[1;2P"),
        ("ctrl+f5", None, b"\x1b[15;5~"),
        ("alt+f12", None, b"\x1b[24;3~"),
        ("f13", None, b"\x1b[1;2P"),
        # modified cursor keys: CSI 1;m X with m = 1 + shift + 2*alt + 4*ctrl
        ("shift+up", None, b"\x1b[1;2A"),
        ("alt+down", None, b"\x1b[1;3B"),
        ("alt+shift+right", None, b"\x1b[1;4C"),
        ("ctrl+left", None, b"\x1b[1;5D"),
        ("ctrl+shift+left", None, b"\x1b[1;6D"),
        ("alt+ctrl+up", None, b"\x1b[1;7A"),
        ("alt+ctrl+shift+up", None, b"\x1b[1;8A"),
        ("ctrl+home", None, b"\x1b[1;5H"),
        ("shift+end", None, b"\x1b[1;2F"),
        # keys with no terminal encoding
        ("<scroll-up>", None, None),
        ("f30", None, None),
    ],
)
def test_encode_key(key: str, char: str | None, expected: bytes | None) -> None:
    assert encode_key(key, char, app_cursor=False) == expected


@pytest.mark.parametrize(
    ("key", "normal", "application"),
    [
        ("up", b"\x1b[A", b"\x1bOA"),
        ("down", b"\x1b[B", b"\x1bOB"),
        ("right", b"\x1b[C", b"\x1bOC"),
        ("left", b"\x1b[D", b"\x1bOD"),
        ("home", b"\x1b[H", b"\x1bOH"),
        ("end", b"\x1b[F", b"\x1bOF"),
        ("ctrl+up", b"\x1b[1;5A", b"\x1b[1;5A"),  # modified keys ignore DECCKM, like xterm
    ],
)
def test_cursor_keys_follow_decckm(key: str, normal: bytes, application: bytes) -> None:
    assert encode_key(key, None, app_cursor=False) == normal
    assert encode_key(key, None, app_cursor=True) == application


def test_paste_plain_converts_newlines() -> None:
    assert encode_paste("a\nb\r\nc\rd", bracketed=False) == b"a\rb\rc\rd"


def test_paste_bracketed_wraps_and_strips_end_marker() -> None:
    assert encode_paste("x\ny", bracketed=True) == b"\x1b[200~x\ry\x1b[201~"
    evil = "a\x1b[201~rm -rf /\x1b[20\x1b[201~1~"
    assert encode_paste(evil, bracketed=True) == b"\x1b[200~arm -rf /\x1b[201~"


def test_paste_unicode() -> None:
    assert encode_paste("漢 ❤\ufe0f", bracketed=False) == "漢 ❤\ufe0f".encode()


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("press", 0, 0, 0), {}, b"\x1b[<0;1;1M"),
        (("release", 0, 4, 2), {}, b"\x1b[<0;5;3m"),
        (("press", 2, 9, 9), {"ctrl": True}, b"\x1b[<18;10;10M"),
        (("press", 1, 0, 0), {"shift": True, "alt": True}, b"\x1b[<13;1;1M"),
        (("motion", 0, 3, 3), {}, b"\x1b[<32;4;4M"),
        (("motion", 3, 3, 3), {}, b"\x1b[<35;4;4M"),
        (("wheel_up", 0, 1, 1), {}, b"\x1b[<64;2;2M"),
        (("wheel_down", 0, 1, 1), {}, b"\x1b[<65;2;2M"),
        (("press", 0, 300, 400), {}, b"\x1b[<0;301;401M"),
    ],
)
def test_mouse_sgr(args: tuple, kwargs: dict, expected: bytes) -> None:
    assert encode_mouse(*args, sgr=True, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("press", 0, 0, 0), b"\x1b[M !!"),
        (("release", 2, 4, 2), b"\x1b[M#%#"),
        (("wheel_up", 0, 1, 1), b"\x1b[M`\"\""),
        (("motion", 0, 3, 3), b"\x1b[M@$$"),
        (("press", 0, 500, 500), b"\x1b[M \xff\xff"),  # X10 cannot go past 223
    ],
)
def test_mouse_x10(args: tuple, expected: bytes) -> None:
    assert encode_mouse(*args, sgr=False) == expected


def test_mouse_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError):
        encode_mouse("hover", 0, 0, 0, sgr=True)


def test_focus() -> None:
    assert encode_focus(True) == b"\x1b[I"
    assert encode_focus(False) == b"\x1b[O"
