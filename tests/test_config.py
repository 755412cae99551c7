"""Config loading: defaults, file, environment, and one-line errors with file, line and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from heimdall.config import ConfigError, load_config


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml", environ={})
    assert config.agent.command == "claude"
    assert config.terminal.scrollback_lines == 10_000
    assert config.gateway.kind == "auto"
    assert config.source is None


def test_file_values_and_env_overrides(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[agent]\ncommand = "bash"\ndefault_model = "claude-sonnet-4-5"\n'
        "[terminal]\nscrollback_lines = 20000\n"
        '[keys.bindings]\n"next-tab" = "f8"\n'
    )
    config = load_config(
        path,
        environ={
            "HEIMDALL_GATEWAY_URL": "http://127.0.0.1:4000",
            "HEIMDALL_GATEWAY_KIND": "litellm",
            "HEIMDALL_TERMINAL__SCROLLBACK_LINES": "15000",
        },
    )
    assert config.agent.command == "bash"
    assert config.agent.default_model == "claude-sonnet-4-5"
    assert config.terminal.scrollback_lines == 15000
    assert config.keys.bindings == {"next-tab": "f8"}
    assert config.gateway.url == "http://127.0.0.1:4000"
    assert config.gateway.kind == "litellm"
    assert config.source == path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[agent]\ncommand = "x"\n\n[terminal]\nscrollback_lines = "lots"\n',
            ":5: terminal.scrollback_lines:",
        ),
        ('[gateway]\nkind = "nginx"\n', ":2: gateway.kind:"),
        ("[terminal]\nbogus = 1\n", ":2: terminal.bogus: unknown key"),
        ("[agent]\ncommand = \n", "line 2"),
    ],
)
def test_malformed_file_names_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_bad_env_override_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HEIMDALL_TERMINAL__SCROLLBACK_LINES"):
        load_config(tmp_path / "none.toml", environ={"HEIMDALL_TERMINAL__SCROLLBACK_LINES": "x"})


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[gateway]\nrefresh_seconds = "soon"\n')
    result = subprocess.run(
        [sys.executable, "-m", "heimdall", "models"],
        env={"HEIMDALL_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}:2: gateway.refresh_seconds" in lines[0]
    assert "Traceback" not in result.stderr
