"""Who may use the embedded gateway, per access level and auth mode (no server needed)."""

from __future__ import annotations

import pytest
from heimdall.server.asgi import Scope
from heimdall.server.auth import Access, GatewayAuth, held_key_from_environment, presented_token

TOKEN = "hmd-local-token-0123456789"


def scope(*headers: tuple[str, str]) -> Scope:
    return {"headers": [(k.lower().encode(), v.encode()) for k, v in headers]}


def test_presented_token_reads_x_api_key_or_a_bearer_token() -> None:
    assert presented_token(scope(("x-api-key", " k "))) == "k"
    assert presented_token(scope(("Authorization", "bearer  k"))) == "k"
    assert presented_token(scope(("Authorization", "Basic abc"), ("x-api-key", "k"))) == "k"
    assert presented_token(scope(("Authorization", "k"))) is None
    assert presented_token(scope()) is None


def test_api_needs_the_bearer_token_in_every_mode() -> None:
    for auth in (GatewayAuth(TOKEN), GatewayAuth(TOKEN, held_key="sk-ant-held")):
        assert auth.refusal(Access.API, scope(("Authorization", f"Bearer {TOKEN}"))) is None
        for wrong in (scope(), scope(("x-api-key", TOKEN)), scope(("Authorization", "Bearer nope"))):
            refused = auth.refusal(Access.API, wrong)
            assert refused is not None and refused["status_code"] == 401


def test_inference_needs_the_token_only_in_held_key_mode() -> None:
    passing = GatewayAuth(TOKEN)
    assert passing.mode == "pass_through" and passing.held_header is None
    assert passing.refusal(Access.INFERENCE, scope(("x-api-key", "sk-ant-mine"))) is None
    held = GatewayAuth(TOKEN, held_key="sk-ant-held")
    assert held.mode == "held_key" and held.held_header == (b"x-api-key", b"sk-ant-held")
    assert held.refusal(Access.INFERENCE, scope(("x-api-key", TOKEN))) is None
    assert held.refusal(Access.INFERENCE, scope(("Authorization", f"Bearer {TOKEN}"))) is None
    refused = held.refusal(Access.INFERENCE, scope(("x-api-key", "sk-ant-mine")))
    assert refused is not None and refused["error"]["type"] == "authentication_error"
    assert held.refusal(Access.OPEN, scope()) is None


def test_upstream_never_sees_our_token() -> None:
    assert GatewayAuth(TOKEN, held_key="sk-ant-held").upstream_headers(scope(("x-api-key", TOKEN))) == {
        "x-api-key": "sk-ant-held"
    }
    passing = GatewayAuth(TOKEN)
    assert passing.upstream_headers(scope(("x-api-key", TOKEN))) == {}
    assert passing.upstream_headers(scope(("x-api-key", "sk-ant-mine"), ("accept", "*/*"))) == {
        "x-api-key": "sk-ant-mine"
    }


def test_held_key_comes_from_the_environment_then_the_stored_upstream_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", " sk-ant-env ")
    monkeypatch.setenv("HEIMDALL_UPSTREAM_KEY", "sk-ant-stored")
    assert held_key_from_environment() == "sk-ant-env"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    assert held_key_from_environment() == "sk-ant-stored"
