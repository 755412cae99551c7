"""What a focused terminal asks the app about keys, as a typed seam (no reaching into App internals).

A `TerminalView` gets every key first; it must let the app's prefix handling see each one, and
leave the keys of its own bindings (scrollback, as remapped) to Textual. `HeimdallApp` is the
`KeyRouter`; the workspace hands it to each view.
"""

from __future__ import annotations

from typing import Protocol

from textual import events


class KeyRouter(Protocol):
    def handle_prefix_key(self, event: events.Key) -> bool:
        """True when the key was a prefix command (or cancelled one): the view must drop it."""
        ...

    @property
    def terminal_keys(self) -> frozenset[str]:
        """Keys the terminal widget's own bindings take, after the user's remaps."""
        ...
