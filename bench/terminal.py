"""Terminal benchmarks: the real Heimdall app, in a PTY of 120x40 whose output is read and discarded.

Run: `.venv/bin/python bench/terminal.py` (about 5 minutes; `--quick` for a smoke run;
`--only` for some sections).
Prints figures only; nothing here asserts.

1. Throughput (MB/s) of child output through Heimdall vs tmux attached, on the same streams in the
   same run (10 MB each): plain text, SGR-heavy full-screen redraws, an Ink/Claude-Code-like stream
   (status-line rewrites with CSI G / CSI K, spinner titles, 256-colour greys, ?2026 frames), and
   a recording of the real Claude Code streaming three answers (bench/record_claude.py, made at
   the start of the run; skipped when the pinned binary is not installed), repeated to the stream size.
   A stream is `cat`ed (tty in raw mode) once the child gets a go key; the run ends when a
   sentinel printed after the stream shows up in the outer terminal's output (so every byte was
   parsed and the final frame drawn).
2. Keystroke-to-screen latency p50/p99: a key typed into the outer terminal until its echo
   (through the child's tty) is drawn by Heimdall; with 1 and 8 busy tabs (background tabs
   streaming a Claude-like stream at ~10 KB/s, more than Claude Code's measured peak).
3. CPU (% of one core, Heimdall's whole process, every thread, from schedstat's nanoseconds rather
   than /proc/<pid>/stat's 10 ms ticks) of one tab streaming a Claude-like answer at ~10 KB/s, in
   view and hidden, of one tab replaying the Claude Code recording at its recorded pace, in view
   and hidden, and of 8 idle tabs. Each is also given as a marginal cost over the app's own
   idle cost measured in the same run: the streaming child stops and resumes (a gate file), so
   idle and streaming windows alternate in one app; the 8-tab app runs alongside a tab-less one.
   The tab-less app's threads (the event loop; Textual's input and writer threads) are listed
   with their wake-ups per second.
4. Memory per tab with 10,000 lines of scrollback (RSS of Heimdall, children excluded).

Why the real app in a PTY, not `App.run_test`: the headless driver skips Textual's output
encoding and writing, which is where a good share of the cost lies (docs/terminal.md,
Benchmark streams).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pty
import random
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLS, ROWS = 120, 40
SENTINEL = "BENCH-SENTINEL-DONE"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- streams ---------------------------------------------------------------------------------------


def plain_stream(size: int) -> bytes:
    rng = random.Random(1)
    words = ["alpha", "beta", "gamma", "delta", "compile", "src/app/core.py", "OK", "warning:"]
    out: list[str] = []
    total = 0
    number = 0
    while total < size:
        number += 1
        line = f"{number:07d} " + " ".join(rng.choice(words) for _ in range(14)) + "\r\n"
        out.append(line)
        total += len(line)
    return "".join(out).encode()


def sgr_stream(size: int) -> bytes:
    """Full-screen redraws, every word in its own truecolor + attribute SGR (worst case)."""
    rng = random.Random(2)
    out: list[str] = []
    total = 0
    while total < size:
        frame = ["\x1b[H"]
        for row in range(1, ROWS + 1):
            frame.append(f"\x1b[{row};1H")
            col = 0
            while col < COLS - 8:
                r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
                attr = rng.choice(["1", "3", "4", "7", "22", "2"])
                word = "".join(rng.choice("abcdefghij") for _ in range(6))
                frame.append(f"\x1b[{attr};38;2;{r};{g};{b};48;5;{rng.randrange(256)}m{word} ")
                col += 7
            frame.append("\x1b[0m\x1b[K")
        chunk = "".join(frame)
        out.append(chunk)
        total += len(chunk)
    return "".join(out).encode()


def ink_stream(size: int) -> bytes:
    """What Claude Code's inline renderer writes while streaming an answer."""
    rng = random.Random(3)
    spinner = "⠂⠐⠒⠓⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    words = ["the", "widget", "renders", "each", "row", "**once**", "`code`", "and", "caches", "it"]
    out: list[str] = []
    total = 0
    frame = 0
    paragraph: list[str] = []
    while total < size:
        frame += 1
        paragraph.append(rng.choice(words))
        grey = 232 + frame % 20
        parts = [
            "\x1b[?2026h",
            f"\x1b]0;{spinner[frame % len(spinner)]} Fixing the tests\x07",
            "\x1b[2K\x1b[1G",  # redraw the live block
            f"\x1b[38;5;{grey}m● \x1b[39m" + " ".join(paragraph[-16:]),
            "\r\n\x1b[2K\x1b[38;5;174m✻ Thinking… \x1b[38;5;246m(esc to interrupt)\x1b[39m",
            "\r\n\x1b[2K\x1b[38;5;244m" + "─" * 100 + "\x1b[39m",
            "\r\n\x1b[2K❯ \x1b[7m \x1b[27m",
            "\r\n\x1b[2K\x1b[38;5;246m  ? for shortcuts\x1b[39m\x1b[52G\x1b[38;5;246m● high\x1b[39m",
            "\x1b[4A\x1b[1G",
            "\x1b[?2026l",
        ]
        if len(paragraph) >= 16:
            parts.insert(3, "\r\n")  # the finished line scrolls into history
            paragraph.clear()
        chunk = "".join(parts)
        out.append(chunk)
        total += len(chunk.encode())
    return "".join(out).encode()


