"""`heimdall usage/models/doctor` against a REAL LiteLLM proxy (shared, started once per run)."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from heimdall.cli import main
from heimdall.demo.simulated import SimulatedUsage

from tests.fakes.litellm import MASTER_KEY, USER_HEADER, LiteLLMStack, shared_stack

pytestmark = [pytest.mark.litellm, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def stack() -> LiteLLMStack:
    return shared_stack()


@pytest.fixture(autouse=True)
def litellm_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEIMDALL_LITELLM_KEY", MASTER_KEY)  # CI/headless path: no keyring needed


def send(stack: LiteLLMStack, session: str, model: str, stream: bool) -> float | None:
    headers = {"x-api-key": MASTER_KEY, USER_HEADER: session, "anthropic-version": "2023-06-01"}
    body = {
        "model": model,
        "max_tokens": 16,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = httpx.post(
        f"{stack.proxy.url}/v1/messages", json=body, headers=headers, timeout=60, trust_env=False
    )
    assert response.status_code == 200, response.text
    return None if stream else float(response.headers["x-litellm-response-cost"])


def usage_json(capsys: pytest.CaptureFixture[str], url: str) -> dict:
    code = main(["usage", "--json", "--gateway", url, "--gateway-kind", "litellm"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "restart" in err  # the note about what this mode cannot show goes to stderr
    return json.loads(out)


def test_usage_json_matches_litellm_costs(stack: LiteLLMStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.upstream.usage = SimulatedUsage(1200, 345)
    tag = uuid.uuid4().hex[:8]
    sessions = [f"cli-{tag}-{i}" for i in range(3)]
    plan = [
        (sessions[0], "claude-sonnet-4-5", False),
        (sessions[0], "claude-sonnet-4-5", False),
        (sessions[1], "claude-sonnet-4-5", False),
        (sessions[1], "claude-haiku-4-5", True),
        (sessions[2], "claude-haiku-4-5", True),
    ]
    headers_say = dict.fromkeys(sessions, 0.0)
    for session, model, stream in plan:
        cost = send(stack, session, model, stream)
        if cost is not None:
            headers_say[session] += cost
    expected = {sessions[0]: 0.01755, sessions[1]: 0.008775 + 0.002925, sessions[2]: 0.002925}
    assert headers_say[sessions[0]] == pytest.approx(expected[sessions[0]], abs=1e-9)
    deadline = time.monotonic() + 20
    while True:
        data = usage_json(capsys, stack.proxy.url)
        mine = {s["session"]: s for s in data["sessions"] if s["session"] in expected}
        if (
            len(mine) == 3 and sum(s["requests"] for s in mine.values()) == len(plan)
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert data["gateway"] == {"kind": "litellm", "url": stack.proxy.url}
    for session, cost in expected.items():
        assert mine[session]["cost_usd"] == pytest.approx(cost, abs=1e-9)
        assert mine[session]["input_tokens"] == 1200 * mine[session]["requests"]
        assert mine[session]["output_tokens"] == 345 * mine[session]["requests"]
    assert mine[sessions[1]]["models"]["claude-haiku-4-5"]["cost_usd"] == pytest.approx(0.002925, abs=1e-9)
    assert mine[sessions[1]]["cost_usd"] == pytest.approx(headers_say[sessions[1]] + 0.002925, abs=1e-9)


def test_models_and_doctor_show_the_mode(stack: LiteLLMStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json", "--gateway", stack.proxy.url]) == 0  # kind detected
    models = {m["id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert models["claude-haiku-4-5"]["output_per_mtok"] == 5.0
    main(["doctor", "--json", "--gateway", stack.proxy.url])
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["gateway"]["status"] == "ok"
    assert "Prometheus" in checks["litellm mode"]["detail"] and "restart" in checks["litellm mode"]["detail"]
