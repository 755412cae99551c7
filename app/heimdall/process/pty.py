"""A child process in a pseudo-terminal, driven entirely by the asyncio event loop.

Why this shape (docs/terminal.md, PTY; the idle cost in docs/terminal.md, Read path and frames):

- Reads come from `loop.add_reader` on the non-blocking master, so an idle tab costs no CPU at all:
  no timer, no thread, no polling.
- Exit is detected through a pidfd registered with the same loop, so no SIGCHLD handler is needed
  (Textual and asyncio both have opinions about those) and nothing polls `waitpid`.
- Writes go through a small queue flushed with `add_writer`: the kernel's PTY input buffer is only a
  few KiB, and a large paste would otherwise block the whole UI.
- The window size is set on the slave *before* the child starts, so the child's first frame already
  has the right geometry; later resizes use TIOCSWINSZ, which makes the kernel send SIGWINCH.
- Closing sends SIGHUP to the child's process group (what a real terminal does when its window
  closes), then SIGTERM, then SIGKILL, each after a timeout.

This module never imports Textual; callers receive plain callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READ_SIZE = 65536
"""Bytes asked for per read; the kernel hands out about 4 KiB at a time anyway."""
MAX_READS_PER_WAKEUP = 16
"""Reads delivered per reader callback during a flood (bounded, so other tabs get their turn)."""
DRAIN_MAX_BYTES = 1 << 20
"""`drain()` stops after this much, so a child that writes as fast as we read cannot hold us."""
HANGUP_TIMEOUT = 1.0
"""Seconds a child gets to exit after SIGHUP before it is sent SIGTERM."""
TERMINATE_TIMEOUT = 1.0
"""Seconds a child gets to exit after SIGTERM before it is sent SIGKILL."""


@dataclass(frozen=True)
class ExitStatus:
    """How the child ended: an exit code, or the signal that killed it."""

    code: int | None
    """Exit code when the child called exit(); None when a signal ended it."""
    signal: int | None
    """Signal number that ended the child, or None."""

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        if returncode < 0:
            return cls(code=None, signal=-returncode)
        return cls(code=returncode, signal=None)

    @property
    def success(self) -> bool:
        return self.code == 0

    def describe(self) -> str:
        """Short human text: `0`, `1`, `SIGKILL`."""
        if self.signal is not None:
            try:
                return signal.Signals(self.signal).name
            except ValueError:
                return f"signal {self.signal}"
        return str(self.code)


def set_window_size(fd: int, cols: int, rows: int) -> None:
    """TIOCSWINSZ on a PTY fd; the kernel signals SIGWINCH to the foreground process group."""
    cols = max(1, int(cols))
    rows = max(1, int(rows))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def get_window_size(fd: int) -> tuple[int, int]:
    """(cols, rows) of a PTY fd."""
    rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    return cols, rows


def _live_group_members(pgid: int) -> list[int]:
    """Pids in process group `pgid` that are not zombies (Linux /proc scan)."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b") ", 1)[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry))
    return members


