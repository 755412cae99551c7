"""Small child programs the terminal tests run in real PTYs."""

from __future__ import annotations

import sys
from pathlib import Path

PROBE = Path(__file__).with_name("probe.py")


def probe_argv(*flags: str) -> list[str]:
    """argv that runs the probe child with the test interpreter."""
    return [sys.executable, str(PROBE), *flags]
