"""The Anthropic pass-through: relays requests to the upstream and meters what comes back.

Bodies go upstream byte for byte and responses come back byte for byte, chunk by chunk as they
arrive (SSE events are never held back). Headers pass unchanged, with four exceptions:
hop-by-hop headers (they describe one connection, not the request); `x-bf-lh-*`, which are
captured as log metadata and stay here; `accept-encoding`, replaced by `identity` so the gateway
can read the usage in the stream it relays; and, in held-key mode, the client's credential
(our local token) which is replaced by the held upstream key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import httpx

from heimdall.server.asgi import (
    JSON_TYPE,
    Receive,
    Send,
    anthropic_error,
    go_json,
    read_body,
    send_body,
)
from heimdall.server.auth import CREDENTIAL_HEADERS
from heimdall.server.metering import JsonMeter, StreamMeter
from heimdall.server.store import LogRow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from heimdall.server.context import GatewayContext
    from heimdall.server.routing import Request

HOP_BY_HOP = frozenset(
    {
        b"host",
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"accept-encoding",
    }
)
_RESPONSE_DROP = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"trailer", b"upgrade", b"te"}
)
LH_PREFIX = b"x-bf-lh-"
CC_SESSION = b"x-claude-code-session-id"


_MODEL_FIRST = re.compile(rb'\A\s*\{\s*"model"\s*:\s*"([^"\\]{1,256})"')
_STREAM_LAST = re.compile(rb'"stream"\s*:\s*(true|false)\s*\}\s*\Z')


def request_model_and_stream(body: bytes) -> tuple[str, bool]:
    """The request's top-level `model` and `stream`.

    Claude Code sends `model` as the first key and `stream` as the last; when a body has that
    shape both are read without parsing ~100 KB of JSON (about 1 ms per request otherwise).
    Any other shape is parsed in full.
    """
    head = _MODEL_FIRST.match(body, 0, 512)
    tail = _STREAM_LAST.search(body, max(0, len(body) - 64))
    if head is not None and tail is not None:
        return head.group(1).decode("utf-8", "replace"), tail.group(1) == b"true"
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return "", False
    if not isinstance(parsed, dict):
        return "", False
    model = parsed.get("model")
    return (model if isinstance(model, str) else ""), parsed.get("stream") is True


def _budget_refusal(ctx: GatewayContext, session: str | None) -> str | None:
    """Why this request must be refused (402), or None."""
    store = ctx.store
    if session is not None:
        limit = store.budgets.get(session, ctx.config.session_budget_usd)
        if limit is not None:
            spent = store.spent(session)
            if spent >= limit:
                return (
                    f"Budget exceeded for session {session}: spent ${spent:.4f} of "
                    f"${limit:.4f}. Raise it in Heimdall to continue."
                )
    daily = ctx.config.daily_budget_usd
    if daily is not None:
        spent = store.spent_today()
        if spent >= daily:
            return (
                f"Daily budget exceeded: spent ${spent:.4f} of ${daily:.4f} today (UTC). "
                "Raise embedded.daily_budget_usd to continue."
            )
    return None


async def messages(ctx: GatewayContext, request: Request) -> None:
    await relay(ctx, request, "responses")


async def count_tokens(ctx: GatewayContext, request: Request) -> None:
    await relay(ctx, request, "count_tokens")


async def list_models(ctx: GatewayContext, request: Request) -> None:
    await relay(ctx, request, "list_models")


async def relay(ctx: GatewayContext, request: Request, object_kind: str) -> None:
    """Forward one request upstream and stream the answer back, writing one log row."""
    clock = ctx.clock
    started = clock.monotonic()
    ts = clock.wall()
    scope, receive, send, upstream_path = request.scope, request.receive, request.send, request.path
    try:
        body = await read_body(receive)
    except ConnectionResetError:
        return

    held = ctx.auth.held_header
    forward: list[tuple[bytes, bytes]] = []
    metadata: dict[str, str] = {}
    cc_session: str | None = None
    for key, value in scope["headers"]:
        if key.startswith(LH_PREFIX):
            metadata[key[len(LH_PREFIX) :].decode("latin-1")] = value.decode("latin-1")
            continue
        if key in HOP_BY_HOP:
            continue
        if key == CC_SESSION:
            cc_session = value.decode("latin-1")
        elif held is not None and key in CREDENTIAL_HEADERS:
            continue  # our local token: upstream gets the held key instead
        forward.append((key, value))
    if held is not None:
        forward.append(held)
    forward.append((b"accept-encoding", b"identity"))

    requested_model, stream = request_model_and_stream(body) if body else ("", False)
    if object_kind == "responses" and stream:
        object_kind = "responses_stream"

    row = LogRow(
        id=str(uuid.uuid4()),
        ts=ts,
        object=object_kind,
        model=requested_model,
        requested_model=requested_model or None,
        stream=stream,
        path=upstream_path,
        metadata=metadata,
        cc_session_id=cc_session,
    )

    if object_kind.startswith("responses"):
        refusal = _budget_refusal(ctx, row.session)
        if refusal is not None:
            row.status, row.http_status = "error", 402
            row.error_type, row.error_message = "billing_error", refusal
            row.latency_ms = (clock.monotonic() - started) * 1000
            row.cost = 0.0
            ctx.store.finish(row)
            payload = go_json(anthropic_error(402, "billing_error", refusal))
            await send_body(send, 402, payload, [JSON_TYPE])
            return

    if row.object != "list_models":
        ctx.store.upsert(row)
    query = scope.get("query_string") or b""
    upstream = ctx.upstream
    url = upstream.base_url + upstream_path + ("?" + query.decode("latin-1") if query else "")
    outgoing = httpx.Request(
        scope["method"], url, headers=forward, content=body, extensions={"timeout": upstream.timeouts}
    )
    try:
        response = await upstream.transport.handle_async_request(outgoing)
    except (httpx.HTTPError, OSError) as exc:
        message = f"Heimdall gateway could not reach the upstream {upstream.base_url}: {exc!r}"
        _close_row(ctx, row, started, status="error", http_status=502)
        row.error_type, row.error_message = "api_error", message
        if row.object != "list_models":
            ctx.store.finish(row)
        with contextlib.suppress(OSError):
            await send_body(send, 502, go_json(anthropic_error(502, "api_error", message)))
        return
    except asyncio.CancelledError:
        _close_row(ctx, row, started, status="cancelled", http_status=None)
        row.error_message = "request cancelled before the upstream answered"
        if row.object != "list_models":
            ctx.store.finish(row)
        raise

    await _relay_response(ctx, receive, send, row, response, started)


def _close_row(
    ctx: GatewayContext, row: LogRow, started: float, *, status: str, http_status: int | None
) -> None:
    row.status = status
    row.http_status = http_status
    row.latency_ms = (ctx.clock.monotonic() - started) * 1000
    if row.object.startswith("responses"):
        row.cost = 0.0


async def _relay_response(
    ctx: GatewayContext,
    receive: Receive,
    send: Send,
    row: LogRow,
    response: httpx.Response,
    started: float,
) -> None:
    content_type = response.headers.get("content-type", "")
    is_sse = content_type.startswith("text/event-stream")
    meter: StreamMeter | JsonMeter = StreamMeter() if is_sse else JsonMeter()
    headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _RESPONSE_DROP]

    task = asyncio.current_task()
    state = {"done": False, "client_gone": False}

    async def watch_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not state["done"]:
                    state["client_gone"] = True
                    if task is not None:
                        task.cancel()
                return

    monotonic = ctx.clock.monotonic
    watcher = asyncio.create_task(watch_disconnect())
    broken: str | None = None
    cancelled_by_server = False
    try:
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        async for chunk in cast("AsyncIterator[bytes]", response.stream):
            if row.ttfb_ms is None:
                row.ttfb_ms = (monotonic() - started) * 1000
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            meter.feed(chunk)
        state["done"] = True
        await send({"type": "http.response.body", "body": b""})
    except asyncio.CancelledError:
        if state["client_gone"] and task is not None:
            task.uncancel()
        else:
            cancelled_by_server = True
    except OSError:  # the server reports a vanished client on send
        state["client_gone"] = True
        state["done"] = True
    except httpx.HTTPError as exc:
        broken = f"upstream stream broke: {exc!r}"
        state["done"] = True
        with contextlib.suppress(Exception):
            if is_sse:
                event = {"type": "error", "error": {"type": "api_error", "message": broken}}
                data = b"event: error\ndata: " + json.dumps(event).encode() + b"\n\n"
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await cast("httpx.AsyncByteStream", response.stream).aclose()
        _finish_row(ctx, row, response.status_code, meter, started, broken, state["client_gone"])
    if cancelled_by_server:
        raise asyncio.CancelledError


def _finish_row(
    ctx: GatewayContext,
    row: LogRow,
    http_status: int,
    meter: StreamMeter | JsonMeter,
    started: float,
    broken: str | None,
    client_gone: bool,
) -> None:
    if isinstance(meter, JsonMeter) and not client_gone and broken is None:
        meter.finish()
    seen = meter.seen
    row.latency_ms = (ctx.clock.monotonic() - started) * 1000
    row.http_status = http_status
    if seen.model:
        row.model = seen.model
    usage = seen.usage()
    row.input_tokens = usage.input_tokens
    row.output_tokens = usage.output_tokens
    row.cache_read_tokens = usage.cache_read_tokens
    row.cache_write_5m_tokens = usage.cache_write_5m_tokens
    row.cache_write_1h_tokens = usage.cache_write_1h_tokens
    row.prompt_tokens = usage.prompt_tokens
    row.total_tokens = usage.total_tokens
    row.stop_reason = seen.stop_reason
    if client_gone:
        row.status = "cancelled"
        row.error_message = "client disconnected before the response finished"
    elif http_status >= 400:
        row.status = "error"
    elif broken is not None:
        row.status = "error"
        row.error_type, row.error_message = "api_error", broken
    elif seen.error_type is not None:
        row.status = "error"
    elif isinstance(meter, StreamMeter) and not seen.completed:
        row.status = "error"
        row.error_type = "api_error"
        row.error_message = "upstream ended the stream before message_stop"
    else:
        row.status = "success"
    if seen.error_type is not None:
        row.error_type, row.error_message = seen.error_type, seen.error_message
    if row.object.startswith("responses"):
        if usage.total_tokens:
            cost = ctx.pricing.cost(row.model, usage, datetime.fromtimestamp(row.ts, UTC))
            row.cost, row.missing_cost = cost.usd, cost.missing
        else:
            row.cost = 0.0
    if row.object != "list_models":
        ctx.store.finish(row)
