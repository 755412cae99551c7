"""Bytes a terminal sends for keys, pastes, mouse events and focus changes (xterm's tables).

The terminal widget turns Textual events into these bytes and writes them to the child's PTY.
Keys follow xterm's legacy encoding (what Claude Code, vim, less and bash expect when no kitty
keyboard protocol was negotiated): modifiers on special keys as ``CSI 1;m X`` /
``CSI n;m ~`` with m = 1 + shift + 2*alt + 4*ctrl, Alt as an ESC prefix, Ctrl+letter as the C0
control, Shift+Enter as ``ESC CR`` (Claude Code's newline) and Shift+Tab as ``CSI Z``.
"""

from __future__ import annotations

import unicodedata

ESC = "\x1b"
CSI = "\x1b["
SS3 = "\x1bO"

_MODIFIERS = frozenset({"shift", "ctrl", "alt", "meta", "super", "hyper"})

# Keys whose unmodified form is CSI/SS3 + letter; app-cursor mode (DECCKM) switches to SS3.
_CURSOR_KEYS = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
# Keys sent as CSI n ~.
_TILDE_KEYS = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "page_up": 5,
    "pagedown": 6,
    "page_down": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
_SS3_FKEYS = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}

# Textual's names for punctuation that Ctrl combines with (xterm's C0 mapping).
_CTRL_SPECIAL = {
    "@": 0x00,
    "space": 0x00,
    "2": 0x00,
    "at": 0x00,
    "[": 0x1B,
    "3": 0x1B,
    "left_square_bracket": 0x1B,
    "\\": 0x1C,
    "4": 0x1C,
    "backslash": 0x1C,
    "reverse_solidus": 0x1C,
    "]": 0x1D,
    "5": 0x1D,
    "right_square_bracket": 0x1D,
    "^": 0x1E,
    "6": 0x1E,
    "circumflex_accent": 0x1E,
    "_": 0x1F,
    "7": 0x1F,
    "/": 0x1F,
    "underscore": 0x1F,
    "low_line": 0x1F,
    "solidus": 0x1F,
    "8": 0x7F,
    "?": 0x7F,
    "question_mark": 0x7F,
}
_NAMED_CHARS = {"space": " ", "ctrl-at": "@", "at": "@", "backslash": "\\", "underscore": "_"}


def _split(key: str) -> tuple[set[str], str]:
    parts = key.split("+")
    # A trailing "+" means the plus key itself ("ctrl++").
    if key.endswith("+") and len(parts) > 1 and parts[-1] == "":
        parts = [*parts[:-2], "+"]
    mods = {p for p in parts[:-1] if p in _MODIFIERS}
    return mods, parts[-1]


def _modifier_param(mods: set[str]) -> int:
    return (
        1
        + ("shift" in mods)
        + 2 * ("alt" in mods or "meta" in mods)
        + 4 * ("ctrl" in mods)
    )


def _char_for(name: str, character: str | None) -> str | None:
    """The character a (non-special) key stands for."""
    if character and len(character) == 1 and character.isprintable():
        return character
    if len(name) == 1:
        return name
    if name in _NAMED_CHARS:
        return _NAMED_CHARS[name]
    try:
        return unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return None


def _special(name: str, mods: set[str], app_cursor: bool) -> str | None:
    m = _modifier_param(mods)
    if name in _CURSOR_KEYS:
        final = _CURSOR_KEYS[name]
        if m > 1:
            return f"{CSI}1;{m}{final}"
        return (SS3 if app_cursor else CSI) + final
    if name in _TILDE_KEYS:
        n = _TILDE_KEYS[name]
        return f"{CSI}{n};{m}~" if m > 1 else f"{CSI}{n}~"
    if name in _SS3_FKEYS:
        final = _SS3_FKEYS[name]
        return f"{CSI}1;{m}{final}" if m > 1 else SS3 + final
    if name.startswith("f") and name[1:].isdigit() and 13 <= int(name[1:]) <= 24:
        # xterm reports F13-F24 as Shift (+2) versions of F1-F12.
        base = f"f{int(name[1:]) - 12}"
        return _special(base, mods | {"shift"}, app_cursor)
    alt = ESC if ("alt" in mods or "meta" in mods) else ""
    if name in ("enter", "return"):
        return ESC + "\r" if "shift" in mods and not alt else alt + "\r"
    if name == "tab":
        return CSI + "Z" if "shift" in mods else alt + "\t"
    if name == "backspace":
        return alt + ("\x08" if "ctrl" in mods else "\x7f")
    if name == "escape":
        return alt + ESC
    return None


def encode_key(key: str, character: str | None, *, app_cursor: bool) -> bytes | None:
    """Bytes for a Textual key event, or None when the key has no terminal encoding."""
    mods, name = _split(key)
    special = _special(name, mods, app_cursor)
    if special is not None:
        return special.encode()
    alt = ESC if ("alt" in mods or "meta" in mods) else ""
    if "ctrl" in mods:
        code = _CTRL_SPECIAL.get(name)
        if code is None and len(name) == 1 and name.isascii() and name.isalpha():
            code = ord(name.lower()) & 0x1F
        if code is None:
            char = _char_for(name, None)
            if char is not None and char.isascii() and char.isalpha():
                code = ord(char.lower()) & 0x1F
            elif char is not None and char in _CTRL_SPECIAL:
                code = _CTRL_SPECIAL[char]
        if code is None:
            return None
        return (alt + chr(code)).encode()
    char = _char_for(name, character)
    if char is None:
        return None
    if "shift" in mods and char.islower():
        char = char.upper()
    return (alt + char).encode("utf-8")


_PASTE_END = "\x1b[201~"


def encode_paste(text: str, *, bracketed: bool) -> bytes:
    """A paste as the child should receive it: newlines as CR, bracketed when asked."""
    body = text.replace("\r\n", "\r").replace("\n", "\r")
    if bracketed:
        while _PASTE_END in body:  # a payload must not be able to end the paste early
            body = body.replace(_PASTE_END, "")
        return f"\x1b[200~{body}{_PASTE_END}".encode()
    return body.encode()


_MOUSE_KINDS = frozenset({"press", "release", "motion", "wheel_up", "wheel_down"})


def encode_mouse(
    kind: str,
    button: int,
    x: int,
    y: int,
    *,
    shift: bool = False,
    alt: bool = False,
    ctrl: bool = False,
    sgr: bool,
) -> bytes:
    """A mouse report (x, y 0-based). ``button``: 0 left, 1 middle, 2 right, 3 none (motion)."""
    if kind not in _MOUSE_KINDS:
        raise ValueError(f"unknown mouse event kind {kind!r}")
    if kind == "wheel_up":
        code = 64
    elif kind == "wheel_down":
        code = 65
    else:
        code = max(0, min(3, button))
        if kind == "motion":
            code += 32
    code += 4 * shift + 8 * alt + 16 * ctrl
    col, row = max(0, x) + 1, max(0, y) + 1
    if sgr:
        final = "m" if kind == "release" else "M"
        return f"{CSI}<{code};{col};{row}{final}".encode()
    if kind == "release":
        code = (code & ~3) | 3  # X10 cannot say which button was released
    # X10 coordinates are single bytes offset by 32; beyond 223 they cannot be expressed.
    return b"\x1b[M" + bytes([32 + code, 32 + min(col, 223), 32 + min(row, 223)])


def encode_focus(focused: bool) -> bytes:
    """Focus-in / focus-out report (mode 1004)."""
    return b"\x1b[I" if focused else b"\x1b[O"
