"""LiteLLMClient against a REAL LiteLLM proxy (no database) in front of the simulated upstream.

The proxy starts once for this module (~10 s). Every test uses fresh session ids because the
proxy's Prometheus counters are cumulative.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from heimdall.demo.simulated import SimulatedUsage
from heimdall.gateways.litellm import LiteLLMClient
from heimdall.gateways.protocol import GatewayAuthError, HealthStatus, SessionRef

from tests.fakes.litellm import MASTER_KEY, USER_HEADER, shared_stack
from tests.fakes.litellm import LiteLLMStack as Stack

pytestmark = [pytest.mark.litellm, pytest.mark.timeout(180)]

# USD per million tokens in LiteLLM's bundled price map (docs/gateways.md, LiteLLM prices).
PRICES = {
    "claude-sonnet-4-5": (3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": (1.0, 5.0, 0.10, 1.25),
}


def expected_cost(model: str, usage: SimulatedUsage) -> float:
    p_in, p_out, p_read, p_write = PRICES[model]
    return (
        usage.input_tokens * p_in
        + usage.output_tokens * p_out
        + usage.cache_read_input_tokens * p_read
        + usage.cache_creation_input_tokens * p_write
    ) / 1_000_000


@pytest.fixture(scope="module")
def stack() -> Stack:
    return shared_stack()


def send(stack: Stack, session: str, model: str, *, stream: bool = False, text: str = "hi") -> httpx.Response:
    headers = {"x-api-key": MASTER_KEY, USER_HEADER: session, "anthropic-version": "2023-06-01"}
    body = {
        "model": model,
        "max_tokens": 32,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }
    return httpx.post(
        f"{stack.proxy.url}/v1/messages", json=body, headers=headers, timeout=60, trust_env=False
    )


def client_for(stack: Stack, key: str | None = MASTER_KEY) -> LiteLLMClient:
    return LiteLLMClient(stack.proxy.url, key=key, user_header=USER_HEADER, timeout=10)


async def test_per_session_costs_equal_litellm_and_price_table(stack: Stack) -> None:
    sessions = [f"tab-{uuid.uuid4()}" for _ in range(3)]
    plain = SimulatedUsage(1200, 345)
    cached = SimulatedUsage(2048, 512, cache_creation_input_tokens=1024, cache_read_input_tokens=14336)
    plan = [
        (sessions[0], "claude-sonnet-4-5", False, plain),
        (sessions[0], "claude-sonnet-4-5", True, plain),
        (sessions[1], "claude-sonnet-4-5", False, cached),
        (sessions[1], "claude-haiku-4-5", True, plain),
        (sessions[2], "claude-haiku-4-5", False, cached),
        (sessions[2], "claude-haiku-4-5", False, plain),
    ]
    litellm_says: dict[str, float] = dict.fromkeys(sessions, 0.0)
    expected: dict[tuple[str, str], list[SimulatedUsage]] = {}
    for session, model, stream, usage in plan:
        stack.upstream.usage = usage
        response = send(stack, session, model, stream=stream)
        assert response.status_code == 200, response.text
        if not stream:  # streamed replies carry a 0.0 cost header (sent before usage is known)
            header = float(response.headers["x-litellm-response-cost"])
            assert header == pytest.approx(expected_cost(model, usage), abs=1e-9)
            litellm_says[session] += header
        else:
            litellm_says[session] += expected_cost(model, usage)
        expected.setdefault((session, model), []).append(usage)

    client = client_for(stack)

    async def settled() -> bool:
        report = await client.usage(sessions)
        return all(report.sessions[s].totals.requests == 2 for s in sessions) and all(
            report.sessions[s].totals.cost_usd == pytest.approx(litellm_says[s], abs=1e-9) for s in sessions
        )

    assert await wait_async(settled), "LiteLLM metrics never reached the expected totals"
    report = await client.usage(sessions)
    assert report.complete is False and "restart" in (report.note or "")
    for (session, model), usages in expected.items():
        cell = report.sessions[session].models[model]
        assert cell.cost_usd == pytest.approx(sum(expected_cost(model, u) for u in usages), abs=1e-9)
        assert cell.input_tokens == sum(u.input_tokens for u in usages)
        assert cell.output_tokens == sum(u.output_tokens for u in usages)
        assert cell.cache_read_tokens == sum(u.cache_read_input_tokens for u in usages)
        assert cell.cache_write_tokens == sum(u.cache_creation_input_tokens for u in usages)
        assert cell.requests == len(usages)
    # docs/gateways.md, LiteLLM prices: one Sonnet request at 1,200 in / 345 out costs $0.008775
    assert expected_cost("claude-sonnet-4-5", plain) == pytest.approx(0.008775, abs=1e-12)
    assert report.sessions[sessions[0]].totals.cost_usd == pytest.approx(0.01755, abs=1e-9)
    await client.aclose()


async def wait_async(check, timeout: float = 20.0) -> bool:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return bool(await check())


async def test_one_metrics_request_per_refresh(stack: Stack) -> None:
    client = client_for(stack)
    await client.usage(None)  # first refresh also detects the mode (/health/readiness)
    assert client.mode == "metrics"
    for n_sessions in (1, 50):
        ids = [f"count-{i}" for i in range(n_sessions)]
        before = client.requests_sent
        await client.usage(ids)
        assert client.requests_sent - before == 1
    await client.aclose()


async def test_failed_requests_count_as_errors(stack: Stack) -> None:
    session = f"err-{uuid.uuid4()}"
    stack.upstream.usage = SimulatedUsage(1200, 345)
    assert send(stack, session, "claude-haiku-4-5", text="FAKE_ERROR_400").status_code >= 400
    assert send(stack, session, "claude-haiku-4-5").status_code == 200
    client = client_for(stack)

    async def settled() -> bool:
        totals = (await client.usage([session])).sessions[session].totals
        return totals.errors >= 1 and totals.cost_usd > 0

    assert await wait_async(settled)
    totals = (await client.usage([session])).sessions[session].totals
    assert totals.cost_usd == pytest.approx(0.002925, abs=1e-9)
    await client.aclose()


async def test_models_health_and_wrong_key(stack: Stack) -> None:
    client = client_for(stack)
    models = {m.id: m for m in await client.models()}
    assert set(models) == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    sonnet = models["claude-sonnet-4-5"]
    assert (sonnet.input_per_mtok, sonnet.output_per_mtok) == (3.0, 15.0)
    assert (sonnet.cache_read_per_mtok, sonnet.cache_write_per_mtok) == (0.3, 3.75)
    assert models["claude-haiku-4-5"].input_per_mtok == 1.0
    health = await client.health()
    assert health.ok and health.latency_ms is not None and "Prometheus" in health.message
    wrong = client_for(stack, key="sk-wrong")
    with pytest.raises(GatewayAuthError):
        await wrong.usage(None)
    assert (await wrong.health()).status is HealthStatus.AUTH_FAILED
    env = client.session_env(SessionRef("s-1"), {"ANTHROPIC_API_KEY": "sk-ant-x"})
    assert env["ANTHROPIC_BASE_URL"] == stack.proxy.url
    assert env["ANTHROPIC_AUTH_TOKEN"] == MASTER_KEY and env["ANTHROPIC_API_KEY"] is None
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == f"{USER_HEADER}: s-1"
    for c in (client, wrong):
        await c.aclose()
