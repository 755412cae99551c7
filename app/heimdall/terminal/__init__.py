"""Terminal emulation for Heimdall's PTY tabs (no UI imports; rich only).

``Terminal`` wraps a native VT grid (pyavt) behind our ``TerminalBackend`` interface and adds
what the widget and the child need: mode flags, query replies, titles, notifications, grapheme
clusters, and a compact scrollback.
"""

from .backend import TerminalBackend
from .events import Bell, Cursor, Notify, TerminalEvent, TitleChanged
from .terminal import Terminal

__all__ = ["Bell", "Cursor", "Notify", "Terminal", "TerminalBackend", "TerminalEvent", "TitleChanged"]