def _make_controlling_terminal() -> None:
    # Runs in the child between fork and exec, after setsid(): adopt the PTY slave (already on
    # fd 0) as the controlling terminal, so SIGWINCH, SIGHUP and job control behave as in a
    # real terminal. Kept to one syscall: code here must not take locks (the parent has threads).
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtySession:
    """One child program in its own pseudo-terminal and session (process group).

    Args:
        argv: Program and arguments.
        env: Complete environment for the child.
        cwd: Working directory.
        cols, rows: Initial window size (clamped to at least 1x1).
        on_output: Called with every chunk of bytes the child writes, in order.
        on_exit: Called once with the `ExitStatus` when the child has exited and its output
            has been drained.
        loop: Event loop to register with; defaults to the running loop.

    Raises:
        OSError / FileNotFoundError from `start()` when the program cannot be started.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        cols: int = 80,
        rows: int = 24,
        on_output: Callable[[bytes], None] | None = None,
        on_exit: Callable[[ExitStatus], None] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("PtySession needs a program to run")
        self.argv = list(argv)
        self.env = dict(os.environ if env is None else env)
        self.cwd = str(cwd) if cwd is not None else None
        self.cols = max(1, int(cols))
        self.rows = max(1, int(rows))
        self.on_output = on_output
        self.on_exit = on_exit
        self.pid: int | None = None
        self.exit_status: ExitStatus | None = None
        self.started_at: float | None = None
        self.bytes_read = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._master: int | None = None
        self._pidfd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = bytearray()
        self._writer_registered = False
        self._reading = False
        self._eof = False
        self._exit_waiters: list[asyncio.Future[ExitStatus]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.pid is not None and self.exit_status is None

    @property
    def master_fd(self) -> int | None:
        return self._master

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Spawn the child. Must be called from the event loop's thread."""
        if self.pid is not None:
            raise RuntimeError("PtySession already started")
        self._loop = loop or asyncio.get_running_loop()
        master, slave = os.openpty()
        try:
            set_window_size(slave, self.cols, self.rows)
            self._proc = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_make_controlling_terminal,  # one ioctl, takes no locks
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self.pid = self._proc.pid
        self.started_at = time.monotonic()
        self._loop.add_reader(master, self._on_readable)
        self._reading = True
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None  # old kernel: exit is noticed on EIO instead
        if self._pidfd is not None:
            self._loop.add_reader(self._pidfd, self._on_pidfd)

    def resize(self, cols: int, rows: int) -> None:
        """Set the window size; the child gets SIGWINCH. Sizes below 1x1 are clamped."""
        self.cols = max(1, int(cols))
        self.rows = max(1, int(rows))
        if self._master is not None:
            with contextlib.suppress(OSError):
                set_window_size(self._master, self.cols, self.rows)

    def pause_reading(self) -> None:
        """Stop watching the child's output; the kernel buffers it (the child blocks when full)."""
        if self._reading and self._loop is not None and self._master is not None:
            self._loop.remove_reader(self._master)
        self._reading = False

    def resume_reading(self) -> None:
        if self._reading or self._eof or self._loop is None or self._master is None:
            return
        self._loop.add_reader(self._master, self._on_readable)
        self._reading = True

    def drain(self, max_bytes: int = DRAIN_MAX_BYTES) -> int:
        """Read and deliver what the child has written so far, now (up to `max_bytes`).

        For a caller that paused reading and needs to be up to date at once (a hidden tab shown).
        Returns the bytes delivered.
        """
        delivered = 0
        while delivered < max_bytes:
            data = self._read_raw()
            if not data:
                break
            delivered += len(data)
            self._deliver(data)
        return delivered

    def write(self, data: bytes) -> None:
        """Queue bytes for the child's input. Never blocks; order is preserved."""
        if not data or self._master is None:
            return
        if self._pending:
            self._pending += data
            return
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return  # child gone; input has nowhere to go
        if written < len(data):
            self._pending += data[written:]
            self._register_writer()

    @property
    def pending_input(self) -> int:
        """Bytes queued but not yet accepted by the PTY."""
        return len(self._pending)

    def send_signal(self, signum: int, *, group: bool = True) -> bool:
        """Signal the child (its whole process group by default). False if it is already gone."""
        if self.pid is None or self.exit_status is not None:
            return False
        try:
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False
        return True

    async def wait(self) -> ExitStatus:
        """Wait for the child to exit."""
        if self.exit_status is not None:
            return self.exit_status
        assert self._loop is not None, "not started"
        future: asyncio.Future[ExitStatus] = self._loop.create_future()
        self._exit_waiters.append(future)
        return await future

    async def close(
        self, hangup_timeout: float = HANGUP_TIMEOUT, terminate_timeout: float = TERMINATE_TIMEOUT
    ) -> ExitStatus | None:
        """End the child and everything in its process group: SIGHUP, then SIGTERM, then SIGKILL.

        Each step waits (up to its timeout) until the child has exited *and* its process group is
        empty, so a grandchild that ignores SIGHUP (`nohup`, `trap "" HUP`) cannot outlive us.
        """
        if self.pid is None:
            return None
        loop = asyncio.get_running_loop()
        for signum, timeout in (
            (signal.SIGHUP, hangup_timeout),
            (signal.SIGTERM, terminate_timeout),
            (signal.SIGKILL, 5.0),
        ):
            if self.exit_status is not None and self._group_gone():
                break
            self._signal_group(signum)
            deadline = loop.time() + timeout
            while loop.time() < deadline:
                if self.exit_status is None:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self.wait()), 0.02)
                elif self._group_gone():
                    break
                else:
                    await asyncio.sleep(0.02)  # only while closing: the group has no fd to watch
        if self.exit_status is None:
            self._reap(block=True)
        self._release()
        return self.exit_status

    def kill_now(self) -> None:
        """Synchronous last resort for interpreter shutdown: SIGHUP, short wait, SIGKILL, reap."""
        if self.pid is None:
            return
        if self.exit_status is not None and self._group_gone():
            self._release()
            return
        self._signal_group(signal.SIGHUP)
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            if self._reap(block=False) and self._group_gone():
                break
            time.sleep(0.01)
        if self.exit_status is None or not self._group_gone():
            self._signal_group(signal.SIGKILL)
            self._reap(block=True)
        self._release()

    def _signal_group(self, signum: int) -> None:
        """Signal the child's process group, and the child itself in case it left the group."""
        assert self.pid is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)
        if self.exit_status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signum)

    def _group_gone(self) -> bool:
        """True when no process is left in the child's process group (zombies aside)."""
        if self.pid is None:
            return True
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if self.exit_status is None:
            return False
        # Only zombies waiting for init may remain: look for a live member.
        return not _live_group_members(self.pid)

    # -- event loop callbacks -------------------------------------------------------------------

    def _on_readable(self) -> None:
        # The kernel hands out ~4 KiB per read and refills its buffer only after a read, in a
        # worker; a read that finds the buffer empty waits for that worker (the tty layer flushes
        # pending input work even for O_NONBLOCK). So each chunk is delivered before the next read:
        # parsing overlaps the refill instead of waiting for it (1.5x the flood throughput of
        # reading a batch first, bench/terminal.py). Bounded, so other tabs and keys get their turn.
        size = 0
        for _ in range(MAX_READS_PER_WAKEUP):
            data = self._read_raw()
            if not data:
                break
            self._deliver(data)
            size += len(data)
            if size >= READ_SIZE or not self._reading:  # a hidden tab may pause reading
                break

    def _read_raw(self) -> bytes:
        """One non-blocking read; b"" when nothing is there (EAGAIN) or at EOF (handled)."""
        if self._master is None:
            return b""
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # every slave fd closed: the child side is gone
                self._on_eof()
                return b""
            raise
        if not data:
            self._on_eof()
        return data

    def _deliver(self, data: bytes) -> None:
        self.bytes_read += len(data)
        if self.on_output is not None:
            self.on_output(data)

    def _read_once(self) -> bool:
        """One read from the master, delivered. False once there is no more data."""
        data = self._read_raw()
        if data:
            self._deliver(data)
        return bool(data)

    def _on_eof(self) -> None:
        self._eof = True
        self.pause_reading()
        # No pidfd: the child is probably gone; reap it, or wait for it in a thread.
        if self._pidfd is None and not self._reap(block=False) and self._loop is not None:
                self._loop.run_in_executor(None, self._reap_blocking_then_report)

    def _reap_blocking_then_report(self) -> None:
        self._reap(block=True)

    def _on_pidfd(self) -> None:
        # Drain what the child wrote before it died, so its last words are on screen before
        # the tab says "exited".
        for _ in range(256):
            if not self._read_once():
                break
        self._reap(block=False)

    def _reap(self, *, block: bool) -> bool:
        if self.exit_status is not None:
            return True
        if self._proc is None:
            return False
        try:
            code = self._proc.wait() if block else self._proc.poll()
        except ChildProcessError:
            code = -signal.SIGKILL  # reaped elsewhere; status unknown
        if code is None:
            return False
        self._set_exit(ExitStatus.from_returncode(code))
        return True

    def _set_exit(self, status: ExitStatus) -> None:
        if self.exit_status is not None:
            return
        self.exit_status = status
        if self._loop is not None and self._pidfd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # Callbacks run on the loop thread even when reaping happened in a worker thread.
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._notify_exit()
            else:
                loop.call_soon_threadsafe(self._notify_exit)
        else:
            self._notify_exit()

    def _notify_exit(self) -> None:
        status = self.exit_status
        assert status is not None
        for future in self._exit_waiters:
            if not future.done():
                future.set_result(status)
        self._exit_waiters.clear()
        if self.on_exit is not None:
            self.on_exit(status)

    def _register_writer(self) -> None:
        if self._writer_registered or self._loop is None or self._master is None:
            return
        self._loop.add_writer(self._master, self._on_writable)
        self._writer_registered = True

    def _on_writable(self) -> None:
        if self._master is None or not self._pending:
            self._unregister_writer()
            return
        try:
            written = os.write(self._master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            self._pending.clear()
            self._unregister_writer()
            return
        del self._pending[:written]
        if not self._pending:
            self._unregister_writer()

    def _unregister_writer(self) -> None:
        if self._writer_registered and self._loop is not None and self._master is not None:
            self._loop.remove_writer(self._master)
        self._writer_registered = False

    def _release(self) -> None:
        """Drop the loop registrations and close our fds (after the child is gone)."""
        loop = self._loop
        if self._master is not None:
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(Exception):
                    loop.remove_reader(self._master)
                self._unregister_writer()
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = None
        if self._pidfd is not None:
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(Exception):
                    loop.remove_reader(self._pidfd)
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
