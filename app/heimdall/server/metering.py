"""Reads usage out of Anthropic responses while they are relayed.

The proxy hands every chunk to `StreamMeter.feed` *after* sending it on, so metering never delays
a byte. Only the events that carry accounting (`message_start`, `message_delta`, `error`) are
JSON-decoded; text deltas are skipped by looking at the `event:` line alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from heimdall.server.pricing import TokenUsage

_INTERESTING = {b"message_start", b"message_delta", b"error"}
_JSON_CAP = 32 * 1024 * 1024  # a non-streamed body larger than this is not kept for metering


@dataclass(slots=True)
class Seen:
    """What was learnt about one response so far."""

    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_5m: int | None = None
    cache_write_1h: int | None = None
    stop_reason: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    completed: bool = False
    """`message_stop` seen (stream) or a whole JSON message parsed."""
    extra: dict[str, Any] = field(default_factory=dict)

    def apply_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        self.input_tokens = _int(usage.get("input_tokens"), self.input_tokens)
        self.output_tokens = _int(usage.get("output_tokens"), self.output_tokens)
        self.cache_read_tokens = _int(usage.get("cache_read_input_tokens"), self.cache_read_tokens)
        self.cache_write_tokens = _int(
            usage.get("cache_creation_input_tokens"), self.cache_write_tokens
        )
        breakdown = usage.get("cache_creation")
        if isinstance(breakdown, dict):
            if "ephemeral_5m_input_tokens" in breakdown:
                self.cache_write_5m = _int(breakdown.get("ephemeral_5m_input_tokens"), 0)
            if "ephemeral_1h_input_tokens" in breakdown:
                self.cache_write_1h = _int(breakdown.get("ephemeral_1h_input_tokens"), 0)

    def usage(self) -> TokenUsage:
        """Token usage; cache writes not broken down by TTL count as 5-minute writes."""
        one_hour = min(self.cache_write_1h or 0, self.cache_write_tokens)
        if self.cache_write_tokens == 0 and self.cache_write_1h:
            one_hour = self.cache_write_1h
        five_min = max(self.cache_write_tokens - one_hour, 0)
        if self.cache_write_tokens == 0 and self.cache_write_5m:
            five_min = self.cache_write_5m
        return TokenUsage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_5m_tokens=five_min,
            cache_write_1h_tokens=one_hour,
        )

    def apply_error(self, body: Any) -> None:
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            self.error_type = str(err.get("type") or "error")
            self.error_message = str(err.get("message") or "")


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


class StreamMeter:
    """Incremental SSE reader: `feed(chunk)` with any chunking; results in `.seen`."""

    __slots__ = ("_buf", "_event", "_skip", "seen")

    def __init__(self) -> None:
        self.seen = Seen()
        self._buf = b""
        self._event = b""
        self._skip = False

    def feed(self, chunk: bytes) -> None:
        data = self._buf + chunk if self._buf else chunk
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            line = data[start:nl]
            start = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._line(line)
        self._buf = data[start:] if start < len(data) else b""

    def _line(self, line: bytes) -> None:
        if not line:
            self._event = b""
            self._skip = False
            return
        if line.startswith(b"event:"):
            self._event = line[6:].strip()
            self._skip = self._event not in _INTERESTING
            if self._event == b"message_stop":
                self.seen.completed = True
            return
        if self._skip or not line.startswith(b"data:"):
            return
        try:
            payload = json.loads(line[5:])
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        kind = payload.get("type")
        if kind == "message_start":
            message = payload.get("message")
            if isinstance(message, dict):
                model = message.get("model")
                if isinstance(model, str) and model:
                    self.seen.model = model
                self.seen.apply_usage(message.get("usage"))
        elif kind == "message_delta":
            delta = payload.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason"):
                self.seen.stop_reason = str(delta["stop_reason"])
            self.seen.apply_usage(payload.get("usage"))
        elif kind == "message_stop":
            self.seen.completed = True
        elif kind == "error":
            self.seen.apply_error(payload)


class JsonMeter:
    """Collects a non-streamed body and reads `usage`/`model`/`stop_reason` at the end."""

    __slots__ = ("_chunks", "_size", "seen")

    def __init__(self) -> None:
        self.seen = Seen()
        self._chunks: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= _JSON_CAP:
            self._chunks.append(chunk)

    def finish(self) -> None:
        if self._size > _JSON_CAP or not self._chunks:
            return
        try:
            body = json.loads(b"".join(self._chunks))
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        if body.get("type") == "error":
            self.seen.apply_error(body)
            return
        model = body.get("model")
        if isinstance(model, str) and model:
            self.seen.model = model
        self.seen.apply_usage(body.get("usage"))
        if body.get("stop_reason"):
            self.seen.stop_reason = str(body["stop_reason"])
        if "input_tokens" in body and "usage" not in body:  # count_tokens reply
            self.seen.extra["counted_input_tokens"] = _int(body.get("input_tokens"), 0)
        self.seen.completed = True
