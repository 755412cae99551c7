"""make_client / detect_kind / parse_duration, the Prometheus parser, and the log-row arithmetic."""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
import pytest
from heimdall.config import Config
from heimdall.gateways import detect_kind, make_client, parse_duration
from heimdall.gateways.bifrost import BifrostClient
from heimdall.gateways.embedded import EmbeddedClient
from heimdall.gateways.errors import InsecureGatewayURL
from heimdall.gateways.litellm import LiteLLMClient
from heimdall.gateways.logtail import row_usage
from heimdall.gateways.prometheus import ExpositionError, parse_exposition
from heimdall.gateways.protocol import GatewayError, GatewayUnreachable
from heimdall.server.launcher import EmbeddedGatewayHandle
from heimdall.timefmt import parse_rfc3339

from tests.fakes.bifrost import BifrostFake


def test_parse_duration() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration(" 90s ") == timedelta(seconds=90)
    assert parse_duration("2w") == timedelta(weeks=2)
    for bad in ("", "h", "10", "1y", "-1h", "0m", "1 hour"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_exposition_parser_handles_escapes_help_type_and_specials() -> None:
    text = (
        "# HELP litellm_spend_metric Total spend \\\\ on \\n requests\n"
        "# TYPE litellm_spend_metric counter\n"
        "# a free comment\n"
        'litellm_spend_metric_total{end_user="a\\"b,c}",model="m\\\\x",ua="l1\\nl2"} 0.5\n'
        'litellm_spend_metric_total{end_user="x" , model = "y",} 1e-3 1700000000000\n'
        "plain_metric 3\n"
        'weird{a=""} +Inf\n'
        'weird{a="n"} NaN\n'
    )
    exp = parse_exposition(text)
    assert exp.types["litellm_spend_metric"] == "counter"
    assert exp.help["litellm_spend_metric"] == "Total spend \\ on \n requests"
    first, second = exp.named("litellm_spend_metric_total")
    assert first.labels == {"end_user": 'a"b,c}', "model": "m\\x", "ua": "l1\nl2"}
    assert first.value == 0.5
    assert second.labels == {"end_user": "x", "model": "y"} and second.timestamp_ms == 1700000000000
    assert exp.named("plain_metric")[0].value == 3.0
    weird = exp.named("weird")
    assert weird[0].value == math.inf and math.isnan(weird[1].value)


@pytest.mark.parametrize(
    "line",
    ['m{a="x} 1', "m{a=x} 1", "m{a} 1", "m 1 2 3", "m abc", '{a="b"} 1', 'm{a="x"', 'm{a="\\'],
)
def test_exposition_parser_rejects_garbage(line: str) -> None:
    with pytest.raises(ExpositionError):
        parse_exposition(line + "\n")


def test_row_usage_subtracts_cache_from_prompt_tokens() -> None:
    row = {
        "id": "r",
        "status": "success",
        "timestamp": "2026-10-14T09:31:07.204518123Z",
        "model": "m",
        "cost": 0.0219648,
        "metadata": {"session": "s"},
        "token_usage": {
            "prompt_tokens": 17408,
            "completion_tokens": 512,
            "total_tokens": 17920,
            "prompt_tokens_details": {"cached_read_tokens": 14336, "cached_write_tokens": 1024},
        },
    }
    usage = row_usage(row)
    assert (usage.session, usage.model) == ("s", "m")
    t = usage.totals
    assert (t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens) == (
        2048,
        512,
        14336,
        1024,
    )
    assert parse_rfc3339("2026-10-14T09:31:07.204518123Z").microsecond == 204518
    assert parse_rfc3339("2026-10-14T09:31:07Z").second == 7


def config_for(**gateway: object) -> Config:
    config = Config()
    for key, value in gateway.items():
        setattr(config.gateway, key, value)
    return config


def test_make_client_by_kind_and_detection() -> None:
    with BifrostFake() as fake:
        assert detect_kind(fake.url) == "bifrost"
        assert isinstance(make_client(config_for(url=fake.url)), BifrostClient)
    assert isinstance(make_client(config_for(kind="litellm", url="http://127.0.0.1:4000")), LiteLLMClient)
    client = make_client(config_for(kind="bifrost", url="http://localhost:8080"))
    assert type(client) is BifrostClient and client.base_url == "http://localhost:8080"
    embedded = make_client(config_for())
    assert isinstance(embedded, EmbeddedClient) and embedded.base_url == "http://127.0.0.1:8787"
    assert embedded.token  # read (or created) in the test data dir, not started

    handle = EmbeddedGatewayHandle("http://127.0.0.1:9999", "tok-0123456789abcdef", True, held_key=True)
    held = make_client(config_for(), embedded=handle)
    assert isinstance(held, EmbeddedClient) and held.held_key and held.base_url == handle.url
    with pytest.raises(InsecureGatewayURL):
        make_client(config_for(kind="bifrost", url="http://10.1.2.3:8080"))
    with pytest.raises(GatewayError):
        make_client(config_for(kind="litellm"))


def test_detect_kind_litellm_embedded_unknown_and_down() -> None:
    def litellm(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health/liveliness":
            return httpx.Response(200, json="I'm alive!")
        return httpx.Response(404)

    def embedded(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ok", "service": "heimdall-gateway"})

    def unknown(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="nope")

    assert detect_kind("http://127.0.0.1:1", transport=httpx.MockTransport(litellm)) == "litellm"
    assert detect_kind("http://127.0.0.1:1", transport=httpx.MockTransport(embedded)) == "embedded"
    with pytest.raises(GatewayError, match="--gateway-kind"):
        detect_kind("http://127.0.0.1:1", transport=httpx.MockTransport(unknown))
    from tests.gateways.test_bifrost_faults import free_port

    with pytest.raises(GatewayUnreachable, match="--gateway-kind"):
        detect_kind(f"http://127.0.0.1:{free_port()}", timeout=1)


def test_every_client_satisfies_the_protocol() -> None:
    from heimdall.gateways.protocol import GatewayClient

    clients = [
        BifrostClient("http://127.0.0.1:8080"),
        LiteLLMClient("http://127.0.0.1:4000"),
        EmbeddedClient("http://127.0.0.1:8787", "token-0123456789abcdef"),
    ]
    for client in clients:
        assert isinstance(client, GatewayClient)
    assert [c.kind for c in clients] == ["bifrost", "litellm", "embedded"]
