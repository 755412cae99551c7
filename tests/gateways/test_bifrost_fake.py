"""The Bifrost fake itself follows the contract (docs/bifrost-api.md): the client tests are only as
good as the fake, so its envelopes, validation texts and governance rules are pinned here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.bifrost import BifrostFake, FakeUsage, fake_cost, go_time
from tests.gateways.bifrost_support import HAIKU, SONNET, send, settle

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def fake() -> Iterator[BifrostFake]:
    with BifrostFake() as server:
        yield server


def test_log_rows_go_processing_then_terminal_with_metadata_and_cost() -> None:
    with BifrostFake(auto_complete=False) as fake:
        fake.usage = FakeUsage(2048, 512, 1024, 14336)
        response = send(fake, "sess-1", SONNET, stream=True)
        assert response.headers["content-type"].startswith("text/event-stream")
        assert b"event: message_stop" in response.content
        row = httpx.get(f"{fake.url}/api/logs").json()["logs"][0]
        assert row["status"] == "processing" and "cost" not in row and "token_usage" not in row
        assert row["object"] == "responses_stream" and row["metadata"] == {"session": "sess-1"}
        assert row["virtual_key_id"] is None and row["parent_request_id"] is None
        fake.complete_pending()
        row = httpx.get(f"{fake.url}/api/logs/{row['id']}").json()
        assert row["status"] == "success" and row["cost"] == pytest.approx(0.0219648, abs=1e-12)
        assert row["token_usage"]["prompt_tokens"] == 17408 and row["token_usage"]["total_tokens"] == 17920


def test_logs_filters_sort_pagination_and_stats(fake: BifrostFake) -> None:
    for session, model in [("a", SONNET), ("b", HAIKU), ("a", HAIKU)]:
        send(fake, session, model)
    send(fake, "a", SONNET, text="FAKE_ERROR_500")
    settle(fake)
    base = f"{fake.url}/api/logs"
    page = httpx.get(base, params={"metadata_session": "a", "limit": 2, "order": "asc"}).json()
    assert page["pagination"] == {
        "limit": 2,
        "offset": 0,
        "sort_by": "timestamp",
        "order": "asc",
        "total_count": 3,
    }
    assert len(page["logs"]) == 2 and page["has_logs"] is True
    assert page["stats"]["total_requests"] == 3
    assert page["stats"]["success_rate"] == pytest.approx(200 / 3)
    assert httpx.get(base, params={"models": HAIKU}).json()["pagination"]["total_count"] == 2
    assert httpx.get(base, params={"status": "error"}).json()["pagination"]["total_count"] == 1
    assert httpx.get(base, params={"metadata_session": "zzz"}).json()["logs"] == []
    by_cost = httpx.get(base, params={"sort_by": "cost", "order": "desc", "status": "success"}).json()["logs"]
    assert [r["cost"] for r in by_cost] == sorted((r["cost"] for r in by_cost), reverse=True)
    future = go_time(__import__("datetime").datetime.now(__import__("datetime").UTC).replace(year=2100))
    assert httpx.get(base, params={"start_time": future}).json()["pagination"]["total_count"] == 0
    stats = httpx.get(f"{fake.url}/api/logs/stats", params={"metadata_session": "b"}).json()
    assert stats["total_cost"] == pytest.approx(fake_cost(HAIKU, fake.usage), abs=1e-12)
    rankings = httpx.get(f"{fake.url}/api/logs/rankings", params={"all": "true"}).json()["rankings"]
    assert {r["model"] for r in rankings} == {SONNET, HAIKU}
    bad = httpx.get(f"{fake.url}/api/logs/rankings", params={"limit": "x"})
    assert bad.status_code == 400
    assert (
        bad.json()["error"]["message"]
        == "Invalid limit: x. Expected a positive integer, or all=true for no limit"
    )
    missing = httpx.get(f"{fake.url}/api/logs/nope")
    assert missing.status_code == 404 and missing.json() == {
        "is_bifrost_error": False,
        "status_code": 404,
        "error": {"message": "log not found"},
        "extra_fields": {},
    }


def test_models_pagination_token_is_base64url_offset_and_last_id(fake: BifrostFake) -> None:
    first = httpx.get(f"{fake.url}/v1/models", params={"page_size": 2}).json()
    assert len(first["data"]) == 2 and first["extra_fields"]["request_type"] == "list_models"
    token = first["next_page_token"]
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded == {"o": 2, "l": first["data"][-1]["id"]}
    last = httpx.get(f"{fake.url}/v1/models", params={"page_size": 2, "page_token": token}).json()
    assert len(last["data"]) == 1 and "next_page_token" not in last
    bogus = httpx.get(f"{fake.url}/v1/models", params={"page_size": 2, "page_token": "!!"}).json()
    assert bogus["data"] == first["data"]  # a bad token restarts at 0


def test_governance_validation_and_deny_by_default(fake: BifrostFake) -> None:
    api = f"{fake.url}/api/governance/virtual-keys"

    def create(body: dict) -> httpx.Response:
        return httpx.post(api, json=body)

    assert create({"description": "x"}).json()["error"]["message"] == "Virtual key name is required"
    dup = create(
        {
            "name": "d",
            "budgets": [{"max_limit": 1, "reset_duration": "1h"}, {"max_limit": 2, "reset_duration": "1h"}],
        }
    )
    assert (
        dup.status_code == 400 and dup.json()["error"]["message"] == "Duplicate reset_duration in budgets: 1h"
    )
    bad = create({"name": "d", "budgets": [{"max_limit": 1, "reset_duration": "1x"}]})
    assert bad.json()["error"]["message"] == "Invalid reset duration format: 1x"
    neg = create({"name": "d", "budgets": [{"max_limit": -1, "reset_duration": "1d"}]})
    assert neg.json()["error"]["message"] == "Budget max_limit cannot be negative: -1.00"
    mixed = create(
        {
            "name": "d",
            "provider_configs": [{"provider": "anthropic", "allowed_models": ["*", "x"], "key_ids": ["*"]}],
        }
    )
    assert mixed.status_code == 400
    ok = create({"name": "deny", "provider_configs": []})
    assert ok.status_code == 200 and ok.json()["message"] == "Virtual key created successfully"
    vk = ok.json()["virtual_key"]
    assert vk["value"].startswith("sk-bf-")
    assert create({"name": "deny"}).status_code == 500  # duplicate name: raw error, 500
    refused = send(fake, "s", SONNET, vk=vk["value"])  # empty provider_configs = no providers (v1.5+)
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    listing = httpx.get(api).json()
    assert listing["count"] == 1 and listing["total_count"] == 1 and listing["offset"] == 0
    assert (
        httpx.get(f"{api}/{vk['id']}", params={"from_memory": "true"}).json()["virtual_key"]["id"] == vk["id"]
    )
    assert httpx.delete(f"{api}/{vk['id']}").json() == {"message": "Virtual key deleted successfully"}
    gone = httpx.delete(f"{api}/{vk['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["message"] == "Virtual key not found"


def test_quota_and_budget_refusal_envelopes(fake: BifrostFake) -> None:
    vk = fake.create_vk("capped", budget=0.001)
    headers = {"x-bf-vk": vk["value"]}
    quota = httpx.get(f"{fake.url}/api/governance/virtual-keys/quota", headers=headers).json()
    assert quota["virtual_key_name"] == "capped" and quota["budgets"][0]["current_usage"] == 0
    assert quota["provider_configs"][0]["keys"] is None
    assert send(fake, "s", SONNET, vk=vk["value"]).status_code == 200  # crosses the cap
    settle(fake)
    refused = send(fake, "s", SONNET, vk=vk["value"])
    assert refused.status_code == 402
    assert refused.json()["type"] == "error" and refused.json()["error"]["type"] == "billing_error"
    assert "Budget exceeded" in refused.json()["error"]["message"]
    models = httpx.get(f"{fake.url}/v1/models", headers={"x-bf-vk": "sk-bf-unknown"})
    assert models.status_code == 401 and models.json()["type"] == "access_not_found"
    assert httpx.get(f"{fake.url}/api/governance/virtual-keys/quota").status_code == 401


def test_admin_auth_modes() -> None:
    with BifrostFake(admin=("admin", "pw")) as fake:
        assert httpx.get(f"{fake.url}/api/logs").status_code == 401
        assert httpx.get(f"{fake.url}/health").status_code == 200  # always open
        assert httpx.get(f"{fake.url}/api/logs", auth=("admin", "pw")).status_code == 200
        login = httpx.post(
            f"{fake.url}/api/session/login", json={"username": "admin", "password": "pw"}
        ).json()
        bearer = {"Authorization": f"Bearer {login['token']}"}
        assert httpx.get(f"{fake.url}/api/logs", headers=bearer).status_code == 200
        state = httpx.get(f"{fake.url}/api/session/is-auth-enabled", headers=bearer).json()
        assert state["is_auth_enabled"] is True and state["has_valid_token"] is True
        bad = httpx.post(f"{fake.url}/api/session/login", json={"username": "admin", "password": "no"})
        assert bad.status_code == 401
    with BifrostFake() as fake:
        off = httpx.post(f"{fake.url}/api/session/login", json={"username": "a", "password": "b"})
        assert off.status_code == 403 and off.json()["error"]["message"] == "Authentication is not enabled"
