"""Usage is read from SSE streams however they are chunked, and from JSON bodies."""

from __future__ import annotations

import json

import pytest
from heimdall.server.metering import JsonMeter, StreamMeter


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


STREAM = b"".join(
    [
        sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "model": "claude-sonnet-4-5-20250929",
                    "usage": {
                        "input_tokens": 12,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 30,
                        "cache_read_input_tokens": 40,
                        "cache_creation": {
                            "ephemeral_5m_input_tokens": 20,
                            "ephemeral_1h_input_tokens": 10,
                        },
                    },
                },
            },
        ),
        sse("ping", {"type": "ping"}),
        sse(
            "content_block_delta",
            {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "héllo\n\n"}},
        ),
        sse(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 77}},
        ),
        sse("message_stop", {"type": "message_stop"}),
    ]
)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
def test_stream_any_chunking(size: int) -> None:
    meter = StreamMeter()
    for i in range(0, len(STREAM), size):
        meter.feed(STREAM[i : i + size])
    seen = meter.seen
    assert seen.model == "claude-sonnet-4-5-20250929"
    assert seen.stop_reason == "end_turn" and seen.completed
    usage = seen.usage()
    assert (usage.input_tokens, usage.output_tokens) == (12, 77)
    assert (usage.cache_read_tokens, usage.cache_write_5m_tokens, usage.cache_write_1h_tokens) == (40, 20, 10)


def test_crlf_and_partial_stream() -> None:
    meter = StreamMeter()
    cut = STREAM.index(b"event: message_delta")
    meter.feed(STREAM[:cut].replace(b"\n", b"\r\n"))
    assert meter.seen.usage().output_tokens == 1 and not meter.seen.completed


def test_error_event_and_garbage() -> None:
    meter = StreamMeter()
    meter.feed(b"event: message_start\ndata: {not json\n\n\x00\xff garbage\n")
    meter.feed(sse("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}))
    assert meter.seen.error_type == "overloaded_error" and meter.seen.error_message == "busy"


def test_json_body() -> None:
    meter = JsonMeter()
    body = {
        "model": "claude-haiku-4-5",
        "stop_reason": "tool_use",
        "usage": {
            "input_tokens": 5,
            "output_tokens": 6,
            "cache_creation_input_tokens": 7,
            "cache_read_input_tokens": 8,
        },
    }
    data = json.dumps(body).encode()
    meter.feed(data[:10])
    meter.feed(data[10:])
    meter.finish()
    u = meter.seen.usage()
    assert (u.input_tokens, u.output_tokens, u.cache_write_5m_tokens, u.cache_read_tokens) == (5, 6, 7, 8)
    assert meter.seen.stop_reason == "tool_use" and meter.seen.model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"model":"claude-sonnet-4-5","messages":[],"stream":true}', ("claude-sonnet-4-5", True)),
        (b'{ "model" : "m1", "messages": [{"stream": true}], "stream": false }\n', ("m1", False)),
        (b'{"model":"m2","messages":[],"x":{"stream":true}}', ("m2", False)),  # nested: parsed
        (b'{"stream":true,"model":"m3"}', ("m3", True)),
        (b'{"model":"with \\"quote\\"","stream":true}', ('with "quote"', True)),
        (b'{"messages":[]}', ("", False)),
        (b"not json", ("", False)),
        (b"[1,2]", ("", False)),
    ],
)
def test_request_model_and_stream(payload: bytes, expected: tuple[str, bool]) -> None:
    from heimdall.server.relay import request_model_and_stream

    assert request_model_and_stream(payload) == expected
