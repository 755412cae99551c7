"""`heimdall usage/models/doctor/auth` end to end (in-process CLI) against the Bifrost fake."""

from __future__ import annotations

import io
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from heimdall.cli import main

from tests.fakes.bifrost import BifrostFake, FakeUsage, fake_cost
from tests.gateways.bifrost_support import HAIKU, SONNET, send, settle

pytestmark = pytest.mark.timeout(90)

CELL_KEYS = {
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "requests",
    "errors",
}


@pytest.fixture
def bifrost() -> Iterator[BifrostFake]:
    with BifrostFake() as fake:
        yield fake


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fill(fake: BifrostFake) -> dict[str, dict[str, list[FakeUsage]]]:
    """3 sessions x 2 models, with cache tokens; returns the plan."""
    plan: dict[str, dict[str, list[FakeUsage]]] = {}
    usages = [FakeUsage(2048, 512, 1024, 14336), FakeUsage(1200, 345), FakeUsage(10, 20, 30, 40)]
    for i, session in enumerate(("s-one", "s-two", "s-three")):
        for j, model in enumerate((SONNET, HAIKU)):
            fake.usage = usages[(i + j) % 3]
            assert send(fake, session, model, stream=j == 1).status_code == 200
            plan.setdefault(session, {}).setdefault(model, []).append(fake.usage)
    settle(fake)
    return plan


def test_usage_json_shape_and_numbers(bifrost: BifrostFake, capsys: pytest.CaptureFixture[str]) -> None:
    plan = fill(bifrost)
    code, out, err = cli(capsys, "usage", "--json", "--gateway", bifrost.url, "--gateway-kind", "bifrost")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"as_of", "gateway", "total_cost_usd", "sessions", "models"}
    assert data["gateway"] == {"kind": "bifrost", "url": bifrost.url}
    assert data["as_of"].endswith("Z")
    assert [s["session"] for s in data["sessions"]] == sorted(plan)
    for entry in data["sessions"]:
        assert set(entry) == CELL_KEYS | {"session", "models"}
        for model, cell in entry["models"].items():
            assert set(cell) == CELL_KEYS
            usages = plan[entry["session"]][model]
            assert cell["cost_usd"] == pytest.approx(sum(fake_cost(model, u) for u in usages), abs=1e-9)
            assert cell["cache_read_tokens"] == sum(u.cache_read_input_tokens for u in usages)
            assert cell["cache_write_tokens"] == sum(u.cache_creation_input_tokens for u in usages)
            assert cell["input_tokens"] == sum(u.input_tokens for u in usages)
            assert cell["requests"] == len(usages)
    grand = sum(fake_cost(m, u) for models in plan.values() for m, us in models.items() for u in us)
    assert data["total_cost_usd"] == pytest.approx(grand, abs=1e-9)
    assert set(data["models"]) == {SONNET, HAIKU}
    assert sum(c["requests"] for c in data["models"].values()) == 6


def test_usage_tables_by_session_and_model(bifrost: BifrostFake, capsys: pytest.CaptureFixture[str]) -> None:
    fill(bifrost)
    code, out, _ = cli(capsys, "usage", "--gateway", bifrost.url)  # kind detected from the server
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"bifrost gateway {bifrost.url}, last 24h")
    assert lines[1].split()[:3] == ["session", "cost", "input"]
    assert any(line.startswith("s-one") for line in lines) and lines[-1].startswith("total")
    code, out, _ = cli(capsys, "usage", "--by", "model", "--since", "30m", "--gateway", bifrost.url)
    assert code == 0 and any(line.startswith(SONNET) for line in out.splitlines())


def test_usage_bad_since_and_gateway_down(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "usage", "--since", "forever")
    assert code == 2 and "bad duration" in err
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = cli(capsys, "usage", "--json", "--gateway", url, "--gateway-kind", "bifrost")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "connection refused" in err
    code, _, err = cli(capsys, "usage", "--gateway", url)  # auto kind cannot probe a dead server
    assert code == 1 and "--gateway-kind" in err


