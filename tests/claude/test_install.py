"""Finding Claude Code (PATH, the usual install places, through npm's stub) and its one version pin."""

from __future__ import annotations

import re
from pathlib import Path

from heimdall.claude.install import CLAUDE_CODE_PACKAGE, CLAUDE_CODE_VERSION, find_claude

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_one_version_pin() -> None:
    """The test-deps script installs, by default, the release the Python code pins."""
    script = (SCRIPTS / "install-test-deps.sh").read_text(encoding="utf-8")
    default = re.search(r'^CLAUDE_CODE_VERSION="\$\{CLAUDE_CODE_VERSION:-([^}]+)\}"$', script, re.MULTILINE)
    assert default is not None, "scripts/install-test-deps.sh no longer defaults CLAUDE_CODE_VERSION"
    assert default.group(1) == CLAUDE_CODE_VERSION
    assert f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}" == CLAUDE_CODE_PACKAGE


def _executable(path: Path, content: str = "#!/bin/sh\necho claude\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o755)
    return path


def test_find_claude_prefers_path(tmp_path: Path) -> None:
    on_path = _executable(tmp_path / "bin" / "claude")
    _executable(tmp_path / "home" / ".local" / "bin" / "claude")
    assert find_claude({"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}) == str(on_path)


def test_find_claude_falls_back_to_known_locations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(home)}
    assert find_claude(env) is None or not find_claude(env).startswith(str(home))  # type: ignore[union-attr]
    nvm = _executable(home / ".nvm" / "versions" / "node" / "v20.1.0" / "bin" / "claude")
    assert find_claude(env) == str(nvm)
    native = _executable(home / ".local" / "bin" / "claude")
    assert find_claude(env) == str(native)


def test_find_claude_sees_through_the_npm_stub(tmp_path: Path) -> None:
    """`npm install --ignore-scripts` leaves a tiny `bin/claude.exe` stub; use the platform binary."""
    modules = tmp_path / "node_modules" / "@anthropic-ai"
    stub_script = "#!/bin/sh\necho not installed; exit 1\n"
    stub = _executable(modules / "claude-code" / "bin" / "claude.exe", stub_script)
    native = _executable(modules / "claude-code-linux-x64" / "claude", "#!/bin/sh\n" + "#" * 20000 + "\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "claude").symlink_to(stub)
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path / "home")}
    assert find_claude(env) == str(native)
