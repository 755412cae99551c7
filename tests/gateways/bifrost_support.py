"""Helpers for driving the Bifrost fake like Claude Code would (tagged inference requests)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.bifrost import BifrostFake, FakeUsage, fake_cost, wait_until

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


def send(
    fake: BifrostFake,
    session: str | None,
    model: str,
    *,
    stream: bool = False,
    vk: str | None = None,
    text: str = "hello",
) -> httpx.Response:
    headers = {"anthropic-version": "2023-06-01", "user-agent": "claude-cli/2.1.197 (external, cli)"}
    if session is not None:
        headers["x-bf-lh-session"] = session
    if vk is not None:
        headers["Authorization"] = f"Bearer {vk}"
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }
    return httpx.post(f"{fake.url}/anthropic/v1/messages?beta=true", json=body, headers=headers, timeout=10)


def settle(fake: BifrostFake) -> None:
    """Wait until no log row is `processing` any more."""
    assert wait_until(lambda: all(r["status"] != "processing" for r in fake.state.logs), timeout=10)


def expected_cell(usages: list[tuple[str, FakeUsage]]) -> dict[str, Any]:
    """What one (session, model) cell must show for requests with these usages."""
    return {
        "cost_usd": sum(fake_cost(model, u) for model, u in usages),
        "input_tokens": sum(u.input_tokens for _, u in usages),
        "output_tokens": sum(u.output_tokens for _, u in usages),
        "cache_read_tokens": sum(u.cache_read_input_tokens for _, u in usages),
        "cache_write_tokens": sum(u.cache_creation_input_tokens for _, u in usages),
        "requests": len(usages),
        "errors": 0,
    }
