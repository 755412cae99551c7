"""The embedded gateway's ASGI app: routing, lifespan, settings.

Routes:

| Route | What |
|---|---|
| `POST [/anthropic]/v1/messages` | pass-through, metered (JSON and SSE) |
| `POST [/anthropic]/v1/messages/count_tokens` | pass-through, logged as `count_tokens` |
| `GET /anthropic/v1/models[/{id}]` | pass-through (Anthropic format) |
| `GET /v1/models` | Anthropic clients: pass-through; others: Bifrost's list + prices |
| `HEAD|GET [/anthropic]/` | 200 (Claude Code's connection warm-up) |
| `GET /health` | liveness, no auth |
| `/api/...` | Bifrost-compatible read API + budgets, Bearer token |

It is a plain ASGI callable rather than a framework app: the pass-through path is a handful of
dict lookups, which keeps the added latency well under a millisecond.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from heimdall import __version__, paths
from heimdall.server import api
from heimdall.server import relay as proxy
from heimdall.server.asgi import Receive, Scope, Send, anthropic_error, bifrost_error, send_json
from heimdall.server.auth import Access, GatewayAuth
from heimdall.server.pricing import Pricer
from heimdall.server.store import LogStore
from heimdall.server.upstream import FastHTTPTransport, environment_proxy

if TYPE_CHECKING:
    from heimdall.config import Config, ModelPrice

SERVICE_NAME = "heimdall-gateway"


@dataclass
class GatewaySettings:
    token: str
    db_path: Path
    host: str = "127.0.0.1"
    port: int = 8787
    upstream: str = "https://api.anthropic.com"
    held_key: str | None = None
    """When set, the gateway sends this upstream key itself and clients must present `token`."""
    daily_budget_usd: float | None = None
    session_budget_usd: float | None = None
    price_overrides: Mapping[str, ModelPrice] = field(default_factory=dict)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 600.0

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        token: str,
        host: str | None = None,
        port: int | None = None,
        upstream: str | None = None,
        db: str | None = None,
        held_key: str | None = None,
    ) -> GatewaySettings:
        emb = config.embedded
        db_value = db or emb.db
        return cls(
            token=token,
            db_path=Path(db_value).expanduser() if db_value else paths.data_dir() / "gateway.db",
            host=host or emb.host,
            port=emb.port if port is None else port,
            upstream=upstream or emb.upstream,
            held_key=held_key,
            daily_budget_usd=emb.daily_budget_usd,
            session_budget_usd=emb.session_budget_usd,
            price_overrides=dict(config.pricing.overrides),
        )


class Gateway:
    """The ASGI application. Resources open in the lifespan `startup` (or `start()`)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.upstream_base = settings.upstream.rstrip("/")
        self.store = LogStore(settings.db_path)
        self.auth = GatewayAuth(settings.token, settings.held_key)
        self.pricer = Pricer(settings.price_overrides)
        self._client: httpx.AsyncClient | None = None
        self._transport: httpx.AsyncBaseTransport | None = None
        self.timeouts = {
            "connect": settings.connect_timeout_s,
            "read": settings.read_timeout_s,
            "write": 60.0,
            "pool": 60.0,
        }
        self.models_cache: tuple[float, list[dict[str, Any]] | None] | None = None
        self.on_started: Callable[[], None] | None = None
        self.startup_error: str | None = None

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The pooled keep-alive upstream transport. The proxy calls it directly: the client layer
        above it (cookies, auth flows, redirects, hooks) is unused here and costs ~0.1 ms."""
        if self._transport is None:
            proxy_url = environment_proxy(self.upstream_base)
            if proxy_url is None:
                # Our HTTP/1.1 transport (fast_transport.py): ~0.5 ms less per request than
                # httpcore. TLS like httpx's default, SSL_CERT_FILE / SSL_CERT_DIR included.
                self._transport = FastHTTPTransport(
                    max_connections=512, max_keepalive_connections=128, keepalive_expiry=60
                )
            else:
                # HTTPS_PROXY / HTTP_PROXY / ALL_PROXY applies to the upstream (NO_PROXY aside):
                # the fast transport does not speak to proxies, so httpx's own transport does.
                self._transport = httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(
                        max_connections=512, max_keepalive_connections=128, keepalive_expiry=60
                    ),
                    trust_env=True,  # SSL_CERT_FILE / SSL_CERT_DIR for corporate CAs
                    proxy=proxy_url,
                    retries=0,
                )
        return self._transport

    @property
    def client(self) -> httpx.AsyncClient:
        """For the gateway's own (rare) upstream calls, sharing the proxy's connection pool."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.transport,
                timeout=httpx.Timeout(**self.timeouts),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def start(self) -> None:
        self.store.open()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None
        await asyncio.to_thread(self.store.close)

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
        method: str = scope["method"]
        if path.startswith("/api/"):
            await api.handle(self, scope, receive, send)
            return
        if path == "/health":
            await send_json(send, 200, self.health())
            return
        prefixed = path == "/anthropic" or path.startswith("/anthropic/")
        inner = path[len("/anthropic") :] if prefixed else path
        if inner in ("", "/") and method in ("HEAD", "GET"):
            await send_json(send, 200, {"service": SERVICE_NAME, "ok": True})
            return
        refusal = self.auth.refusal(Access.INFERENCE, scope)
        if refusal is not None:
            await send_json(send, 401, refusal)
            return
        if method == "POST" and inner == "/v1/messages":
            await proxy.relay(self, scope, receive, send, inner, "responses")
        elif method == "POST" and inner == "/v1/messages/count_tokens":
            await proxy.relay(self, scope, receive, send, inner, "count_tokens")
        elif method == "GET" and inner == "/v1/models" and not prefixed and not _anthropic(scope):
            await api.models(self, scope, send)
        elif method == "GET" and (inner == "/v1/models" or inner.startswith("/v1/models/")):
            await proxy.relay(self, scope, receive, send, inner, "list_models")
        elif prefixed or inner.startswith("/v1/"):
            message = f"Heimdall gateway: no route for {method} {path}"
            await send_json(send, 404, anthropic_error(404, "not_found_error", message))
        else:
            await send_json(send, 404, bifrost_error(404, f"no route for {method} {path}"))

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "service": SERVICE_NAME,
            "version": __version__,
            "auth_mode": self.auth.mode,
            "upstream": self.upstream_base,
            "pid": os.getpid(),
            "log_write_errors": self.store.write_errors,
            "last_log_write_error": self.store.last_write_error,
        }


def _anthropic(scope: Scope) -> bool:
    return any(k == b"anthropic-version" for k, _ in scope["headers"])


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
