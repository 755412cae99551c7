"""FastHTTPTransport against small scripted HTTP/1.1 servers on 127.0.0.1.

Each server is a plain asyncio server whose per-connection script says exactly what goes on the
wire, so framing, keep-alive, the stale-connection retry, TLS and timeouts are all exercised
through real sockets. Ordering claims ("the client saw the first chunk before the second was
sent") are proven with events the server waits on, never with sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from heimdall.server import upstream as fast_transport
from heimdall.server.app import Gateway, GatewaySettings
from heimdall.server.upstream import FastHTTPTransport, default_ssl_context, environment_proxy

pytestmark = pytest.mark.timeout(30)

WAIT = 5.0  # generous guard on every event a script waits for


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int


class Conn:
    """The server side of one accepted connection."""

    def __init__(
        self, server: Server, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.index = index
        self.reader = reader
        self.writer = writer

    async def read_request(self, on_chunk: Callable[[bytes], None] | None = None) -> Request | None:
        """The next request (body decoded), or None when the client closed the connection."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunk = await self.reader.readexactly(size)
                await self.reader.readexactly(2)
                if on_chunk is not None:
                    on_chunk(chunk)
                body += chunk
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        request = Request(method, path, headers, body, self.index)
        self.server.requests.append(request)
        return request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until_client_closes(self) -> None:
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(WAIT):
                while await self.reader.read(65536):
                    pass
                self.server.closed_by_client.append(self.index)

    def close(self) -> None:
        self.writer.close()


Script = Callable[[Conn], Awaitable[None]]


@dataclass
class Server:
    script: Script
    ssl_context: ssl.SSLContext | None = None
    host: str = "127.0.0.1"
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[Request] = field(default_factory=list)
    closed_by_client: list[int] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_context else "http"
        self.url = f"{scheme}://{self.host}:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        conn = Conn(self, self.connections, reader, writer)
        try:
            await self.script(conn)
            if not writer.is_closing():  # linger, so "closed by the client" is observable
                await conn.until_client_closes()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_now -= 1
            writer.close()
            self._tasks.discard(task)


def response(body: bytes = b"ok", status: str = "200 OK", headers: tuple[str, ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def serve_forever(conn: Conn) -> None:
    """Answer every request on the connection with its method, path and body length."""
    while (request := await conn.read_request()) is not None:
        body = f"{request.method} {request.path} {len(request.body)} #{conn.index}".encode()
        if request.method == "HEAD":
            await conn.send(response(b"", headers=(f"X-Length: {len(body)}",)))
        else:
            await conn.send(response(body))


def client(transport: FastHTTPTransport, **timeouts: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, **timeouts))


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.005)


# -- body framing ---------------------------------------------------------------------------------


async def test_content_length_body_and_headers_pass_through() -> None:
    async with Server(serve_forever) as server, client(FastHTTPTransport()) as http:
        r = await http.post(server.url + "/v1/messages?beta=true", content=b"x" * 1000,
                            headers={"X-Api-Key": "k"})
        assert r.status_code == 200
        assert r.text == "POST /v1/messages?beta=true 1000 #1"
        assert r.headers["content-length"] == str(len(r.content))
        assert r.http_version == "HTTP/1.1"
        assert r.reason_phrase == "OK"
    seen = server.requests[0]
    assert seen.headers["x-api-key"] == "k"
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.body == b"x" * 1000


async def test_large_body_both_ways() -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB

    async def echo(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            await conn.send(response(request.body[::-1]))

    async with Server(echo) as server, client(FastHTTPTransport()) as http:
        r = await http.post(server.url, content=payload)
        assert r.content == payload[::-1]


async def test_chunked_body_with_extensions_and_trailers() -> None:
    async def chunked(conn: Conn) -> None:
        while await conn.read_request() is not None:
            await conn.send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n"
            )

    async with Server(chunked) as server, client(FastHTTPTransport()) as http:
        first = await http.get(server.url)
        second = await http.get(server.url)
    assert first.text == second.text == "hello world"
    assert server.connections == 1  # the chunked body ended cleanly: the connection was reused


