"""Tabs in HeimdallApp with real children: open, close, switch, jump, rename, titles, bells,
exits and restarts, the prefix key, remapping, and no process left behind after quitting."""

from __future__ import annotations

import sys

import pytest
from heimdall.config import Config
from heimdall.process.launch import AgentLaunch, child_environment
from heimdall.sessions.activity import Activity
from heimdall.tui.messages import TabBell, TabExited, TabStateChanged, TabTitleChanged
from heimdall.tui.screens.confirm import ConfirmScreen
from heimdall.tui.screens.help import HelpScreen
from heimdall.tui.widgets.session_tabs import SessionTabs

from tests.children import alive, probe_argv
from tests.children.harness import (
    InputLog,
    argv_tab,
    descendants,
    make_app,
    probe_tab,
    screen_text,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

SIZE = (100, 30)
PREFIX = "ctrl+right_square_bracket"


def label_of(app, view) -> str:
    label = app.query_one(SessionTabs).label_for(view)
    assert label is not None
    return str(label.render())


async def ready(pilot, view, needle: str = "READY:") -> None:
    await wait_until(pilot, lambda: needle in screen_text(view), what=f"{needle!r} in tab")


async def test_open_switch_jump_rename_close() -> None:
    app = make_app(probe_tab("--print", "TAB-ONE", "--stay"), probe_tab("--print", "TAB-TWO", "--stay"))
    async with app.run_test(size=SIZE) as pilot:
        one, two = app.tabs
        assert app.active_tab is two and two.has_focus
        await ready(pilot, two, "TAB-TWO")
        await pilot.press("ctrl+pagedown")  # wraps around
        assert app.active_tab is one
        await pilot.press("ctrl+pageup")
        assert app.active_tab is two
        await pilot.press(PREFIX, "1")
        await wait_until(pilot, lambda: app.active_tab is one, what="jump to 1")
        await pilot.press(PREFIX, "n")
        await wait_until(pilot, lambda: app.active_tab is two, what="next")
        await pilot.press(PREFIX, "p")
        await wait_until(pilot, lambda: app.active_tab is one, what="previous")
        # New tab with the default agent (the probe echo child in this harness).
        await pilot.press(PREFIX, "c")
        await wait_until(pilot, lambda: len(app.tabs) == 3, what="third tab")
        three = app.tabs[2]
        assert app.active_tab is three
        await ready(pilot, three)
        # Click on a tab switches.
        await pilot.click(f"#label-{one.id}")
        await wait_until(pilot, lambda: app.active_tab is one, what="click on tab 1")
        # Rename.
        await pilot.press(PREFIX, "r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PromptScreen")
        await pilot.press("ctrl+a", "ctrl+k")
        for char in "build":
            await pilot.press(char)
        await pilot.press("enter")
        await wait_until(pilot, lambda: one.label == "build", what="renamed")
        assert "build" in label_of(app, one)
        # Close a running tab: confirm first; "n" keeps it.
        await pilot.press(PREFIX, "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert one in app.tabs
        pid = one.pid
        await pilot.press(PREFIX, "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: one not in app.tabs, what="tab closed")
        assert pid is not None and not alive(pid)
        assert app.active_tab in (two, three) and len(app.tabs) == 2


async def test_label_follows_osc_title_and_state_messages_are_posted() -> None:
    messages: list[object] = []
    app = make_app(probe_tab("--title", "⠂ Writing tests", "--stay"))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        view = app.active_tab
        await wait_until(pilot, lambda: view.label == "Writing tests", what="title")
        await wait_until(pilot, lambda: "Writing tests" in label_of(app, view), what="label")
        assert view.state is Activity.BUSY
        assert any(isinstance(m, TabTitleChanged) and m.title == "⠂ Writing tests" for m in messages)
        assert any(isinstance(m, TabStateChanged) and m.new is Activity.BUSY for m in messages)


async def test_bell_in_background_tab_marks_it_until_viewed() -> None:
    messages: list[object] = []
    app = make_app(
        probe_tab("--stay"),
        probe_tab("--pre-sleep", "0.8", "--bell", "--stay"),
    )
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        front, ringer = app.tabs
        app.activate(front)
        await wait_until(pilot, lambda: ringer.state is Activity.BELL, what="bell badge")
        label = app.query_one(SessionTabs).label_for(ringer)
        assert label is not None
        await wait_until(pilot, lambda: label.has_class("-bell"), what="-bell class")
        assert any(isinstance(m, TabBell) and m.background for m in messages)
        app.activate(ringer)
        await wait_until(pilot, lambda: ringer.state is not Activity.BELL, what="bell cleared")
        await wait_until(pilot, lambda: not label.has_class("-bell"), what="-bell cleared")


async def test_crashing_child_keeps_output_and_exit_code_then_restarts() -> None:
    messages: list[object] = []
    app = make_app(probe_tab("--print", "LAST-WORDS", "--exit", "3"))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        view = app.active_tab
        await wait_until(pilot, lambda: view.state is Activity.EXITED, what="exited")
        assert view.exit_status is not None and view.exit_status.code == 3
        assert "LAST-WORDS" in screen_text(view)
        await wait_until(pilot, lambda: "exit 3" in label_of(app, view), what="exit badge")
        # The tab bar may draw the badge (from the view's state) before the view's queue has
        # dispatched the message.
        await wait_until(
            pilot,
            lambda: any(isinstance(m, TabExited) and m.status.code == 3 for m in messages),
            what="TabExited",
        )
        first_pid = view.pid
        # Restart with a new launch (what the model menu does), keeping the session id.
        session_id = view.session_id
        launch = AgentLaunch(
            argv=probe_argv("--print", "SECOND-LIFE", "--echo"),
            env=child_environment(),
            cwd=view.launch.cwd,
        )
        await view.restart(launch)
        await ready(pilot, view, "SECOND-LIFE")
        assert view.running and view.pid != first_pid and view.session_id == session_id
        assert "LAST-WORDS" in "\n".join(
            view.terminal.text_line(i) for i in range(view.terminal.total_lines)
        )
        log = InputLog(view)
        await pilot.press("w")
        await wait_until(pilot, lambda: log.received.endswith(b"w"), what="input after restart")


async def test_enter_restarts_an_exited_tab() -> None:
    app = make_app(probe_tab("--print", "RUN-ONCE", "--exit", "0"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await wait_until(pilot, lambda: view.state is Activity.EXITED, what="exited")
        first_pid = view.pid
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.pid != first_pid, what="restarted")
        await wait_until(pilot, lambda: screen_text(view).count("RUN-ONCE") == 2, what="rerun")


async def test_unstartable_command_is_reported_in_the_tab() -> None:
    app = make_app(argv_tab(["/nonexistent/heimdall-test-program"]))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await wait_until(pilot, lambda: view.state is Activity.EXITED, what="exited")
        assert "cannot start" in screen_text(view)
        assert view.start_error


async def test_prefix_twice_sends_the_prefix_byte() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await ready(pilot, view)
        await pilot.press(PREFIX, PREFIX)
        await wait_until(pilot, lambda: log.received.endswith(b"\x1d"), what="Ctrl+] byte")
        await pilot.press("j")
        await wait_until(pilot, lambda: log.received.endswith(b"j"), what="j")
        assert log.received.count(b"\x1d") == 1
        # An unknown command key after the prefix is swallowed, not sent.
        await pilot.press(PREFIX, "z", "k")
        await wait_until(pilot, lambda: log.received.endswith(b"k"), what="k")
        assert b"z" not in log.received


async def test_help_lists_bindings_and_keymap_remaps() -> None:
    config = Config()
    # `t` is the shell tab's key: taking it for new tabs means moving that one too (else a
    # config error, see tests/test_keymap.py)
    config.keys.bindings = {"next-tab": "f8", "prefix-new-tab": "t", "prefix-shell-tab": "T"}
    app = make_app(probe_tab("--stay"), probe_tab("--stay"), config=config)
    async with app.run_test(size=SIZE) as pilot:
        one, _two = app.tabs
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.active_tab is one, what="f8 next tab")
        await pilot.press("ctrl+pagedown")  # no longer bound: goes to the child
        await pilot.pause(0.05)
        assert app.active_tab is one
        await pilot.press(PREFIX, "t")
        await wait_until(pilot, lambda: len(app.tabs) == 3, what="remapped new tab")
        await pilot.press(PREFIX, "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        sections = dict(app.help_sections())
        prefixed = {row[2]: row[0] for row in sections["Prefix commands"]}
        assert prefixed["prefix-new-tab"] == "Ctrl+] t"
        direct = {row[2]: row[0] for row in sections["Direct keys"]}
        assert direct["next-tab"] == "F8" and direct["prev-tab"] == "Ctrl+PgUp"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_claude_code_keys_are_never_taken() -> None:
    app = make_app(probe_tab("--echo"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        log = InputLog(view)
        await ready(pilot, view)
        for key, expected in [
            ("ctrl+c", b"\x03"), ("ctrl+d", b"\x04"), ("ctrl+r", b"\x12"), ("ctrl+o", b"\x0f"),
            ("ctrl+t", b"\x14"), ("ctrl+g", b"\x07"), ("ctrl+b", b"\x02"), ("ctrl+l", b"\x0c"),
            ("ctrl+v", b"\x16"), ("ctrl+z", b"\x1a"), ("ctrl+j", b"\n"), ("ctrl+q", b"\x11"),
            ("ctrl+p", b"\x10"), ("escape", b"\x1b"), ("shift+tab", b"\x1b[Z"),
            ("alt+f", b"\x1bf"),
        ]:
            await pilot.press(key)
            await wait_until(pilot, lambda e=expected: log.received.endswith(e), what=key)
        assert len(app.tabs) == 1 and app.is_running


async def test_quitting_leaves_no_process_behind() -> None:
    stubborn = (
        "import signal,os,time\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "os.write(1, b'STUBBORN\\r\\n')\n"
        "while True: time.sleep(1)\n"
    )
    family = (
        "import subprocess,sys,os,time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "os.write(1, b'FAMILY\\r\\n')\n"
        "time.sleep(120)\n"
    )
    app = make_app(
        probe_tab("--echo"),
        argv_tab([sys.executable, "-c", stubborn]),
        argv_tab([sys.executable, "-c", family]),
        argv_tab(["/bin/sh", "-c", "sleep 120 & sleep 120; echo"]),
        argv_tab(["/bin/sh", "-c", "sh -c 'trap \"\" HUP TERM; echo IGNORES; sleep 120'; exit"]),
    )
    pids: set[int] = set()
    async with app.run_test(size=SIZE) as pilot:
        echo, hard, fam, _shell, ignorer = app.tabs
        await ready(pilot, ignorer, "IGNORES")
        await ready(pilot, echo)
        await ready(pilot, hard, "STUBBORN")
        await ready(pilot, fam, "FAMILY")
        await pilot.pause(0.2)
        for view in app.tabs:
            assert view.pid is not None
            pids.add(view.pid)
            pids |= descendants(view.pid)
        assert len(pids) >= 6  # 4 children + the python grandchild + sleeps
        await pilot.press(PREFIX, "q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, timeout=15, what="app exit")
    survivors = [pid for pid in pids if alive(pid)]
    assert survivors == []


@pytest.mark.claude
@pytest.mark.timeout(120)
async def test_real_claude_code_in_two_tabs(fake_upstream, tmp_path) -> None:
    """Two real Claude Code tabs against the simulated upstream: prompt, reply, AI title in the
    label, Ctrl+C twice exits 0, quitting leaves nothing behind."""
    from tests.claude_support import claude_binary, claude_test_env

    binary = claude_binary()

    def factory(request):
        home = tmp_path / (request.name or "tab")
        home.mkdir(exist_ok=True)
        env = claude_test_env(home, fake_upstream.url)
        return AgentLaunch(argv=[binary], env=env, cwd=home)

    config = Config()
    config.ui.sidebar = False
    from heimdall.tui.app import HeimdallApp, TabRequest

    app = HeimdallApp(
        config,
        launch_factory=factory,
        initial_tabs=[TabRequest(name="first"), TabRequest(name="second")],
        freeze_gc=False,
    )
    pids: set[int] = set()
    async with app.run_test(size=(120, 40)) as pilot:
        first, second = app.tabs
        for view, prompt in ((first, "please write a haiku"), (second, "hello there")):
            app.activate(view)
            await wait_until(
                pilot, lambda v=view: "for shortcuts" in screen_text(v), timeout=40, what="prompt"
            )
            for char in prompt:
                await pilot.press("space" if char == " " else char)
            await pilot.pause(0.3)
            await pilot.press("enter")
        for view in (first, second):
            await wait_until(
                pilot, lambda v=view: "FAKE-REPLY" in screen_text(v), timeout=40, what="reply"
            )
            pids.add(view.pid)
            pids |= descendants(view.pid)
        # The AI title (OSC 0) becomes the label once the user-given name is cleared. (Claude
        # Code asks for a title only for prompts that say something, hence the haiku.)
        first.custom_name = None
        await wait_until(
            pilot,
            lambda: first.activity.display_title.startswith("Fake title"),
            timeout=20,
            what=f"AI title (title now {first.terminal.title!r})",
        )
        app.workspace.refresh_tabs()
        await wait_until(pilot, lambda: "Fake title" in label_of(app, first), what="label")
        app.activate(first)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: "again to exit" in screen_text(first), what="hint")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: first.exit_status is not None, timeout=20, what="exit")
        assert first.exit_status.code == 0
        await wait_until(pilot, lambda: "exit 0" in label_of(app, first), what="exit badge")
        await pilot.press(PREFIX, "q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, timeout=20, what="app exit")
    assert [pid for pid in pids if alive(pid)] == []


async def test_new_tab_prompt_runs_any_command_and_sidebar_toggles() -> None:
    app = make_app(probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.sidebar
        assert sidebar.id == "sidebar"
        await pilot.press(PREFIX, "C")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PromptScreen")
        for char in "echo from-prompt":
            await pilot.press("space" if char == " " else char)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.tabs) == 2, what="second tab")
        await wait_until(pilot, lambda: "from-prompt" in screen_text(app.tabs[1]), what="output")
        hidden = app.has_class("-hide-sidebar")
        await pilot.press(PREFIX, "s")
        await wait_until(pilot, lambda: app.has_class("-hide-sidebar") is not hidden)


async def test_closing_the_last_tab_leaves_a_working_app() -> None:
    app = make_app(probe_tab("--print", "BYE", "--exit", "0"))
    async with app.run_test(size=SIZE) as pilot:
        view = app.active_tab
        await wait_until(pilot, lambda: view.state is Activity.EXITED, what="exited")
        await pilot.press(PREFIX, "x")  # an ended tab closes without asking
        await wait_until(pilot, lambda: not app.tabs, what="no tabs")
        assert app.active_tab is None
        await pilot.press(PREFIX, "c")
        await wait_until(pilot, lambda: len(app.tabs) == 1, what="a new tab")
        await ready(pilot, app.tabs[0])


async def test_command_palette_lists_every_action_and_runs_them() -> None:
    """Prefix then `:` opens Textual's command palette; every prefix command is in it (with its
    keys as help), tabs can be reached by name, and choosing an entry runs the action. Ctrl+P
    still goes to the child (see test_claude_code_keys_are_never_taken)."""
    from heimdall.keymap import COMMANDS
    from textual.command import CommandPalette

    app = make_app(probe_tab("--stay"), probe_tab("--stay"))
    async with app.run_test(size=SIZE) as pilot:
        one, _two = app.tabs
        titles = {command.title: command.help for command in app.get_system_commands(app.screen)}
        for command in COMMANDS:
            if command.scope == "prefix" and command.action != "command_palette":
                assert command.title in titles, command.title
        assert titles["New tab running the default agent"] == "Ctrl+] c"
        assert any(title.startswith("Go to tab 2") for title in titles)
        assert "Theme" in titles  # Textual's themes stay reachable
        await pilot.press(PREFIX, "colon")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"Previous tab")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.active_tab is one, what="palette ran previous tab")


async def test_prefix_angle_brackets_move_the_active_tab_and_are_remappable() -> None:
    config = Config()
    config.keys.bindings = {"prefix-move-tab-right": "f9"}
    app = make_app(
        probe_tab("--stay", name="one"),
        probe_tab("--stay", name="two"),
        probe_tab("--stay", name="three"),
        config=config,
    )
    async with app.run_test(size=SIZE) as pilot:
        one, two, three = app.tabs
        assert app.active_tab is three

        def bar_order() -> list[str]:
            labels = list(app.query_one(SessionTabs).query(".tab-label"))
            return [label.view.label for label in labels]

        await pilot.press(PREFIX, "less_than_sign")
        await wait_until(pilot, lambda: app.tabs == [one, three, two], what="moved left")
        assert app.active_tab is three
        await wait_until(pilot, lambda: bar_order() == ["one", "three", "two"], what="bar order")
        await wait_until(pilot, lambda: label_of(app, three).startswith(" 2 "), what="renumbered")
        await pilot.press(PREFIX, "less_than_sign", PREFIX, "less_than_sign")  # stops at the end
        await wait_until(pilot, lambda: app.tabs == [three, one, two], what="first")
        await pilot.pause(0.05)
        assert app.tabs == [three, one, two]
        await pilot.press(PREFIX, "1")  # numbers follow the new order
        await wait_until(pilot, lambda: app.active_tab is three, what="jump to moved tab")
        # Remapped: `>` no longer moves right, F9 does.
        await pilot.press(PREFIX, "f9")
        await wait_until(pilot, lambda: app.tabs == [one, three, two], what="moved right")
        await wait_until(pilot, lambda: bar_order() == ["one", "three", "two"], what="bar order")
        await pilot.press(PREFIX, "greater_than_sign")
        await pilot.pause(0.05)
        assert app.tabs == [one, three, two]
        # Shown in help, with the default key for the left move.
        await pilot.press(PREFIX, "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        sections = dict(app.help_sections())
        prefixed = {row[2]: row[0] for row in sections["Prefix commands"]}
        assert prefixed["prefix-move-tab-left"] == "Ctrl+] <"
        assert prefixed["prefix-move-tab-right"] == "Ctrl+] F9"
        await pilot.press("escape")