def test_embedded_not_running_is_said_plainly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[embedded]\nport = {free_port()}\n")
    os.environ["HEIMDALL_CONFIG"] = str(config)
    try:
        for command in ("usage", "models"):
            code, out, err = cli(capsys, command)
            assert code == 1 and out == ""
            assert "embedded gateway not running" in err and len(err.strip().splitlines()) == 1
    finally:
        os.environ.pop("HEIMDALL_CONFIG")


def test_models_json_and_table(bifrost: BifrostFake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "models", "--json", "--gateway", bifrost.url, "--gateway-kind", "bifrost")
    assert code == 0
    data = json.loads(out)
    models = {m["id"]: m for m in data["models"]}
    assert models[f"anthropic/{SONNET}"]["input_per_mtok"] == 3.0
    assert models[f"anthropic/{SONNET}"]["cache_write_per_mtok"] == 3.75
    assert models["openai/gpt-5.5"]["output_per_mtok"] is None
    code, out, _ = cli(capsys, "models", "--gateway", bifrost.url)
    assert code == 0 and f"anthropic/{SONNET}" in out and "$15" in out


def test_doctor_ok_and_failing(
    bifrost: BifrostFake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.claude_support import claude_binary

    binary = Path(claude_binary())
    bin_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"heimdall-doctor-bin-{os.getpid()}"
    bin_dir.mkdir(exist_ok=True)
    link = bin_dir / "claude"
    if not link.exists():
        link.symlink_to(binary)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, out, err = cli(capsys, "doctor", "--gateway", bifrost.url)
    assert code == 0, out + err
    assert "gateway" in out and "v2.2.5" in out and "Claude Code" in out
    code, out, err = cli(capsys, "doctor", "--json", "--gateway", bifrost.url)
    data = json.loads(out)
    assert data["ok"] is True and {c["name"] for c in data["checks"]} >= {
        "config",
        "keyring",
        "gateway",
        "claude",
    }
    down = f"http://127.0.0.1:{free_port()}"
    code, out, err = cli(capsys, "doctor", "--gateway", down, "--gateway-kind", "bifrost")
    assert code == 1 and err.startswith("heimdall doctor: gateway:") and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, err = cli(capsys, "doctor", "--gateway", bifrost.url)
    assert code == 1 and "claude" in err


def test_auth_store_status_clear(
    memory_keyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-bf-1111\n"))
    code, out, _ = cli(capsys, "auth", "set-virtual-key", "--stdin")
    assert code == 0 and "sk-bf-1111" not in out
    assert memory_keyring.items[("heimdall", "virtual-key")] == "sk-bf-1111"
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert cli(capsys, "auth", "set-admin", "--username", "root", "--stdin")[0] == 0
    from heimdall.credentials import admin_credential

    credential = admin_credential()
    assert credential is not None and credential.username == "root" and credential.scheme == "basic"
    assert "pw" not in repr(credential)
    monkeypatch.setattr("sys.stdin", io.StringIO("bf-token\n"))
    assert cli(capsys, "auth", "set-admin", "--stdin")[0] == 0
    assert admin_credential().scheme == "bearer"  # type: ignore[union-attr]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = cli(capsys, "auth", "set-litellm-key", "--stdin")
    assert code == 2 and "empty" in err
    monkeypatch.setenv("HEIMDALL_LITELLM_KEY", "sk-from-env")
    code, out, _ = cli(capsys, "auth", "status")
    assert code == 0 and "sk-bf-1111" not in out and "sk-from-env" not in out and "bf-token" not in out
    assert "env HEIMDALL_LITELLM_KEY" in out
    code, out, _ = cli(capsys, "auth", "clear", "admin")
    assert code == 0 and ("heimdall", "admin") not in memory_keyring.items
    code, out, _ = cli(capsys, "auth", "clear", "admin")
    assert "was not stored" in out


def test_auth_without_keyring_backend_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("sk-bf-2\n"))
        code, _, err = cli(capsys, "auth", "set-virtual-key", "--stdin")
        assert code == 2 and "keyrings.alt" in err and "HEIMDALL_BIFROST_VK" in err
        code, out, _ = cli(capsys, "auth", "status")
        assert code == 0 and "unavailable" in out
    finally:
        keyring.set_keyring(previous)


def test_bifrost_credentials_from_keyring_are_used(
    memory_keyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with BifrostFake(admin=("admin", "s3cret")) as fake:
        fill(fake)
        code, _, err = cli(capsys, "usage", "--json", "--gateway", fake.url)
        assert code == 1 and "credential" in err
        monkeypatch.setattr("sys.stdin", io.StringIO("s3cret"))
        assert cli(capsys, "auth", "set-admin", "--username", "admin", "--stdin")[0] == 0
        code, out, _ = cli(capsys, "usage", "--json", "--gateway", fake.url)
        assert code == 0 and len(json.loads(out)["sessions"]) == 3


def test_real_process_usage_json(bifrost: BifrostFake) -> None:
    import subprocess
    import sys

    fill(bifrost)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "heimdall",
            "usage",
            "--json",
            "--gateway",
            bifrost.url,
            "--gateway-kind",
            "bifrost",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr
    assert {s["session"] for s in json.loads(out.stdout)["sessions"]} == {"s-one", "s-two", "s-three"}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "heimdall",
            "models",
            "--gateway",
            "http://192.0.2.1:8080",
            "--gateway-kind",
            "bifrost",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert bad.returncode == 1 and "refusing plain http://" in bad.stderr and bad.stdout == ""


def test_upstream_key_is_what_the_embedded_gateway_reads(memory_keyring, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-ant-held\n"))
    assert cli(capsys, "auth", "set-upstream-key", "--stdin")[0] == 0
    from heimdall import credentials as secrets

    assert secrets.get_secret("anthropic-api-key") == "sk-ant-held"  # alias of upstream-key
    assert secrets.get_secret("no-such-secret") is None


def test_no_gateway_configured_reads_the_running_embedded_gateway(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    from heimdall.demo.simulated import SimulatedUpstream
    from heimdall.server.app import GatewaySettings, RunningGateway
    from heimdall.server.auth import load_or_create_token

    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(f"[embedded]\nport = {port}\n")
    monkeypatch.setenv("HEIMDALL_CONFIG", str(config))
    with SimulatedUpstream() as upstream:
        settings = GatewaySettings(
            token=load_or_create_token(), db_path=tmp_path / "gw.db", port=port, upstream=upstream.url
        )
        running = RunningGateway(settings).start()
        try:
            headers = {
                "x-api-key": "sk-ant-mine",
                "anthropic-version": "2023-06-01",
                "x-bf-lh-session": "emb-1",
            }
            body = {"model": SONNET, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
            assert (
                httpx.post(
                    f"{running.url}/anthropic/v1/messages", json=body, headers=headers, trust_env=False
                ).status_code
                == 200
            )
            deadline = __import__("time").monotonic() + 15
            while True:
                code, out, err = cli(capsys, "usage", "--json")
                assert code == 0, err
                data = json.loads(out)
                if (
                    (data["sessions"]
                    and data["sessions"][0]["requests"] == 1)
                    or __import__("time").monotonic() > deadline
                ):
                    break
            assert data["gateway"] == {"kind": "embedded", "url": f"http://127.0.0.1:{port}"}
            assert data["sessions"][0]["session"] == "emb-1" and data["total_cost_usd"] > 0
            code, out, _ = cli(capsys, "models", "--json")
            assert code == 0 and json.loads(out)["models"]
        finally:
            running.stop()