def claude_recording(tmp: Path) -> Path | None:
    """Record the real Claude Code streaming answers (bench/record_claude.py) into `tmp`; the
    path of the bytes (timing beside them), or None (with a note) when it cannot run here."""
    from record_claude import record

    try:
        recording = record()
    except BaseException as exc:  # pytest's skip when the binary is missing is a BaseException
        if isinstance(exc, KeyboardInterrupt):
            raise
        print(f"# no Claude Code recording: {exc}", flush=True)
        return None
    path = tmp / "claude-recording.bin"
    recording.save(path)
    data = recording.data
    print(f"# recorded Claude Code {recording.claude_version} streaming 3 answers: "
          f"{len(data) / 1000:.0f} KB in {recording.duration:.0f} s "
          f"({len(data) / recording.duration / 1000:.1f} KB/s)", flush=True)
    return path


def replay_command(recording: Path, gate: Path) -> str:
    """Replay a recording at its recorded pace, forever, while `gate` exists; the tty in raw
    mode as Claude Code sets it (its bytes pass through as recorded)."""
    timing = recording.with_name(recording.name + ".timing")
    return (
        f"python3 -c \"import os,sys,time,tty\ntty.setraw(0)\n"
        f"d=open({str(recording)!r},'rb').read()\n"
        f"t=[l.split() for l in open({str(timing)!r})]\n"
        "while True:\n at=0\n for delay,size in t:\n"
        f"  while not os.path.exists({str(gate)!r}): time.sleep(0.05)\n"
        "  time.sleep(float(delay)); os.write(1, d[at:at+int(size)]); at+=int(size)\""
    )


# -- processes in PTYs -----------------------------------------------------------------------------


