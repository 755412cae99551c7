"""The embedded gateway's ASGI app: the route table, the context handlers share, the lifespan.

| Route | What |
|---|---|
| `POST [/anthropic]/v1/messages` | pass-through, metered (JSON and SSE) |
| `POST [/anthropic]/v1/messages/count_tokens` | pass-through, logged as `count_tokens` |
| `GET /anthropic/v1/models[/{id}]`, `GET /v1/models/{id}` | pass-through (Anthropic format) |
| `GET /v1/models` | Anthropic clients: pass-through; others: Bifrost's list + prices |
| `HEAD|GET /`, `/anthropic[/]` | 200 (Claude Code's connection warm-up) |
| `GET|HEAD /health` | liveness, no auth |
| `/api/...` | Bifrost-compatible read API + budgets, Bearer token (`server/api.py`) |

It is a plain ASGI callable rather than a framework app: routing a request is one dict lookup
(two for a path ending in an id), which keeps the added latency well under a millisecond.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from heimdall import __version__
from heimdall.server import api, relay
from heimdall.server.asgi import Receive, Scope, Send, anthropic_error, bifrost_error, send_json
from heimdall.server.auth import Access
from heimdall.server.context import GatewayContext, GatewaySettings
from heimdall.server.routing import ANTHROPIC_PREFIX, Request, Route, Router

SERVICE_NAME = "heimdall-gateway"

__all__ = ["Gateway", "GatewaySettings", "RunningGateway", "bind_socket", "create_app", "uvicorn_config"]


async def health(ctx: GatewayContext, request: Request) -> None:
    await send_json(
        request.send,
        200,
        {
            "status": "ok",
            "service": SERVICE_NAME,
            "version": __version__,
            "auth_mode": ctx.auth.mode,
            "upstream": ctx.upstream.base_url,
            "pid": os.getpid(),
            "log_write_errors": ctx.store.write_errors,
            "last_log_write_error": ctx.store.last_write_error,
        },
    )


async def warm_up(ctx: GatewayContext, request: Request) -> None:
    await send_json(request.send, 200, {"service": SERVICE_NAME, "ok": True})


async def anthropic_not_found(ctx: GatewayContext, request: Request) -> None:
    message = f"Heimdall gateway: no route for {request.scope['method']} {request.scope['path']}"
    await send_json(request.send, 404, anthropic_error(404, "not_found_error", message))


async def bifrost_not_found(ctx: GatewayContext, request: Request) -> None:
    message = f"no route for {request.scope['method']} {request.scope['path']}"
    await send_json(request.send, 404, bifrost_error(404, message))


OPEN, INFERENCE, API = Access.OPEN, Access.INFERENCE, Access.API

ROUTES = (
    Route("GET", "/health", health, OPEN),
    Route("HEAD", "/health", health, OPEN),
    Route("HEAD", "/", warm_up, OPEN),
    Route("GET", "/", warm_up, OPEN),
    Route("HEAD", "/anthropic", warm_up, OPEN),
    Route("GET", "/anthropic", warm_up, OPEN),
    Route("HEAD", "/anthropic/", warm_up, OPEN),
    Route("GET", "/anthropic/", warm_up, OPEN),
    Route("POST", "/v1/messages", relay.messages, INFERENCE),
    Route("POST", "/anthropic/v1/messages", relay.messages, INFERENCE),
    Route("POST", "/v1/messages/count_tokens", relay.count_tokens, INFERENCE),
    Route("POST", "/anthropic/v1/messages/count_tokens", relay.count_tokens, INFERENCE),
    Route("GET", "/v1/models", api.models, INFERENCE),
    Route("GET", "/v1/models/{id}", relay.list_models, INFERENCE),
    Route("GET", "/anthropic/v1/models", relay.list_models, INFERENCE),
    Route("GET", "/anthropic/v1/models/{id}", relay.list_models, INFERENCE),
    Route("GET", "/api/logs", api.logs, API, trailing_slash=True),
    Route("GET", "/api/logs/stats", api.logs_stats, API, trailing_slash=True),
    Route("GET", "/api/logs/rankings", api.logs_rankings, API, trailing_slash=True),
    Route("GET", "/api/logs/{id}", api.log_by_id, API, trailing_slash=True),
    Route("GET", "/api/heimdall/budgets", api.budgets, API, trailing_slash=True),
    Route("POST", "/api/heimdall/budgets", api.set_budget, API, trailing_slash=True),
)
"""Every route the gateway answers. Anything else is a 404 in the dialect its path suggests,
after the same credential check as its neighbours."""

_API_MISS = Route("*", "/api/", bifrost_not_found, API)
_ANTHROPIC_MISS = Route("*", "/v1/", anthropic_not_found, INFERENCE)
_MISS = Route("*", "/", bifrost_not_found, INFERENCE)


def unrouted(path: str) -> Route:
    if path.startswith("/api/"):
        return _API_MISS
    if path.startswith("/v1/") or path == ANTHROPIC_PREFIX or path.startswith(ANTHROPIC_PREFIX + "/"):
        return _ANTHROPIC_MISS
    return _MISS


ROUTER = Router(ROUTES, unrouted)


class Gateway:
    """The ASGI application. Resources open in the lifespan `startup` (or `start()`)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.context = GatewayContext.from_settings(settings)
        self.on_started: Callable[[], None] | None = None
        self.startup_error: str | None = None

    async def start(self) -> None:
        self.context.store.open()

    async def stop(self) -> None:
        await self.context.upstream.aclose()
        await asyncio.to_thread(self.context.store.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    self.startup_error = str(exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
                if self.on_started is not None:
                    self.on_started()
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        route, param = ROUTER.find(scope["method"], path)
        ctx = self.context
        if route.access is not OPEN:
            refusal = ctx.auth.refusal(route.access, scope)
            if refusal is not None:
                await send_json(send, 401, refusal)
                return
        await route.handler(ctx, Request(scope, receive, send, path[route.prefix_length :], param))


def create_app(settings: GatewaySettings) -> Gateway:
    """The ASGI app for `settings` (serve it with uvicorn; lifespan must be on)."""
    return Gateway(settings)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response pays a ~40 ms Nagle/delayed-ACK stall.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Gateway, **overrides: Any) -> Any:
    import uvicorn

    options: dict[str, Any] = {
        "lifespan": "on",
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": 75,
        "server_header": False,
        "date_header": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


class RunningGateway:
    """A gateway served by uvicorn on a background thread (tests, benchmarks, `heimdall demo`)."""

    def __init__(self, settings: GatewaySettings) -> None:
        import uvicorn

        self.app = create_app(settings)
        self._sock = bind_socket(settings.host, settings.port)
        host, port = self._sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self.port = port
        self.server = uvicorn.Server(uvicorn_config(self.app))
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self._sock])),
            name=f"heimdall-gateway-{port}",
            daemon=True,
        )

    def start(self, timeout: float = 15.0) -> RunningGateway:
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self.server.started:
                return self
            if not self._thread.is_alive():
                break
            deadline.wait(0.01)
        raise RuntimeError(f"embedded gateway did not start on {self.url}")

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> RunningGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
