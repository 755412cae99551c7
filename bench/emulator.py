"""Emulator throughput: Heimdall's Terminal against tmux on the same streams, in the same run.

Generates three deterministic ~5 MB streams (docs/terminal.md, Benchmark streams):
  plain       log lines
  sgr_tui     worst case: full-screen 120x40 frames in ?2026, random truecolor fg+bg on every
              run, box drawing and CJK
  ink_status  Ink-style bottom block rewrite: cursor-up, erase-line, 256 colours, new log lines

For each stream it prints the parse rate (fed in 4 KiB chunks, like PTY reads), the cost of one
snapshot (every row -> rich Segments, the widget's per-frame work when everything is dirty), the
combined rate when snapshotting at most 60 times per simulated second of 4 KiB reads... and the
time tmux 3.x takes to consume the same file in a detached 120x40 session. Ratio > 1 means faster
than tmux. Also prints the memory of 10,000 lines of coloured scrollback.

Run: .venv/bin/python bench/emulator.py [--mb 5] [--repeat 3]
No assertions: figures only. Takes well under a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heimdall.terminal import Terminal

COLS, ROWS = 120, 40
CHUNK = 4096
CSI = "\x1b["
BOX = "─│┌┐└┘├┤┬┴┼"
CJK = "漢字日本語中文한국어"


def gen_plain(target: int) -> bytes:
    rng = random.Random(1)
    words = ["alpha", "beta", "gamma", "request", "worker", "cache", "miss", "ok", "GET", "/api"]
    out: list[str] = []
    size = i = 0
    while size < target:
        line = (
            f"2026-11-27T12:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d} INFO "
            f"[worker-{i % 16}] " + " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
        )
        out.append(line + "\r\n")
        size += len(line) + 2
        i += 1
    return "".join(out).encode()


def gen_sgr_tui(target: int) -> bytes:
    rng = random.Random(2)
    frames: list[str] = []
    size = 0
    while size < target:
        parts = [f"{CSI}?2026h{CSI}H"]
        for y in range(ROWS):
            parts.append(f"{CSI}{y + 1};1H")
            col = 0
            while col < COLS:
                fg = f"{rng.randrange(256)};{rng.randrange(256)};{rng.randrange(256)}"
                bg = f"{rng.randrange(256)};{rng.randrange(256)};{rng.randrange(256)}"
                kind = rng.random()
                if kind < 0.2:
                    n = min(COLS - col, rng.randint(2, 12)) // 2
                    text = "".join(rng.choice(CJK) for _ in range(n))
                    width = 2 * n
                elif kind < 0.45:
                    width = min(COLS - col, rng.randint(3, 20))
                    text = "".join(rng.choice(BOX) for _ in range(width))
                else:
                    width = min(COLS - col, rng.randint(3, 20))
                    text = "".join(rng.choice("abcdefghij klmnop") for _ in range(width))
                if width == 0:
                    text, width = " ", 1
                parts.append(f"{CSI}38;2;{fg};48;2;{bg}m{text}")
                col += width
            parts.append(f"{CSI}0m")
        parts.append(f"{CSI}?2026l")
        frame = "".join(parts)
        frames.append(frame)
        size += len(frame.encode())
    return "".join(frames).encode()


def gen_ink_status(target: int) -> bytes:
    rng = random.Random(3)
    out: list[str] = []
    size = i = 0
    block = 6
    out.append("\r\n" * block)
    while size < target:
        parts = [f"{CSI}{block}A\r"]
        if i % 7 == 0:  # a finished line scrolls into history above the live block
            parts.append(f"{CSI}2K{CSI}38;5;{rng.randrange(256)}m● done step {i}{CSI}39m\r\n")
        for row in range(block):
            color = rng.randrange(256)
            spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"[(i + row) % 10]
            parts.append(
                f"{CSI}2K{CSI}38;5;{color}m{spinner}{CSI}39m {CSI}1mStatus{CSI}22m "
                f"{CSI}38;5;{(color + 40) % 256}mtokens {i * 13 % 9999} · {row}/{block}"
                f"{CSI}39m{CSI}2m (esc to interrupt){CSI}22m\r\n"
            )
        chunk = "".join(parts)
        out.append(chunk)
        size += len(chunk.encode())
        i += 1
    return "".join(out).encode()


def parse_rate(data: bytes, repeat: int) -> tuple[float, float]:
    """(wall MB/s, CPU MB/s): best of ``repeat`` runs feeding 4 KiB chunks."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        term = Terminal(COLS, ROWS, scrollback_lines=10_000, on_reply=lambda _b: None)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(data), CHUNK):
            term.feed(data[i : i + CHUNK])
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(data) / best_wall / 1e6, len(data) / max(best_cpu, 1e-6) / 1e6


