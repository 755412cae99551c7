"""Which Claude Code Heimdall runs, and where to find it.

One pin: `CLAUDE_CODE_VERSION` is the release Heimdall is tested against; the first-run install
offer (`npm install -g CLAUDE_CODE_PACKAGE`) and `scripts/install-test-deps.sh` (its default,
checked by a test) use the same one. Later releases need Node 22.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

CLAUDE_CODE_VERSION = "2.1.197"
"""The Claude Code release Heimdall is tested against."""
CLAUDE_CODE_PACKAGE = f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"
"""The npm package spec that installs exactly that release."""

_PLATFORM_PACKAGE = "claude-code-linux-x64"
_STUB_MAX_BYTES = 16_384  # npm's placeholder `bin/claude.exe` when postinstall did not run


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _real_binary(path: Path) -> Path | None:
    """`path`, or the platform binary next to an npm stub that `--ignore-scripts` left behind."""
    resolved = path.resolve()
    if (
        resolved.name == "claude.exe"
        and resolved.parent.name == "bin"
        and resolved.stat().st_size < _STUB_MAX_BYTES
    ):
        candidates = sorted(resolved.parent.parent.parent.glob("claude-code-*/claude"))
        native = [c for c in candidates if c.parent.name == _PLATFORM_PACKAGE] + candidates
        for candidate in native:
            if _usable(candidate):
                return candidate
        return None
    return path


def claude_search_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where Claude Code is usually installed, after PATH (native installer, npm, nvm, volta...)."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    paths = [
        home / ".local" / "bin" / "claude",
        home / ".claude" / "local" / "claude",
        home / ".npm-global" / "bin" / "claude",
        home / ".volta" / "bin" / "claude",
        home / ".bun" / "bin" / "claude",
        Path("/usr/local/bin/claude"),
        Path("/opt/homebrew/bin/claude"),
    ]
    prefix = env.get("NPM_CONFIG_PREFIX") or env.get("npm_config_prefix")
    if prefix:
        paths.insert(0, Path(prefix) / "bin" / "claude")
    nvm = sorted(glob.glob(str(home / ".nvm" / "versions" / "node" / "*" / "bin" / "claude")))
    paths += [Path(p) for p in reversed(nvm)]
    return paths


def find_claude(env: Mapping[str, str] | None = None) -> str | None:
    """The Claude Code executable: `claude` on PATH, then the usual install locations."""
    env = os.environ if env is None else env
    on_path = shutil.which("claude", path=env.get("PATH", os.defpath))
    candidates = ([Path(on_path)] if on_path else []) + claude_search_paths(env)
    for candidate in candidates:
        if _usable(candidate):
            real = _real_binary(candidate)
            if real is not None:
                return str(real)
    return None
