"""The pass-through over real HTTP: exact metering, byte-identical relay, errors, disconnects."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.fakes.anthropic import SimulatedUpstream, SimulatedUsage
from tests.server.conftest import GatewayUnderTest
from tests.server.tap import TcpTap, http_body

pytestmark = pytest.mark.timeout(120)

SONNET = "claude-sonnet-4-5"
HAIKU = "claude-haiku-4-5"
# USD per MTok (input, output, cache read, 5m write, 1h write) as genai-prices publishes them.
RATES = {SONNET: (3, 15, 0.30, 3.75, 6), HAIKU: (1, 5, 0.10, 1.25, 2)}
USAGE = {
    SONNET: SimulatedUsage(
        input_tokens=1200,
        output_tokens=345,
        cache_creation_input_tokens=300,
        cache_read_input_tokens=5000,
        cache_creation_1h_input_tokens=100,
    ),
    HAIKU: SimulatedUsage(
        input_tokens=800,
        output_tokens=120,
        cache_creation_input_tokens=64,
        cache_read_input_tokens=2048,
    ),
}


def cost_of(model: str, u: SimulatedUsage) -> float:
    i, o, r, w5, w1 = RATES[model]
    one_hour = u.cache_creation_1h_input_tokens
    five_min = u.cache_creation_input_tokens - one_hour
    return (
        u.input_tokens * i
        + u.output_tokens * o
        + u.cache_read_input_tokens * r
        + five_min * w5
        + one_hour * w1
    ) / 1e6


def body(model: str, stream: bool, text: str = "hello") -> dict:
    return {
        "model": model,
        "max_tokens": 100,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def post(url: str, payload: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    base = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-client-key"}
    return httpx.post(url, json=payload, headers={**base, **(headers or {})}, timeout=30)


def test_three_sessions_two_models_costs_exact(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    fake_upstream.model_usage = dict(USAGE)
    gw = start_gateway(fake_upstream.url)
    sessions = [str(uuid.uuid4()) for _ in range(3)]
    plan = {s: [(SONNET, False), (SONNET, True), (HAIKU, False), (HAIKU, True)] for s in sessions}
    plan[sessions[1]].append((SONNET, True))  # sessions differ, so a mix-up would show
    for session, calls in plan.items():
        for model, stream in calls:
            prefix = "/anthropic" if stream else ""
            url = f"{gw.url}{prefix}/v1/messages?beta=true"
            r = post(url, body(model, stream), {"x-bf-lh-session": session})
            assert r.status_code == 200, r.text
    gw.wait_settled(sum(len(c) for c in plan.values()))
    for session, calls in plan.items():
        stats = gw.get("/api/logs/stats", metadata_session=session)
        want_cost = sum(cost_of(m, USAGE[m]) for m, _ in calls)
        assert stats["total_requests"] == len(calls)
        assert stats["success_rate"] == 100
        assert stats["total_cost"] == pytest.approx(want_cost, abs=1e-9)
        want_tokens = sum(
            u.input_tokens + u.output_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens
            for u in (USAGE[m] for m, _ in calls)
        )
        assert stats["total_tokens"] == want_tokens
        rows = gw.logs(metadata_session=session)
        assert {r["object"] for r in rows} == {"responses", "responses_stream"}
        for row in rows:
            u = USAGE[row["model"]]
            assert row["cost"] == pytest.approx(cost_of(row["model"], u), abs=1e-12)
            details = row["token_usage"]["prompt_tokens_details"]
            assert details["cached_read_tokens"] == u.cache_read_input_tokens
            assert details["cached_write_tokens"] == u.cache_creation_input_tokens
            assert row["heimdall"]["cache_write_1h_tokens"] == u.cache_creation_1h_input_tokens
            assert row["heimdall"]["input_tokens"] == u.input_tokens
            assert row["token_usage"]["completion_tokens"] == u.output_tokens
            assert row["stop_reason"] == "end_turn"
            assert row["heimdall"]["ttfb_ms"] > 0 and row["latency"] >= row["heimdall"]["ttfb_ms"]
    ranks = {r["model"]: r for r in gw.get("/api/logs/rankings")["rankings"]}
    n_sonnet = sum(1 for c in plan.values() for m, _ in c if m == SONNET)
    assert ranks[SONNET]["total_requests"] == n_sonnet
    assert ranks[SONNET]["total_cost"] == pytest.approx(n_sonnet * cost_of(SONNET, USAGE[SONNET]), abs=1e-9)


def test_bytes_relayed_are_identical_and_lh_headers_stay_here(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    tap = TcpTap(fake_upstream.port)
    try:
        for stream in (True, False):
            gw = start_gateway(tap.url)
            before = len(tap.downstream)
            headers = {
                "anthropic-version": "2023-06-01",
                "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
                "authorization": "Bearer sk-ant-oat-subscription-token",
                "x-bf-lh-session": "sess-bytes",
                "x-bf-lh-tab": "tab-7",
                "x-claude-code-session-id": "cc-123",
                "x-stainless-lang": "js",
            }
            text = "FAKE_TOOL_USE " + json.dumps({"name": "Bash", "input": {"command": "ls"}})
            payload = json.dumps(body(SONNET, stream, text)).encode()
            with httpx.Client(timeout=30) as client, client.stream(
                "POST", gw.url + "/anthropic/v1/messages?beta=true", content=payload, headers=headers
            ) as response:
                got = b"".join(response.iter_raw())
            assert response.status_code == 200
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                records = tap.downstream[before:]
                if records and http_body(bytes(records[0]))[1].endswith(got[-20:]):
                    break
                time.sleep(0.02)
            _, upstream_body = http_body(bytes(tap.downstream[before]))
            assert got == upstream_body and len(got) > 100
            if stream:
                assert b"event: message_start" in got and b"input_json_delta" in got
            seen = fake_upstream.requests()[-1]
            assert seen["body"] == json.loads(payload)
            assert seen["path"] == "/v1/messages?beta=true"
            for name in headers:
                if name.startswith("x-bf-"):
                    continue
                assert seen["headers"][name] == headers[name], name
            assert not [h for h in seen["headers"] if h.startswith("x-bf-")]
            row = gw.wait_settled(1)[0]
            assert row["metadata"] == {"session": "sess-bytes", "tab": "tab-7"}
            assert row["heimdall"]["claude_code_session_id"] == "cc-123"
            assert row["stop_reason"] == "tool_use"
    finally:
        tap.close()


def test_twenty_concurrent_streams_lose_no_row(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    fake_upstream.usage = USAGE[HAIKU]
    gw = start_gateway(fake_upstream.url)
    results: list[int] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            r = post(gw.url + "/v1/messages", body(HAIKU, True), {"x-bf-lh-session": f"c{i % 4}"})
            assert b"message_stop" in r.content
            results.append(r.status_code)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and results == [200] * 20
    rows = gw.wait_settled(20)
    assert len(rows) == 20 and {r["status"] for r in rows} == {"success"}
    stats = gw.get("/api/logs/stats")
    assert stats["total_cost"] == pytest.approx(20 * cost_of(HAIKU, USAGE[HAIKU]), abs=1e-9)
    assert sum(gw.get("/api/logs/stats", metadata_session=f"c{k}")["total_requests"] for k in range(4)) == 20


def test_client_disconnect_mid_stream_is_cancelled_with_partial_usage(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    fake_upstream.usage = USAGE[SONNET]
    gw = start_gateway(fake_upstream.url)
    with httpx.Client(timeout=30) as client, client.stream(
        "POST",
        gw.url + "/v1/messages",
        json=body(SONNET, True, "FAKE_SLOW please"),
        headers={"x-bf-lh-session": "gone"},
    ) as response:
        chunks = response.iter_raw()  # keep a reference: a dropped iterator closes the response
        assert b"message_start" in next(chunks)
        # While the stream runs, the row is visible as `processing`, without terminal fields.
        deadline = time.monotonic() + 5
        live: list[dict] = []
        while not live and time.monotonic() < deadline:
            live = gw.logs(status="processing")
        assert live, "no processing row while the stream was in flight"
        assert live[0]["model"] == SONNET and live[0]["metadata"] == {"session": "gone"}
        assert not {"latency", "cost", "token_usage"} & set(live[0])
        assert gw.get("/api/logs/stats")["total_requests"] == 1  # processing rows count
    row = gw.wait_settled(1)[0]
    assert row["status"] == "cancelled"
    u = USAGE[SONNET]
    assert row["heimdall"]["input_tokens"] == u.input_tokens
    assert row["token_usage"]["completion_tokens"] == 1  # what message_start reported
    partial = SimulatedUsage(
        input_tokens=u.input_tokens,
        output_tokens=1,
        cache_creation_input_tokens=u.cache_creation_input_tokens,
        cache_read_input_tokens=u.cache_read_input_tokens,
        cache_creation_1h_input_tokens=u.cache_creation_1h_input_tokens,
    )
    assert row["cost"] == pytest.approx(cost_of(SONNET, partial), abs=1e-12)
    assert "stop_reason" not in row


def test_upstream_529_is_relayed_and_logged_as_error(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url)
    for stream in (False, True):
        r = post(gw.url + "/v1/messages", body(SONNET, stream, "FAKE_ERROR_529"), {"x-bf-lh-session": "e"})
        assert r.status_code == 529
        assert r.json()["error"]["type"] == "overloaded_error"
        assert r.headers.get("retry-after") == "0"
    rows = gw.wait_settled(2)
    for row in rows:
        assert row["status"] == "error"
        assert row["error_details"]["status_code"] == 529
        assert row["error_details"]["error"]["type"] == "overloaded_error"
        assert "cost" not in row
    stats = gw.get("/api/logs/stats", metadata_session="e")
    assert stats["success_rate"] == 0 and stats["total_cost"] == 0


def test_unreachable_upstream_gives_502_and_an_error_row(
    start_gateway: Callable[..., GatewayUnderTest],
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    gw = start_gateway(dead)
    r = post(gw.url + "/v1/messages", body(SONNET, True))
    assert r.status_code == 502 and r.json()["error"]["type"] == "api_error"
    assert "could not reach the upstream" in r.json()["error"]["message"]
    row = gw.wait_settled(1)[0]
    assert row["status"] == "error" and row["error_details"]["status_code"] == 502


def test_broken_upstream_stream_writes_what_was_seen(
    start_gateway: Callable[..., GatewayUnderTest],
) -> None:
    import socket

    start_event = {
        "type": "message_start",
        "message": {"model": SONNET, "usage": {"input_tokens": 1000, "output_tokens": 1}},
    }
    event = f"event: message_start\ndata: {json.dumps(start_event)}\n\n".encode()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            + f"{len(event):x}\r\n".encode() + event + b"\r\n"
        )
        time.sleep(0.2)
        conn.close()  # dies mid-stream, without the terminating chunk

    threading.Thread(target=serve, daemon=True).start()
    gw = start_gateway(f"http://127.0.0.1:{server.getsockname()[1]}")
    r = post(gw.url + "/v1/messages", body(SONNET, True))
    assert b"message_start" in r.content and b"event: error" in r.content
    row = gw.wait_settled(1)[0]
    assert row["status"] == "error"
    assert row["heimdall"]["input_tokens"] == 1000
    assert row["cost"] == pytest.approx((1000 * 3 + 1 * 15) / 1e6, abs=1e-12)
    server.close()


def test_count_tokens_models_and_head(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url)
    count = {"model": SONNET, "messages": [{"role": "user", "content": "hi"}]}
    r = post(gw.url + "/anthropic/v1/messages/count_tokens?beta=true", count)
    assert r.status_code == 200 and r.json()["input_tokens"] >= 1
    assert httpx.head(gw.url + "/").status_code == 200
    assert httpx.head(gw.url + "/anthropic").status_code == 200
    version = {"anthropic-version": "2023-06-01"}
    listing = httpx.get(gw.url + "/anthropic/v1/models?limit=1000", headers=version)
    assert listing.status_code == 200
    assert listing.json()["data"][0]["type"] == "model"  # Anthropic format, passed through
    row = gw.wait_settled(1)[0]
    assert row["object"] == "count_tokens" and row["status"] == "success" and "cost" not in row


def test_held_key_mode_requires_the_local_token_and_swaps_the_key(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url, held_key="sk-ant-held-upstream-key")
    r = post(gw.url + "/v1/messages", body(SONNET, False))  # client's own key, not our token
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert not fake_upstream.requests()
    r = httpx.post(
        gw.url + "/anthropic/v1/messages",
        json=body(SONNET, False),
        headers={"authorization": f"Bearer {gw.token}", "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 200
    sent = fake_upstream.requests()[-1]["headers"]
    assert sent["x-api-key"] == "sk-ant-held-upstream-key"
    assert "authorization" not in sent
    assert httpx.get(gw.url + "/health").json()["auth_mode"] == "held_key"
