"""What keeps an idle or hidden tab cheap without making it wrong.

- A hidden tab reads a trickle of output in batches on a shared grid, floods at full speed, and
  is fully up to date the moment it is shown (what waited in the kernel is read first).
- The activity poll runs only while some tab's badge can change with time alone, and starts
  again when output arrives; busy still decays to idle.
"""

from __future__ import annotations

import fcntl
import struct
import termios

import pytest
from heimdall.sessions import terminal_session
from heimdall.sessions.activity import Activity
from heimdall.tui.widgets.terminal_view import TerminalView

from tests.children.handshake import HANDSHAKE
from tests.children.harness import argv_tab, make_app, probe_tab, screen_text, wait_until

pytestmark = pytest.mark.timeout(60)

SIZE = (100, 30)


def _kernel_bytes(view: TerminalView) -> int:
    """How many bytes of the child's output wait in the kernel (FIONREAD on the master)."""
    assert view.pty is not None and view.pty.master_fd is not None
    raw = fcntl.ioctl(view.pty.master_fd, termios.FIONREAD, b"\0\0\0\0")
    return int(struct.unpack("i", raw)[0])


def _b_echo_waiting(view: TerminalView) -> bool:
    """The probe's echo of `b` is in the kernel, not just the echo of `a`.

    Each echo is one write: `IN:61\r\n` and `IN:62\r\n` (7 bytes each) or `IN:6162\r\n` (9) if
    the probe read both at once. Reading may have paused before `a` was echoed (on READY), so
    "something is pending" alone can mean only `a`'s echo is there."""
    a_read = any(line.startswith("IN:") and "61" in line for line in view.visible_text())
    return _kernel_bytes(view) >= (7 if a_read else 9)


def echoed_b(view: TerminalView) -> bool:
    """The probe echoes input as `IN:<hex>` (`a` and `b` may come back in one read: 6162)."""
    return any(line.startswith("IN:") and "62" in line for line in view.visible_text())


async def test_hidden_tab_is_up_to_date_the_moment_it_is_shown(monkeypatch) -> None:
    # A long batching interval: the child's reply certainly waits in the kernel when we switch.
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 60.0)
    app = make_app(probe_tab("--echo"), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        await wait_until(pilot, lambda: "READY:" in screen_text(hidden), what="hidden READY")
        hidden.send(b"a")  # its echo is a trickle: reading pauses after it
        await wait_until(pilot, lambda: hidden.pty is not None and not hidden.pty._reading,
                         what="hidden tab batching its reads")
        hidden.send(b"b")
        await wait_until(pilot, lambda: _b_echo_waiting(hidden), what="echo of b waiting in the kernel")
        assert not echoed_b(hidden)
        app.activate(hidden)  # no await: shown means up to date, before any loop iteration
        assert echoed_b(hidden)
        assert hidden.pty is not None and hidden.pty._reading




async def test_hidden_tab_answers_a_starting_childs_queries_without_batching(monkeypatch) -> None:
    # With reads batched, each answer would wait for the next batch: a minute here.
    monkeypatch.setattr(terminal_session, "HIDDEN_READ_INTERVAL", 60.0)
    app = make_app(argv_tab(HANDSHAKE), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        assert not hidden.shown
        await wait_until(
            pilot, lambda: "HANDSHAKE-DONE" in screen_text(hidden), what="five answered queries"
        )


async def test_hidden_flood_is_read_at_full_speed() -> None:
    # 64 KB at once would block the child if we batched it: the kernel holds ~14-20 KB.
    flood = "head -c 65536 /dev/zero | tr '\\\\0' x; echo; echo FLOOD-DONE; exec sleep 60"
    app = make_app(argv_tab(["/bin/sh", "-c", f"sleep 0.3; {flood}"]), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        hidden, _front = app.tabs
        assert not hidden.shown
        await wait_until(pilot, lambda: hidden.bytes_received > 65536, what="flood read")
        await wait_until(
            pilot,
            lambda: any("FLOOD-DONE" in hidden.terminal.text_line(i)
                        for i in range(hidden.terminal.total_lines)),
            what="flood parsed",
        )


async def test_activity_poll_stops_when_nothing_can_change_and_restarts_on_output() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle after start")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped")
        ticks = app.activity_clock.ticks
        view.send(b"z")  # echoed: output re-arms the poll (it may be the start of work)
        await wait_until(pilot, lambda: app.activity_clock.armed, what="poll re-armed")
        await wait_until(pilot, lambda: app.activity_clock.ticks > ticks, what="a tick")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped again")
        assert view.state is Activity.IDLE  # echo of typing is not work


async def test_screen_activity_busy_decays_to_idle_without_a_fixed_timer() -> None:
    work = "echo READY; sleep 0.5; for i in 1 2 3 4 5 6 7 8; do echo work $i; sleep 0.2; done"
    app = make_app(argv_tab(["/bin/sh", "-c", f"{work}; exec sleep 60"]))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.BUSY, what="busy while printing")
        await wait_until(pilot, lambda: "work 8" in screen_text(view), what="work done")
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle after the work")
        await wait_until(pilot, lambda: not app.activity_clock.armed, what="poll stopped")


async def test_claude_tabs_keep_the_status_file_poll(tmp_path) -> None:
    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="idle")
        assert not view.needs_poll()
        view.activity.sessions_dir = tmp_path  # what start() sets for a Claude Code child
        assert view.needs_poll()


async def test_title_changes_are_coalesced_into_few_tab_bar_redraws(monkeypatch) -> None:
    from heimdall.tui.messages import TabTitleChanged
    from heimdall.tui.widgets.session_tabs import SessionTabs

    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        await wait_until(pilot, lambda: view.state is Activity.IDLE, what="settled")
        await pilot.pause(0.3)
        redraws: list[int] = []
        original = SessionTabs.refresh_tabs

        def counted(self, views, active) -> None:
            redraws.append(1)
            original(self, views, active)

        monkeypatch.setattr(SessionTabs, "refresh_tabs", counted)
        for step in range(50):  # a child retitling itself as fast as it can
            view.activity.on_title(f"step {step}")
            app.workspace.on_tab_title_changed(TabTitleChanged(view, f"step {step}"))
        label = app.query_one(SessionTabs).label_for(view)
        assert label is not None
        await wait_until(pilot, lambda: "step 49" in str(label.render()), what="last title shown")
        assert len(redraws) == 1
