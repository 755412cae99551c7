"""Prices come from genai-prices' bundled data, offline, with cache and long-context rates."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from heimdall.config import ModelPrice
from heimdall.server.pricing import Pricer, TokenUsage, per_token

# Anthropic's published rates (USD per MTok): input, output, cache read, 5m write, 1h write.
SONNET_45 = (3, 15, 0.30, 3.75, 6)
HAIKU_45 = (1, 5, 0.10, 1.25, 2)


def expected(rates: tuple[float, ...], u: TokenUsage) -> float:
    i, o, r, w5, w1 = rates
    return (
        u.input_tokens * i
        + u.output_tokens * o
        + u.cache_read_tokens * r
        + u.cache_write_5m_tokens * w5
        + u.cache_write_1h_tokens * w1
    ) / 1_000_000


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pricing tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(
    ("model", "rates"),
    [
        ("claude-sonnet-4-5", SONNET_45),
        ("claude-sonnet-4-5-20250929", SONNET_45),
        ("claude-haiku-4-5", HAIKU_45),
        ("claude-haiku-4-5-20251001", HAIKU_45),
    ],
)
def test_published_rates_including_cache(no_network: None, model: str, rates: tuple) -> None:
    usage = TokenUsage(
        input_tokens=1200,
        output_tokens=345,
        cache_read_tokens=14336,
        cache_write_5m_tokens=1024,
        cache_write_1h_tokens=256,
    )
    cost = Pricer().cost(model, usage)
    assert not cost.missing
    assert cost.usd == pytest.approx(expected(rates, usage), abs=1e-12)


def test_bifrost_worked_example(no_network: None) -> None:
    usage = TokenUsage(
        input_tokens=2048, cache_read_tokens=14336, cache_write_5m_tokens=1024, output_tokens=512
    )
    assert Pricer().cost("claude-sonnet-4-5", usage).usd == pytest.approx(0.0219648, abs=1e-12)


def test_long_context_tier_applies_above_200k_prompt(no_network: None) -> None:
    # The tier is judged on the whole prompt (uncached + cache), like Anthropic does.
    small = TokenUsage(input_tokens=150_000, cache_read_tokens=50_000, output_tokens=1000)
    large = TokenUsage(input_tokens=150_001, cache_read_tokens=50_000, output_tokens=1000)
    pricer = Pricer()
    assert pricer.cost("claude-sonnet-4-5", small).usd == pytest.approx(
        (150_000 * 3 + 50_000 * 0.3 + 1000 * 15) / 1e6, abs=1e-12
    )
    assert pricer.cost("claude-sonnet-4-5", large).usd == pytest.approx(
        (150_001 * 6 + 50_000 * 0.6 + 1000 * 22.5) / 1e6, abs=1e-12
    )


def test_unknown_model_costs_zero_and_is_flagged(no_network: None) -> None:
    cost = Pricer().cost("my-local-llama", TokenUsage(input_tokens=10, output_tokens=10))
    assert cost.usd == 0.0 and cost.missing
    assert Pricer().cost("", TokenUsage(input_tokens=1)).missing


def test_overrides_beat_the_library_and_fill_cache_rates(no_network: None) -> None:
    pricer = Pricer(
        {
            "claude-sonnet-4-5": ModelPrice(input=10, output=20),
            "my-local-llama": ModelPrice(input=1, output=2, cache_read=0.5, cache_write=0.75),
        }
    )
    u = TokenUsage(
        input_tokens=1000,
        output_tokens=100,
        cache_read_tokens=1000,
        cache_write_5m_tokens=1000,
        cache_write_1h_tokens=1000,
    )
    # Missing cache rates use Anthropic's multipliers of the input rate (0.1 / 1.25 / 2).
    sonnet = pricer.cost("claude-sonnet-4-5-20250929", u)
    assert sonnet.usd == pytest.approx((1000 * 10 + 100 * 20 + 1000 * 1 + 1000 * 12.5 + 1000 * 20) / 1e6)
    local = pricer.cost("my-local-llama", u)
    assert not local.missing
    assert local.usd == pytest.approx((1000 * 1 + 100 * 2 + 1000 * 0.5 + 1000 * 0.75 + 1000 * 2) / 1e6)


def test_per_token_strings_like_bifrost(no_network: None) -> None:
    rates = Pricer().rates("claude-sonnet-4-5-20250929")
    assert rates is not None
    assert per_token(rates.input) == "0.000003"
    assert per_token(rates.output) == "0.000015"
    assert per_token(rates.cache_read) == "0.0000003"
    assert per_token(rates.cache_write) == "0.00000375"
    assert per_token(Decimal("1.25")) == "0.00000125"
    assert Pricer().rates("no-such-model") is None


def test_fast_path_equals_the_library_for_every_claude_model(no_network: None) -> None:
    pricer = Pricer()
    usages = [
        TokenUsage(input_tokens=1200, output_tokens=345),
        TokenUsage(input_tokens=7, output_tokens=3, cache_read_tokens=11, cache_write_5m_tokens=13),
        TokenUsage(input_tokens=2048, output_tokens=512, cache_read_tokens=14336, cache_write_1h_tokens=1024),
        TokenUsage(input_tokens=190_000, output_tokens=9, cache_read_tokens=10_000, cache_write_5m_tokens=1),
        TokenUsage(input_tokens=1, output_tokens=1, cache_read_tokens=250_000, cache_write_1h_tokens=5),
    ]
    models = pricer.known_models()
    assert len(models) > 10
    for model in models:
        for usage in usages:
            fast, reference = pricer.cost(model, usage), pricer.library_cost(model, usage)
            assert fast.missing == reference.missing
            assert fast.usd == reference.usd, (model, usage)
