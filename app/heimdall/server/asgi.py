"""Small ASGI helpers shared by the proxy and the read API (no framework: every microsecond of
the pass-through path counts, and the app has a dozen routes)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

JSON_TYPE = (b"content-type", b"application/json")

# Go's encoding/json escapes these; Bifrost clients may compare bytes.
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_json(obj: Any) -> bytes:
    """JSON the way Bifrost (Go `json.NewEncoder`) writes it: HTML-escaped, trailing newline."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (text.translate(_GO_ESCAPES) + "\n").encode("utf-8")


async def send_body(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = (JSON_TYPE,)
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, obj: Any, extra: RawHeaders | None = None) -> None:
    await send_body(send, status, go_json(obj), [JSON_TYPE, *(extra or [])])


def anthropic_error(status: int, error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def bifrost_error(status: int, message: str) -> dict[str, Any]:
    return {
        "is_bifrost_error": False,
        "status_code": status,
        "error": {"message": message},
        "extra_fields": {},
    }


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("client went away while sending the request")
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None
