"""EmbeddedClient against the real embedded gateway (uvicorn over HTTP) and the simulated upstream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from heimdall.demo.simulated import SimulatedUpstream, SimulatedUsage
from heimdall.gateways.embedded import EmbeddedClient
from heimdall.gateways.protocol import GatewayAuthError, SessionRef
from heimdall.server.app import GatewaySettings, RunningGateway

pytestmark = pytest.mark.timeout(60)
TOKEN = "embedded-test-token-0123456789"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


@pytest.fixture
def upstream() -> Iterator[SimulatedUpstream]:
    with SimulatedUpstream() as up:
        yield up


@pytest.fixture
def gateway(tmp_path: Path, upstream: SimulatedUpstream) -> Iterator[RunningGateway]:
    settings = GatewaySettings(token=TOKEN, db_path=tmp_path / "gw.db", port=0, upstream=upstream.url)
    running = RunningGateway(settings).start()
    try:
        yield running
    finally:
        running.stop()


def send(url: str, session: str, model: str, *, stream: bool = False) -> None:
    headers = {
        "x-api-key": "sk-ant-user-own-key",
        "anthropic-version": "2023-06-01",
        "x-bf-lh-session": session,
    }
    body = {
        "model": model,
        "max_tokens": 16,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = httpx.post(
        f"{url}/anthropic/v1/messages", json=body, headers=headers, timeout=30, trust_env=False
    )
    assert response.status_code == 200, response.text


async def wait_for(check, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return bool(await check())


async def test_usage_matches_the_gateway_own_numbers(
    gateway: RunningGateway, upstream: SimulatedUpstream
) -> None:
    upstream.usage = SimulatedUsage(1000, 200, cache_creation_input_tokens=300, cache_read_input_tokens=5000)
    plan = [
        ("a", SONNET, False),
        ("a", HAIKU, True),
        ("b", SONNET, True),
        ("c", HAIKU, False),
        ("c", HAIKU, False),
    ]
    for session, model, stream in plan:
        send(gateway.url, session, model, stream=stream)
    client = EmbeddedClient(gateway.url, TOKEN)
    since = datetime.now(UTC) - timedelta(hours=1)

    async def settled() -> bool:
        report = await client.usage(None, since)
        return sum(s.totals.requests for s in report.sessions.values()) == len(plan)

    assert await wait_for(settled)
    report = await client.usage(None, since)
    api = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False)
    for session in ("a", "b", "c"):
        own = api.get("/api/logs/stats", params={"metadata_session": session}).json()
        totals = report.sessions[session].totals
        assert totals.cost_usd == pytest.approx(own["total_cost"], abs=1e-9)
        assert totals.cost_usd > 0
        assert totals.requests == own["total_requests"]
        assert totals.cache_read_tokens == 5000 * totals.requests
        assert totals.cache_write_tokens == 300 * totals.requests
        assert totals.input_tokens == 1000 * totals.requests
        assert totals.output_tokens == 200 * totals.requests
    api.close()
    before = client.requests_sent
    await client.usage(None, since)
    assert client.requests_sent - before == 1
    await client.aclose()


async def test_models_health_and_token(gateway: RunningGateway) -> None:
    client = EmbeddedClient(gateway.url, TOKEN)
    health = await client.health()
    assert health.ok and "pass-through" in health.message and health.latency_ms is not None
    models = await client.models()
    assert any("sonnet" in m.id for m in models)
    wrong = EmbeddedClient(gateway.url, "not-the-token-0123456789")
    with pytest.raises(GatewayAuthError):
        await wrong.usage(None, None)
    assert (await wrong.health()).status.value == "auth failed"
    for c in (client, wrong):
        await c.aclose()


def test_session_env_pass_through_keeps_the_user_credential() -> None:
    inherited = {"ANTHROPIC_API_KEY": "sk-ant-mine", "OPENAI_API_KEY": "sk-openai"}
    client = EmbeddedClient("http://127.0.0.1:8787", TOKEN)
    env = client.session_env(SessionRef("tab-9"), inherited)
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8787/anthropic"
    assert "ANTHROPIC_API_KEY" not in env and "ANTHROPIC_AUTH_TOKEN" not in env
    assert env["OPENAI_API_KEY"] is None
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == "x-bf-lh-session: tab-9"
    held = EmbeddedClient("http://127.0.0.1:8787", TOKEN, held_key=True)
    env = held.session_env(SessionRef("tab-9"), inherited)
    assert env["ANTHROPIC_AUTH_TOKEN"] == TOKEN and env["ANTHROPIC_API_KEY"] is None


async def test_open_session_sets_the_gateway_budget(gateway: RunningGateway) -> None:
    client = EmbeddedClient(gateway.url, TOKEN)
    await client.open_session(SessionRef("capped", budget_usd=0.000001))
    send(gateway.url, "capped", SONNET)  # the request that crosses the cap goes through

    async def refused() -> bool:
        headers = {
            "x-api-key": "sk-ant-user-own-key",
            "anthropic-version": "2023-06-01",
            "x-bf-lh-session": "capped",
        }
        body = {"model": SONNET, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(
            f"{gateway.url}/anthropic/v1/messages", json=body, headers=headers, timeout=30, trust_env=False
        )
        return response.status_code == 402

    assert await wait_for(refused)
    await client.aclose()


def test_a_gateway_that_cannot_start_is_a_gateway_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from heimdall.config import Config
    from heimdall.gateways import embedded
    from heimdall.gateways.protocol import GatewayError
    from heimdall.server import launcher

    def refuse(config: Config, *, timeout_s: float) -> launcher.EmbeddedGatewayHandle:
        raise launcher.GatewayStartError("port 8787 is taken by something that is not a Heimdall gateway")

    monkeypatch.setattr(launcher, "ensure_embedded_gateway", refuse)
    with pytest.raises(GatewayError, match="not a Heimdall gateway") as failure:
        embedded.ensure_embedded_gateway(Config())
    assert isinstance(failure.value.__cause__, launcher.GatewayStartError)
