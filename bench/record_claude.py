"""Record what the real Claude Code writes to its terminal while it streams answers.

The pinned Claude Code (the one `scripts/install-test-deps.sh` installs, or `HEIMDALL_TEST_CLAUDE`)
runs in a 120x40 PTY against the simulated Anthropic upstream on 127.0.0.1 (offline environment
from `tests/claude_support.py`). It gets a few prompts whose answers are a long Markdown reply
streamed one word per SSE event with a pause between events, like a model typing; every byte it
writes is kept with its arrival time. `bench/terminal.py` replays the recording (its bytes for
throughput; its bytes and pacing for the CPU of a streaming tab).

Run alone: `.venv/bin/python bench/record_claude.py --out stream.bin` writes the bytes and a
`stream.bin.timing` file (`<seconds since the previous chunk> <bytes>` per line, the format of
util-linux `script --timing`, so `scriptreplay` can play it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLS, ROWS = 120, 40

# What a coding answer looks like: headings, bullets, inline code, a fenced block, bold text.
ANSWER = """Here is what I found and what I changed.

## The failing test

The login test fails because `session.refresh()` is called **before** the token is stored, so the
second request still carries the expired token. The fix is to await the store first:

```python
async def refresh(self) -> None:
    token = await self.client.fetch_token(self.user)
    await self.store.save(token)
    self.headers["authorization"] = f"Bearer {token.value}"
```

## Other changes

- `auth/session.py`: the refresh now happens under a lock, so two tabs cannot race.
- `tests/test_login.py`: a regression test for the expired-token case.
- `README.md`: documented the `AUTH_REFRESH_MARGIN` setting.

Run `pytest tests/test_login.py -q` to check: all 14 tests pass on my side. **Next**, I can look at
the flaky websocket test if you want; it times out about once in twenty runs on CI.
"""


@dataclass
class Recording:
    """Claude Code's output: the chunks as they arrived and when (seconds since the start)."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    claude_version: str = ""

    @property
    def data(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    @property
    def duration(self) -> float:
        return self.chunks[-1][0] - self.chunks[0][0] if self.chunks else 0.0

    def save(self, path: Path) -> None:
        path.write_bytes(self.data)
        lines, previous = [], self.chunks[0][0] if self.chunks else 0.0
        for at, chunk in self.chunks:
            lines.append(f"{at - previous:.6f} {len(chunk)}")
            previous = at
        path.with_name(path.name + ".timing").write_text("\n".join(lines) + "\n")


async def _record(turns: int, event_gap: float, workdir: Path) -> Recording:
    from heimdall.claude.install import CLAUDE_CODE_VERSION
    from heimdall.claude.launch import claude_launch
    from heimdall.demo.simulated import SimulatedUpstream

    from tests.claude_support import ClaudeScreen, claude_binary, claude_test_env

    class RecordingScreen(ClaudeScreen):
        """Keeps every chunk Claude Code writes, with its arrival time."""

        def _output(self, data: bytes) -> None:
            recording.chunks.append((time.monotonic(), bytes(data)))
            super()._output(data)

    upstream = SimulatedUpstream(reply_suffix=ANSWER)
    upstream.slow_event_gap_s = event_gap
    url = upstream.start()
    recording = Recording(claude_version=CLAUDE_CODE_VERSION)
    work = workdir / "project"
    work.mkdir()
    env = claude_test_env(workdir, url)
    launch = claude_launch(
        claude_binary(), str(uuid.uuid4()), model="claude-sonnet-4-5", resume=False, cwd=work,
        gateway_env={}, base_env=env,
    )
    screen = RecordingScreen(launch.argv, launch.env, launch.cwd, cols=COLS, rows=ROWS)
    screen.start()
    try:
        await screen.wait_ready(60)
        for turn in range(1, turns + 1):
            await screen.submit(f"FAKE_SLOW fix the login test, part {turn}")
            await screen.wait_until(
                lambda turn=turn: screen.history_text().count("flaky websocket") >= turn,
                120,
                f"answer {turn}",
            )
            await screen.wait_until(lambda: screen.title.startswith("✳"), 30, "the idle title")
            await asyncio.sleep(1.0)
    finally:
        await screen.close()
        upstream.stop()
    return recording


def record(turns: int = 3, event_gap: float = 0.03) -> Recording:
    """A fresh recording (about 20 s for 3 turns at 30 ms per word)."""
    with tempfile.TemporaryDirectory(prefix="heimdall-record-") as tmp:
        return asyncio.run(_record(turns, event_gap, Path(tmp)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the bytes")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--event-gap", type=float, default=0.03, help="seconds between words")
    args = parser.parse_args()
    recording = record(args.turns, args.event_gap)
    recording.save(args.out)
    print(f"{len(recording.data)} bytes in {len(recording.chunks)} chunks over "
          f"{recording.duration:.1f} s (Claude Code {recording.claude_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
