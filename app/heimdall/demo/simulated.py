"""A simulated Anthropic Messages API upstream on 127.0.0.1.

Why it exists: `heimdall demo` needs a real HTTP upstream with deterministic replies and token
counts so a newcomer without an account can watch Claude Code, the embedded gateway and the spend
sidebar work together; and the test suite needs the same thing to drive the real Claude Code
binary offline. It follows the public wire contract of the Messages API (JSON and SSE streaming,
`count_tokens`, `/v1/models`, the error envelope) closely enough that Claude Code, LiteLLM and our
embedded gateway cannot tell it from the real service for the paths they use.

Deterministic behaviour:
- Reply text `FAKE-REPLY #<n> from model=<model>: <suffix>`; `n` is the global request counter,
  also the `n` of the request's log entry.
- Usage is fixed and configurable (`SimulatedUsage`, default 1,200 in / 345 out / 0 cache) and is
  reported identically by JSON and streamed replies (`message_start` + cumulative `message_delta`).
- A request with `output_config.format.type == "json_schema"` (Claude Code's title call) gets valid
  JSON filling every string property: `{"title": "Fake title <n>"}`.
- Triggers in the last user message's text: `FAKE_TOOL_USE {json}`, `FAKE_ERROR_<nnn>`, `FAKE_SLOW`.

Every request (including 404s) is logged in memory and, when `log_path` is set, as one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_REPLY_SUFFIX = "Hi there!"
SLOW_EVENT_GAP_S = 0.5
IDLE_CONNECTION_TIMEOUT_S = 120.0
DEFAULT_MEMORY_LOG_LIMIT = 5000

# Claude Code keeps only ids matching /^(claude|anthropic)/i from a gateway's model list; the last
# entry is there so clients' filters are exercised.
SIMULATED_MODELS: tuple[tuple[str, str, str], ...] = (
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ("anthropic-simulated-1", "Anthropic Simulated 1", "2025-01-01T00:00:00Z"),
    ("simulated-other-model", "Not a Claude model", "2025-01-01T00:00:00Z"),
)

ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_REASONS: Mapping[int, str] = {529: "Overloaded"}
_ERROR_TRIGGER = re.compile(r"FAKE_ERROR_(\d{3})")
_TOOL_TRIGGER = "FAKE_TOOL_USE"
_SLOW_TRIGGER = "FAKE_SLOW"


@dataclass(frozen=True, slots=True)
class SimulatedUsage:
    """Token counts every reply reports. `cache_creation_1h_input_tokens` is the part of
    `cache_creation_input_tokens` written with the 1-hour TTL (the rest is 5-minute)."""

    input_tokens: int = 1200
    output_tokens: int = 345
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"SimulatedUsage.{name} must be a non-negative int, got {value!r}")
        if self.cache_creation_1h_input_tokens > self.cache_creation_input_tokens:
            raise ValueError("cache_creation_1h_input_tokens exceeds cache_creation_input_tokens")

    def to_wire(self, *, output_tokens: int | None = None) -> dict[str, Any]:
        """The `usage` object as the Messages API reports it."""
        one_hour = self.cache_creation_1h_input_tokens
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_input_tokens - one_hour,
                "ephemeral_1h_input_tokens": one_hour,
            },
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }


DEFAULT_USAGE = SimulatedUsage()


class SimulatedUpstreamError(Exception):
    """Misuse of the simulator (non-loopback host, started twice...)."""


@dataclass(slots=True)
class _Plan:
    """What to answer one request with, decided before the response starts (and logged)."""

    status: int
    note: str
    body: dict[str, Any] | None = None
    stream: bool = False
    text: str = ""
    model: str = ""
    tool: dict[str, Any] | None = None
    slow: bool = False
    usage: SimulatedUsage | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # waited after logging, before the response starts
    request_id: str = ""


def _error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": request_id,
    }


def _last_user_text(messages: Any) -> str | None:
    """Text of the last user message (string content or text blocks); None if it has no text,
    e.g. a message carrying only `tool_result` blocks."""
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [
                block.get("text", "")
                for block in content
                if isinstance(block, dict) and block.get("type") == "text"
            ]
            return "\n".join(t for t in texts if isinstance(t, str)) if texts else None
        return None
    return None


def _parse_tool_trigger(text: str) -> dict[str, Any] | str | None:
    """The tool call asked for by `FAKE_TOOL_USE {json}`; an error message if malformed."""
    at = text.find(_TOOL_TRIGGER)
    if at < 0:
        return None
    rest = text[at + len(_TOOL_TRIGGER) :].lstrip()
    try:
        spec, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError as exc:
        return f"FAKE_TOOL_USE must be followed by a JSON object: {exc}"
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        return 'FAKE_TOOL_USE needs {"name": "<tool>", "input": {...}}'
    tool_input = spec.get("input", {})
    if not isinstance(tool_input, dict):
        return "FAKE_TOOL_USE input must be a JSON object"
    return {
        "type": "tool_use",
        "id": f"toolu_fake_{uuid.uuid4().hex[:20]}",
        "name": spec["name"],
        "input": tool_input,
    }


def _json_schema_reply(schema: Any, n: int) -> str:
    """Valid JSON for a structured-output request: each string property gets `Fake <prop> <n>`."""
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    filled: dict[str, Any] = {}
    for name, prop in properties.items() if isinstance(properties, dict) else ():
        kind = prop.get("type") if isinstance(prop, dict) else None
        if kind == "string":
            filled[name] = f"Fake {name} {n}"
        elif kind in ("integer", "number"):
            filled[name] = n
        elif kind == "boolean":
            filled[name] = False
        elif kind == "array":
            filled[name] = []
        elif kind == "object":
            filled[name] = {}
        else:
            filled[name] = None
    return json.dumps(filled)


def _sse(event: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _words(text: str) -> list[str]:
    """Split into deltas that concatenate back to `text` exactly."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return parts or [""]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 resets connections under concurrent load
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: SimulatedUpstream, family: int) -> None:
        self.address_family = family
        self.upstream = upstream
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "heimdall-simulated-anthropic/1"
    disable_nagle_algorithm = True  # like real servers: no 40 ms Nagle/delayed-ACK stalls per event
    server: _Server
    timeout = IDLE_CONNECTION_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # the JSONL log is the record
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        upstream = self.server.upstream
        request_id = f"req_fake_{uuid.uuid4().hex[:24]}"
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send_json(400, _error_body(400, "malformed request body", request_id), request_id)
            return
        body: Any
        if raw:
            try:
                body = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                body = {"_raw": raw.decode("utf-8", "replace")}
        else:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        n, plan = upstream._plan(self.command, self.path, headers, body, request_id)
        plan.request_id = request_id
        upstream._log(
            {
                "n": n,
                "t": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "body_len": len(raw),
                "body": body,
                "note": plan.note,
                "status": plan.status,
                "request_id": request_id,
            }
        )
        try:
            if plan.delay_s:
                time.sleep(plan.delay_s)
            if plan.stream:
                self._send_stream(plan, request_id)
            else:
                self._send_json(plan.status, plan.body, request_id, plan.extra_headers)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _send_json(
        self,
        status: int,
        body: dict[str, Any] | None,
        request_id: str,
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status, _REASONS.get(status))
        self.send_header("request-id", request_id)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)
        self.wfile.flush()

    def _send_stream(self, plan: _Plan, request_id: str) -> None:
        self.send_response(200)
        self.send_header("request-id", request_id)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        gap = self.server.upstream.slow_event_gap_s if plan.slow else 0.0
        for index, event in enumerate(self.server.upstream._events(plan)):
            if index and gap:
                time.sleep(gap)
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class SimulatedUpstream:
    """A threaded HTTP/1.1 server speaking the Anthropic Messages API on a loopback address.

    `usage` (and `model_usage`, per model id) may be replaced between requests; each request
    uses the values current when it arrived.
    """

    def __init__(
        self,
        usage: SimulatedUsage | None = None,
        log_path: Path | None = None,
        delay_ms: int = 0,
        reply_suffix: str = DEFAULT_REPLY_SUFFIX,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_usage: Mapping[str, SimulatedUsage] | None = None,
        required_key: str | None = None,
        memory_log_limit: int | None = DEFAULT_MEMORY_LOG_LIMIT,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise SimulatedUpstreamError(
                f"refusing to bind the simulated upstream to {host!r}: loopback only "
                f"({', '.join(sorted(LOOPBACK_HOSTS))})"
            )
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        self.usage = usage or SimulatedUsage()
        self.model_usage: dict[str, SimulatedUsage] = dict(model_usage or {})
        # When set, /v1/* answers 401 unless `x-api-key: <key>` or `authorization: Bearer <key>`
        # is present (like Anthropic), so tests can prove which credential a gateway forwarded.
        self.required_key = required_key
        self.log_path = Path(log_path) if log_path is not None else None
        self.delay_ms = delay_ms
        self.reply_suffix = reply_suffix
        self.slow_event_gap_s = SLOW_EVENT_GAP_S  # FAKE_SLOW pacing; tests may shorten it
        self.host = host
        self.port = port
        self._counter = 0
        self._lock = threading.Lock()
        # Claude Code's requests are ~100 KB each: a long `heimdall demo` must not grow forever.
        # The JSONL file (when asked for) keeps everything.
        self._log_entries: deque[dict[str, Any]] = deque(maxlen=memory_log_limit)
        self._changed = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        if self._server is not None:
            raise SimulatedUpstreamError("simulated upstream already started")
        family = socket.AF_INET6 if self.host == "::1" else socket.AF_INET
        bind_host = "127.0.0.1" if self.host == "localhost" else self.host
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.touch()
        self._server = _Server((bind_host, self.port), self, family)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"simulated-anthropic-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise SimulatedUpstreamError("simulated upstream not started")
        host = "[::1]" if self.host == "::1" else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.sockets_lock:
            open_sockets = list(server.open_sockets)
        for sock in open_sockets:  # idle keep-alive connections would otherwise linger
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SimulatedUpstream:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request log -----------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """Every request so far, oldest first (the same entries as the JSONL log)."""
        with self._lock:
            return list(self._log_entries)

    def wait_for_request(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first logged request matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for entry in self._log_entries:
                    if predicate(entry):
                        return entry
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching request within {timeout} s")
                self._changed.wait(remaining)

    def _log(self, entry: dict[str, Any]) -> None:
        with self._changed:
            self._log_entries.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._changed.notify_all()

    # -- routing ---------------------------------------------------------------------------

    def _next_n(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _plan(
        self, method: str, target: str, headers: Mapping[str, str], body: Any, request_id: str
    ) -> tuple[int, _Plan]:
        n = self._next_n()
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if path == "/" and method in ("GET", "HEAD"):
            root = {"service": "heimdall simulated Anthropic upstream", "ok": True}
            return n, _Plan(200, "root", body=root)
        if path.startswith("/v1/") and self.required_key is not None:
            denied = self._check_key(headers, request_id)
            if denied is not None:
                return n, denied
        if path == "/v1/messages" and method == "POST":
            plan = self._plan_messages(n, body, request_id)
            plan.delay_s += self.delay_ms / 1000
            return n, plan
        if path == "/v1/messages/count_tokens" and method == "POST":
            return n, self._plan_count_tokens(body, request_id)
        if path == "/v1/models" and method == "GET":
            return n, _Plan(200, "models", body=self._model_list(parse_qs(parts.query)))
        if path.startswith("/v1/models/") and method == "GET":
            model_id = path.removeprefix("/v1/models/")
            for entry in self._model_objects():
                if entry["id"] == model_id:
                    return n, _Plan(200, "model", body=entry)
            message = f"model: {model_id}"
            return n, _Plan(404, "not_found", body=_error_body(404, message, request_id))
        message = f"Not found: {method} {parts.path}"
        return n, _Plan(404, "not_found", body=_error_body(404, message, request_id))

    def _check_key(self, headers: Mapping[str, str], request_id: str) -> _Plan | None:
        presented = headers.get("x-api-key")
        auth = headers.get("authorization", "")
        if presented is None and auth.lower().startswith("bearer "):
            presented = auth[7:].strip()
        if presented is None:
            message = "x-api-key header is required"
        elif presented != self.required_key:
            message = "invalid x-api-key"
        else:
            return None
        return _Plan(401, "unauthorized", body=_error_body(401, message, request_id))

    def _usage_for(self, model: str) -> SimulatedUsage:
        return self.model_usage.get(model, self.usage)

    def _plan_messages(self, n: int, body: Any, request_id: str) -> _Plan:
        def invalid(message: str) -> _Plan:
            return _Plan(400, "invalid_request", body=_error_body(400, message, request_id))

        if not isinstance(body, dict) or "_raw" in body:
            return invalid("request body must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return invalid("model: field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return invalid("messages: at least one message is required")
        text = _last_user_text(messages) or ""
        error = _ERROR_TRIGGER.search(text)
        if error and 400 <= int(error.group(1)) <= 599:
            status = int(error.group(1))
            retry = (("retry-after", "0"),) if status in (429, 529) else ()
            message = f"Simulated error {status} (FAKE_ERROR_{status})"
            return _Plan(
                status, f"error {status}", body=_error_body(status, message, request_id),
                extra_headers=retry,
            )
        tool = _parse_tool_trigger(text)
        if isinstance(tool, str):
            return invalid(tool)
        output_config = body.get("output_config")
        output_format = output_config.get("format") if isinstance(output_config, dict) else None
        structured = isinstance(output_format, dict) and output_format.get("type") == "json_schema"
        if structured and isinstance(output_format, dict):
            reply = _json_schema_reply(output_format.get("schema"), n)
            tool = None
        else:
            reply = f"FAKE-REPLY #{n} from model={model}: {self.reply_suffix}"
        stream = body.get("stream") is True
        notes = ["stream" if stream else "json"]
        if structured:
            notes.append("title")
        if tool:
            notes.append("tool_use")
        slow = _SLOW_TRIGGER in text
        if slow:
            notes.append("slow")
        plan = _Plan(
            200, " ".join(notes), stream=stream, text=reply, model=model, tool=tool,
            slow=slow, usage=self._usage_for(model),
        )
        if not stream:
            plan.delay_s = self.slow_event_gap_s if slow else 0.0
            plan.body = self._message(plan, request_id)
        return plan

    def _plan_count_tokens(self, body: Any, request_id: str) -> _Plan:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            message = "messages: field required"
            return _Plan(400, "invalid_request", body=_error_body(400, message, request_id))
        tokens = max(1, len(json.dumps(body["messages"])) // 4)
        return _Plan(200, "count_tokens", body={"input_tokens": tokens})

    # -- payloads --------------------------------------------------------------------------

    def _content(self, plan: _Plan) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": plan.text}]
        if plan.tool:
            content.append(plan.tool)
        return content

    def _message(self, plan: _Plan, request_id: str) -> dict[str, Any]:
        assert plan.usage is not None
        return {
            "id": f"msg_fake_{request_id.removeprefix('req_fake_')}",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": self._content(plan),
            "stop_reason": "tool_use" if plan.tool else "end_turn",
            "stop_sequence": None,
            "usage": plan.usage.to_wire(),
        }

    def _events(self, plan: _Plan) -> Iterator[bytes]:
        """The SSE events of one streamed reply, in the Messages API's order."""
        assert plan.usage is not None
        message = self._message(plan, plan.request_id)
        start = dict(message, content=[], stop_reason=None, usage=plan.usage.to_wire(output_tokens=1))
        yield _sse("message_start", {"type": "message_start", "message": start})
        yield _sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield _sse("ping", {"type": "ping"})
        for word in _words(plan.text):
            delta = {"type": "text_delta", "text": word}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        if plan.tool:
            block = dict(plan.tool, input={})
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": 1, "content_block": block},
            )
            partial = {"type": "input_json_delta", "partial_json": json.dumps(plan.tool["input"])}
            yield _sse(
                "content_block_delta", {"type": "content_block_delta", "index": 1, "delta": partial}
            )
            yield _sse("content_block_stop", {"type": "content_block_stop", "index": 1})
        usage = plan.usage.to_wire()
        usage.pop("service_tier")
        usage.pop("cache_creation")
        yield _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": usage,
            },
        )
        yield _sse("message_stop", {"type": "message_stop"})

    def _model_objects(self) -> list[dict[str, Any]]:
        return [
            {"type": "model", "id": model_id, "display_name": name, "created_at": created}
            for model_id, name, created in SIMULATED_MODELS
        ]

    def _model_list(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        models = self._model_objects()
        after = (query.get("after_id") or [""])[0]
        if after:
            ids = [m["id"] for m in models]
            models = models[ids.index(after) + 1 :] if after in ids else []
        try:
            limit = max(1, min(1000, int((query.get("limit") or ["20"])[0])))
        except ValueError:
            limit = 20
        page, has_more = models[:limit], len(models) > limit
        return {
            "data": page,
            "has_more": has_more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m heimdall.demo.simulated",
        description="Simulated Anthropic Messages API on a loopback address (demo and tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0 = a free one)")
    parser.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    parser.add_argument("--input-tokens", type=int, default=DEFAULT_USAGE.input_tokens)
    parser.add_argument("--output-tokens", type=int, default=DEFAULT_USAGE.output_tokens)
    parser.add_argument("--cache-creation", type=int, default=0, help="cache-write tokens")
    parser.add_argument("--cache-creation-1h", type=int, default=0, help="of which 1-hour TTL")
    parser.add_argument("--cache-read", type=int, default=0, help="cache-read tokens")
    parser.add_argument("--delay-ms", type=int, default=0, help="delay before every reply")
    parser.add_argument("--reply-suffix", default=DEFAULT_REPLY_SUFFIX)
    parser.add_argument(
        "--required-key", metavar="KEY", help="answer 401 unless requests carry this credential"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        usage = SimulatedUsage(
            input_tokens=args.input_tokens,
            output_tokens=args.output_tokens,
            cache_creation_input_tokens=args.cache_creation,
            cache_read_input_tokens=args.cache_read,
            cache_creation_1h_input_tokens=args.cache_creation_1h,
        )
        upstream = SimulatedUpstream(
            usage, args.log, args.delay_ms, args.reply_suffix, host=args.host, port=args.port,
            required_key=args.required_key,
        )
        url = upstream.start()
    except (ValueError, SimulatedUpstreamError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"READY {url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        upstream.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
