"""TerminalView with real children in real PTYs, driven through Textual's Pilot."""

from __future__ import annotations

import pytest
from heimdall.config import Config
from heimdall.tui.widgets.terminal_view import CURRENT_MATCH_STYLE, TerminalView
from textual import events

from tests.children.harness import (
    InputLog,
    argv_tab,
    make_app,
    probe_tab,
    screen_text,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

SIZE = (100, 30)


async def started(pilot, view: TerminalView, needle: str = "READY:") -> None:
    await wait_until(pilot, lambda: needle in screen_text(view), what=f"{needle!r} on screen")


async def expect_bytes(pilot, log: InputLog, expected: bytes) -> None:
    await wait_until(
        pilot,
        lambda: log.received.endswith(expected),
        what=f"child to receive {expected!r}, got {log.received[-40:]!r}",
    )


async def test_keys_arrive_as_xterm_bytes() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        assert view is not None
        log = InputLog(view)
        await started(pilot, view)
        cases: list[tuple[str, bytes]] = [
            ("a", b"a"),
            ("Z", b"Z"),
            ("é", "é".encode()),
            ("ж", "ж".encode()),
            ("enter", b"\r"),
            ("tab", b"\t"),
            ("shift+tab", b"\x1b[Z"),
            ("backspace", b"\x7f"),
            ("escape", b"\x1b"),
            ("up", b"\x1b[A"),
            ("left", b"\x1b[D"),
            ("home", b"\x1b[H"),
            ("delete", b"\x1b[3~"),
            ("pageup", b"\x1b[5~"),
            ("f1", b"\x1bOP"),
            ("f5", b"\x1b[15~"),
            ("f12", b"\x1b[24~"),
            ("ctrl+a", b"\x01"),
            ("ctrl+c", b"\x03"),
            ("ctrl+r", b"\x12"),
            ("ctrl+left", b"\x1b[1;5D"),
            ("shift+up", b"\x1b[1;2A"),
            ("alt+b", b"\x1bb"),
        ]
        for key, expected in cases:
            await pilot.press(key)
            await expect_bytes(pilot, log, expected)


async def test_application_cursor_keys_when_deckm_is_set() -> None:
    app = make_app(probe_tab("--modes", "1", "--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await started(pilot, view)
        await wait_until(pilot, lambda: view.terminal.mode(1), what="DECCKM set")
        await pilot.press("up")
        await expect_bytes(pilot, log, b"\x1bOA")
        await pilot.press("right")
        await expect_bytes(pilot, log, b"\x1bOC")


async def test_paste_is_bracketed_only_when_the_child_asks() -> None:
    app = make_app(probe_tab("--modes", "2004", "--echo"), probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.tabs
        plain_log = InputLog(second)
        await started(pilot, second)
        app.post_message(events.Paste("one\ntwo"))
        await expect_bytes(pilot, plain_log, b"one\rtwo")
        app.activate(first)
        bracketed_log = InputLog(first)
        await started(pilot, first)
        await wait_until(pilot, lambda: first.terminal.mode(2004), what="2004 set")
        app.post_message(events.Paste("a\r\nb\x1b[201~c"))
        await expect_bytes(pilot, bracketed_log, b"\x1b[200~a\rbc\x1b[201~")


async def test_focus_events_sent_when_enabled() -> None:
    app = make_app(probe_tab("--modes", "1004", "--echo"), probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.tabs
        log = InputLog(first)
        await started(pilot, first)
        await wait_until(pilot, lambda: first.terminal.mode(1004), what="1004 set")
        app.activate(first)
        await expect_bytes(pilot, log, b"\x1b[I")
        app.activate(second)
        await expect_bytes(pilot, log, b"\x1b[O")


async def test_mouse_forwarded_only_when_reporting_is_on() -> None:
    app = make_app(probe_tab("--echo"), probe_tab("--modes", "1000,1006", "--echo"))
    async with app.run_test(size=SIZE) as pilot:
        plain, mouse = app.tabs
        # Mouse mode on (SGR): a click at cell (5, 3) arrives as press + release, 1-based.
        log = InputLog(mouse)
        await started(pilot, mouse)
        await wait_until(pilot, lambda: mouse.terminal.mode(1006), what="1006 set")
        await pilot.click(f"#{mouse.id}", offset=(5, 3))
        await expect_bytes(pilot, log, b"\x1b[<0;6;4M\x1b[<0;6;4m")
        await pilot.mouse_down(f"#{mouse.id}", offset=(1, 1))
        await expect_bytes(pilot, log, b"\x1b[<0;2;2M")
        await pilot.mouse_up(f"#{mouse.id}", offset=(1, 1))
        # Mouse mode off: clicks are ours (selection), the child gets nothing.
        app.activate(plain)
        plain_log = InputLog(plain)
        await started(pilot, plain)
        await pilot.click(f"#{plain.id}", offset=(5, 3))
        await pilot.press("z")
        await expect_bytes(pilot, plain_log, b"z")
        assert b"\x1b[<" not in plain_log.received and b"\x1b[M" not in plain_log.received


async def test_resize_reaches_the_child_and_1x1_survives() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await started(pilot, view)
        first = f"READY:{view.size.width}x{view.size.height}"
        assert first in screen_text(view)
        await pilot.resize_terminal(70, 20)
        await wait_until(pilot, lambda: view.size.width == 70, what="layout")
        expected = f"SIZE:{view.size.width}x{view.size.height}"
        await wait_until(pilot, lambda: expected in log.text, what=expected)
        assert (view.terminal.cols, view.terminal.rows) == (view.size.width, view.size.height)
        await pilot.resize_terminal(1, 1)
        await wait_until(pilot, lambda: "SIZE:1x1" in log.text, what="SIZE:1x1")
        await pilot.press("x")
        await expect_bytes(pilot, log, b"x")
        await pilot.resize_terminal(90, 25)
        await wait_until(pilot, lambda: view.size.width == 90, what="layout")
        expected = f"SIZE:{view.size.width}x{view.size.height}"
        await wait_until(pilot, lambda: expected in log.text, what=expected)
        await pilot.press("y")
        await expect_bytes(pilot, log, b"y")
        assert view.terminal.cols == 90


async def test_search_finds_a_line_printed_5000_lines_earlier() -> None:
    app = make_app(probe_tab("--lines", "6000", "--print", "THE-END", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "THE-END")
        assert "line-01000 " not in screen_text(view)
        await pilot.press("ctrl+right_square_bracket", "slash")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SearchScreen")
        for char in "line-01000 ":
            await pilot.press(char if char != " " else "space")
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.history_offset > 0, what="scrolled back")
        await pilot.pause(0.1)
        assert "line-01000 some filler" in screen_text(view)
        assert view.search is not None and len(view.search.matches) == 1
        index, start, _end = view.search.matches[0]
        assert view.terminal.text_line(index)[start:].startswith("line-01000")
        # The match is highlighted in the rendered row.
        row = next(y for y, text in enumerate(view.visible_text()) if "line-01000" in text)
        strip = view.render_line(row)
        highlighted = [seg for seg in strip if seg.style and seg.style.bgcolor is not None]
        assert any("line-01000" in seg.text for seg in highlighted)
        await pilot.press("escape")
        # Any key in the terminal returns to live output.
        await pilot.press("q")
        await wait_until(pilot, lambda: view.history_offset == 0, what="back to live")
        assert "THE-END" in screen_text(view)


async def test_wheel_scrolls_scrollback_when_mouse_reporting_is_off() -> None:
    app = make_app(probe_tab("--lines", "200", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "line-00200")
        await pilot.pause(0.05)
        view.post_message(events.MouseScrollUp(view, 3, 3, 0, -1, 0, False, False, False))
        await wait_until(pilot, lambda: view.history_offset == 3, what="scrolled 3 lines")
        await pilot.press("shift+pageup")
        await wait_until(pilot, lambda: view.history_offset > 3, what="page up")
        await pilot.press("shift+pagedown", "shift+pagedown")
        await wait_until(pilot, lambda: view.history_offset == 0, what="page down")


async def test_alternate_screen_is_restored() -> None:
    app = make_app(
        probe_tab("--print", "MAIN-TEXT", "--alt", "ALT-TEXT", "--alt-seconds", "0.6", "--stay")
    )
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "ALT-TEXT")
        assert "MAIN-TEXT" not in screen_text(view)
        assert view.terminal.alt_screen
        await wait_until(pilot, lambda: not view.terminal.alt_screen, what="alt screen left")
        await wait_until(pilot, lambda: "MAIN-TEXT" in screen_text(view), what="main restored")
        assert "ALT-TEXT" not in screen_text(view)


async def test_colours_reach_the_rendered_strips() -> None:
    app = make_app(probe_tab("--colors", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "truecolor")
        await pilot.pause(0.1)
        row = next(y for y, text in enumerate(view.visible_text()) if "bold-green" in text)
        segments = {seg.text: seg.style for seg in view.render_line(row) if seg.text.strip()}
        red = next(style for text, style in segments.items() if "red" in text)
        assert red.color is not None and red.color.number == 1
        green = next(style for text, style in segments.items() if "bold-green" in text)
        assert green.bold
        true = next(style for text, style in segments.items() if "truecolor" in text)
        assert true.color.triplet == (10, 200, 30)


async def test_garbage_bytes_do_not_break_the_app() -> None:
    app = make_app(probe_tab("--garbage", "30000", "--print", "STILL-ALIVE", "--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await started(pilot, view, "AFTER-GARBAGE")
        await wait_until(pilot, lambda: "STILL-ALIVE" in screen_text(view), what="text after")
        await pilot.press("k")
        await expect_bytes(pilot, log, b"k")
        assert view.running


async def test_hidden_tab_parses_but_does_not_render_then_rebuilds() -> None:
    app = make_app(
        probe_tab("--pre-sleep", "0.5", "--print", "WHILE-HIDDEN", "--stay"), probe_tab("--stay")
    )
    async with app.run_test(size=SIZE) as pilot:
        hidden, shown = app.tabs
        assert app.active_tab is shown and not hidden.shown
        await wait_until(
            pilot,
            lambda: any("WHILE-HIDDEN" in hidden.terminal.text_line(i)
                        for i in range(hidden.terminal.total_lines)),
            what="hidden tab parsed its output",
        )
        assert hidden._strips == []  # nothing built while hidden
        app.activate(hidden)
        await pilot.pause(0.1)
        rendered = "".join(seg.text for y in range(hidden.size.height)
                           for seg in hidden.render_line(y))
        assert "WHILE-HIDDEN" in rendered


async def test_drag_selection_is_copied_when_mouse_reporting_is_off() -> None:
    app = make_app(probe_tab("--print", "alpha beta gamma", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "alpha beta gamma")
        row = next(y for y, text in enumerate(view.visible_text()) if "alpha beta" in text)
        await pilot.mouse_down(f"#{view.id}", offset=(6, row))
        await pilot.hover(f"#{view.id}", offset=(9, row))
        await pilot.mouse_up(f"#{view.id}", offset=(9, row))
        await wait_until(pilot, lambda: app.clipboard == "beta", what=f"copied {app.clipboard!r}")


async def test_mouse_motion_and_wheel_follow_the_childs_mode() -> None:
    app = make_app(probe_tab("--modes", "1003,1006", "--echo"), probe_tab("--modes", "1000", "--echo"))
    async with app.run_test(size=SIZE) as pilot:
        any_motion, clicks_only = app.tabs
        # 1000 (clicks only, X10 encoding): no motion reports; wheel as button 64 (+32 offset).
        log = InputLog(clicks_only)
        await started(pilot, clicks_only)
        await wait_until(pilot, lambda: clicks_only.terminal.mode(1000), what="1000 set")
        await pilot.hover(f"#{clicks_only.id}", offset=(4, 4))
        await pilot.hover(f"#{clicks_only.id}", offset=(6, 5))
        clicks_only.post_message(
            events.MouseScrollUp(clicks_only, 2, 1, 0, -1, 0, False, False, False)
        )
        await expect_bytes(pilot, log, b"\x1b[M" + bytes([32 + 64, 33 + 2, 33 + 1]))
        assert log.received.count(b"\x1b[M") == 1  # the hovers sent nothing
        assert clicks_only.history_offset == 0  # the wheel went to the child, not our history
        # 1003 + 1006: every motion is reported, in SGR, as button 3 + 32 when none is held.
        app.activate(any_motion)
        log = InputLog(any_motion)
        await started(pilot, any_motion)
        await wait_until(pilot, lambda: any_motion.terminal.mode(1003), what="1003 set")
        await pilot.hover(f"#{any_motion.id}", offset=(7, 2))
        await expect_bytes(pilot, log, b"\x1b[<35;8;3M")


def rendered(view: TerminalView) -> str:
    return "\n".join(
        "".join(segment.text for segment in view.render_line(y)) for y in range(view.size.height)
    )


async def test_no_frame_is_painted_inside_a_synchronized_update(monkeypatch) -> None:
    from heimdall.sessions import clocks

    monkeypatch.setattr(clocks, "SYNC_TIMEOUT", 30.0)  # only ?2026l may end the hold
    app = make_app(probe_tab("--print", "BEFORE", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "BEFORE")
        await wait_until(pilot, lambda: "BEFORE" in rendered(view), what="first frame")
        view.session.receive(b"\x1b[?2026h\r\nHALF-DRAWN")
        await pilot.pause(0.2)
        assert "HALF-DRAWN" in screen_text(view)  # parsed...
        assert "HALF-DRAWN" not in rendered(view)  # ...but not painted
        view.session.receive(b" COMPLETE\x1b[?2026l")
        await wait_until(pilot, lambda: "HALF-DRAWN COMPLETE" in rendered(view), what="frame")


async def test_a_synchronized_update_that_never_ends_is_shown_after_the_timeout(
    monkeypatch,
) -> None:
    from heimdall.sessions import clocks

    monkeypatch.setattr(clocks, "SYNC_TIMEOUT", 0.05)
    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view)
        view.session.receive(b"\x1b[?2026h\r\nNEVER-CLOSED")
        await wait_until(pilot, lambda: "NEVER-CLOSED" in rendered(view), what="timed-out frame")


async def test_an_emulator_failure_is_reported_and_the_tab_keeps_working(monkeypatch) -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await started(pilot, view)
        real_feed = view.terminal.feed

        def broken_feed(data: bytes) -> None:
            if b"BOOM" in data:
                raise RuntimeError("emulator bug")
            real_feed(data)

        monkeypatch.setattr(view.terminal, "feed", broken_feed)
        view.session.receive(b"BOOM")
        await pilot.press("k")
        await expect_bytes(pilot, log, b"k")
        assert app.is_running and view.running
        assert any("emulator failed" in n.message for n in app._notifications)


async def test_scrollback_keys_can_be_remapped() -> None:
    from heimdall.config import Config

    config = Config()
    config.keys.bindings = {"scrollback-page-up": "f7"}
    app = make_app(probe_tab("--lines", "200", "--echo"), config=config)
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await started(pilot, view, "line-00200")
        await pilot.press("f7")
        await wait_until(pilot, lambda: view.history_offset > 0, what="f7 scrolls back")
        await pilot.press("shift+pageup")  # no longer ours: the child gets it
        await expect_bytes(pilot, log, b"\x1b[5;2~")


async def test_frame_clock_is_shared_and_idle_when_nothing_changes() -> None:
    app = make_app(probe_tab("--print", "ONE", "--stay"), probe_tab("--print", "TWO", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        first, second = app.tabs
        assert first.clock is second.clock is app.frame_clock
        await started(pilot, second, "TWO")
        await wait_until(
            pilot,
            lambda: app.frame_clock._handle is None and not app.frame_clock._pending,
            what="no frame timer while nothing is dirty",
        )
        await pilot.pause(0.3)
        # Still no timer: an idle tab costs no wake-ups at all.
        assert app.frame_clock._handle is None and not app.frame_clock._pending


# A child that prints 150 numbered lines, then N more lines for every number N it reads.
MORE_ON_DEMAND = [
    "/bin/sh",
    "-c",
    "stty -echo; i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo \"old-$i filler\"; done;"
    " echo READY-MORE; while read n; do j=0; while [ $j -lt $n ]; do j=$((j+1));"
    " echo \"new-$j\"; done; echo \"DONE-$n\"; done",
]


def small_scrollback_config() -> Config:
    config = Config()
    config.terminal.scrollback_lines = 100
    return config


async def test_scrolled_back_view_stays_on_its_rows_while_a_full_scrollback_drops_lines() -> None:
    app = make_app(argv_tab(MORE_ON_DEMAND), config=small_scrollback_config())
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "READY-MORE")
        assert view.terminal.scrollback_len == 100  # full: every new line drops the oldest
        view.scroll_by(-20)
        await pilot.pause(0.05)
        before = view.visible_text()
        assert any("old-" in text for text in before)
        dropped = view.terminal.lines_dropped
        view.send(b"12\n")
        await wait_until(pilot, lambda: view.terminal.lines_dropped >= dropped + 13, what="drops")
        await pilot.pause(0.05)
        assert view.visible_text() == before
        # What is painted follows too, not only the text mapping.
        painted = ["".join(seg.text for seg in view.render_line(y)).rstrip() for y in range(3)]
        assert painted == before[:3]


async def test_scrolled_back_view_keeps_its_top_line_when_a_resize_pushes_rows_into_history() -> None:
    app = make_app(argv_tab(MORE_ON_DEMAND))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "READY-MORE")
        view.scroll_by(-40)
        await pilot.pause(0.05)
        top = view.visible_text()[0]
        assert top.startswith("old-")
        rows, held = view.terminal.rows, view.terminal.scrollback_len
        await pilot.resize_terminal(SIZE[0], SIZE[1] - 10)  # the screen's top rows go to history
        await wait_until(pilot, lambda: view.terminal.rows < rows, what="the view to shrink")
        assert view.terminal.scrollback_len > held
        await pilot.pause(0.05)
        assert view.visible_text()[0] == top
        painted = "".join(seg.text for seg in view.render_line(0)).rstrip()
        assert painted == top


async def test_search_match_and_selection_follow_their_text_when_old_lines_are_dropped() -> None:
    app = make_app(argv_tab(MORE_ON_DEMAND), config=small_scrollback_config())
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await started(pilot, view, "READY-MORE")
        assert view.find("old-99 filler")
        await pilot.pause(0.05)
        row = next(y for y, text in enumerate(view.visible_text()) if "old-99 " in text)
        await pilot.mouse_down(f"#{view.id}", offset=(0, row))
        await pilot.hover(f"#{view.id}", offset=(5, row))
        await pilot.mouse_up(f"#{view.id}", offset=(5, row))
        await wait_until(pilot, lambda: app.clipboard == "old-99", what=f"copied {app.clipboard!r}")
        dropped = view.terminal.lines_dropped
        view.send(b"7\n")
        await wait_until(pilot, lambda: view.terminal.lines_dropped >= dropped + 8, what="drops")
        await pilot.pause(0.05)
        row = next(y for y, text in enumerate(view.visible_text()) if "old-99 " in text)
        match_colour = CURRENT_MATCH_STYLE.bgcolor
        highlighted = [
            seg.text for seg in view.render_line(row) if seg.style and seg.style.bgcolor == match_colour
        ]
        assert "".join(highlighted) == "old-99 filler"
        assert view.selected_text() == "old-99"
        # Stepping the search again still lands on the same text.
        assert view.find("old-99 filler")
        index, start, end = view.search.matches[view.search.current]
        assert view.terminal.text_line(index)[start:end] == "old-99 filler"
