"""Helpers for Pilot tests that run real children in Heimdall tabs."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path

from heimdall.config import Config
from heimdall.process.launch import AgentLaunch, child_environment
from heimdall.tui.app import HeimdallApp, TabRequest
from heimdall.tui.widgets.terminal_view import TerminalView

from tests.children import probe_argv


def probe_tab(*flags: str, name: str | None = None) -> TabRequest:
    """A tab running the probe child with `flags`."""
    return TabRequest(name=name, extra={"argv": probe_argv(*flags)})


def argv_tab(argv: list[str]) -> TabRequest:
    return TabRequest(extra={"argv": list(argv)})


def make_app(
    *tabs: TabRequest, config: Config | None = None, default: TabRequest | None = None
) -> HeimdallApp:
    """A HeimdallApp whose tabs run exactly the given argv (`default` for new tabs)."""
    fallback = default or probe_tab("--echo")

    def factory(request: TabRequest) -> AgentLaunch:
        argv = request.extra.get("argv") or fallback.extra["argv"]
        if request.command:
            argv = ["/bin/sh", "-c", request.command]
        env = child_environment(dict(os.environ))
        return AgentLaunch(argv=list(argv), env=env, cwd=Path.cwd())  # type: ignore[arg-type]

    cfg = config or Config()
    cfg.ui.sidebar = False
    return HeimdallApp(cfg, launch_factory=factory, initial_tabs=list(tabs), freeze_gc=False)


async def wait_until(
    pilot, predicate: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Poll `predicate` (letting the app run) until true; fail with `what` after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def screen_text(view: TerminalView) -> str:
    return "\n".join(view.visible_text())


class InputLog:
    """Collects what the probe child reports receiving (`IN:<hex>` lines) from its raw output."""

    PATTERN = re.compile(rb"IN:([0-9a-f]+)")

    def __init__(self, view: TerminalView) -> None:
        self.raw = bytearray()
        view.on_output_hook = self.raw.extend

    @property
    def received(self) -> bytes:
        return b"".join(bytes.fromhex(m.decode()) for m in self.PATTERN.findall(bytes(self.raw)))

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")


def descendants(pid: int) -> set[int]:
    """All descendants of `pid`, from /proc (no psutil)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(") ", 1)[-1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
