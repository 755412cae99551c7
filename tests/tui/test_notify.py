"""Showing notices: hostile text stays literal, OSC 9/777 strings are sanitised."""

from __future__ import annotations

from heimdall.spend.notices import Notice
from heimdall.tui.notify import osc9, osc777, post_notice
from textual.app import App


def test_osc_strings_cannot_smuggle_escapes() -> None:
    notice = Notice("T", "evil\x1b]0;pwned\x07 name; x\x9b")
    assert osc9(notice) == "\x1b]9;evil ]0,pwned  name, x \x07"
    assert osc777(notice) == "\x1b]777;notify;T;evil ]0,pwned  name, x \x07"
    assert osc9(notice).count("\x1b") == 1 and osc9(notice).count("\x07") == 1


async def test_post_notice_shows_hostile_text_literally() -> None:
    app = App[None]()
    async with app.run_test() as pilot:
        post_notice(app, Notice("Heimdall", "[bold red]x[/] waiting · $0.84"), desktop=True)
        await pilot.pause()
        notes = list(app._notifications)
        assert [n.message for n in notes] == ["[bold red]x[/] waiting · $0.84"]
        assert notes[0].markup is False
