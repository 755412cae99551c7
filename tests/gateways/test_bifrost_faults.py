"""Faults turn into typed `GatewayError`s (never another exception) and the next refresh recovers."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from heimdall.credentials import AdminCredential
from heimdall.gateways.bifrost import BifrostClient
from heimdall.gateways.errors import InsecureGatewayURL, RedirectRefused
from heimdall.gateways.protocol import (
    GatewayAuthError,
    GatewayBadResponse,
    GatewayError,
    GatewayHTTPError,
    GatewayTimeout,
    GatewayUnreachable,
    HealthStatus,
)

from tests.fakes.bifrost import BifrostFake, fake_cost
from tests.gateways.bifrost_support import SONNET, send, settle

pytestmark = pytest.mark.timeout(60)

SINCE = datetime.now(UTC) - timedelta(hours=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("mode", "error_type"),
    [
        ("500", GatewayHTTPError),
        ("malformed", GatewayBadResponse),
        ("missing_field", GatewayBadResponse),
        ("slow", GatewayTimeout),
        ("drop", GatewayUnreachable),
    ],
)
async def test_usage_fault_is_typed_and_next_refresh_recovers(mode: str, error_type: type) -> None:
    with BifrostFake() as fake:
        send(fake, "a", SONNET)
        settle(fake)
        client = BifrostClient(fake.url, timeout=0.5)
        first = await client.usage(None, SINCE)
        fake.inject("/api/logs", mode, seconds=1.5)
        send(fake, "a", SONNET)
        settle(fake)
        with pytest.raises(error_type) as caught:
            await client.usage(None, SINCE)
        assert isinstance(caught.value, GatewayError) and caught.value.message
        report = await client.usage(None, SINCE)  # the fault was one-shot: recovered
        assert first.sessions["a"].totals.requests == 1
        assert report.sessions["a"].totals.requests == 2
        assert report.total_cost_usd == pytest.approx(2 * fake_cost(SONNET, fake.usage), abs=1e-9)
        await client.aclose()


async def test_models_faults_are_typed() -> None:
    with BifrostFake() as fake:
        client = BifrostClient(fake.url, timeout=0.5)
        for mode, error_type in [
            ("500", GatewayHTTPError),
            ("malformed", GatewayBadResponse),
            ("missing_field", GatewayBadResponse),
        ]:
            fake.inject("/v1/models", mode)
            with pytest.raises(error_type):
                await client.models()
        assert len(await client.models()) == 3
        await client.aclose()


async def test_gateway_down_then_up() -> None:
    port = free_port()
    client = BifrostClient(f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(GatewayUnreachable) as caught:
        await client.usage(None, SINCE)
    assert "connection refused" in caught.value.message
    health = await client.health()
    assert health.status is HealthStatus.UNREACHABLE and not health.ok
    with pytest.raises(GatewayUnreachable):
        await client.models()
    with BifrostFake(port=port) as fake:
        send(fake, "a", SONNET)
        settle(fake)
        assert (await client.usage(None, SINCE)).sessions["a"].totals.requests == 1
        assert (await client.health()).ok
    await client.aclose()


async def test_wrong_credentials_are_auth_errors_then_fixed() -> None:
    with BifrostFake(admin=("admin", "right")) as fake:
        client = BifrostClient(fake.url, admin=AdminCredential("wrong", "admin"))
        with pytest.raises(GatewayAuthError):
            await client.usage(None, SINCE)
        client.admin = AdminCredential("right", "admin")
        assert (await client.usage(None, SINCE)).sessions == {}
        await client.aclose()


async def test_unknown_virtual_key_is_typed() -> None:
    with BifrostFake() as fake:
        client = BifrostClient(fake.url, virtual_key="sk-bf-00000000-0000-4000-8000-000000000000")
        with pytest.raises(GatewayAuthError) as caught:
            await client.models()
        assert "virtual key" in caught.value.message
        health = await client.health()
        assert health.status is HealthStatus.AUTH_FAILED
        await client.aclose()


async def test_blocked_key_is_typed() -> None:
    from heimdall.gateways.errors import KeyBlocked

    with BifrostFake() as fake:
        vk = fake.create_vk("blocked", is_active=False)
        client = BifrostClient(fake.url, virtual_key=vk["value"])
        with pytest.raises(KeyBlocked) as caught:
            await client.models()
        assert "inactive" in caught.value.message
        await client.aclose()


def test_plain_http_to_remote_host_is_refused() -> None:
    with pytest.raises(InsecureGatewayURL):
        BifrostClient("http://bifrost.example.com:8080")
    BifrostClient("https://bifrost.example.com")  # fine
    BifrostClient("http://localhost:8080")
    BifrostClient("http://[::1]:8080")


async def test_cross_host_redirect_is_refused_same_host_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(307, headers={"location": "https://evil.example.net/v1/models"})
        if request.url.path == "/api/logs":
            return httpx.Response(307, headers={"location": "/api/logs/"})
        if request.url.path == "/api/logs/":
            return httpx.Response(200, json={"logs": [], "pagination": {"total_count": 0}})
        return httpx.Response(404)

    client = BifrostClient("http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    with pytest.raises(RedirectRefused):
        await client.models()
    assert (await client.usage(None, SINCE)).sessions == {}
    await client.aclose()