class Outer:
    """A program in a PTY of COLS x ROWS whose output we read (and mostly discard)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.tail = b""
        self.bytes_out = 0

    def read_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline - time.monotonic())

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return b""
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            raise RuntimeError("outer program exited") from None
        self.bytes_out += len(data)
        self.tail = (self.tail + data)[-4096:]
        return data

    def wait_for(self, needle: bytes, timeout: float, *, fresh: bool = True) -> float:
        """Read until `needle` appears in new output; returns the monotonic time it was seen."""
        if fresh:
            self.tail = b""
        deadline = time.monotonic() + timeout
        while needle not in self.tail:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not seen; tail {self.tail[-300:]!r}")
            self._read(deadline - time.monotonic())
        return time.monotonic()

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        with_suppress(os.kill, self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                self._read(0.05)
            except RuntimeError:
                break
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
        else:
            with_suppress(os.kill, self.pid, signal.SIGKILL)
        with_suppress(os.waitpid, self.pid, 0)
        with_suppress(os.close, self.fd)


def with_suppress(func, *args) -> None:
    with contextlib.suppress(OSError):
        func(*args)


def bench_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "HEIMDALL_", "TEXTUAL"))
    }
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        HEIMDALL_DATA_DIR=str(tmp / "data"),
        HEIMDALL_CONFIG=str(tmp / "config.toml"),
        LANG="C.UTF-8",
    )
    return env


def heimdall(commands: list[str], tmp: Path) -> Outer:
    argv = [sys.executable, str(Path(__file__).resolve()), "--run-app", json.dumps(commands)]
    return Outer(argv, bench_env(tmp))


def run_app(commands: list[str]) -> None:
    """Inside the outer PTY: the real HeimdallApp with one tab per command, sidebar hidden."""
    sys.path.insert(0, str(ROOT))
    from heimdall.config import Config
    from heimdall.process.launch import command_launch
    from heimdall.tui.app import HeimdallApp, TabRequest

    config = Config()
    config.ui.sidebar = False

    def factory(request: TabRequest):
        return command_launch(request.command or "sh", Path.cwd())

    app = HeimdallApp(
        config,
        launch_factory=factory,
        initial_tabs=[TabRequest(command=c) for c in commands],
        handle_signals=True,
    )
    profile_to = os.environ.get("BENCH_PROFILE")
    if profile_to:  # where the app's time goes: `python -m pstats <file>`
        import cProfile

        with cProfile.Profile() as profile:
            app.run()
        profile.dump_stats(f"{profile_to}.{os.getpid()}")
    else:
        app.run()
    app.kill_children_now()


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


# -- benchmarks ------------------------------------------------------------------------------------


def go_command(path: Path) -> str:
    # Waits for a key so timing starts when we say so; then the stream, then the sentinel.
    # The streams are terminal output already (CRLF line ends, as a program in raw mode writes
    # them), so the tty passes them through untouched (no ONLCR, no echo of query answers).
    # The sentinel goes on a fresh, plain line so no renderer splits it.
    finish = f'printf "\\033[0m\\r\\n\\033[K{SENTINEL}\\r\\n"'
    return (f"sh -c 'read go; stty raw -echo; cat {shlex.quote(str(path))}; {finish}; "
            "exec sleep 600'")


def throughput_heimdall(path: Path, tmp: Path) -> tuple[float, float]:
    outer = heimdall([go_command(path)], tmp)
    try:
        outer.wait_for(b"Ctrl+]", 20)  # the status bar: the app is up
        outer.read_for(1.0)
        cpu0 = proc_cpu_seconds(outer.pid)
        start = time.monotonic()
        outer.write(b"g\r")
        end = outer.wait_for(SENTINEL.encode(), 300)
        cpu = proc_cpu_seconds(outer.pid) - cpu0
    finally:
        outer.close()
    size = path.stat().st_size
    return size / (end - start) / 1e6, cpu


def throughput_tmux(path: Path, tmp: Path) -> tuple[float, float]:
    """MB/s through tmux attached, and the CPU seconds of tmux's server plus client."""
    socket = f"heimdall-bench-{os.getpid()}"
    argv = [
        "tmux", "-L", socket, "-f", "/dev/null", "new-session", "-x", str(COLS), "-y", str(ROWS),
        go_command(path),
    ]
    outer = Outer(argv, bench_env(tmp))
    try:
        outer.read_for(1.0)
        server = int(
            subprocess.run(
                ["tmux", "-L", socket, "display-message", "-p", "#{pid}"],
                capture_output=True, text=True, check=True,
            ).stdout
        )
        cpu0 = proc_cpu_seconds(server) + proc_cpu_seconds(outer.pid)
        start = time.monotonic()
        outer.write(b"g\r")
        end = outer.wait_for(SENTINEL.encode(), 300)
        cpu = proc_cpu_seconds(server) + proc_cpu_seconds(outer.pid) - cpu0
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
        outer.close()
    return path.stat().st_size / (end - start) / 1e6, cpu


