"""A lean HTTP/1.1 transport for httpx on asyncio streams: the embedded gateway's upstream path.

Why it exists: the gateway promises <= 1 ms of added latency, and profiling put most of what was
left in httpcore's async request path (0.6-1.1 ms per request, against ~0.2 ms for a plain asyncio
round trip). This transport does one job, HTTP/1.1 over a keep-alive pool, and plugs in under
`httpx.AsyncClient`, so callers keep httpx's API, its exceptions and its response objects.

Behaviour worth knowing:
- One pool per transport, keyed by (scheme, host, port). At most `max_connections` connections are
  open at once (a request waits up to the `pool` timeout for one); at most
  `max_keepalive_connections` idle ones are kept, each for `keepalive_expiry` seconds.
- Response bodies are streamed exactly as they arrive (SSE is relayed chunk by chunk). A connection
  goes back to the pool only once its response body has been read to the end and the response
  allows reuse; a response closed or cancelled early closes its connection.
- A request that fails on a *reused* connection before a single response byte arrives (the
  upstream closed an idle keep-alive connection as we sent on it) is retried once, on a new
  connection, when its body is in memory. Never otherwise: in particular never on a fresh
  connection, never after any response byte, never for streamed request bodies.
- Errors are httpx's: ConnectError/ConnectTimeout, ReadError/ReadTimeout, WriteError/WriteTimeout,
  PoolTimeout, RemoteProtocolError, LocalProtocolError.
- Not supported: HTTP/2, proxies (the gateway uses httpx's own transport when one is configured),
  upgrades (a 101 ends the exchange), bare-LF response heads.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx

from heimdall.net import is_loopback

Origin = tuple[str, str, int]
TimeoutMap = dict[str, float | None]

_READ_SIZE = 65536
_MAX_HEAD = 256 * 1024
_MAX_CHUNK_LINE = 4096
_SMALL_BODY = 65536  # bodies up to this size go out in the same write as the head
_DEFAULT_PORTS = {"http": 80, "https": 443}
_STALE_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def default_ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set;
    hostname checks on), offering only HTTP/1.1 through ALPN."""
    context = httpx.create_ssl_context(verify=True, trust_env=True)
    context.set_alpn_protocols(["http/1.1"])
    return context


def environment_proxy(url: str) -> str | None:
    """The proxy URL that HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (minus NO_PROXY) assign to `url`.

    Loopback hosts are never proxied: a local upstream behind a proxy makes no sense, and tests
    must keep working on machines that export a proxy."""
    parsed = httpx.URL(url)
    host = parsed.host
    if is_loopback(host):
        return None
    proxies = urllib.request.getproxies_environment()
    chosen = proxies.get(parsed.scheme) or proxies.get("all")
    if not chosen:
        return None
    # proxy_bypass() is proxy_bypass_environment() (NO_PROXY) whenever the environment names a
    # proxy, as it does here, on every platform; typeshed only declares the former.
    if urllib.request.proxy_bypass(host):
        return None
    return chosen



