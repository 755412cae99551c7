"""Error envelopes -> typed errors; LiteLLM database mode; Bifrost admin price details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from heimdall.credentials import AdminCredential
from heimdall.gateways.bifrost import BifrostClient, bifrost_error
from heimdall.gateways.errors import CredentialMissing, KeyBlocked, KeyNotFound, ModelBlocked, RateLimited
from heimdall.gateways.litellm import LiteLLMClient
from heimdall.gateways.protocol import (
    BudgetExceeded,
    GatewayAuthError,
    GatewayBadResponse,
    GatewayHTTPError,
)
from heimdall.gateways.transport import Reply

from tests.fakes.bifrost import BifrostFake, FakePrice, anthropic_error, go_json, management_error


def reply(status: int, body: dict | bytes) -> Reply:
    content = body if isinstance(body, bytes) else go_json(body)
    return Reply(status, httpx.Headers(), content, "http://127.0.0.1/x", 1.0)


@pytest.mark.parametrize(
    ("status", "body", "expected", "words"),
    [
        (402, management_error(402, "budget hit", "budget_exceeded"), BudgetExceeded, "budget exceeded"),
        (403, management_error(403, "virtual key has expired", "access_blocked"), KeyBlocked, "expired"),
        (
            403,
            management_error(403, "virtual key is inactive", "virtual_key_blocked"),
            KeyBlocked,
            "inactive",
        ),
        (401, management_error(401, "nope", "access_not_found"), KeyNotFound, "not known"),
        (401, management_error(401, "need one", "virtual_key_required"), CredentialMissing, "credential"),
        (429, management_error(429, "slow down", "request_limited"), RateLimited, "rate limited"),
        (403, management_error(403, "no", "model_blocked"), ModelBlocked, "not allowed"),
        (402, anthropic_error(402, "Budget exceeded: 2.0114 >= 2.0000 dollars"), BudgetExceeded, "2.0114"),
        (403, anthropic_error(403, "virtual key is inactive"), KeyBlocked, "inactive"),
        (429, anthropic_error(429, "too many"), RateLimited, "too many"),
        (401, management_error(401, "Unauthorized"), GatewayAuthError, "Unauthorized"),
        (400, management_error(400, "limit must be greater than 0"), GatewayHTTPError, "limit must be"),
        (500, b"<html>oops</html>", GatewayHTTPError, "oops"),
    ],
)
def test_bifrost_envelopes_become_typed_errors(status: int, body, expected: type, words: str) -> None:
    error = bifrost_error(reply(status, body))
    assert type(error) is expected
    assert words in error.message and "\n" not in error.message
    if isinstance(error, GatewayHTTPError):
        assert error.status_code == status


async def test_litellm_database_mode_uses_spend_logs() -> None:
    now = datetime.now(UTC)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/health/readiness":
            return httpx.Response(200, json={"status": "healthy", "db": "connected"})
        if request.url.path == "/spend/logs":
            stamp = lambda minutes: (now - timedelta(minutes=minutes)).isoformat()  # noqa: E731
            return httpx.Response(
                200,
                json=[
                    {
                        "request_id": "1",
                        "spend": 0.008775,
                        "prompt_tokens": 1200,
                        "completion_tokens": 345,
                        "model_group": "claude-sonnet-4-5",
                        "end_user": "s1",
                        "startTime": stamp(5),
                        "status": "success",
                    },
                    {
                        "request_id": "2",
                        "spend": 0.002925,
                        "prompt_tokens": 1200,
                        "completion_tokens": 345,
                        "model_group": "claude-haiku-4-5",
                        "end_user": "s1",
                        "startTime": stamp(3),
                        "status": "success",
                    },
                    {
                        "request_id": "3",
                        "spend": 0.0,
                        "prompt_tokens": 0,
                        "completion_tokens": 0,
                        "model_group": "claude-haiku-4-5",
                        "end_user": "s2",
                        "startTime": stamp(2),
                        "status": "failure",
                    },
                    {
                        "request_id": "4",
                        "spend": 1.0,
                        "model_group": "x",
                        "end_user": "old",
                        "startTime": stamp(300),
                    },
                    {
                        "request_id": "5",
                        "spend": 1.0,
                        "model_group": "x",
                        "end_user": "",
                        "startTime": stamp(1),
                    },
                ],
            )
        return httpx.Response(404)

    client = LiteLLMClient("http://127.0.0.1:4000", key="k", transport=httpx.MockTransport(handler))
    report = await client.usage(None, now - timedelta(hours=1))
    assert client.mode == "database" and set(report.sessions) == {"s1", "s2"}
    assert report.sessions["s1"].totals.cost_usd == pytest.approx(0.0117, abs=1e-12)
    assert report.sessions["s2"].totals.errors == 1
    spend_call = seen[-1]
    assert spend_call.url.params["summarize"] == "false" and spend_call.headers["authorization"] == "Bearer k"
    before = client.requests_sent
    await client.usage(None, now - timedelta(hours=1))
    assert client.requests_sent - before == 1


async def test_litellm_garbage_metrics_is_a_bad_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health/readiness":
            return httpx.Response(200, json={"status": "healthy", "db": "Not connected"})
        return httpx.Response(200, text='litellm_spend_metric_total{end_user="a} 1\n')

    client = LiteLLMClient("http://127.0.0.1:4000", key="k", transport=httpx.MockTransport(handler))
    with pytest.raises(GatewayBadResponse):
        await client.usage(None)


async def test_bifrost_admin_prices_come_from_model_details() -> None:
    with BifrostFake(admin=("admin", "pw")) as fake:
        fake.detail_prices = dict(
            fake.prices, **{"claude-haiku-4-5-20251001": FakePrice(0.8, 4.0, 0.08, 1.0)}
        )
        client = BifrostClient(fake.url, admin=AdminCredential("pw", "admin"))
        models = {m.id: m for m in await client.models()}
        haiku = models["anthropic/claude-haiku-4-5-20251001"]
        assert (haiku.input_per_mtok, haiku.cache_write_per_mtok) == (0.8, 1.0)
        anonymous = {m.id: m for m in await BifrostClient(fake.url).models()}  # 401 on details: ignored
        assert anonymous["anthropic/claude-haiku-4-5-20251001"].input_per_mtok == 1.0
        assert fake.count("/api/models/details") == 1
        await client.aclose()
