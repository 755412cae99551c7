"""`heimdall gateway` as a real process: kill -9 durability, clean SIGTERM, launcher, token."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from heimdall.config import Config, EmbeddedGatewayConfig
from heimdall.server import auth as token_mod
from heimdall.server.launcher import GatewayStartError, ensure_embedded_gateway

from tests.fakes.anthropic import SimulatedUpstream

pytestmark = pytest.mark.timeout(120)
READY = "heimdall gateway ready on "
GATEWAY = [sys.executable, "-m", "heimdall", "gateway"]


class GatewayProcess:
    def __init__(self, upstream: str, db: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*GATEWAY, "--port", "0", "--upstream", upstream, "--db", str(db), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith(READY):
            self.proc.kill()
            errors = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"no ready line: {line!r} {errors}")
        self.url = line[len(READY) :].split()[0]
        self.token = token_mod.load_or_create_token()
        auth = {"Authorization": f"Bearer {self.token}"}
        self.api = httpx.Client(base_url=self.url, headers=auth, timeout=10)

    def rows(self, **params: object) -> list[dict]:
        return self.api.get("/api/logs", params={"limit": 1000, **params}).json()["logs"]

    def stop(self) -> None:
        self.api.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def processes() -> Iterator[list[GatewayProcess]]:
    running: list[GatewayProcess] = []
    yield running
    for p in running:
        p.stop()


def request(url: str, i: int) -> httpx.Response:
    messages = [{"role": "user", "content": f"n{i}"}]
    payload = {"model": "claude-sonnet-4-5", "max_tokens": 10, "stream": i % 2 == 0, "messages": messages}
    tag = {"x-bf-lh-session": f"s{i % 3}"}
    return httpx.post(url + "/v1/messages", json=payload, headers=tag, timeout=10)


def test_kill_9_during_load_keeps_completed_rows(
    fake_upstream: SimulatedUpstream, tmp_path: Path, processes: list[GatewayProcess]
) -> None:
    db = tmp_path / "gw.db"
    gw = GatewayProcess(fake_upstream.url, db)
    processes.append(gw)
    stop = threading.Event()

    def load(worker: int) -> None:
        i = worker
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                request(gw.url, i)
            i += 8

    workers = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(8)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 30
    done: list[dict] = []
    while time.monotonic() < deadline and len(done) < 60:
        done = gw.rows(status="success")
        time.sleep(0.05)
    assert len(done) >= 60
    gw.proc.send_signal(signal.SIGKILL)  # load is still running
    gw.proc.wait(10)
    stop.set()
    for w in workers:
        w.join(15)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = GatewayProcess(fake_upstream.url, db)
    processes.append(again)
    after = {r["id"]: r for r in again.rows()}
    for row in done:
        assert row["id"] in after, "a completed row was lost"
        kept = after[row["id"]]
        for field in ("status", "cost", "token_usage", "metadata", "model", "latency", "stop_reason"):
            assert kept[field] == row[field], field
    # Requests in flight at the kill were closed as errors, not left `processing` forever.
    assert all(r["status"] != "processing" for r in after.values())
    interrupted = [r for r in after.values() if r["status"] == "error"]
    for row in interrupted:
        assert row["heimdall"]["error_message"] == "gateway stopped before the request finished"
    assert again.api.get("/api/logs/stats").json()["total_requests"] == len(after)


def test_sigterm_shuts_down_cleanly_and_commits(
    fake_upstream: SimulatedUpstream, tmp_path: Path, processes: list[GatewayProcess]
) -> None:
    db = tmp_path / "gw.db"
    gw = GatewayProcess(fake_upstream.url, db)
    processes.append(gw)
    assert request(gw.url, 1).status_code == 200
    gw.proc.send_signal(signal.SIGTERM)
    assert gw.proc.wait(15) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM logs").fetchall() == [("success",)]


def test_non_loopback_bind_without_token_refuses_loudly(tmp_path: Path) -> None:
    result = subprocess.run(
        [*GATEWAY, "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != token_mod.TOKEN_ENV},
    )
    assert result.returncode == 2
    assert "REFUSING TO START" in result.stderr and token_mod.TOKEN_ENV in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_token_file_is_private_and_stable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEIMDALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(token_mod.TOKEN_ENV, raising=False)
    first = token_mod.load_or_create_token()
    path = token_mod.token_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) > 30 and token_mod.load_or_create_token() == first
    monkeypatch.setenv(token_mod.TOKEN_ENV, "an-explicit-token-of-some-length")
    assert token_mod.load_or_create_token() == "an-explicit-token-of-some-length"
    monkeypatch.setenv(token_mod.TOKEN_ENV, "short")
    with pytest.raises(token_mod.TokenError, match="too short"):
        token_mod.load_or_create_token()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_launcher_starts_detached_then_reuses(fake_upstream: SimulatedUpstream) -> None:
    port = _free_port()
    config = Config(embedded=EmbeddedGatewayConfig(port=port, upstream=fake_upstream.url))
    first = ensure_embedded_gateway(config)
    pid = httpx.get(first.url + "/health").json()["pid"]
    try:
        assert first.started and first.url == f"http://127.0.0.1:{port}"
        assert first.token == token_mod.load_or_create_token() and not first.held_key
        assert os.getsid(pid) == pid  # its own session: survives the terminal that started it
        second = ensure_embedded_gateway(config)
        assert not second.started and second.url == first.url and second.token == first.token
        messages = [{"role": "user", "content": "hi"}]
        payload = {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": messages}
        r = httpx.post(first.url + "/anthropic/v1/messages", json=payload)
        assert r.status_code == 200
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)


def test_launcher_explains_a_foreign_port(fake_upstream: SimulatedUpstream) -> None:
    config = Config(embedded=EmbeddedGatewayConfig(port=fake_upstream.port, upstream=fake_upstream.url))
    with pytest.raises(GatewayStartError, match="not a Heimdall gateway"):
        ensure_embedded_gateway(config)


def test_held_key_from_the_environment(
    fake_upstream: SimulatedUpstream, tmp_path: Path, processes: list[GatewayProcess]
) -> None:
    gw = GatewayProcess(fake_upstream.url, tmp_path / "gw.db", env={"ANTHROPIC_API_KEY": "sk-ant-env-key"})
    processes.append(gw)
    assert httpx.get(gw.url + "/health").json()["auth_mode"] == "held_key"
    assert request(gw.url, 1).status_code == 401  # no local token
    messages = [{"role": "user", "content": "hi"}]
    r = httpx.post(
        gw.url + "/v1/messages",
        json={"model": "claude-haiku-4-5", "max_tokens": 5, "messages": messages},
        headers={"x-api-key": gw.token},
    )
    assert r.status_code == 200
    assert fake_upstream.requests()[-1]["headers"]["x-api-key"] == "sk-ant-env-key"


def test_launcher_reports_why_the_gateway_could_not_start(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    config = Config(embedded=EmbeddedGatewayConfig(port=_free_port(), db=str(blocker / "gw.db")))
    with pytest.raises(GatewayStartError) as failure:
        ensure_embedded_gateway(config, timeout_s=30)
    message = str(failure.value)
    assert "exited with code 1" in message and "cannot open the request log" in message
