"""The one HTTP path every gateway client uses: timeouts, safe redirects, typed errors, a counter.

Why a wrapper and not bare httpx: every gateway call must (a) time out, (b) never send
credentials in clear over the network or to another host, (c) turn every transport failure into a
`GatewayError` the UI can print in one line, and (d) be countable, so tests can prove a refresh
costs O(1) requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from heimdall.gateways.errors import InsecureGatewayURL, RedirectRefused
from heimdall.gateways.protocol import (
    GatewayAuthError,
    GatewayBadResponse,
    GatewayError,
    GatewayHTTPError,
    GatewayTimeout,
    GatewayUnreachable,
)
from heimdall.net import is_loopback

MAX_REDIRECTS = 3


def check_base_url(url: str) -> str:
    """Normalise a gateway base URL; refuse plain http:// to non-loopback hosts."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureGatewayURL(f"gateway URL must be http(s)://host[:port], got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureGatewayURL(
            f"refusing plain http:// to non-loopback host {parts.hostname}: use https:// "
            "(credentials would cross the network unencrypted)"
        )
    return url


def _origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


@dataclass(slots=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str
    elapsed_ms: float

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GatewayBadResponse(
                f"gateway sent malformed JSON from {urlsplit(self.url).path}: {exc}"
            ) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise GatewayBadResponse(
                f"gateway sent {type(data).__name__} from {urlsplit(self.url).path}, expected an object"
            )
        return data


ErrorMapper = Callable[[Reply], GatewayError]


def default_error(reply: Reply, label: str) -> GatewayError:
    snippet = " ".join(reply.text.split())[:160]
    path = urlsplit(reply.url).path
    if reply.status_code in (401, 403):
        return GatewayAuthError(f"{label} refused the credential for {path} (HTTP {reply.status_code})")
    return GatewayHTTPError(
        f"{label} answered HTTP {reply.status_code} on {path}: {snippet}", reply.status_code
    )


class GatewayHTTP:
    """Async HTTP to one gateway origin. Create one per client; it rebinds across event loops."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        label: str,
        error_mapper: Callable[[Reply], GatewayError] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self.label = label
        self.error_mapper = error_mapper or (lambda reply: default_error(reply, label))
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.requests_sent = 0
        """Every HTTP request this object sent (redirect hops included); tests count refresh cost."""

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                transport=self._transport,
                trust_env=False,  # never route loopback gateway traffic through a proxy
            )
            self._loop = loop
        return self._client

    def url(self, path: str) -> str:
        return self.base_url + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: httpx.QueryParams | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> Reply:
        """Send one request; raise a `GatewayError` for anything but a 2xx (or `ok_statuses`)."""
        url = self.url(path)
        started = time.perf_counter()
        for _ in range(MAX_REDIRECTS + 1):
            try:
                self.requests_sent += 1
                response = await self._http().request(
                    method, url, params=params, headers=headers, json=json_body
                )
                content = await response.aread()
            except httpx.TimeoutException:
                raise GatewayTimeout(
                    f"{self.label} at {self.base_url} did not answer within {self.timeout:g} s"
                ) from None
            except httpx.ConnectError as exc:
                raise GatewayUnreachable(
                    f"cannot reach {self.label} at {self.base_url}: {_reason(exc)}"
                ) from None
            except httpx.HTTPError as exc:
                raise GatewayUnreachable(
                    f"{self.label} at {self.base_url}: {type(exc).__name__}: {_reason(exc)}"
                ) from None
            if response.is_redirect:
                location = response.headers.get("location", "")
                target = urljoin(str(response.url), location)
                if _origin(target) != _origin(self.base_url):
                    raise RedirectRefused(
                        f"{self.label} redirected {path} to another host ({urlsplit(target).netloc}); "
                        "refusing to follow with credentials"
                    )
                url, params = target, None
                continue
            reply = Reply(
                status_code=response.status_code,
                headers=response.headers,
                content=content,
                url=str(response.url),
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
            if response.is_success or response.status_code in ok_statuses:
                return reply
            raise self.error_mapper(reply)
        raise GatewayBadResponse(f"{self.label}: too many redirects for {path}")

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(RuntimeError):  # its loop is gone; nothing left to release
                await client.aclose()


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if any(s in text for s in ("Connection refused", "Errno 111", "All connection attempts failed")):
        return "connection refused (is it running?)"
    return text.splitlines()[0][:200]


class _Labelled(Protocol):
    label: str
    """How error messages name the gateway ("Bifrost", "LiteLLM", "embedded gateway")."""


def typed_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for async client methods: anything but a `GatewayError` becomes one.

    The protocol promises the UI that no other exception escapes; a bug or an unforeseen shape
    must show as a one-line gateway error, not crash the sidebar.
    """

    @functools.wraps(func)
    async def inner(self: _Labelled, *args: Any, **kwargs: Any) -> Any:
        label = self.label
        try:
            return await func(self, *args, **kwargs)
        except GatewayError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise GatewayBadResponse(
                f"{label}: unexpected response shape ({type(exc).__name__}: {exc})"
            ) from exc
        except Exception as exc:
            raise GatewayError(f"{label}: {type(exc).__name__}: {exc}") from exc

    return inner
