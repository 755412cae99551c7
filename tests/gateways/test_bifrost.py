"""BifrostClient against the contract fake: exact totals, O(1) refresh cost, processing rows, VKs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from heimdall.credentials import AdminCredential
from heimdall.gateways.bifrost import BifrostClient, bifrost_error
from heimdall.gateways.protocol import BudgetExceeded, GatewayAuthError, SessionRef
from heimdall.gateways.transport import Reply
from heimdall.timefmt import parse_rfc3339

from tests.fakes.bifrost import BifrostFake, FakeUsage, fake_cost, wait_until
from tests.gateways.bifrost_support import HAIKU, SONNET, expected_cell, send, settle

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fake() -> Iterator[BifrostFake]:
    with BifrostFake() as server:
        yield server


def since() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def cell_json(report, session: str, model: str) -> dict:
    return report.sessions[session].models[model].to_json()


def assert_cell(actual: dict, expected: dict) -> None:
    assert actual["cost_usd"] == pytest.approx(expected["cost_usd"], abs=1e-9)
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "requests",
        "errors",
    ):
        assert actual[key] == expected[key], key


async def test_exact_totals_three_sessions_two_models_with_cache(fake: BifrostFake) -> None:
    sessions = [str(uuid.uuid4()) for _ in range(3)]
    plan: dict[tuple[str, str], list[tuple[str, FakeUsage]]] = {}
    usages = [
        FakeUsage(2048, 512, cache_creation_input_tokens=1024, cache_read_input_tokens=14336),
        FakeUsage(1200, 345),
        FakeUsage(10, 99, cache_creation_input_tokens=7, cache_read_input_tokens=50_000),
    ]
    for i, session in enumerate(sessions):
        for j, model in enumerate((SONNET, HAIKU)):
            for k in range(2):
                fake.usage = usages[(i + j + k) % 3]
                response = send(fake, session, model, stream=bool(k))
                assert response.status_code == 200
                plan.setdefault((session, model), []).append((model, fake.usage))
    send(fake, None, SONNET)  # an untagged request is not any session's spend
    settle(fake)
    client = BifrostClient(fake.url)
    report = await client.usage(None, since())
    assert set(report.sessions) == set(sessions)
    for (session, model), spent in plan.items():
        assert_cell(cell_json(report, session, model), expected_cell(spent))
    grand = sum(fake_cost(m, u) for spent in plan.values() for m, u in spent)
    assert report.total_cost_usd == pytest.approx(grand, abs=1e-9)
    # the worked example of the contract (docs/bifrost-api.md, Cost) is one of the cells' requests
    assert fake_cost(SONNET, usages[0]) == pytest.approx(0.0219648, abs=1e-12)
    await client.aclose()


@pytest.mark.parametrize("n_sessions", [3, 30])
async def test_one_request_per_refresh_whatever_the_number_of_sessions(
    fake: BifrostFake, n_sessions: int
) -> None:
    sessions = [f"s{i}" for i in range(n_sessions)]
    client = BifrostClient(fake.url)
    for session in sessions:
        send(fake, session, SONNET)
    settle(fake)
    before_fake, before_client = fake.count("/api/logs"), client.requests_sent
    await client.usage(sessions, since())
    assert fake.count("/api/logs") - before_fake == 1
    for _ in range(3):  # refreshes with nothing new
        before = fake.count("/api/logs")
        report = await client.usage(sessions, since())
        assert fake.count("/api/logs") - before == 1
    send(fake, sessions[0], HAIKU)  # new traffic: still one request
    settle(fake)
    before = fake.count("/api/logs")
    report = await client.usage(sessions, since())
    assert fake.count("/api/logs") - before == 1
    assert client.requests_sent - before_client == 5
    assert report.sessions[sessions[0]].totals.requests == 2
    assert sum(s.totals.requests for s in report.sessions.values()) == n_sessions + 1
    await client.aclose()


async def test_pagination_costs_one_request_per_page_of_new_rows(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url, page_size=3)
    for i in range(7):
        send(fake, f"s{i % 2}", SONNET)
    settle(fake)
    before = fake.count("/api/logs")
    report = await client.usage(None, since())
    assert fake.count("/api/logs") - before == 3  # 3 + 3 + 1
    assert report.sessions["s0"].totals.requests == 4
    assert report.sessions["s1"].totals.requests == 3
    assert report.total_cost_usd == pytest.approx(7 * fake_cost(SONNET, fake.usage), abs=1e-9)
    await client.aclose()


async def test_processing_rows_are_counted_once_when_they_finish() -> None:
    with BifrostFake(auto_complete=False) as fake:
        client = BifrostClient(fake.url)
        send(fake, "a", SONNET)
        send(fake, "a", HAIKU, stream=True)
        report = await client.usage(None, since())
        assert "a" not in report.sessions  # nothing finished yet
        assert len(client._tail.pending) == 2
        fake.complete_pending()
        report = await client.usage(None, since())
        assert report.sessions["a"].totals.requests == 2
        expected = fake_cost(SONNET, fake.usage) + fake_cost(HAIKU, fake.usage)
        assert report.total_cost_usd == pytest.approx(expected, abs=1e-9)
        for _ in range(2):  # re-seen rows (cursor overlap) are never counted twice
            again = await client.usage(None, since())
            assert again.sessions["a"].totals.requests == 2
            assert again.total_cost_usd == pytest.approx(expected, abs=1e-9)
        await client.aclose()


async def test_processing_row_holds_the_cursor_until_it_finishes() -> None:
    with BifrostFake(auto_complete=False) as fake:
        client = BifrostClient(fake.url, overlap=timedelta(0))
        send(fake, "slow", SONNET)
        await client.usage(None, since())
        fake.complete_pending()
        send(fake, "fast", HAIKU)  # newer row finishes first
        fake.complete_pending()
        report = await client.usage(None, since())
        assert report.sessions["slow"].totals.requests == 1
        assert report.sessions["fast"].totals.requests == 1
        await client.aclose()


async def test_errors_are_counted(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url)
    assert send(fake, "e", SONNET, text="FAKE_ERROR_500").status_code == 500
    send(fake, "e", SONNET)
    settle(fake)
    report = await client.usage(["e", "idle"], since())
    totals = report.sessions["e"].totals
    assert (totals.requests, totals.errors) == (2, 1)
    assert totals.cost_usd == pytest.approx(fake_cost(SONNET, fake.usage), abs=1e-9)
    assert report.sessions["idle"].totals.requests == 0  # asked-for sessions appear, even idle
    await client.aclose()


async def test_since_window_excludes_older_rows(fake: BifrostFake) -> None:
    send(fake, "old", SONNET)
    settle(fake)
    cut = datetime.now(UTC)
    send(fake, "new", SONNET)
    settle(fake)
    client = BifrostClient(fake.url)
    report = await client.usage(None, cut)
    assert set(report.sessions) == {"new"}
    await client.aclose()


async def test_models_prices_per_mtok_and_pagination(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url)
    models = {m.id: m for m in await client.models()}
    sonnet = models[f"anthropic/{SONNET}"]
    assert (sonnet.input_per_mtok, sonnet.output_per_mtok) == (3.0, 15.0)
    assert (sonnet.cache_read_per_mtok, sonnet.cache_write_per_mtok) == (0.3, 3.75)
    assert sonnet.provider == "anthropic" and sonnet.display_name == "Claude Sonnet 4.5"
    assert models["openai/gpt-5.5"].input_per_mtok is None
    client.model_page_size = 1
    before = fake.count("/v1/models")
    paged = await client.models()
    assert [m.id for m in paged] == sorted(models)
    assert fake.count("/v1/models") - before == 3
    await client.aclose()


async def test_session_env_routes_tags_and_strips_inherited_keys() -> None:
    client = BifrostClient("http://127.0.0.1:8080/", virtual_key="sk-bf-123")
    inherited = {
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "OPENAI_API_KEY": "x",
        "ANTHROPIC_CUSTOM_HEADERS": "X-Team: a",
    }
    env = client.session_env(SessionRef("sess-1"), inherited)
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8080/anthropic"
    assert env["ANTHROPIC_AUTH_TOKEN"] == "sk-bf-123"
    assert env["ANTHROPIC_API_KEY"] is None and env["OPENAI_API_KEY"] is None
    headers = env["ANTHROPIC_CUSTOM_HEADERS"].splitlines()
    assert "X-Team: a" in headers and "x-bf-lh-session: sess-1" in headers and "x-bf-vk: sk-bf-123" in headers
    opted_in = BifrostClient("http://127.0.0.1:8080", pass_provider_keys=True)
    env = opted_in.session_env(SessionRef("s"), inherited)
    assert "ANTHROPIC_API_KEY" not in env and "ANTHROPIC_AUTH_TOKEN" not in env


async def test_admin_basic_and_bearer_auth() -> None:
    with BifrostFake(admin=("admin", "pw")) as fake:
        send(fake, "a", SONNET)
        settle(fake)
        anonymous = BifrostClient(fake.url)
        with pytest.raises(GatewayAuthError):
            await anonymous.usage(None, since())
        wrong = BifrostClient(fake.url, admin=AdminCredential("nope", "admin"))
        with pytest.raises(GatewayAuthError):
            await wrong.usage(None, since())
        basic = BifrostClient(fake.url, admin=AdminCredential("pw", "admin"))
        assert (await basic.usage(None, since())).sessions["a"].totals.requests == 1
        bearer = BifrostClient(fake.url, admin=AdminCredential(fake.login_token()))
        assert (await bearer.usage(None, since())).sessions["a"].totals.requests == 1
        health = await anonymous.health()
        assert health.status.value == "auth failed"
        assert (await basic.health()).ok
        for client in (anonymous, wrong, basic, bearer):
            await client.aclose()


async def test_per_session_virtual_keys_create_use_budget_delete() -> None:
    with BifrostFake(admin=("admin", "pw")) as fake:
        admin = AdminCredential("pw", "admin")
        client = BifrostClient(fake.url, admin=admin, per_session_virtual_keys=True)
        session = SessionRef("tab-1", name="api", budget_usd=0.02)
        await client.open_session(session)
        vk = client.session_keys["tab-1"]
        created = fake.state.vks[vk.id]
        assert created["name"] == "heimdall-tab-1"
        assert created["budgets"][0]["max_limit"] == 0.02 and created["budgets"][0]["reset_duration"] == "1Y"
        assert created["provider_configs"][0]["allowed_models"] == ["*"]
        env = client.session_env(session, {})
        assert env["ANTHROPIC_AUTH_TOKEN"] == vk.value and vk.value.startswith("sk-bf-")
        fake.usage = FakeUsage(1200, 345)
        for _ in range(2):
            assert send(fake, "tab-1", SONNET, vk=env["ANTHROPIC_AUTH_TOKEN"]).status_code == 200
        settle(fake)
        spent = 2 * fake_cost(SONNET, fake.usage)
        budgets = await client.session_budgets()
        assert budgets["tab-1"].current_usage_usd == pytest.approx(spent, abs=1e-9)
        assert budgets["tab-1"].max_limit_usd == 0.02
        fake.usage = FakeUsage(1200, 1000)
        send(fake, "tab-1", SONNET, vk=vk.value)  # crosses the cap (one request may overshoot)
        settle(fake)
        refused = send(fake, "tab-1", SONNET, vk=vk.value)
        assert refused.status_code == 402
        assert refused.json()["error"]["type"] == "billing_error"
        error = bifrost_error(Reply(402, refused.headers, refused.content, fake.url, 1.0))
        assert isinstance(error, BudgetExceeded) and "budget exceeded" in error.message
        report = await client.usage(["tab-1"], since())
        assert report.sessions["tab-1"].totals.requests == 3
        await client.close_session(session)
        assert vk.id not in fake.state.vks
        await client.aclose()


async def test_kept_virtual_key_is_reused_on_reopen() -> None:
    with BifrostFake(admin=("admin", "pw")) as fake:
        admin = AdminCredential("pw", "admin")
        client = BifrostClient(fake.url, admin=admin, per_session_virtual_keys=True, keep_virtual_keys=True)
        session = SessionRef("tab-2", budget_usd=1.0)
        await client.open_session(session)
        first = client.session_keys["tab-2"]
        await client.close_session(session)
        assert first.id in fake.state.vks
        again = BifrostClient(fake.url, admin=admin, per_session_virtual_keys=True)
        await again.open_session(session)  # duplicate name -> 500 -> found by name
        assert again.session_keys["tab-2"].id == first.id
        for c in (client, again):
            await c.aclose()


async def test_health_reports_version_and_latency(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url)
    health = await client.health()
    assert health.ok and health.version == "v2.2.5" and health.latency_ms is not None
    await client.aclose()


def test_fake_writes_go_style_json(fake: BifrostFake) -> None:
    import httpx

    send(fake, "<&>", SONNET)
    settle(fake)
    raw = httpx.get(f"{fake.url}/api/logs?limit=abc&sort_by=bogus&order=sideways").content
    assert raw.endswith(b"}\n") and b"\\u003c\\u0026\\u003e" in raw
    body = httpx.get(f"{fake.url}/api/logs?limit=0").json()
    assert body["error"]["message"] == "limit must be greater than 0"
    assert (
        httpx.get(f"{fake.url}/api/logs?limit=1001").json()["error"]["message"] == "limit cannot exceed 1000"
    )
    assert (
        httpx.get(f"{fake.url}/api/logs?offset=-1").json()["error"]["message"] == "offset cannot be negative"
    )
    page = httpx.get(f"{fake.url}/api/logs?start_time=garbage").json()
    assert page["pagination"]["total_count"] == 1 and page["pagination"]["limit"] == 50
    assert wait_until(lambda: True)


async def test_late_inserted_row_inside_the_overlap_is_still_counted_once(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url)  # default overlap 30 s
    send(fake, "a", SONNET)
    settle(fake)
    await client.usage(None, since())
    newest = max(parse_rfc3339(r["timestamp"]) for r in fake.state.logs)
    # Bifrost inserts rows asynchronously: one stamped 5 s before the newest appears only now.
    fake.add_row("late", HAIKU, at=newest - timedelta(seconds=5), status="success")
    report = await client.usage(None, since())
    assert report.sessions["late"].totals.requests == 1
    again = await client.usage(None, since())
    assert again.sessions["late"].totals.requests == 1 and again.sessions["a"].totals.requests == 1
    await client.aclose()


async def test_row_stuck_in_processing_stops_pinning_the_cursor(fake: BifrostFake) -> None:
    client = BifrostClient(fake.url)
    stuck_at = datetime.now(UTC) - timedelta(minutes=40)
    fake.add_row("stuck", SONNET, at=stuck_at)  # never completes
    send(fake, "b", SONNET)
    settle_terminal = wait_until(lambda: sum(r["status"] != "processing" for r in fake.state.logs) == 1)
    assert settle_terminal
    await client.usage(None, datetime.now(UTC) - timedelta(hours=2))
    tail = client._tail
    assert tail is not None and tail.cursor is not None and tail.cursor > stuck_at
    assert not tail.pending  # given up on: it no longer forces re-reading 40 minutes of logs
    await client.aclose()


async def test_concurrent_refreshes_do_not_double_count(fake: BifrostFake) -> None:
    import asyncio

    for session in ("a", "b"):
        send(fake, session, SONNET)
    settle(fake)
    client = BifrostClient(fake.url)
    reports = await asyncio.gather(*(client.usage(None, since()) for _ in range(5)))
    for report in reports:
        assert {s: u.totals.requests for s, u in report.sessions.items()} == {"a": 1, "b": 1}
    await client.aclose()


async def test_moving_window_drops_old_rows_without_rereading(fake: BifrostFake) -> None:
    now = datetime.now(UTC)
    fake.add_row("old", SONNET, at=now - timedelta(minutes=50), status="success")
    fake.add_row("mid", SONNET, at=now - timedelta(minutes=20), status="success")
    send(fake, "new", SONNET)
    settle(fake)
    client = BifrostClient(fake.url)
    report = await client.usage(None, now - timedelta(hours=1))
    assert set(report.sessions) == {"old", "mid", "new"}
    before = fake.count("/api/logs")
    report = await client.usage(None, now - timedelta(minutes=30))  # the window moved forward
    assert set(report.sessions) == {"mid", "new"}
    assert fake.count("/api/logs") - before == 1
    assert report.total_cost_usd == pytest.approx(2 * fake_cost(SONNET, fake.usage), abs=1e-9)
    request = fake.requests[-1]
    assert parse_rfc3339(request.query["start_time"]) >= now - timedelta(minutes=30) - timedelta(seconds=1)
    report = await client.usage(None, now - timedelta(hours=2))  # an earlier window: read again
    assert set(report.sessions) == {"old", "mid", "new"}
    await client.aclose()
