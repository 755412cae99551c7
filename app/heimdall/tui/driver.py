"""Textual's Linux driver, minus its input thread's 10 Hz polling.

Textual's input thread waits for keys with `select(0.1)`, so it wakes ten times a second for
nothing; that was most of an idle Heimdall's CPU (0.12-0.15 % of a core out of 0.16-0.20 %,
bench/terminal.py). The timeout serves two things, both kept here without polling:

- the parser's own timeout (a lone Esc becomes the Escape key after a short wait): we sleep
  exactly until it is due, and block indefinitely while the parser waits for nothing;
- noticing `exit_event` (quit, suspend): setting the event also writes to a pipe the thread
  watches, so it wakes at once.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._loop import loop_last
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

IDLE_TIMEOUT: float | None = None
"""select() timeout while no parse timeout is pending: None blocks until input or a wake-up."""
FALLBACK_TIMEOUT = 0.1
"""Textual's own timeout, used if its parser no longer exposes when its timeout is due."""


class WakingEvent(threading.Event):
    """A `threading.Event` whose `set()` also makes a pipe readable, to wake a select()."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self._write_fd, False)

    def set(self) -> None:
        super().set()
        with contextlib.suppress(OSError):  # full (already woken) or closed
            os.write(self._write_fd, b"\0")

    def drain(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self.read_fd, 512):
                pass

    def close(self) -> None:
        for fd in (self.read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def supports_textual(version: str | None = None) -> bool:
    """The input loop below is Textual 8's; another major version keeps Textual's own driver."""
    if version is None:
        import textual

        version = textual.__version__
    return version.split(".", 1)[0] == "8"


def select_timeout(parser: Any, now: float) -> float | None:
    """How long the input thread may sleep: until the parser's pending timeout, else forever."""
    if not hasattr(parser, "_timeout_time"):
        return FALLBACK_TIMEOUT
    due: float | None = parser._timeout_time
    if due is None:
        return IDLE_TIMEOUT
    return max(0.0, due - now)


class QuietLinuxDriver(LinuxDriver):
    """`LinuxDriver` whose input thread sleeps until there is input (or a parse timeout)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = WakingEvent()

    def close(self) -> None:
        super().close()
        exit_event = self.exit_event
        if isinstance(exit_event, WakingEvent):
            exit_event.close()

    def run_input_thread(self) -> None:
        """Textual's loop (linux_driver.py, 8.x) with the timeout of `select_timeout`."""
        exit_event = self.exit_event
        assert isinstance(exit_event, WakingEvent)
        exit_event.drain()  # a wake-up left from a previous run (suspend / resume)
        selector = selectors.SelectSelector()
        fileno = self.fileno
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(exit_event.read_fd, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (key, mask) in loop_last(events):
                if key.fd != fileno:
                    exit_event.drain()
                    continue
                if mask & selectors.EVENT_READ:
                    unicode_data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin is a pipe that ended
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not exit_event.is_set():
                process(selector.select(select_timeout(parser, get_time())))
            selector.unregister(fileno)
            selector.unregister(exit_event.read_fd)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            with contextlib.suppress(Exception):
                for _event in feed(""):
                    pass
