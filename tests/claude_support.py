"""Running the real, pinned Claude Code in tests: binary, offline environment, screen driver.

- `claude_binary()`: the pinned binary (`HEIMDALL_TEST_CLAUDE`, else the one
  `scripts/install-test-deps.sh` puts in `.test-deps/`). Missing -> skip locally, but FAIL in CI
  (`CI=true`) so a broken install can never turn the Claude tests silently green.
- `claude_test_env()`: a complete environment built from nothing (like `env -i`) that keeps
  Claude Code strictly on 127.0.0.1: throwaway HOME and CLAUDE_CONFIG_DIR with a pre-seeded
  `.claude.json` (onboarding done, everything under `/` trusted), every telemetry / update /
  marketplace switch off.
- `ClaudeScreen`: a child in a real PTY (`heimdall.process.pty.PtySession`) whose output is rendered by
  our emulator (`heimdall.terminal.Terminal`); tests wait for text on the rendered screen, never
  on raw bytes (Claude Code positions words with cursor moves).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from heimdall.claude.launch import CLAUDE_OFFLINE_ENV
from heimdall.claude.settings import claude_dot_json
from heimdall.process.pty import ExitStatus, PtySession

REPO_ROOT = Path(__file__).resolve().parent.parent
PINNED_CLAUDE = (
    REPO_ROOT / ".test-deps/claude/node_modules/@anthropic-ai/claude-code-linux-x64/claude"
)
# Footer markers of a ready prompt (2.1.197 and 2.1.332; docs/claude-code.md, Prompt footer).
READY_MARKERS = ("? for shortcuts", "auto mode on")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# Raw keys for driving Heimdall itself in a PTY.
PREFIX_KEY = b"\x1d"  # Ctrl+], the leader key
NEXT_TAB_KEY = b"\x1b[6;5~"  # Ctrl+PageDown


def claude_binary() -> str:
    """Path of the pinned Claude Code binary; skips (locally) or fails (CI) when missing."""
    configured = os.environ.get("HEIMDALL_TEST_CLAUDE")
    path = Path(configured) if configured else PINNED_CLAUDE
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    message = (
        f"Claude Code binary not found at {path}: run scripts/install-test-deps.sh "
        "(or set HEIMDALL_TEST_CLAUDE)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def claude_test_env(
    tmp_path: Path,
    base_url: str,
    auth_token: str | None = "dummy",
    extra: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """The full offline environment for one Claude Code test (docs/claude-code.md, Offline switches).

    Creates `tmp_path/home`, `tmp_path/claude-config` (with `.claude.json`) and
    `tmp_path/claude-tmp`. `extra` is applied last (None removes a variable); an
    `ANTHROPIC_API_KEY` there gets its approval entry written too.
    """
    home = tmp_path / "home"
    config_dir = tmp_path / "claude-config"
    tmp_dir = tmp_path / "claude-tmp"
    for folder in (home, config_dir, tmp_dir):
        folder.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {
        "PATH": SYSTEM_PATH,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "CLAUDE_CODE_TMPDIR": str(tmp_dir),
        "TMPDIR": str(tmp_dir),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": base_url,
        **CLAUDE_OFFLINE_ENV,
    }
    if auth_token is not None:
        env["ANTHROPIC_AUTH_TOKEN"] = auth_token
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    dot_json = config_dir / ".claude.json"
    if not dot_json.exists():
        dot_json.write_text(json.dumps(claude_dot_json(api_key=env.get("ANTHROPIC_API_KEY")), indent=2))
    return env


def config_dir_of(env: Mapping[str, str]) -> Path:
    return Path(env["CLAUDE_CONFIG_DIR"])


# -- rendered screen ------------------------------------------------------------------------

def _make_terminal(
    cols: int, rows: int, on_reply: Callable[[bytes], None], on_event: Callable[[Any], None]
) -> Any:
    from heimdall.terminal import Terminal

    return Terminal(cols=cols, rows=rows, scrollback_lines=5000, on_reply=on_reply, on_event=on_event)


class ClaudeScreen:
    """A program in a real PTY, rendered by Heimdall's emulator, driven like a user would.

    Must be used from a running event loop (async tests). Keystrokes go in as raw bytes; the
    emulator answers the terminal queries (DA1, XTVERSION, CPR) back into the PTY.
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        *,
        cols: int = 120,
        rows: int = 40,
    ) -> None:
        self.titles: list[str] = []
        self.bells = 0
        self.raw = bytearray()
        self._changed = asyncio.Event()
        self.term = _make_terminal(cols, rows, self._reply, self._event)
        self.session = PtySession(
            argv, env=env, cwd=cwd, cols=cols, rows=rows, on_output=self._output, on_exit=self._exited
        )
        self.started_at: float | None = None
        self.exit_status: ExitStatus | None = None

    # -- plumbing ---------------------------------------------------------------------------

    def _reply(self, data: bytes) -> None:
        if self.session.running:
            self.session.write(data)

    def _event(self, event: Any) -> None:
        title = getattr(event, "title", None)
        if title is not None:
            self.titles.append(title)
        elif type(event).__name__ == "Bell":
            self.bells += 1
        self._changed.set()

    def _output(self, data: bytes) -> None:
        self.raw += data
        self.term.feed(data)
        self._changed.set()

    def _exited(self, status: ExitStatus) -> None:
        self.exit_status = status
        self._changed.set()

    def start(self) -> ClaudeScreen:
        self.started_at = time.monotonic()
        self.session.start()
        return self

    # -- reading ----------------------------------------------------------------------------

    def screen_lines(self) -> list[str]:
        return [
            "".join(segment.text for segment in self.term.row_segments(y)).rstrip()
            for y in range(self.term.rows)
        ]

    def screen_text(self) -> str:
        return "\n".join(self.screen_lines())

    def history_text(self) -> str:
        """Scrollback plus screen: Claude Code renders inline, so old turns scroll up."""
        return "\n".join(self.term.text_line(i).rstrip() for i in range(self.term.total_lines))

    @property
    def title(self) -> str:
        return self.term.title

    async def wait_until(
        self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
    ) -> Any:
        """Poll `condition` whenever the screen changes (and every 0.1 s) until truthy."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; screen:\n{self.screen_text()}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    async def wait_for_text(
        self, pattern: str | re.Pattern[str], timeout: float = 20.0, *, history: bool = False
    ) -> re.Match[str] | str:
        """Wait for a substring (or regex) on the rendered screen (or in the whole history)."""

        def found() -> re.Match[str] | str | None:
            text = self.history_text() if history else self.screen_text()
            if isinstance(pattern, re.Pattern):
                return pattern.search(text)
            return pattern if pattern in text else None

        return await self.wait_until(found, timeout, what=repr(pattern))

    async def wait_ready(self, timeout: float = 30.0) -> float:
        """Wait for Claude Code's prompt footer; returns seconds since start."""

        def ready() -> bool:
            if self.exit_status is not None:
                raise AssertionError(
                    f"Claude Code exited ({self.exit_status.describe()}) before its prompt; "
                    f"screen:\n{self.screen_text()}"
                )
            return any(marker in self.screen_text() for marker in READY_MARKERS)

        await self.wait_until(ready, timeout, what="the Claude Code prompt footer")
        assert self.started_at is not None
        return time.monotonic() - self.started_at

    # -- typing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.session.write(data)

    async def submit(self, text: str, pause: float = 0.3) -> None:
        """Type `text`, pause, then press Enter as a separate write (docs/claude-code.md, Prompt footer)."""
        self.session.write(text.encode())
        await asyncio.sleep(pause)
        self.session.write(b"\r")

    async def wait_exit(self, timeout: float = 20.0) -> ExitStatus:
        await self.wait_until(lambda: self.exit_status is not None, timeout, what="the child to exit")
        assert self.exit_status is not None
        return self.exit_status

    async def close(self) -> None:
        if self.session.running:
            await self.session.close()


# -- processes ------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """All live descendants of `pid`, found through /proc (children re-parented elsewhere are
    not included, so collect them while the parent runs)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
