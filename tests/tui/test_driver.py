"""QuietLinuxDriver: the input thread sleeps until input, a parse timeout, or exit; keys still work.

The end-to-end part runs a tiny Textual app with the driver in a real PTY: a lone Esc still
becomes the Escape key (the parser's timeout is honoured without polling), other keys and a
resize arrive, and quitting ends the input thread (the app exits instead of hanging in select).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest
from heimdall.tui.driver import QuietLinuxDriver, WakingEvent, select_timeout, supports_textual

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


class FakeParser:
    def __init__(self, due: float | None) -> None:
        self._timeout_time = due


def test_select_timeout_blocks_while_nothing_is_pending_and_waits_exactly_for_a_timeout() -> None:
    assert select_timeout(FakeParser(None), now=10.0) is None
    assert select_timeout(FakeParser(10.25), now=10.0) == pytest.approx(0.25)
    assert select_timeout(FakeParser(9.0), now=10.0) == 0.0  # overdue: tick right away
    assert select_timeout(object(), now=10.0) == 0.1  # unknown parser: Textual's own polling


def test_waking_event_makes_its_pipe_readable_until_drained() -> None:
    event = WakingEvent()
    try:
        assert select.select([event.read_fd], [], [], 0)[0] == []
        event.set()
        event.set()  # twice: still one wake-up to drain
        assert event.is_set()
        assert select.select([event.read_fd], [], [], 0)[0] == [event.read_fd]
        event.drain()
        assert select.select([event.read_fd], [], [], 0)[0] == []
        event.clear()
        assert not event.is_set()
    finally:
        event.close()


def test_only_textual_8_gets_the_copied_input_loop() -> None:
    assert supports_textual("8.2.8")
    assert not supports_textual("9.0.0")
    assert not supports_textual("7.5.0")


def test_another_textual_major_keeps_textuals_own_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    import textual
    from heimdall.config import Config
    from heimdall.tui.app import HeimdallApp
    from textual.drivers.linux_driver import LinuxDriver

    monkeypatch.setattr(textual, "__version__", "9.0.0")
    assert HeimdallApp(Config(), initial_tabs=[]).driver_class is LinuxDriver


def test_heimdall_uses_the_quiet_driver_in_a_terminal() -> None:
    from heimdall.config import Config
    from heimdall.tui.app import HeimdallApp
    from textual.drivers.linux_driver import LinuxDriver

    app = HeimdallApp(Config(), initial_tabs=[])
    assert issubclass(app.driver_class, LinuxDriver)
    assert app.driver_class is QuietLinuxDriver


APP = textwrap.dedent(
    """
    import os
    from textual.app import App
    from heimdall.tui.driver import QuietLinuxDriver

    def log(text):
        with open(os.environ["KEY_LOG"], "a") as handle:
            handle.write(text + "\\n")

    class KeyApp(App):
        def on_mount(self):
            log("READY")

        def on_resize(self, event):
            log(f"SIZE {event.size.width}x{event.size.height}")

        def on_key(self, event):
            log("KEY " + event.key)
            if event.key == "q":
                self.exit()

    KeyApp(driver_class=QuietLinuxDriver).run()
    log("EXITED")
    """
)


def _read_until(fd: int, log: Path, needle: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in log.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; log: {log.read_text()!r}")
        if select.select([fd], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)


def test_keys_lone_escape_and_quit_through_a_real_pty(tmp_path: Path) -> None:
    log = tmp_path / "keys.log"
    log.write_text("")
    pid, fd = pty.fork()
    if pid == 0:  # child: the app on the PTY, its keys in the log
        try:
            os.chdir(ROOT)
            env = dict(os.environ, TERM="xterm-256color", KEY_LOG=str(log))
            os.execvpe(sys.executable, [sys.executable, "-c", APP], env)
        finally:
            os._exit(127)
    try:
        _read_until(fd, log, "READY")
        os.write(fd, b"a")
        _read_until(fd, log, "KEY a")
        os.write(fd, b"\x1b")  # a lone Esc: only the parser's timeout turns it into a key
        _read_until(fd, log, "KEY escape")
        # A resize while everything sleeps (no timer, no polling thread) still arrives.
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 21, 77, 0, 0))
        _read_until(fd, log, "SIZE 77x21")
        os.write(fd, b"q")
        _read_until(fd, log, "EXITED")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
