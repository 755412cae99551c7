"""The Bifrost-compatible read API: shapes, filters, pagination errors, auth, budgets."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes.anthropic import SimulatedUpstream, SimulatedUsage
from tests.server.conftest import GatewayUnderTest

pytestmark = pytest.mark.timeout(120)

SONNET_COST = (1200 * 3 + 345 * 15) / 1e6  # the fake's default usage: $0.008775
HAIKU_COST = (1200 * 1 + 345 * 5) / 1e6  # $0.002925


def send(gw: GatewayUnderTest, model: str, session: str | None, stream: bool = False) -> httpx.Response:
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    if session:
        headers["x-bf-lh-session"] = session
    messages = [{"role": "user", "content": "hi"}]
    payload = {"model": model, "max_tokens": 10, "stream": stream, "messages": messages}
    return httpx.post(gw.url + "/anthropic/v1/messages", json=payload, headers=headers, timeout=30)


@pytest.fixture
def populated(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> GatewayUnderTest:
    fake_upstream.usage = SimulatedUsage()
    gw = start_gateway(fake_upstream.url)
    for i in range(7):
        assert send(gw, "claude-sonnet-4-5", "A", stream=i % 2 == 0).status_code == 200
    for _ in range(3):
        assert send(gw, "claude-haiku-4-5", "B").status_code == 200
    assert send(gw, "claude-haiku-4-5", None).status_code == 200
    gw.wait_settled(11)
    return gw


def test_pagination_and_exact_400_messages(populated: GatewayUnderTest) -> None:
    gw = populated
    page = gw.get("/api/logs", limit=4, offset=0)
    assert page["pagination"] == {
        "limit": 4, "offset": 0, "sort_by": "timestamp", "order": "desc", "total_count": 11
    }
    assert len(page["logs"]) == 4 and page["has_logs"] is True
    seen = [r["id"] for r in page["logs"]]
    for offset in (4, 8):
        seen += [r["id"] for r in gw.get("/api/logs", limit=4, offset=offset)["logs"]]
    assert len(seen) == len(set(seen)) == 11
    stamps = [r["timestamp"] for r in gw.get("/api/logs")["logs"]]
    assert stamps == sorted(stamps, reverse=True)
    assert gw.get("/api/logs", limit=5, offset=50)["logs"] == []
    assert gw.get("/api/logs", limit="abc")["pagination"]["limit"] == 50  # non-integer: ignored
    for params, message in [
        ({"limit": "0"}, "limit must be greater than 0"),
        ({"limit": "-3"}, "limit must be greater than 0"),
        ({"limit": "1001"}, "limit cannot exceed 1000"),
        ({"offset": "-1"}, "offset cannot be negative"),
    ]:
        r = gw.api.get("/api/logs", params=params)
        assert r.status_code == 400
        assert r.json() == {
            "is_bifrost_error": False,
            "status_code": 400,
            "error": {"message": message},
            "extra_fields": {},
        }
        assert r.content.endswith(b"\n")
    for params, message in [
        ({"limit": "x"}, "Invalid limit: x. Expected a positive integer, or all=true for no limit"),
        ({"limit": "0"}, "Invalid limit: 0. Expected a positive integer, or all=true for no limit"),
        ({"all": "maybe"}, "Invalid all: maybe. Expected a boolean"),
    ]:
        r = gw.api.get("/api/logs/rankings", params=params)
        assert r.status_code == 400 and r.json()["error"]["message"] == message


def test_filters_sorting_and_stats(populated: GatewayUnderTest) -> None:
    gw = populated
    a = gw.get("/api/logs/stats", metadata_session="A")
    assert a["total_requests"] == 7 and a["total_cost"] == pytest.approx(7 * SONNET_COST, abs=1e-9)
    assert a["total_tokens"] == 7 * (1200 + 345) and a["prompt_tokens"] == 7 * 1200
    assert a["completion_tokens"] == 7 * 345 and a["success_rate"] == 100
    b = gw.get("/api/logs/stats", metadata_session="B")
    assert b["total_cost"] == pytest.approx(3 * HAIKU_COST, abs=1e-9)
    everything = gw.get("/api/logs/stats")
    assert everything["total_cost"] == pytest.approx(7 * SONNET_COST + 4 * HAIKU_COST, abs=1e-9)
    assert len(gw.logs(models="claude-haiku-4-5")) == 4
    assert len(gw.logs(models="claude-haiku-4-5,claude-sonnet-4-5")) == 11
    assert len(gw.logs(objects="responses_stream")) == 4
    assert len(gw.logs(status="error")) == 0 and len(gw.logs(status="success,error")) == 11
    assert gw.logs(metadata_session="nope") == []
    costs = [r["cost"] for r in gw.logs(sort_by="cost", order="asc")]
    assert costs == sorted(costs)
    assert gw.get("/api/logs", sort_by="bogus", order="sideways")["pagination"] | {} == {
        "limit": 50, "offset": 0, "sort_by": "timestamp", "order": "desc", "total_count": 11
    }
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    assert gw.logs(start_time=future) == []
    assert len(gw.logs(end_time=future)) == 11
    assert len(gw.logs(start_time="not a time")) == 11  # unparsable: ignored, like Bifrost
    one = gw.logs(limit=1)[0]
    assert gw.get(f"/api/logs/{one['id']}")["id"] == one["id"]
    missing = gw.api.get("/api/logs/does-not-exist")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "log not found"
    ranks = gw.get("/api/logs/rankings", all="true")["rankings"]
    assert [r["model"] for r in ranks] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert ranks[0]["success_rate"] == 100 and ranks[0]["trend"]["has_previous_period"] is False
    assert len(gw.get("/api/logs/rankings", limit=1)["rankings"]) == 1
    start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    end = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    windowed = gw.get("/api/logs/rankings", start_time=start, end_time=end)["rankings"]
    assert windowed[0]["total_requests"] == 7


def test_unknown_model_is_flagged_and_metadata_keys_filter(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url)
    headers = {"x-bf-lh-session": "s", "x-bf-lh-Team": "blue"}
    payload = {"model": "house-model-7", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    assert httpx.post(gw.url + "/v1/messages", json=payload, headers=headers).status_code == 200
    assert send(gw, "claude-haiku-4-5", "s").status_code == 200
    gw.wait_settled(2)
    [row] = gw.logs(missing_cost_only="true")
    assert row["model"] == "house-model-7" and row["heimdall"]["missing_cost"] is True
    assert "cost" not in row and row["token_usage"]["total_tokens"] == 1200 + 345
    assert [r["model"] for r in gw.logs(metadata_team="blue")] == ["house-model-7"]
    assert gw.get("/api/logs/stats", metadata_session="s")["total_cost"] == pytest.approx(HAIKU_COST)
    bad = gw.api.get("/api/logs", params={"metadata_bad key": "x"})
    assert bad.status_code == 400


def test_api_requires_the_bearer_token(populated: GatewayUnderTest) -> None:
    gw = populated
    wrong = ({}, {"Authorization": "Bearer wrong"}, {"x-api-key": gw.token}, {"Authorization": gw.token})
    for headers in wrong:
        for path in ("/api/logs", "/api/logs/stats", "/api/logs/rankings", "/api/heimdall/budgets"):
            r = httpx.get(gw.url + path, headers=headers)
            assert r.status_code == 401, (path, headers)
            assert r.json()["status_code"] == 401 and "Bearer" in r.json()["error"]["message"]
    assert httpx.get(gw.url + "/health").json()["status"] == "ok"  # open, like Bifrost


def test_models_list_with_prices_per_token(populated: GatewayUnderTest) -> None:
    listing = httpx.get(populated.url + "/v1/models").json()
    assert listing["extra_fields"]["request_type"] == "list_models"
    by_id = {m["id"]: m for m in listing["data"]}
    sonnet = by_id["anthropic/claude-sonnet-4-5-20250929"]
    assert sonnet["pricing"] == {
        "prompt": "0.000003",
        "completion": "0.000015",
        "input_cache_read": "0.0000003",
        "input_cache_write": "0.00000375",
    }
    assert by_id["anthropic/claude-haiku-4-5-20251001"]["pricing"]["prompt"] == "0.000001"
    assert "pricing" not in by_id["anthropic/simulated-other-model"]


def test_budgets_refuse_with_402_billing_error(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url, session_budget_usd=0.02)
    r = gw.api.post("/api/heimdall/budgets", json={"session": "tight", "max_usd": 0.01})
    assert r.status_code == 200 and r.json()["max_usd"] == 0.01
    bad = gw.api.post("/api/heimdall/budgets", json={"session": "tight", "max_usd": "lots"})
    assert bad.status_code == 400 and "max_usd" in bad.json()["error"]["message"]
    assert gw.api.post("/api/heimdall/budgets", content=b"{oops").status_code == 400
    # $0.008775 per request: the second still runs (0.008775 < 0.01), the third is refused.
    assert send(gw, "claude-sonnet-4-5", "tight").status_code == 200
    gw.wait_settled(1)
    assert send(gw, "claude-sonnet-4-5", "tight", stream=True).status_code == 200
    gw.wait_settled(2)
    refused = send(gw, "claude-sonnet-4-5", "tight")
    assert refused.status_code == 402
    assert refused.json()["type"] == "error"
    assert refused.json()["error"]["type"] == "billing_error"
    assert "Budget exceeded" in refused.json()["error"]["message"]
    upstream_calls = len(fake_upstream.requests())
    assert upstream_calls == 2  # the refused request never left the gateway
    # The config default ($0.02) applies to sessions without their own budget.
    for _ in range(3):
        assert send(gw, "claude-sonnet-4-5", "default").status_code == 200
    assert send(gw, "claude-sonnet-4-5", "default").status_code == 402
    # Lifting the budget lets the session continue.
    assert gw.api.post("/api/heimdall/budgets", json={"session": "tight", "max_usd": None}).status_code == 200
    gw.api.post("/api/heimdall/budgets", json={"session": "tight", "max_usd": 1.0})
    assert send(gw, "claude-sonnet-4-5", "tight").status_code == 200
    budgets = {s["session"]: s for s in gw.get("/api/heimdall/budgets")["sessions"]}
    assert budgets["tight"]["spent_usd"] == pytest.approx(3 * 0.008775, abs=1e-9)
    refused_rows = gw.logs(status="error", metadata_session="tight")
    assert refused_rows[0]["error_details"]["status_code"] == 402


def test_daily_budget(
    fake_upstream: SimulatedUpstream, start_gateway: Callable[..., GatewayUnderTest]
) -> None:
    gw = start_gateway(fake_upstream.url, daily_budget_usd=0.01)
    assert send(gw, "claude-sonnet-4-5", "x").status_code == 200
    assert send(gw, "claude-sonnet-4-5", "y").status_code == 200
    deadline = time.monotonic() + 5
    while send(gw, "claude-sonnet-4-5", "z").status_code != 402:  # spend is counted on completion
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = send(gw, "claude-haiku-4-5", None)
    assert r.status_code == 402 and "Daily budget" in r.json()["error"]["message"]
