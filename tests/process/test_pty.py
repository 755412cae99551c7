"""PtySession against real child processes in real PTYs."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys

import pytest
from heimdall.process.pty import ExitStatus, PtySession

from tests.children import alive, probe_argv

pytestmark = pytest.mark.timeout(30)


class Collector:
    def __init__(self) -> None:
        self.data = bytearray()
        self.exits: list[ExitStatus] = []

    def on_output(self, chunk: bytes) -> None:
        self.data += chunk

    def on_exit(self, status: ExitStatus) -> None:
        self.exits.append(status)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    async def wait_for(self, needle: str, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while needle not in self.text:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{needle!r} not seen; got {self.text[-500:]!r}")
            await asyncio.sleep(0.01)


def spawn(*flags: str, cols: int = 80, rows: int = 24, argv: list[str] | None = None):
    sink = Collector()
    session = PtySession(
        argv or probe_argv(*flags),
        cols=cols,
        rows=rows,
        on_output=sink.on_output,
        on_exit=sink.on_exit,
    )
    session.start()
    return session, sink


async def test_initial_size_and_output() -> None:
    session, sink = spawn("--print", "hello ünïcode ✓", "--exit", "0", cols=123, rows=45)
    await sink.wait_for("hello ünïcode ✓")
    assert "READY:123x45" in sink.text
    status = await session.wait()
    assert status == ExitStatus(code=0, signal=None)
    await asyncio.sleep(0)
    assert sink.exits == [status]
    await session.close()


async def test_exit_code_and_last_output_drained() -> None:
    session, sink = spawn("--lines", "300", "--print", "LAST-WORDS", "--exit", "7")
    status = await session.wait()
    assert status.code == 7 and status.describe() == "7"
    # The exit is reported only after the child's final output was read.
    assert "LAST-WORDS" in sink.text
    await session.close()


async def test_input_bytes_arrive_exactly() -> None:
    session, sink = spawn("--echo")
    await sink.wait_for("READY:")
    session.write("é".encode() + b"\x1b[A\r")
    await sink.wait_for("IN:")
    await sink.wait_for("c3a9")
    assert "IN:c3a91b5b410d" in sink.text.replace("\r\n", "")
    session.write(b"qq")
    assert (await session.wait()).code == 0
    await session.close()


async def test_resize_sends_sigwinch() -> None:
    session, sink = spawn("--echo", cols=80, rows=24)
    await sink.wait_for("READY:80x24")
    session.resize(100, 30)
    await sink.wait_for("SIZE:100x30")
    session.resize(0, 0)  # clamped, must not raise
    await sink.wait_for("SIZE:1x1")
    await session.close()
    assert not alive(session.pid)


async def test_large_paste_does_not_block_and_arrives_whole() -> None:
    # `cat` in raw mode echoes nothing itself; count what it gets via `wc -c`.
    script = (
        "import sys,tty,os;tty.setraw(0);n=0;os.write(1,b'RAW\\r\\n')\n"
        "while n<200000:\n n+=len(os.read(0,65536))\n"
        "os.write(1,b'GOT:%d\\r\\n'%n)\n"
    )
    session, sink = spawn(argv=[sys.executable, "-c", script])
    await sink.wait_for("RAW")
    payload = b"x" * 200_000
    session.write(payload)  # far beyond the PTY's input buffer: queued, never blocks the loop
    await sink.wait_for("GOT:200000", timeout=20)
    await session.wait()
    assert session.pending_input == 0
    await session.close()


async def test_close_escalates_to_sigkill_for_a_stubborn_child() -> None:
    script = (
        "import signal,os,time\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "os.write(1,b'STUBBORN\\r\\n')\n"
        "while True: time.sleep(1)\n"
    )
    session, sink = spawn(argv=[sys.executable, "-c", script])
    await sink.wait_for("STUBBORN")
    status = await session.close(hangup_timeout=0.2, terminate_timeout=0.2)
    assert status is not None and status.signal == signal.SIGKILL
    assert status.describe() == "SIGKILL"
    assert not alive(session.pid)


async def test_close_hangs_up_whole_process_group() -> None:
    # The child starts a grandchild in the same session; SIGHUP to the group ends both.
    script = (
        "import subprocess,sys,os,time\n"
        "p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'])\n"
        "os.write(1,b'GRANDCHILD:%d\\r\\n'%p.pid)\n"
        "time.sleep(60)\n"
    )
    session, sink = spawn(argv=[sys.executable, "-c", script])
    await sink.wait_for("\r\n", timeout=10)
    await sink.wait_for("GRANDCHILD:")
    grandchild = int(sink.text.split("GRANDCHILD:")[1].split()[0])
    status = await session.close()
    assert status is not None and status.signal == signal.SIGHUP
    deadline = asyncio.get_running_loop().time() + 5
    while alive(grandchild) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert not alive(grandchild)


async def test_child_killed_by_signal_reports_it() -> None:
    session, sink = spawn("--stay")
    await sink.wait_for("READY:")
    os.kill(session.pid, signal.SIGKILL)
    status = await session.wait()
    assert status.signal == signal.SIGKILL and status.code is None
    await session.close()


async def test_missing_program_raises_clearly() -> None:
    with pytest.raises(FileNotFoundError):
        PtySession(["/nonexistent/program-xyz"]).start()


async def test_controlling_terminal_is_the_pty() -> None:
    script = "import os;print('TTY', os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid())"
    session, sink = spawn(argv=[sys.executable, "-c", script])
    await session.wait()
    await sink.wait_for("TTY")
    assert "True True" in sink.text
    await session.close()


async def test_idle_child_registers_no_timers() -> None:
    session, sink = spawn("--stay")
    await sink.wait_for("READY:")
    loop = asyncio.get_running_loop()
    timers_before = len(getattr(loop, "_scheduled", []))
    await asyncio.sleep(0.2)
    assert len(getattr(loop, "_scheduled", [])) <= timers_before
    await session.close()


async def test_close_ends_a_grandchild_that_ignores_hangup_after_its_parent_died() -> None:
    # The shell dies of SIGHUP; its child ignores HUP and TERM and must still not survive.
    script = 'sh -c \'trap "" HUP TERM; echo STUB:$$; while :; do sleep 0.2; done\'; exit 0'
    session, sink = spawn(argv=["/bin/sh", "-c", script])
    await sink.wait_for("STUB:")
    grandchild = int(sink.text.split("STUB:")[1].split()[0])
    await session.close(hangup_timeout=0.3, terminate_timeout=0.3)
    deadline = asyncio.get_running_loop().time() + 5
    while alive(grandchild) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert not alive(grandchild)


async def test_paused_reading_holds_output_in_the_kernel_until_resumed() -> None:
    session, sink = spawn("--pre-sleep", "0.3", "--print", "AFTER-PAUSE", "--stay")
    await sink.wait_for("READY:")
    session.pause_reading()
    await asyncio.sleep(0.8)  # the child printed meanwhile
    assert "AFTER-PAUSE" not in sink.text
    session.resume_reading()
    await sink.wait_for("AFTER-PAUSE")
    await session.close()


async def test_drain_reads_what_waited_in_the_kernel_at_once() -> None:
    session, sink = spawn("--print", "WAITING-IN-KERNEL", "--stay")
    session.pause_reading()
    assert session.master_fd is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while "WAITING-IN-KERNEL" not in sink.text:
        assert loop.time() < deadline, sink.text
        await asyncio.sleep(0.05)  # paused: the loop delivers nothing on its own
        if select.select([session.master_fd], [], [], 0)[0]:
            assert session.drain() > 0  # read and delivered synchronously
    assert not session._reading  # draining does not resume reading
    await session.close()
