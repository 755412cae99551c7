"""The offline environment really is offline: every socket Claude Code opens goes to our fake.

Runs the real Claude Code TUI under `strace -e trace=connect` with `claude_test_env()`, through a
start, a prompt with its title call, and an exit, then checks every IPv4/IPv6 `connect()` target.
A single missed switch (docs/claude-code.md, Offline switches) shows up as a DNS query (port 53)
or a connection to Anthropic, GitHub or a CDN.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest
from heimdall.demo.simulated import SimulatedUpstream

from tests.claude_support import ClaudeScreen, claude_binary, claude_test_env

pytestmark = [pytest.mark.claude, pytest.mark.timeout(120)]

_INET = re.compile(
    r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), "
    r"(?:sin_addr=inet_addr\(\"([^\"]+)\"\)|.*?inet_pton\(AF_INET6, \"([^\"]+)\")"
)


def inet_connects(trace: str) -> list[tuple[str, int]]:
    """(address, port) of every IPv4/IPv6 connect() in an strace log."""
    return [(m.group(2) or m.group(3), int(m.group(1))) for m in _INET.finditer(trace)]


def test_trace_parser() -> None:
    trace = (
        '123 connect(17, {sa_family=AF_INET, sin_port=htons(33519), sin_addr=inet_addr("127.0.0.1")}, 16)'
        " = -1 EINPROGRESS\n"
        '123 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT\n'
        '124 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = 0\n'
        "125 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2606:4700::6810:1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
    )
    assert inet_connects(trace) == [("127.0.0.1", 33519), ("10.0.0.2", 53), ("2606:4700::6810:1", 443)]


async def test_claude_code_only_connects_to_the_fake(
    tmp_path: Path, fake_upstream: SimulatedUpstream
) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    trace_file = tmp_path / "connect.trace"
    env = claude_test_env(tmp_path, fake_upstream.url)
    work = tmp_path / "work"
    work.mkdir()
    argv = [
        strace, "-f", "-qq", "-e", "trace=connect", "-o", str(trace_file),
        claude_binary(), "--session-id", str(uuid.uuid4()), "--model", "fake-sonnet",
    ]
    screen = ClaudeScreen(argv, env, work).start()
    try:
        await screen.wait_ready(60)
        await screen.submit("please fix the login bug")
        await screen.wait_for_text("FAKE-REPLY")
        fake_upstream.wait_for_request(lambda e: "title" in e["note"])
        screen.write(b"\x03")
        await screen.wait_for_text("again to exit")
        screen.write(b"\x03")
        assert (await screen.wait_exit()).code == 0
    finally:
        await screen.close()
    connects = inet_connects(trace_file.read_text())
    assert connects, "strace saw no connect() at all: the trace is not working"
    assert set(connects) == {("127.0.0.1", fake_upstream.port)}