def streamer_command(drip: Path, gate: Path | None = None) -> str:
    """A Claude-like answer at ~10 KB/s (Claude Code peaks at ~11 KB/s), forever.

    With `gate`, it streams only while that file exists (and writes nothing otherwise), so one
    app can be measured idle and streaming in alternating windows of the same run.
    """
    check = f"os.path.exists({str(gate)!r})" if gate is not None else "True"
    return (
        f"python3 -c \"import os,sys,time\nd=open({str(drip)!r},'rb').read()\n"
        "while True:\n for i in range(0,len(d),512):\n"
        f"  while not {check}: time.sleep(0.05)\n"
        "  sys.stdout.buffer.write(d[i:i+512]); sys.stdout.flush(); time.sleep(0.05)\""
    )


@dataclass
class ThreadSample:
    cpu_ns: int
    wakeups: int  # voluntary context switches: the thread slept and was woken


def thread_samples(pid: int) -> dict[int, ThreadSample]:
    """CPU time (ns, from schedstat: exact, unlike /proc/<pid>/stat's 10 ms ticks) per thread."""
    samples: dict[int, ThreadSample] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                cpu_ns = int(handle.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as handle:
                status = handle.read()
        except OSError:
            continue  # the thread just ended
        wakeups = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
        samples[int(tid)] = ThreadSample(cpu_ns, wakeups)
    return samples


@dataclass
class CpuWindow:
    """% of one core and wakeups/s of one process over a window, whole and per thread."""

    seconds: float
    percent: float
    threads: dict[int, tuple[float, float]]  # tid -> (% of a core, wakeups/s)


def cpu_window(pid: int, before: dict[int, ThreadSample], seconds: float) -> CpuWindow:
    after = thread_samples(pid)
    threads = {}
    for tid, end in after.items():
        start = before.get(tid, ThreadSample(0, 0))
        threads[tid] = (
            (end.cpu_ns - start.cpu_ns) / 1e9 / seconds * 100,
            (end.wakeups - start.wakeups) / seconds,
        )
    return CpuWindow(seconds, sum(cpu for cpu, _ in threads.values()), threads)


def measure(outers: list[Outer], seconds: float) -> list[CpuWindow]:
    """One window of `seconds` over several apps at once (same conditions for all of them)."""
    before = [thread_samples(outer.pid) for outer in outers]
    start = time.monotonic()
    deadline = start + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([outer.fd for outer in outers], [], [], left)
        for outer in outers:
            if outer.fd in ready:
                outer._read(0)
    elapsed = time.monotonic() - start
    return [cpu_window(outer.pid, sample, elapsed) for outer, sample in zip(outers, before, strict=True)]


def streaming_cpu(
    tmp: Path, drip: Path | None, *, visible: bool, seconds: float, pairs: int,
    recording: Path | None = None,
) -> tuple[float, float]:
    """% of a core of the whole process while one tab streams, and its cost over the same app idle.

    The tab streams the Claude-like drip at ~10 KB/s, or replays `recording` at its own pace.
    Windows alternate (idle, streaming, idle, streaming...) in one app, so the idle anchor is
    measured in the same run and under the same load; medians of each.
    """
    gate = tmp / f"gate-{'visible' if visible else 'hidden'}"
    gate.unlink(missing_ok=True)
    if recording is not None:
        streamer = replay_command(recording, gate)
    else:
        assert drip is not None
        streamer = streamer_command(drip, gate)
    commands = ["sleep 600", streamer] if visible else [streamer, "sleep 600"]
    outer = heimdall(commands, tmp)
    idle: list[float] = []
    busy: list[float] = []
    try:
        outer.wait_for(b"Ctrl+]", 20)
        outer.read_for(3.0)  # startup settles (and gc.freeze runs)
        for _ in range(pairs):
            gate.unlink(missing_ok=True)
            outer.read_for(1.0)  # the last output drains, badges settle
            idle.append(measure([outer], seconds)[0].percent)
            gate.touch()
            outer.read_for(1.0)
            busy.append(measure([outer], seconds)[0].percent)
    finally:
        gate.unlink(missing_ok=True)
        outer.close()
    whole = statistics.median(busy)
    return whole, statistics.median(b - i for b, i in zip(busy, idle, strict=True))


def idle_cpu(
    tmp: Path, tabs: int, seconds: float, windows: int
) -> tuple[float, float, str]:
    """% of a core of the app with `tabs` idle tabs and of the app with none, measured together.

    Returns (with tabs, without, what the tab-less app's threads did in its last window).
    """
    with_tabs = heimdall(["sleep 600"] * tabs, tmp)
    bare = heimdall([], tmp)
    loaded: list[float] = []
    empty: list[float] = []
    try:
        for outer in (with_tabs, bare):
            outer.wait_for(b"Ctrl+]", 20)
        measure([with_tabs, bare], 3.0)  # let startup settle (and gc.freeze run)
        for _ in range(windows):
            full, none = measure([with_tabs, bare], seconds)
            loaded.append(full.percent)
            empty.append(none.percent)
        threads = describe_threads(none, bare.pid)
    finally:
        with_tabs.close()
        bare.close()
    return statistics.median(loaded), statistics.median(empty), threads


def describe_threads(window: CpuWindow, main_pid: int) -> str:
    parts = []
    for tid, (cpu, wakeups) in sorted(window.threads.items(), key=lambda item: item[0] != main_pid):
        if tid != main_pid and cpu < 0.005 and wakeups < 0.5:
            continue
        name = "main thread" if tid == main_pid else f"thread {tid}"
        parts.append(f"{name} {cpu:.2f} % ({wakeups:.1f} wakeups/s)")
    return "; ".join(parts)


def latency(tmp: Path, busy_tabs: int, samples: int, drip: Path) -> tuple[float, float]:
    # Background tabs stream a Claude-like answer at ~10 KB/s; the focused tab is a cooked tty
    # running `cat`, whose line discipline echoes what we type.
    commands = [streamer_command(drip)] * busy_tabs + ["cat"]  # the last tab opened is in view
    outer = heimdall(commands, tmp)
    marks = "§¶µ¤©®±÷"
    delays: list[float] = []
    try:
        outer.wait_for(b"Ctrl+]", 20)
        outer.read_for(1.5)
        for number in range(samples):
            mark = marks[number % len(marks)]
            outer.read_for(0.03)
            start = time.monotonic()
            outer.write(mark.encode())
            seen = outer.wait_for(mark.encode(), 5)
            delays.append((seen - start) * 1000)
            outer.write(b"\x7f")  # erase it again (cooked mode)
            outer.read_for(0.03)
    finally:
        outer.close()
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return statistics.median(delays), p99


def memory_per_tab(tmp: Path, lines_file: Path, tabs: int) -> tuple[float, float]:
    fill = f"sh -c 'cat {shlex.quote(str(lines_file))}; echo {SENTINEL}; exec sleep 600'"
    base = heimdall(["sleep 600"], tmp)
    try:
        base.wait_for(b"Ctrl+]", 20)
        base.read_for(2.0)
        rss_base = proc_rss(base.pid)
    finally:
        base.close()
    full = heimdall(["sleep 600"] + [fill] * tabs, tmp)
    try:
        full.wait_for(b"Ctrl+]", 20)
        full.read_for(4.0 + tabs * 0.5)
        rss_full = proc_rss(full.pid)
    finally:
        full.close()
    return (rss_full - rss_base) / tabs / 1e6, rss_base / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-app", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smaller streams, fewer samples")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run: plain, sgr_fullscreen, ink_claude_like, "
        "claude_recorded, latency, cpu, memory (default: all)",
    )
    parser.add_argument(
        "--mb", type=float, default=10.0,
        help="MB per throughput stream (default 10: long enough that the last frame's fixed "
        "latency, tens of ms for both programs, does not dominate)",
    )
    args = parser.parse_args()
    if args.run_app:
        run_app(json.loads(args.run_app))
        return 0
    if shutil.which("tmux") is None:
        print("tmux not found: throughput ratios need it", file=sys.stderr)
        return 2
    wanted = {part.strip() for part in args.only.split(",") if part.strip()}

    def selected(section: str) -> bool:
        return not wanted or section in wanted

    size = 1_000_000 if args.quick else int(args.mb * 1_000_000)
    samples = 30 if args.quick else 120
    repeats = 1 if args.quick else 3
    tmp = Path(tempfile.mkdtemp(prefix="heimdall-bench-"))
    print(f"# Heimdall terminal benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    tmux_version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"# {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
          f"{platform.release()}; {tmux_version}")
    print(f"# outer terminal {COLS}x{ROWS}, TERM=xterm-256color COLORTERM=truecolor")
    streams = {
        "plain": plain_stream(size),
        "sgr_fullscreen": sgr_stream(size),
        "ink_claude_like": ink_stream(size),
    }
    recording = claude_recording(tmp) if selected("claude_recorded") or selected("cpu") else None
    if recording is not None and selected("claude_recorded"):
        data = recording.read_bytes()
        streams["claude_recorded"] = data * max(1, round(size / len(data)))  # whole recordings
    print("\n## Throughput (MB/s of wall time; higher is better) and CPU seconds spent")
    print("# cpu ratio = tmux CPU / Heimdall CPU for the same bytes (>1: Heimdall cheaper);")
    print("# it is steadier than the MB/s ratio on a machine shared with other work.")
    print(f"# median of {repeats} alternating runs each")
    print(f"{'stream':<17}{'MB':>5}{'heimdall':>9}{'tmux':>7}{'ratio':>7}"
          f"{'cpu heimdall':>14}{'cpu tmux':>10}{'cpu ratio':>10}")
    for name, data in streams.items():
        if not selected(name):
            continue
        path = tmp / f"{name}.bin"
        path.write_bytes(data)
        runs = [
            (*throughput_heimdall(path, tmp), *throughput_tmux(path, tmp))
            for _ in range(repeats)
        ]  # alternating runs, medians: the machine may be shared
        ours, cpu, theirs, tmux_cpu = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"{name:<17}{len(data) / 1e6:>5.1f}{ours:>9.2f}{theirs:>7.2f}{ours / theirs:>7.2f}"
              f"{cpu:>13.2f}s{tmux_cpu:>9.2f}s{tmux_cpu / max(cpu, 0.01):>10.2f}", flush=True)
    drip = tmp / "drip.bin"
    drip.write_bytes(ink_stream(200_000))
    if selected("latency"):
        print("\n## Keystroke to screen (ms)")
    for busy in (1, 8) if selected("latency") else ():
        p50, p99 = latency(tmp, busy, samples, drip)
        print(f"{busy} busy tab(s): p50 {p50:.1f}  p99 {p99:.1f}  ({samples} keys)", flush=True)
    if selected("cpu"):
        seconds, pairs = (4.0, 2) if args.quick else (6.0, 3)
        print("\n## CPU (% of one core, Heimdall's whole process: every thread, from schedstat)")
        print(f"# marginal = the same app's cost over its own idle cost, in alternating windows of "
              f"{seconds:.0f} s ({pairs} each, medians)")
        for visible in (True, False):
            where = "in view" if visible else "hidden "
            whole, marginal = streaming_cpu(
                tmp, drip, visible=visible, seconds=seconds, pairs=pairs
            )
            print(f"one tab streaming a Claude-like answer at ~10 KB/s, {where}: {whole:.2f} % "
                  f"(marginal {marginal:.2f} %)", flush=True)
        for visible in (True, False) if recording is not None else ():
            where = "in view" if visible else "hidden "
            whole, marginal = streaming_cpu(
                tmp, None, visible=visible, seconds=seconds, pairs=pairs, recording=recording
            )
            print(f"one tab replaying real Claude Code streaming at its recorded pace, {where}: "
                  f"{whole:.2f} % (marginal {marginal:.2f} %)", flush=True)
        loaded, empty, threads = idle_cpu(tmp, 8, seconds, pairs)
        print(f"8 idle tabs: {loaded:.2f} % (marginal {loaded - empty:.2f} %); the app with no "
              f"tab, measured alongside: {empty:.2f} %", flush=True)
        print(f"# the app with no tab, by thread: {threads}")
    if not selected("memory"):
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("\n## Memory")
    lines = tmp / "lines.txt"
    lines.write_bytes(plain_stream(10_500 * 125))  # > 10,000 lines of ~125 columns
    per_tab, base = memory_per_tab(tmp, lines, 4 if args.quick else 6)
    print(f"memory: {per_tab:.1f} MB per tab with 10,000 lines of scrollback "
          f"(app with one idle tab: {base:.0f} MB RSS)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