def snapshot_cost(data: bytes, frames: int = 60) -> tuple[float, float]:
    """Mean ms to turn all rows into segments, sampled at ``frames`` points; mean segments/frame."""
    term = Terminal(COLS, ROWS, scrollback_lines=10_000)
    step = max(CHUNK, len(data) // frames // CHUNK * CHUNK)
    total = 0.0
    segments = 0
    taken = 0
    for i in range(0, len(data), CHUNK):
        term.feed(data[i : i + CHUNK])
        if i % step == 0:
            start = time.perf_counter()
            rows = [term.row_segments(y) for y in range(term.rows)]
            total += time.perf_counter() - start
            segments += sum(len(r) for r in rows)
            taken += 1
    return total / taken * 1000, segments / taken


def with_frames_rate(data: bytes, fps: int = 60, read_rate_hz: int = 1300) -> float:
    """CPU MB/s when the widget snapshots dirty rows at most ``fps`` times per second of PTY reads.

    A Linux PTY delivers about 1,300 reads of 4 KiB per second at full flood (docs/terminal.md,
    Read path and frames); this snapshots the dirty rows every read_rate_hz/fps reads, as the frame
    clock would.
    """
    term = Terminal(COLS, ROWS, scrollback_lines=10_000)
    every = max(1, read_rate_hz // fps)
    cpu = time.process_time()
    for n, i in enumerate(range(0, len(data), CHUNK)):
        term.feed(data[i : i + CHUNK])
        if n % every == 0 and not term.in_sync_update:
            for y in term.take_dirty():
                term.row_segments(y)
    return len(data) / max(time.process_time() - cpu, 1e-6) / 1e6


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tmux_rate(path: Path, repeat: int) -> tuple[float, float] | None:
    """(wall MB/s, CPU MB/s) of a detached 120x40 tmux session cat-ing the file.

    Wall time runs from session start to the end of ``cat`` (startup measured on an empty file
    and subtracted); CPU time is the tmux server's own utime+stime, which is what a busy,
    shared machine does not distort.
    """
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "tmux.conf"
        conf.write_text(
            "set -g history-limit 10000\nset -g status off\nset -g remain-on-exit on\n"
        )
        empty = Path(tmp) / "empty"
        empty.write_bytes(b"")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        env["TERM"] = "xterm-256color"
        runs = iter(range(1_000))

        def run(file: Path) -> tuple[float, float]:
            sock = f"heimdall-bench-{os.getpid()}-{next(runs)}"  # fresh server every run
            cmd = f"cat {file}; tmux -L {sock} wait -S done"
            start = time.perf_counter()
            subprocess.run(
                [tmux, "-L", sock, "-f", str(conf), "new-session", "-d", "-x", str(COLS),
                 "-y", str(ROWS), cmd],
                check=True, env=env,
            )
            subprocess.run([tmux, "-L", sock, "wait", "done"], check=True, env=env, timeout=120)
            elapsed = time.perf_counter() - start
            pid = subprocess.run(
                [tmux, "-L", sock, "display-message", "-p", "#{pid}"],
                capture_output=True, text=True, env=env,
            ).stdout.strip()
            cpu = _cpu_seconds(int(pid)) if pid.isdigit() else float("nan")
            subprocess.run([tmux, "-L", sock, "kill-server"], env=env, capture_output=True)
            return elapsed, cpu

        base = [run(empty) for _ in range(2)]
        runs_ = [run(path) for _ in range(repeat)]
    size = path.stat().st_size
    wall = max(min(r[0] for r in runs_) - min(b[0] for b in base), 1e-6)
    cpu = max(min(r[1] for r in runs_) - min(b[1] for b in base), 1e-6)
    return size / wall / 1e6, size / cpu / 1e6


def scrollback_memory(lines: int = 10_000) -> float:
    """MB held by ``lines`` lines of coloured 120-column scrollback."""
    rng = random.Random(4)
    text = "".join(
        f"{CSI}38;5;{rng.randrange(256)}m{i:06d}{CSI}0m "
        + "".join(rng.choice("abcdefgh ") for _ in range(100))
        + f" {CSI}1mok{CSI}0m\r\n"
        for i in range(lines + ROWS)
    ).encode()
    gc.collect()
    tracemalloc.start()
    term = Terminal(COLS, ROWS, scrollback_lines=lines)
    for i in range(0, len(text), CHUNK):
        term.feed(text[i : i + CHUNK])
    gc.collect()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert term.scrollback_len == lines
    return current / 1e6


# ---------------------------------------------------------------------------- fidelity (--fidelity)

_CURSES_DEMO = """
import curses, time
def main(s):
    curses.start_color(); curses.use_default_colors()
    for i in range(1, 8): curses.init_pair(i, i, -1)
    s.box(); s.addstr(1, 2, "curses demo \u6f22\u5b57", curses.A_BOLD | curses.color_pair(2))
    w = curses.newwin(8, 30, 4, 10); w.box(); w.addstr(2, 2, "inner", curses.A_REVERSE); w.refresh()
    for i in range(20):
        s.addstr(14 + i % 10, 3, f"line {i} " + "#" * (i % 30), curses.color_pair(i % 7 + 1))
        s.refresh(); time.sleep(0.02)
    s.scrollok(True); s.setscrreg(14, 24)
    for i in range(15): s.addstr(24, 3, f"scroll {i}\\n"); s.refresh()
    s.getch()
curses.wrapper(main)
"""
# tmux's capture-pane prints DEC line-drawing cells as their ASCII letters.
_ACS = str.maketrans("┌─┐│└┘├┤┬┴┼", "lqkxmjtuwvn")


def _record(argv: list[str], keys: list[tuple[bytes, float]], cwd: Path) -> tuple[bytes, list[str]]:
    """Run ``argv`` in a 100x30 PTY, our Terminal answering its queries; return (bytes, screen)."""
    import fcntl
    import select
    import signal
    import struct
    import termios

    cols, rows = 100, 30
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8")
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    raw = bytearray()
    term = Terminal(cols, rows, on_reply=lambda b: os.write(master, b))

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                raw.extend(data)
                term.feed(data)

    pump(1.0)
    for data, wait in keys:
        os.write(master, data)
        pump(wait)
    screen = [term.text_line(term.line_index_of_view_row(y)) for y in range(rows)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    os.close(master)
    return bytes(raw), screen


def _tmux_screen(raw: bytes, tmp: Path, tag: str) -> list[str]:
    path = tmp / f"{tag}.raw"
    path.write_bytes(raw)
    conf = tmp / "fid.conf"
    conf.write_text("set -g remain-on-exit on\nset -g status off\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    sock = f"heimdall-fid-{os.getpid()}-{tag}"
    cmd = f"stty -echo; cat {path}; tmux -L {sock} wait -S done; sleep 5"
    subprocess.run(["tmux", "-L", sock, "-f", str(conf), "new-session", "-d", "-x", "100", "-y",
                    "30", cmd], check=True, env=env)
    subprocess.run(["tmux", "-L", sock, "wait", "done"], check=True, env=env, timeout=60)
    time.sleep(0.2)
    out = subprocess.run(["tmux", "-L", sock, "capture-pane", "-p"], capture_output=True,
                         text=True, env=env).stdout.split("\n")[:30]
    subprocess.run(["tmux", "-L", sock, "kill-server"], env=env, capture_output=True)
    return out


def fidelity() -> None:
    """Record real programs in a PTY, then compare our screen with tmux replaying the bytes."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sample = tmp / "sample.py"
        sample.write_text(Path(__file__).read_text())
        (tmp / "curses_demo.py").write_text(_CURSES_DEMO)
        cases: list[tuple[str, list[str], list[tuple[bytes, float]]]] = [
            ("vim", ["vim", "-u", "NONE", "-N", "-c", "syntax on", "-c", "set nu", "sample.py"],
             [(b"\x04", 0.4), (b"\x04", 0.4), (b"/def \r", 0.4),
              ("Otyped 漢字 text\x1b".encode(), 0.5)]),
            ("less", ["less", "sample.py"], [(b" ", 0.3), (b"/class\r", 0.4), (b"G", 0.3)]),
            ("top", ["top", "-d", "0.3"], [(b"", 0.8), (b"c", 0.5)]),
            ("curses", [sys.executable, "curses_demo.py"], [(b"", 1.0)]),
            ("bash", ["bash", "--norc", "-i"],
             [(b'echo -e "\\e[31mred\\e[0m \\u6f22"\r', 0.3), (b"printf '%s\\n' {1..60}\r", 0.4)]),
        ]
        print("fidelity (100x30; rows differing between our screen and tmux replaying the bytes):")
        for name, argv, keys in cases:
            if shutil.which(argv[0]) is None:
                print(f"  {name:<7} skipped ({argv[0]} not installed)")
                continue
            raw, mine = _record(argv, keys, tmp)
            theirs = _tmux_screen(raw, tmp, name)
            differing = sum(
                1 for a, b in zip(mine, theirs, strict=False)
                if a.rstrip() != b.rstrip() and a.rstrip().translate(_ACS) != b.rstrip()
            )
            print(f"  {name:<7} {len(raw):7d} bytes  rows differing: {differing}/30")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0, help="size of each stream in MB")
    parser.add_argument("--repeat", type=int, default=3, help="best-of runs for timing")
    parser.add_argument(
        "--fidelity", action="store_true",
        help="also run vim/less/top/curses/bash in a PTY and compare screens with tmux",
    )
    args = parser.parse_args()
    target = int(args.mb * 1e6)

    tmux_version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"# heimdall emulator benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"# {platform.machine()} {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {tmux_version}, "
        f"pane {COLS}x{ROWS}, {CHUNK} B chunks"
    )
    generators: dict[str, Callable[[int], bytes]] = {
        "plain": gen_plain,
        "sgr_tui": gen_sgr_tui,
        "ink_status": gen_ink_status,
    }
    header = (
        f"{'stream':<11} {'MB':>4} {'parse wall':>10} {'parse cpu':>9} {'+60fps cpu':>10} "
        f"{'snap ms':>7} {'segs':>5} {'tmux wall':>9} {'tmux cpu':>8} {'ratio cpu':>9} "
        f"{'ratio wall':>10}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name, gen in generators.items():
            data = gen(target)
            path = Path(tmp) / f"{name}.bin"
            path.write_bytes(data)
            wall, cpu = parse_rate(data, args.repeat)
            framed = with_frames_rate(data)
            snap_ms, segs = snapshot_cost(data)
            tmux = tmux_rate(path, args.repeat)
            if tmux:
                tmux_txt = f"{tmux[0]:9.1f} {tmux[1]:8.1f} {framed / tmux[1]:9.2f} "
                tmux_txt += f"{wall / tmux[0]:10.2f}"
            else:
                tmux_txt = "tmux not installed"
            print(
                f"{name:<11} {len(data) / 1e6:4.1f} {wall:10.1f} {cpu:9.1f} {framed:10.1f} "
                f"{snap_ms:7.2f} {segs:5.0f} {tmux_txt}"
            )
    print(f"scrollback: 10,000 coloured 120-col lines held in {scrollback_memory():.1f} MB")
    print(
        "MB/s of child output. ratio cpu = (parse + dirty-row snapshots at <=60 fps) per CPU second"
        " / tmux server per CPU second;\nratio wall = parse wall / tmux wall. > 1 means faster"
        " than tmux."
    )
    if args.fidelity:
        fidelity()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
