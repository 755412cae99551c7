"""A child program for the terminal tests: it does what its flags say, in the order given.

Run as `python tests/children/probe.py [flags]`. Flags:

  --modes 1004,2004,1000,1006,1   enable DEC private modes (CSI ? n h)
  --pre-sleep SECONDS             wait before doing anything below (after READY)
  --alt TEXT                      switch to the alternate screen and print TEXT there
  --alt-seconds SECONDS           ...and leave it again after SECONDS
  --title TEXT                    set the window title (OSC 0)
  --colors                        print 16/256/truecolor samples
  --lines N                       print N numbered lines `line-00001 ...`
  --garbage N                     write N pseudo-random bytes (fixed seed)
  --bell                          ring the bell (BEL)
  --print TEXT                    print TEXT and a newline
  --echo                          raw mode: print every input read as `IN:<hex>` and every
                                  SIGWINCH as `SIZE:<cols>x<rows>`; `q` twice in one read exits 0
  --exit CODE                     exit with CODE after the above (default: stay alive)
  --sleep SECONDS                 sleep before exiting (or forever with --stay)
  --stay                          stay alive until a signal ends the process

It always starts by printing `READY:<cols>x<rows>` so tests know it runs and at which size.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import signal
import sys
import time
import tty


def out(text: str) -> None:
    os.write(1, text.encode("utf-8", "surrogateescape"))


def size() -> str:
    cols, rows = os.get_terminal_size(0)
    return f"{cols}x{rows}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="")
    parser.add_argument("--pre-sleep", type=float, default=0.0)
    parser.add_argument("--alt")
    parser.add_argument("--alt-seconds", type=float)
    parser.add_argument("--title")
    parser.add_argument("--colors", action="store_true")
    parser.add_argument("--lines", type=int, default=0)
    parser.add_argument("--garbage", type=int, default=0)
    parser.add_argument("--bell", action="store_true")
    parser.add_argument("--print", dest="text", action="append", default=[])
    parser.add_argument("--echo", action="store_true")
    parser.add_argument("--exit", type=int)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--stay", action="store_true")
    args = parser.parse_args()

    resized: list[int] = []
    if args.echo:
        # Ready for input and SIGWINCH before announcing READY, so tests never race us.
        signal.signal(signal.SIGWINCH, lambda *_: resized.append(1))
        tty.setraw(0)
    out(f"READY:{size()}\r\n")
    if args.pre_sleep:
        time.sleep(args.pre_sleep)
    for mode in filter(None, args.modes.split(",")):
        out(f"\x1b[?{int(mode)}h")
    if args.title is not None:
        out(f"\x1b]0;{args.title}\x07")
    if args.colors:
        out("\x1b[31mred\x1b[0m \x1b[1;32mbold-green\x1b[0m \x1b[38;5;208morange256\x1b[0m "
            "\x1b[38;2;10;200;30mtruecolor\x1b[0m \x1b[4:3mcurly\x1b[0m\r\n")
    for number in range(1, args.lines + 1):
        out(f"line-{number:05d} some filler text to make the line longer\r\n")
    if args.garbage:
        rng = random.Random(1234)
        os.write(1, bytes(rng.randrange(256) for _ in range(args.garbage)))
        out("\x1b[0m\r\nAFTER-GARBAGE\r\n")
    for text in args.text:
        out(text + "\r\n")
    if args.alt is not None:
        out("\x1b[?1049h\x1b[H\x1b[2J" + args.alt + "\r\n")
        if args.alt_seconds is not None:
            time.sleep(args.alt_seconds)
            out("\x1b[?1049l")
    if args.bell:
        out("\x07")
    if args.echo:
        return echo_loop(resized)
    if args.sleep:
        time.sleep(args.sleep)
    if args.stay:
        while True:
            signal.pause()
    return args.exit or 0


def echo_loop(resized: list[int]) -> int:
    while True:
        if resized:
            resized.clear()
            out(f"SIZE:{size()}\r\n")
        try:
            ready, _, _ = select.select([0], [], [], 0.1)
        except InterruptedError:
            continue
        if not ready:
            continue
        data = os.read(0, 4096)
        if not data:
            return 0
        out(f"IN:{data.hex()}\r\n")
        if b"qq" in data:
            return 0


if __name__ == "__main__":
    sys.exit(main())
