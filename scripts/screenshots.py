"""Regenerate the README screenshots from the real app (run after any UI change).

    .venv/bin/python scripts/screenshots.py [--claude PATH] [--out screenshots]

Runs `heimdall demo` headless (`App.run_test`): real Claude Code tabs (the pinned binary), the
embedded gateway and the simulated upstream on 127.0.0.1, so every figure in the pictures is a
real gateway number (labelled "demo"). Writes:

- `main.svg`: three tabs, a prompt answered in each, the spend sidebar;
- `model-menu.svg`: the model menu on tab 2, with prices and what-if costs;
- `new-session.svg`: the new-session dialog.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PINNED_CLAUDE = ROOT / ".test-deps/claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
SIZE = (150, 42)


def _tab_text(view) -> str:  # type: ignore[no-untyped-def]
    term = view.terminal
    return "\n".join(term.text_line(i) for i in range(term.total_lines))


async def _wait(pilot, check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)


async def capture(claude: str, out: Path) -> list[Path]:
    from heimdall.commands.demo import build_demo_app
    from heimdall.config import Config
    from heimdall.demo.stack import start_demo_stack
    from heimdall.tui.screens.model_menu import ModelMenu
    from heimdall.tui.screens.new_session import NewSessionScreen
    from textual.widgets import DataTable

    config = Config()
    config.gateway.refresh_seconds = 0.5
    stack = start_demo_stack(config)
    written: list[Path] = []
    try:
        app = build_demo_app(config, stack, tabs=3, claude_bin=claude, freeze_gc=False)
        async with app.run_test(size=SIZE) as pilot:
            await _wait(pilot, lambda: len(app.tabs) == 3
                        and all("? for shortcuts" in _tab_text(v) for v in app.tabs), "three tabs")
            prompts = ["fix the failing login test", "document the retry policy", "rename Foo to Bar"]
            for view, prompt in zip(app.tabs, prompts, strict=True):
                app.activate(view)
                await pilot.pause()
                await pilot.press(*prompt, "enter")
                await _wait(pilot, lambda v=view: "FAKE-REPLY" in _tab_text(v), "a reply")
            # a second turn in the first tab, so burn rate and per-tab figures differ
            app.activate(app.tabs[0])
            await pilot.pause()
            await pilot.press(*"and the signup test", "enter")
            await _wait(pilot, lambda: _tab_text(app.tabs[0]).count("FAKE-REPLY") >= 2, "2nd reply")
            await _wait(pilot, lambda: all(app.spend.book.spent(s.id) > 0 for s in app.open_sessions()),
                        "spend in the sidebar")
            app.spend.refresh_now()
            await pilot.pause(1.0)
            written.append(Path(app.save_screenshot("main.svg", str(out))))

            app.activate(app.tabs[1])
            await pilot.pause()
            app.open_model_menu(app.tabs[1])
            await _wait(pilot, lambda: isinstance(app.screen, ModelMenu)
                        and bool(app.screen.query(DataTable))
                        and app.screen.query_one(DataTable).row_count > 0, "the model menu")
            await pilot.pause(0.3)
            written.append(Path(app.save_screenshot("model-menu.svg", str(out))))
            await pilot.press("escape")
            await pilot.pause()

            app.action_new_session()
            await _wait(pilot, lambda: isinstance(app.screen, NewSessionScreen)
                        and bool(app.screen.query("#session-name")), "the new-session dialog")
            await pilot.pause(0.5)
            await pilot.press(*"payments-refactor")
            await pilot.pause(0.3)
            written.append(Path(app.save_screenshot("new-session.svg", str(out))))
            await pilot.press("escape")
            await app.shutdown()
    finally:
        await stack.client.aclose()  # type: ignore[attr-defined]
        stack.stop()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claude", default=os.environ.get("HEIMDALL_TEST_CLAUDE", str(PINNED_CLAUDE)))
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    if not Path(args.claude).is_file():
        print(f"screenshots: Claude Code not found at {args.claude}; run scripts/install-test-deps.sh")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(capture(args.claude, out)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