class Upstream:
    """The upstream base URL and the pooled keep-alive connections to it, opened on first use."""

    def __init__(self, base_url: str, *, connect_timeout_s: float, read_timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts: TimeoutMap = {
            "connect": connect_timeout_s,
            "read": read_timeout_s,
            "write": 60.0,
            "pool": 60.0,
        }
        self._transport: httpx.AsyncBaseTransport | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """What the relay calls directly: the client layer above it (cookies, auth flows,
        redirects, hooks) is unused there and costs ~0.1 ms a request."""
        if self._transport is None:
            proxy_url = environment_proxy(self.base_url)
            if proxy_url is None:
                # ~0.5 ms less per request than httpcore (see the module docstring); TLS like
                # httpx's default, SSL_CERT_FILE / SSL_CERT_DIR included.
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
        """For the gateway's own (rare) upstream calls, sharing the relay's connection pool."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.transport,
                timeout=httpx.Timeout(**self.timeouts),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

class _Connection:
    """One HTTP/1.1 connection with its own read buffer, so the transport always knows whether
    any byte of the current response has arrived (that decides the stale-connection retry)."""

    __slots__ = ("buffer", "idle_since", "loop", "origin", "reader", "received", "writer")

    def __init__(
        self, origin: Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.loop = asyncio.get_running_loop()
        self.idle_since = 0.0
        self.received = False

    def usable(self, now: float, expiry: float) -> bool:
        """Fit to send a new request on: not expired, not closed by the peer, nothing unread,
        and on the running event loop (a pool may outlive a loop, connections cannot)."""
        return (
            now - self.idle_since < expiry
            and not self.buffer
            and not self.reader.at_eof()
            and self.reader.exception() is None
            and not self.writer.transport.is_closing()
            and self.loop is asyncio.get_running_loop()
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.transport.abort()

    async def recv(self, timeout: float | None, request: httpx.Request) -> bytes:
        try:
            if timeout is None:
                data = await self.reader.read(_READ_SIZE)
            else:
                async with asyncio.timeout(timeout):
                    data = await self.reader.read(_READ_SIZE)
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise httpx.ReadTimeout(
                f"no data from the upstream for {timeout} s", request=request
            ) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or repr(exc), request=request) from exc
        if data:
            self.received = True
        return data

    async def read_until(
        self, separator: bytes, limit: int, timeout: float | None, request: httpx.Request
    ) -> bytes | None:
        """The bytes before `separator` (which is consumed too); None on EOF before it."""
        buffer = self.buffer
        start = 0
        while True:
            index = buffer.find(separator, start)
            if index >= 0:
                found = bytes(buffer[:index])
                del buffer[: index + len(separator)]
                return found
            if len(buffer) > limit:
                raise httpx.RemoteProtocolError(
                    f"upstream sent more than {limit} bytes without {separator!r}", request=request
                )
            start = max(0, len(buffer) - len(separator) + 1)
            data = await self.recv(timeout, request)
            if not data:
                return None
            buffer += data

    async def read_some(self, limit: int, timeout: float | None, request: httpx.Request) -> bytes:
        """Up to `limit` bytes, as soon as any are available; b"" at EOF."""
        buffer = self.buffer
        if not buffer:
            data = await self.recv(timeout, request)
            if len(data) <= limit:
                return data
            buffer += data
        if len(buffer) <= limit:
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:limit])
            del buffer[:limit]
        return data


class _Head:
    __slots__ = ("close_requested", "content_length", "headers", "reason", "status", "version")

    def __init__(self, raw: bytes, request: httpx.Request) -> None:
        lines = raw.split(b"\r\n")
        status_line = lines[0]
        version, _, rest = status_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise httpx.RemoteProtocolError(
                f"malformed status line from the upstream: {status_line[:100]!r}", request=request
            )
        self.version = version
        self.status = int(code)
        self.reason = reason
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            if line[:1] in (b" ", b"\t"):  # obsolete line folding: part of the previous value
                if not headers:
                    raise httpx.RemoteProtocolError("malformed response head", request=request)
                name, value = headers[-1]
                headers[-1] = (name, value + b" " + line.strip(b" \t"))
                continue
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise httpx.RemoteProtocolError(
                    f"malformed header line from the upstream: {line[:100]!r}", request=request
                )
            headers.append((name, value.strip(b" \t")))
        self.headers = headers


def _framing(
    request: httpx.Request, head: _Head, client_close: bool
) -> tuple[str, int, bool]:
    """How the response body is delimited ("none", "length", "chunked", "close"), its length
    for "length", and whether the connection may carry another request afterwards."""
    content_length: bytes | None = None
    transfer_encoding = b""
    tokens: set[bytes] = set()
    for name, value in head.headers:
        lowered = name.lower()
        if lowered == b"content-length":
            if content_length is not None and content_length != value:
                raise httpx.RemoteProtocolError(
                    "conflicting Content-Length headers from the upstream", request=request
                )
            content_length = value
        elif lowered == b"transfer-encoding":
            transfer_encoding += b"," + value
        elif lowered == b"connection":
            tokens.update(token.strip().lower() for token in value.split(b","))
    # HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 only when asked to.
    persistent = b"close" not in tokens if head.version == b"HTTP/1.1" else b"keep-alive" in tokens
    keep_alive = persistent and not client_close
    status = head.status
    if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return "none", 0, keep_alive and status != 101
    if transfer_encoding:
        codings = [c.strip().lower() for c in transfer_encoding.split(b",") if c.strip()]
        if codings and codings[-1] == b"chunked":
            # Both framings at once is how request smuggling starts: read this body by the
            # chunks, then retire the connection (RFC 9112 6.3).
            return "chunked", 0, keep_alive and content_length is None
        return "close", 0, False
    if content_length is not None:
        text = content_length.strip()
        if not text.isdigit():
            raise httpx.RemoteProtocolError(
                f"invalid Content-Length from the upstream: {content_length[:40]!r}",
                request=request,
            )
        length = int(text)
        return ("length", length, keep_alive) if length else ("none", 0, keep_alive)
    return "close", 0, False


def _chunk_size(line: bytes, request: httpx.Request) -> int:
    text = line.split(b";", 1)[0].strip()
    try:
        if not text:
            raise ValueError
        return int(text, 16)
    except ValueError:
        raise httpx.RemoteProtocolError(
            f"malformed chunk size from the upstream: {line[:40]!r}", request=request
        ) from None


def _incomplete(request: httpx.Request, detail: str) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(
        f"peer closed connection without sending complete message body ({detail})",
        request=request,
    )


class _ResponseStream(httpx.AsyncByteStream):
    """The response body, yielded as it arrives. Owns the connection until the body ends."""

    def __init__(
        self,
        transport: FastHTTPTransport,
        conn: _Connection,
        request: httpx.Request,
        kind: str,
        length: int,
        keep_alive: bool,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._request = request
        self._kind = kind
        self._length = length
        self._keep_alive = keep_alive
        self._timeout = read_timeout
        self._released = False
        if kind == "none":
            self._release(keep_alive)

    def _release(self, reusable: bool) -> None:
        if not self._released:
            self._released = True
            self._transport._release(self._conn, reusable)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._released:
            return
        conn, request, timeout = self._conn, self._request, self._timeout
        try:
            if self._kind == "length":
                remaining = self._length
                while remaining:
                    data = await conn.read_some(min(remaining, _READ_SIZE), timeout, request)
                    if not data:
                        got = self._length - remaining
                        raise _incomplete(request, f"{got} of {self._length} bytes")
                    remaining -= len(data)
                    if not remaining:  # hand the connection back before the consumer's turn
                        self._release(self._keep_alive)
                    yield data
            elif self._kind == "chunked":
                while True:
                    line = await conn.read_until(b"\r\n", _MAX_CHUNK_LINE, timeout, request)
                    if line is None:
                        raise _incomplete(request, "chunked body cut short")
                    remaining = _chunk_size(line, request)
                    if remaining == 0:
                        break
                    while remaining:
                        data = await conn.read_some(min(remaining, _READ_SIZE), timeout, request)
                        if not data:
                            raise _incomplete(request, "chunked body cut short")
                        remaining -= len(data)
                        yield data
                    if await conn.read_until(b"\r\n", 2, timeout, request) != b"":
                        raise httpx.RemoteProtocolError(
                            "malformed chunked body from the upstream", request=request
                        )
                while True:  # trailer section, ignored
                    line = await conn.read_until(b"\r\n", _MAX_HEAD, timeout, request)
                    if line is None:
                        raise _incomplete(request, "trailers cut short")
                    if not line:
                        break
                self._release(self._keep_alive)
            else:  # delimited by the connection closing
                while True:
                    data = await conn.read_some(_READ_SIZE, timeout, request)
                    if not data:
                        break
                    yield data
                self._release(False)
        finally:
            # An error, a cancellation or a consumer that stopped early: the rest of the body
            # is still on the wire, so the connection cannot carry another request.
            if not self._released:
                conn.abort()
                self._release(False)

    async def aclose(self) -> None:
        if not self._released:
            self._conn.abort()
            self._release(False)


class FastHTTPTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams, for `httpx.AsyncClient(transport=...)`."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 512,
        max_keepalive_connections: int = 128,
        keepalive_expiry: float = 60.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive_connections
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}  # oldest first
        self._idle_count = 0
        self._in_use = 0  # connections lent to requests (a slot each)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # built on first https use: loading certifi takes ~20 ms
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {scheme!r} (http and https only)", request=request
            )
        origin: Origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: TimeoutMap = request.extensions.get("timeout") or {}
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:
            body = None  # a streamed body: sent as it is produced, never replayed
        head, chunked, declared, client_close = _request_head(request, streamed=body is None)

        await self._acquire_slot(timeouts.get("pool"), request)
        conn: _Connection | None = None
        try:
            conn = self._take_idle(origin)
            if conn is not None:
                try:
                    return await self._exchange(
                        conn, request, head, body, chunked, declared, client_close, timeouts
                    )
                except _STALE_ERRORS:
                    if conn.received or body is None:
                        raise
                    # The upstream had closed this idle connection as we sent on it; the
                    # request got no answer, so it goes once more on a fresh connection.
                    conn.abort()
                    conn = None
            conn = await self._connect(origin, timeouts.get("connect"), request)
            return await self._exchange(
                conn, request, head, body, chunked, declared, client_close, timeouts
            )
        except BaseException:
            if conn is not None:
                conn.abort()
            self._release_slot()
            raise

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.abort()
        self._idle.clear()
        self._idle_count = 0

    # -- one request/response exchange -------------------------------------------------------

    async def _exchange(
        self,
        conn: _Connection,
        request: httpx.Request,
        head: bytes,
        body: bytes | None,
        chunked: bool,
        declared: int | None,
        client_close: bool,
        timeouts: TimeoutMap,
    ) -> httpx.Response:
        conn.received = False
        write_timeout = timeouts.get("write")
        writer = conn.writer
        try:
            if writer.transport.is_closing():
                raise ConnectionResetError("connection already closed")
            if body is None:
                writer.write(head)
                await _drain(writer, write_timeout)
                await _send_stream(conn, request, chunked, declared, write_timeout)
            else:
                if len(body) <= _SMALL_BODY:
                    writer.write(head + body if body else head)
                else:
                    writer.write(head)
                    writer.write(body)
                await _drain(writer, write_timeout)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(
                f"could not send to the upstream within {write_timeout} s", request=request
            ) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or repr(exc), request=request) from exc

        read_timeout = timeouts.get("read")
        while True:
            raw = await conn.read_until(b"\r\n\r\n", _MAX_HEAD, read_timeout, request)
            if raw is None:
                if conn.received:
                    raise httpx.RemoteProtocolError(
                        "upstream closed the connection in the middle of the response head",
                        request=request,
                    )
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )
            parsed = _Head(raw, request)
            if 100 <= parsed.status < 200 and parsed.status != 101:
                continue  # 100 Continue, 103 Early Hints: the final answer follows
            break
        kind, length, keep_alive = _framing(request, parsed, client_close)
        stream = _ResponseStream(self, conn, request, kind, length, keep_alive, read_timeout)
        return httpx.Response(
            parsed.status,
            headers=parsed.headers,
            stream=stream,
            request=request,
            extensions={"http_version": parsed.version, "reason_phrase": parsed.reason},
        )

    # -- pool ----------------------------------------------------------------------------------

    async def _acquire_slot(self, timeout: float | None, request: httpx.Request) -> None:
        if self._in_use < self._max_connections and not self._waiters:
            self._in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._release_slot()  # handed a slot just as we gave up: pass it on
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise httpx.PoolTimeout(
                    f"no upstream connection free within {timeout} s", request=request
                ) from exc
            raise

    def _release_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter
                return
        self._in_use -= 1

    def _take_idle(self, origin: Origin) -> _Connection | None:
        conns = self._idle.get(origin)
        if not conns:
            return None
        now = time.monotonic()
        expiry = self._keepalive_expiry
        while conns and not conns[0].usable(now, expiry):  # drop dead ones from the old end
            conns.pop(0).abort()
            self._idle_count -= 1
        while conns:
            conn = conns.pop()  # most recently used: the least likely to have been closed
            self._idle_count -= 1
            if conn.usable(now, expiry):
                return conn
            conn.abort()
        return None

    def _release(self, conn: _Connection, reusable: bool) -> None:
        """Called once per response, when its body ended or was abandoned."""
        try:
            if (
                reusable
                and not self._closed
                and not conn.buffer
                and self._idle_count < self._max_keepalive
            ):
                conn.idle_since = time.monotonic()
                self._idle.setdefault(conn.origin, []).append(conn)
                self._idle_count += 1
            else:
                conn.close()
        finally:
            self._release_slot()

    def _evict_one_idle(self) -> None:
        oldest: list[_Connection] | None = None
        for conns in self._idle.values():
            if conns and (oldest is None or conns[0].idle_since < oldest[0].idle_since):
                oldest = conns
        if oldest is not None:
            oldest.pop(0).abort()
            self._idle_count -= 1

    async def _connect(
        self, origin: Origin, timeout: float | None, request: httpx.Request
    ) -> _Connection:
        if self._in_use + self._idle_count > self._max_connections:
            self._evict_one_idle()  # keep open connections within max_connections
        scheme, host, port = origin
        context = self.ssl_context if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                    limit=_READ_SIZE,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"could not connect to {host}:{port} within {timeout} s", request=request
            ) from exc
        except OSError as exc:  # includes ssl.SSLError and certificate failures
            raise httpx.ConnectError(
                f"could not connect to {host}:{port}: {exc}", request=request
            ) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(origin, reader, writer)


def _request_head(request: httpx.Request, *, streamed: bool) -> tuple[bytes, bool, int | None, bool]:
    """The serialized request line and headers, whether the body goes chunked, its declared
    length, and whether the client asked to close the connection afterwards."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    has_host = chunked = client_close = False
    declared: int | None = None
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise httpx.LocalProtocolError(f"invalid header {name[:40]!r}", request=request)
        lowered = name.lower()
        if lowered == b"host":
            has_host = True
        elif lowered == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lowered == b"content-length":
            with contextlib.suppress(ValueError):
                declared = int(value)
        elif lowered == b"connection":
            client_close = b"close" in value.lower()
        parts += (name, b": ", value, b"\r\n")
    if not has_host:
        parts[4:4] = (b"Host: ", request.url.netloc, b"\r\n")
    if streamed and not chunked and declared is None:
        parts.append(b"Transfer-Encoding: chunked\r\n")
        chunked = True
    parts.append(b"\r\n")
    return b"".join(parts), chunked, declared, client_close


async def _drain(writer: asyncio.StreamWriter, timeout: float | None) -> None:
    if not writer.transport.get_write_buffer_size():
        return  # everything went straight to the socket: no wait, no timer
    async with asyncio.timeout(timeout):
        await writer.drain()


async def _send_stream(
    conn: _Connection,
    request: httpx.Request,
    chunked: bool,
    declared: int | None,
    timeout: float | None,
) -> None:
    writer = conn.writer
    sent = 0
    stream: Any = request.stream
    async for chunk in stream:
        if not chunk:
            continue
        sent += len(chunk)
        if chunked:
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            if declared is not None and sent > declared:
                raise httpx.LocalProtocolError(
                    f"request body longer than its Content-Length ({declared})", request=request
                )
            writer.write(chunk)
        await _drain(writer, timeout)
    if chunked:
        writer.write(b"0\r\n\r\n")
        await _drain(writer, timeout)
    elif declared is not None and sent != declared:
        raise httpx.LocalProtocolError(
            f"request body shorter than its Content-Length ({sent} of {declared})", request=request
        )