async def test_chunked_with_content_length_too_is_read_by_chunks_and_not_reused() -> None:
    async def both(conn: Conn) -> None:
        while await conn.read_request() is not None:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\n6\r\nchunks\r\n0\r\n\r\n")

    async with Server(both) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url)).text == "chunks"
        assert (await http.get(server.url)).text == "chunks"
    assert server.connections == 2


async def test_close_delimited_body_is_read_to_eof_and_not_reused() -> None:
    async def close_delimited(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
            await conn.send(b"part two")
            conn.close()

    async with Server(close_delimited) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url)).text == "part one, part two"
        assert (await http.get(server.url)).text == "part one, part two"
    assert server.connections == 2


async def test_truncated_content_length_body_raises() -> None:
    async def truncated(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            conn.close()

    async with Server(truncated) as server, client(FastHTTPTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            await http.get(server.url)


async def test_malformed_status_line_raises_remote_protocol_error() -> None:
    async def garbage(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(b"SPDY/9 nonsense\r\n\r\n")

    async with Server(garbage) as server, client(FastHTTPTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="malformed status line"):
            await http.get(server.url)


async def test_head_204_304_and_1xx_have_no_body_and_keep_the_connection() -> None:
    async def statuses(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.method == "HEAD":  # announces a length it does not send
                await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            elif request.path == "/204":
                await conn.send(b"HTTP/1.1 204 No Content\r\n\r\n")
            elif request.path == "/304":
                await conn.send(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n")
            else:
                await conn.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                                b"Link: </a>\r\n\r\n" + response(b"final"))

    async with Server(statuses) as server, client(FastHTTPTransport()) as http:
        head = await http.head(server.url + "/")
        assert (head.status_code, head.headers["content-length"], head.content) == (200, "1234", b"")
        assert (await http.get(server.url + "/204")).content == b""
        assert (await http.get(server.url + "/304")).status_code == 304
        final = await http.get(server.url + "/continue")
        assert (final.status_code, final.text) == (200, "final")
    assert server.connections == 1


# -- streaming ------------------------------------------------------------------------------------


async def test_response_chunks_arrive_as_they_are_sent() -> None:
    client_got_first = asyncio.Event()
    server_notes: list[str] = []

    async def sse(conn: Conn) -> None:
        if await conn.read_request() is None:
            return
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
        await conn.send(b"e\r\nevent: first\n\n\r\n")
        try:  # the second event is only sent once the client has seen the first
            await asyncio.wait_for(client_got_first.wait(), WAIT)
        except TimeoutError:
            server_notes.append("client never saw the first event on its own")
        await conn.send(b"d\r\nevent: last\n\n\r\n0\r\n\r\n")

    async with Server(sse) as server, client(FastHTTPTransport()) as http:
        received: list[bytes] = []
        async with http.stream("POST", server.url, content=b"{}") as r:
            async for chunk in r.aiter_raw():
                received.append(chunk)
                client_got_first.set()
    assert received == [b"event: first\n\n", b"event: last\n\n"]
    assert server_notes == []


async def test_content_length_body_streams_too() -> None:
    client_got_first = asyncio.Event()

    async def slow(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
            await asyncio.wait_for(client_got_first.wait(), WAIT)
            await conn.send(b"-last")

    chunks = []
    async with (
        Server(slow) as server,
        client(FastHTTPTransport()) as http,
        http.stream("GET", server.url) as r,
    ):
        async for chunk in r.aiter_raw():
            chunks.append(chunk)
            client_got_first.set()
    assert chunks == [b"first", b"-last"]


async def test_request_body_streams_chunked_and_with_content_length() -> None:
    server_got: list[bytes] = []
    server_got_first = asyncio.Event()

    async def record(conn: Conn) -> None:
        def on_chunk(chunk: bytes) -> None:
            server_got.append(chunk)
            server_got_first.set()

        while (request := await conn.read_request(on_chunk)) is not None:
            digest = hashlib.sha256(request.body).hexdigest()
            framing = request.headers.get("transfer-encoding", "length")
            await conn.send(response(f"{framing} {len(request.body)} {digest}".encode()))

    async def body() -> AsyncIterator[bytes]:
        yield b"part-1;"
        # The next part is produced only after the server has received the first one.
        await asyncio.wait_for(server_got_first.wait(), WAIT)
        yield b"part-2" * 20000

    expected = b"part-1;" + b"part-2" * 20000
    async with Server(record) as server, client(FastHTTPTransport()) as http:
        r = await http.post(server.url, content=body())
        assert r.text == f"chunked {len(expected)} {hashlib.sha256(expected).hexdigest()}"
        assert server_got[0] == b"part-1;"

        server_got_first.set()
        r = await http.post(server.url, content=body(), headers={"Content-Length": str(len(expected))})
        assert r.text == f"length {len(expected)} {hashlib.sha256(expected).hexdigest()}"
    assert server.connections == 1


async def test_early_close_of_a_stream_closes_its_connection_only() -> None:
    async def endless(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.path == "/stream":
                # The chunk's CRLF stays unsent, so the client holds no unread byte that would
                # give the connection away: only the early close itself must retire it.
                await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5\r\nfirst")
                await conn.until_client_closes()  # the body never ends on its own
                return
            await conn.send(response(f"plain #{conn.index}".encode()))

    transport = FastHTTPTransport(max_connections=1)
    async with Server(endless) as server, client(transport, pool=2.0) as http:
        assert (await http.get(server.url + "/warm")).text == "plain #1"
        async with http.stream("GET", server.url + "/stream") as r:
            async for chunk in r.aiter_raw():
                assert chunk == b"first"
                break  # leave with most of the body unread
        await wait_for(lambda: 1 in server.closed_by_client)
        # The one slot came back, on a fresh connection.
        assert (await http.get(server.url + "/after")).text == "plain #2"
        assert (await http.get(server.url + "/again")).text == "plain #2"


async def test_cancelled_stream_frees_its_slot_and_connection() -> None:
    got_first = asyncio.Event()

    async def stall(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.path == "/stream":
                await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst")
                await asyncio.sleep(WAIT * 2)
                return
            await conn.send(response(f"plain #{conn.index}".encode()))

    transport = FastHTTPTransport(max_connections=1)
    async with Server(stall) as server, client(transport, pool=2.0) as http:

        async def consume() -> None:
            async with http.stream("GET", server.url + "/stream") as r:
                async for _ in r.aiter_raw():
                    got_first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_first.wait(), WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await http.get(server.url + "/after")).text == "plain #2"


# -- keep-alive and the stale-connection retry ----------------------------------------------------


async def test_keep_alive_reuses_one_connection_and_caps_concurrency() -> None:
    async def slowish(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            await asyncio.sleep(0.02)
            await conn.send(response(f"{request.path} #{conn.index}".encode()))

    transport = FastHTTPTransport(max_connections=2)
    async with Server(slowish) as server, client(transport) as http:
        for i in range(5):
            assert (await http.get(f"{server.url}/{i}")).text == f"/{i} #1"
        assert server.connections == 1
        answers = await asyncio.gather(*(http.get(f"{server.url}/c{i}") for i in range(6)))
        assert all(a.status_code == 200 for a in answers)
    assert server.most_open <= 2
    assert server.connections == 2


async def test_connection_close_header_is_honoured() -> None:
    async def closing(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(response(b"bye", headers=("Connection: close",)))

    async with Server(closing) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url)).text == "bye"
        assert (await http.get(server.url)).text == "bye"
    assert server.connections == 2


async def test_idle_connection_closed_by_the_server_is_replaced() -> None:
    closed = asyncio.Event()

    async def close_when_idle(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(response(f"#{conn.index}".encode()))
            if conn.index == 1:
                conn.close()  # keep-alive timeout on the server side, no Connection: close
                closed.set()
                return
            await serve_forever(conn)

    async with Server(close_when_idle) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url)).text == "#1"
        await asyncio.wait_for(closed.wait(), WAIT)
        assert (await http.get(server.url)).text == "#2"
    assert server.connections == 2


async def test_reused_connection_dropped_before_answering_is_retried_once() -> None:
    async def drop_second_request(conn: Conn) -> None:
        if conn.index == 1:
            await conn.read_request()
            await conn.send(response(b"first"))
            await conn.read_request()  # the race: the server closes as our request arrives
            conn.close()
            return
        await serve_forever(conn)

    async with Server(drop_second_request) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url + "/a")).text == "first"
        assert (await http.post(server.url + "/b", content=b"12345")).text == "POST /b 5 #2"
    assert [(r.path, r.connection) for r in server.requests] == [("/a", 1), ("/b", 1), ("/b", 2)]


async def test_fresh_connection_dropped_before_answering_raises_without_retry() -> None:
    async def drop(conn: Conn) -> None:
        await conn.read_request()
        conn.close()

    async with Server(drop) as server, client(FastHTTPTransport()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await http.post(server.url, content=b"{}")
    assert server.connections == 1
    assert len(server.requests) == 1


async def test_retry_happens_at_most_once() -> None:
    async def answer_once_then_drop(conn: Conn) -> None:
        if conn.index == 1:
            await conn.read_request()
            await conn.send(response(b"first"))
        await conn.read_request()
        conn.close()

    async with Server(answer_once_then_drop) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url + "/a")).text == "first"
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(server.url + "/b", content=b"{}")
    assert [(r.path, r.connection) for r in server.requests] == [("/a", 1), ("/b", 1), ("/b", 2)]


async def test_no_retry_after_a_response_byte_or_for_streamed_bodies() -> None:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(b"first"))
        request = await conn.read_request()
        if request is not None and request.path == "/partial":
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Le")  # then gone mid-head
        conn.close()

    async def streamed() -> AsyncIterator[bytes]:
        yield b"streamed body"

    async with Server(script) as server, client(FastHTTPTransport()) as http:
        assert (await http.get(server.url + "/a")).text == "first"
        with pytest.raises(httpx.RemoteProtocolError, match="middle of the response head"):
            await http.get(server.url + "/partial")
        assert (await http.get(server.url + "/b")).text == "first"
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(server.url + "/streamed", content=streamed())
    paths = [r.path for r in server.requests]
    assert paths.count("/partial") == 1
    assert paths.count("/streamed") == 1


# -- timeouts and errors --------------------------------------------------------------------------


async def test_read_timeout_before_and_during_the_body() -> None:
    async def stall(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            if request.path == "/mid-body":
                await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await asyncio.sleep(WAIT * 2)

    async with Server(stall) as server, client(FastHTTPTransport(), read=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(server.url + "/no-answer")
        with pytest.raises(httpx.ReadTimeout):
            await http.get(server.url + "/mid-body")


async def test_connect_error_and_tls_handshake_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with client(FastHTTPTransport(), connect=0.3) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{closed_port}/")

    async def never_handshake(conn: Conn) -> None:
        await asyncio.sleep(WAIT)  # a TCP peer that never answers the TLS ClientHello

    async with Server(never_handshake) as silent, client(FastHTTPTransport(), connect=0.3) as http:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get(f"https://127.0.0.1:{silent.port}/")


async def test_write_timeout_when_the_server_stops_reading() -> None:
    async def never_read(conn: Conn) -> None:
        await asyncio.sleep(WAIT * 2)

    async def endless() -> AsyncIterator[bytes]:
        block = b"x" * (1 << 20)
        for _ in range(1024):  # up to 1 GiB: far beyond any socket buffer
            yield block

    async with Server(never_read) as server, client(FastHTTPTransport(), write=0.3) as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.post(server.url, content=endless())


async def test_pool_timeout_when_every_connection_is_busy() -> None:
    async def hold(conn: Conn) -> None:
        if await conn.read_request() is not None:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await asyncio.sleep(WAIT * 2)

    async with (
        Server(hold) as server,
        client(FastHTTPTransport(max_connections=1), pool=0.2) as http,
        http.stream("GET", server.url),
    ):
        with pytest.raises(httpx.PoolTimeout):
            await http.get(server.url)


async def test_unsupported_scheme() -> None:
    async with client(FastHTTPTransport()) as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/")


async def test_header_injection_is_refused() -> None:
    transport = FastHTTPTransport()
    request = httpx.Request("GET", "http://127.0.0.1:9/", headers=[(b"x-evil", b"a\r\nInjected: 1")])
    with pytest.raises(httpx.LocalProtocolError):
        await transport.handle_async_request(request)


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_https_with_a_trusted_ca_and_keep_alive(ca: trustme.CA) -> None:
    tls = server_context(ca, "localhost", "127.0.0.1")
    async with Server(serve_forever, ssl_context=tls, host="localhost") as server:
        async with client(FastHTTPTransport(ssl_context=trusting(ca))) as http:
            for _ in range(3):
                r = await http.post(server.url + "/v1/messages", content=b"hello")
                assert r.text == "POST /v1/messages 5 #1"
        assert server.connections == 1


async def test_https_refuses_an_untrusted_ca_and_a_wrong_hostname(ca: trustme.CA) -> None:
    async with Server(serve_forever, ssl_context=server_context(ca, "localhost")) as server:
        async with client(FastHTTPTransport()) as http:  # certifi only: the test CA is unknown
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"https://localhost:{server.port}/")
        async with client(FastHTTPTransport(ssl_context=trusting(ca))) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"https://127.0.0.1:{server.port}/")  # cert names localhost only


async def test_default_context_honours_ssl_cert_file(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert default_ssl_context().check_hostname
    tls = server_context(ca, "localhost")
    async with (
        Server(serve_forever, ssl_context=tls, host="localhost") as server,
        client(FastHTTPTransport()) as http,
    ):
        assert (await http.get(server.url + "/x")).text == "GET /x 0 #1"


# -- the gateway's choice of transport ------------------------------------------------------------


def _clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_environment_proxy_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxy_env(monkeypatch)
    assert environment_proxy("https://api.anthropic.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert environment_proxy("https://api.anthropic.com") == "http://proxy.internal:3128"
    assert environment_proxy("http://api.anthropic.com") is None  # HTTP_PROXY is not set
    assert environment_proxy("https://127.0.0.1:9999") is None  # loopback is never proxied
    assert environment_proxy("https://localhost:9999") is None
    monkeypatch.setenv("NO_PROXY", "anthropic.com")
    assert environment_proxy("https://api.anthropic.com") is None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("ALL_PROXY", "http://proxy.internal:3128")
    assert environment_proxy("http://api.anthropic.com") == "http://proxy.internal:3128"


def test_gateway_uses_the_fast_transport_unless_a_proxy_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_proxy_env(monkeypatch)

    def transport_for(upstream: str) -> Any:
        settings = GatewaySettings(token="t", db_path=tmp_path / "gw.db", upstream=upstream)
        return Gateway(settings).context.upstream.transport

    assert isinstance(transport_for("https://api.anthropic.com"), fast_transport.FastHTTPTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    proxied = transport_for("https://api.anthropic.com")
    assert isinstance(proxied, httpx.AsyncHTTPTransport)
    assert isinstance(transport_for("http://127.0.0.1:8080"), fast_transport.FastHTTPTransport)
