"""Small child programs the terminal tests run in real PTYs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("probe.py")


def probe_argv(*flags: str) -> list[str]:
    """argv that runs the probe child with the test interpreter."""
    return [sys.executable, str(PROBE), *flags]


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (a zombie still answers kill(0))."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
