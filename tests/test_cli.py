"""The command line: flags beat the config; a bad [keys] remap is a config error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from heimdall.cli import apply_flags, build_parser, main
from heimdall.config import Config


def test_every_flag_a_command_reads_exists_for_every_command() -> None:
    parser = build_parser()
    for argv in ([], ["usage"], ["gateway"], ["auth", "status"], ["demo"]):
        args = parser.parse_args(argv)
        for name in ("gateway", "gateway_kind", "model", "cwd", "agent", "fresh", "tabs", "command"):
            assert hasattr(args, name), (argv, name)
    config = apply_flags(Config(), parser.parse_args(["--model", "haiku", "--agent", "bash"]))
    assert config.agent.default_model == "haiku" and config.agent.command == "bash"


@pytest.mark.parametrize("argv", [[], ["demo"]])
def test_colliding_remap_exits_2_naming_both_commands_and_the_key(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys.bindings]\n"prefix-new-tab" = "x"\n', encoding="utf-8")
    monkeypatch.setenv("HEIMDALL_CONFIG", str(path))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "config error" in err and "prefix-new-tab" in err and "prefix-close-tab" in err
    assert "Ctrl+] x" in err
