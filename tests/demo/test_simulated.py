"""The simulated Anthropic upstream, over real HTTP on 127.0.0.1.

It stands in for Anthropic's servers in every gateway and Claude Code test and in `heimdall demo`,
so its wire contract is checked here: SSE event order, identical usage in JSON and streamed
replies, triggers, count_tokens, models, 404s, the request log and the standalone command.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic import SimulatedUpstream, SimulatedUpstreamError, SimulatedUsage

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _body(
    text: str | list[dict[str, Any]], *, stream: bool, model: str = "claude-sonnet-4-5", **extra: Any
) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def _sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        events.append((lines["event"], data))
    return events


def _stream_usage(events: list[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    """Final usage the way gateways compute it: message_start, overridden by message_delta."""
    usage = dict(next(d for e, d in events if e == "message_start")["message"]["usage"])
    usage.update(next(d for e, d in events if e == "message_delta")["usage"])
    return {k: usage[k] for k in USAGE_KEYS}


def _stream_text(events: list[tuple[str, dict[str, Any]]], index: int = 0) -> str:
    return "".join(
        d["delta"].get("text", d["delta"].get("partial_json", ""))
        for e, d in events
        if e == "content_block_delta" and d["index"] == index
    )


@pytest.fixture
def client(fake_upstream: SimulatedUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_upstream.url, timeout=10) as http:
        yield http


def test_json_reply_shape_and_text(client: httpx.Client, fake_upstream: SimulatedUpstream) -> None:
    response = client.post("/v1/messages?beta=true", json=_body("hello", stream=False))
    assert response.status_code == 200
    assert response.headers["request-id"].startswith("req_fake_")
    message = response.json()
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["model"] == "claude-sonnet-4-5"
    assert message["stop_reason"] == "end_turn" and message["stop_sequence"] is None
    [entry] = fake_upstream.requests()
    assert message["content"] == [
        {"type": "text", "text": f"FAKE-REPLY #{entry['n']} from model=claude-sonnet-4-5: Hi there!"}
    ]
    assert {k: message["usage"][k] for k in USAGE_KEYS} == {
        "input_tokens": 1200,
        "output_tokens": 345,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert entry["path"] == "/v1/messages?beta=true"
    assert entry["note"] == "json" and entry["status"] == 200


def test_stream_event_order_and_same_usage_as_json(
    client: httpx.Client, fake_upstream: SimulatedUpstream
) -> None:
    fake_upstream.usage = SimulatedUsage(
        input_tokens=10, output_tokens=7, cache_creation_input_tokens=3, cache_read_input_tokens=5
    )
    json_reply = client.post("/v1/messages", json=_body("hi", stream=False)).json()
    response = client.post("/v1/messages", json=_body("hi", stream=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1
    assert events[0][1]["message"]["id"] == f"msg_fake_{response.headers['request-id'][9:]}"
    assert _stream_usage(events) == {k: json_reply["usage"][k] for k in USAGE_KEYS}
    assert _stream_usage(events) == {
        "input_tokens": 10,
        "output_tokens": 7,
        "cache_creation_input_tokens": 3,
        "cache_read_input_tokens": 5,
    }
    n = fake_upstream.requests()[-1]["n"]
    assert _stream_text(events) == f"FAKE-REPLY #{n} from model=claude-sonnet-4-5: Hi there!"
    assert events[-2][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_cache_creation_split_and_per_model_usage(fake_upstream: SimulatedUpstream) -> None:
    fake_upstream.usage = SimulatedUsage(
        input_tokens=1, output_tokens=2, cache_creation_input_tokens=30, cache_creation_1h_input_tokens=10
    )
    fake_upstream.model_usage["claude-haiku-4-5"] = SimulatedUsage(input_tokens=99, output_tokens=9)
    with httpx.Client(base_url=fake_upstream.url) as http:
        sonnet = http.post("/v1/messages", json=_body("x", stream=False)).json()["usage"]
        haiku = http.post(
            "/v1/messages", json=_body("x", stream=False, model="claude-haiku-4-5")
        ).json()["usage"]
    assert sonnet["cache_creation"] == {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 10}
    assert (haiku["input_tokens"], haiku["output_tokens"]) == (99, 9)
    with pytest.raises(ValueError):
        SimulatedUsage(input_tokens=-1)
    with pytest.raises(ValueError):
        SimulatedUsage(cache_creation_input_tokens=1, cache_creation_1h_input_tokens=2)


def test_title_call_gets_json_for_the_schema(client: httpx.Client, fake_upstream: SimulatedUpstream) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    }
    body = _body(
        "<session>fix the login bug</session> Write the title",
        stream=True,
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    events = _sse_events(client.post("/v1/messages", json=body))
    entry = fake_upstream.requests()[-1]
    assert json.loads(_stream_text(events)) == {"title": f"Fake title {entry['n']}"}
    assert entry["note"] == "stream title"


def test_tool_use_trigger_json_and_stream(client: httpx.Client) -> None:
    text = 'please FAKE_TOOL_USE {"name":"Bash","input":{"command":"ls -la"}} thanks'
    message = client.post("/v1/messages", json=_body(text, stream=False)).json()
    assert message["stop_reason"] == "tool_use"
    tool = message["content"][1]
    assert tool["type"] == "tool_use" and tool["name"] == "Bash"
    assert tool["input"] == {"command": "ls -la"} and tool["id"].startswith("toolu_")

    events = _sse_events(client.post("/v1/messages", json=_body(text, stream=True)))
    starts = [d for e, d in events if e == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use"]
    assert starts[1]["index"] == 1 and starts[1]["content_block"]["input"] == {}
    assert json.loads(_stream_text(events, index=1)) == {"command": "ls -la"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_tool_result_only_message_does_not_trigger(client: httpx.Client) -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": 'FAKE_TOOL_USE {"name":"Bash","input":{}}'},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
            {"role": "system", "content": "mid-conversation system entries are accepted"},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
        ],
    }
    message = client.post("/v1/messages", json=body).json()
    assert message["stop_reason"] == "end_turn" and len(message["content"]) == 1


def test_malformed_tool_trigger_is_a_clear_400(client: httpx.Client) -> None:
    response = client.post("/v1/messages", json=_body("FAKE_TOOL_USE {oops", stream=False))
    assert response.status_code == 400
    assert "FAKE_TOOL_USE" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_trigger(
    client: httpx.Client, fake_upstream: SimulatedUpstream, status: int, kind: str
) -> None:
    text = [{"type": "text", "text": f"boom FAKE_ERROR_{status}"}]
    response = client.post("/v1/messages", json=_body(text, stream=True))
    assert response.status_code == status
    envelope = response.json()
    assert envelope["type"] == "error" and envelope["error"]["type"] == kind
    assert envelope["request_id"] == response.headers["request-id"]
    assert (response.headers.get("retry-after") == "0") is (status in (429, 529))
    assert fake_upstream.requests()[-1]["note"] == f"error {status}"


def test_slow_trigger_is_marked(client: httpx.Client, fake_upstream: SimulatedUpstream) -> None:
    fake_upstream.slow_event_gap_s = 0.01  # the default 0.5 s pacing is for watching busy states
    events = _sse_events(client.post("/v1/messages", json=_body("FAKE_SLOW please", stream=True)))
    assert events[-1][0] == "message_stop"
    assert fake_upstream.requests()[-1]["note"] == "stream slow"


def test_invalid_bodies(client: httpx.Client) -> None:
    bad_json = client.post("/v1/messages", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["type"] == "invalid_request_error"
    no_model = client.post("/v1/messages", json={"messages": [{"role": "user", "content": "x"}]})
    assert no_model.status_code == 400 and "model" in no_model.json()["error"]["message"]


def test_chunked_request_body(client: httpx.Client, fake_upstream: SimulatedUpstream) -> None:
    payload = json.dumps(_body("chunked", stream=False)).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:10]
        yield payload[10:]

    response = client.post("/v1/messages", content=chunks())
    assert response.status_code == 200
    entry = fake_upstream.requests()[-1]
    assert entry["headers"]["transfer-encoding"] == "chunked"
    assert entry["body"]["messages"][0]["content"] == "chunked"
    assert entry["body_len"] == len(payload)


def test_count_tokens_is_deterministic(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "x" * 400}]
    expected = len(json.dumps(messages)) // 4
    for _ in range(2):
        response = client.post(
            "/v1/messages/count_tokens?beta=true", json={"model": "m", "messages": messages}
        )
        assert response.json() == {"input_tokens": expected}
    tiny = client.post("/v1/messages/count_tokens", json={"model": "m", "messages": []})
    assert tiny.json() == {"input_tokens": 1}


def test_models_list_pagination_and_lookup(client: httpx.Client) -> None:
    listing = client.get("/v1/models?limit=1000").json()
    ids = [m["id"] for m in listing["data"]]
    assert listing["has_more"] is False
    assert listing["first_id"] == ids[0] and listing["last_id"] == ids[-1]
    assert any(i.startswith("claude-") for i in ids) and any(i.startswith("anthropic-") for i in ids)
    assert any(not i.startswith(("claude", "anthropic")) for i in ids)
    assert all(m["type"] == "model" and m["display_name"] and m["created_at"] for m in listing["data"])
    first = client.get("/v1/models?limit=2").json()
    assert first["has_more"] is True and len(first["data"]) == 2
    rest = client.get(f"/v1/models?limit=1000&after_id={first['last_id']}").json()
    assert [m["id"] for m in first["data"] + rest["data"]] == ids
    assert client.get(f"/v1/models/{ids[0]}").json()["id"] == ids[0]
    missing = client.get("/v1/models/nope")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"


def test_root_and_unknown_paths(client: httpx.Client, fake_upstream: SimulatedUpstream) -> None:
    assert client.head("/").status_code == 200
    assert client.get("/").status_code == 200
    missing = client.post("/v2/whatever", json={"a": 1})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    entries = fake_upstream.requests()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("HEAD", "/", 200),
        ("GET", "/", 200),
        ("POST", "/v2/whatever", 404),
    ]
    assert entries[-1]["body"] == {"a": 1}


def test_jsonl_log_matches_memory_and_keeps_headers(fake_upstream: SimulatedUpstream) -> None:
    headers = {"X-Claude-Code-Session-Id": "abc", "Authorization": "Bearer dummy", "X-Session-Tag": "tab-1"}
    with httpx.Client(base_url=fake_upstream.url, headers=headers) as http:
        http.post("/v1/messages", json=_body("one", stream=True))
        http.post("/v1/messages", content=b"not json at all")
    assert fake_upstream.log_path is not None
    lines = [json.loads(line) for line in fake_upstream.log_path.read_text().splitlines()]
    assert lines == fake_upstream.requests()
    assert lines[0]["headers"]["x-claude-code-session-id"] == "abc"
    assert lines[0]["headers"]["authorization"] == "Bearer dummy"
    assert lines[0]["headers"]["x-session-tag"] == "tab-1"
    assert set(lines[0]) >= {"n", "t", "method", "path", "headers", "body_len", "body", "note"}
    assert lines[1]["body"] == {"_raw": "not json at all"}
    assert [e["n"] for e in lines] == [1, 2]


def test_concurrent_requests_get_distinct_numbers(fake_upstream: SimulatedUpstream) -> None:
    texts: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=fake_upstream.url, timeout=10) as http:
            for _ in range(5):
                reply = http.post("/v1/messages", json=_body("go", stream=True))
                with lock:
                    texts.append(_stream_text(_sse_events(reply)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(int(t.split("#")[1].split()[0]) for t in texts)
    assert numbers == list(range(1, 41))
    assert len(fake_upstream.requests()) == 40


def test_wait_for_request(fake_upstream: SimulatedUpstream) -> None:
    def later() -> None:
        httpx.post(f"{fake_upstream.url}/v1/messages", json=_body("late", stream=False, model="late-model"))

    thread = threading.Thread(target=later)
    thread.start()
    entry = fake_upstream.wait_for_request(lambda e: (e["body"] or {}).get("model") == "late-model")
    thread.join()
    assert entry["note"] == "json"
    with pytest.raises(TimeoutError):
        fake_upstream.wait_for_request(lambda e: False, timeout=0.05)


def test_required_key() -> None:
    with SimulatedUpstream(required_key="sk-ant-held") as upstream, httpx.Client(
        base_url=upstream.url
    ) as http:
        body = _body("x", stream=False)
        missing = http.post("/v1/messages", json=body)
        assert missing.status_code == 401
        assert missing.json()["error"] == {
            "type": "authentication_error",
            "message": "x-api-key header is required",
        }
        wrong = http.post("/v1/messages", json=body, headers={"x-api-key": "sk-other"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid x-api-key"
        assert http.post("/v1/messages", json=body, headers={"x-api-key": "sk-ant-held"}).is_success
        bearer = {"authorization": "Bearer sk-ant-held"}
        assert http.get("/v1/models", headers=bearer).is_success
        assert http.head("/").status_code == 200  # warm-up probes carry no credential
        assert [e["status"] for e in upstream.requests()] == [401, 401, 200, 200, 200]


def test_memory_log_is_bounded_but_the_file_keeps_everything(tmp_path: Path) -> None:
    log = tmp_path / "all.jsonl"
    with SimulatedUpstream(log_path=log, memory_log_limit=3) as upstream, httpx.Client(
        base_url=upstream.url
    ) as http:
        for _ in range(5):
            http.get("/")
        assert [e["n"] for e in upstream.requests()] == [3, 4, 5]
    assert len(log.read_text().splitlines()) == 5


def test_refuses_non_loopback_hosts() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com", ""):
        with pytest.raises(SimulatedUpstreamError, match="loopback only"):
            SimulatedUpstream(host=host)


def test_stop_closes_keep_alive_connections_and_frees_the_port() -> None:
    upstream = SimulatedUpstream()
    url = upstream.start()
    http = httpx.Client(base_url=url, timeout=2)
    assert http.get("/").status_code == 200  # leaves an idle keep-alive connection open
    upstream.stop()
    with pytest.raises(httpx.TransportError):
        http.get("/")
    http.close()
    again = SimulatedUpstream(port=upstream.port)
    assert again.start() == url
    again.stop()


def test_standalone_command(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "heimdall.demo.simulated", "--port", "0", "--log", str(log),
         "--input-tokens", "11", "--output-tokens", "22", "--cache-creation", "3", "--cache-read", "5",
         "--reply-suffix", "Bonjour"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY" and ready[1].startswith("http://127.0.0.1:")
        reply = httpx.post(f"{ready[1]}/v1/messages", json=_body("x", stream=False), timeout=10).json()
        assert reply["content"][0]["text"].endswith(": Bonjour")
        assert {k: reply["usage"][k] for k in USAGE_KEYS} == {
            "input_tokens": 11,
            "output_tokens": 22,
            "cache_creation_input_tokens": 3,
            "cache_read_input_tokens": 5,
        }
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert json.loads(log.read_text().splitlines()[0])["body"]["model"] == "claude-sonnet-4-5"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_standalone_command_refuses_public_bind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "heimdall.demo.simulated", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr and "Traceback" not in result.stderr
