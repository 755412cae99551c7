"""The embedded gateway's router: a declared route table, looked up with one or two dict gets.

A route is (method, path, handler, access). A path is literal, or ends in `/{id}` for one
trailing path segment handed to the handler as `request.param`. Paths under `/anthropic` are
routed with that prefix and handed to the handler without it (`request.path`, what goes
upstream). A route may also accept its path with trailing slashes (the read API, like Bifrost's).
Requests no route matches go to the fallback for their path, which still names the access
level, so an unknown path never answers before the caller is authenticated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from heimdall.server.asgi import Receive, Scope, Send
from heimdall.server.auth import Access

if TYPE_CHECKING:
    from heimdall.server.context import GatewayContext

ANTHROPIC_PREFIX = "/anthropic"
_PARAM = "{id}"


@dataclass(slots=True)
class Request:
    scope: Scope
    receive: Receive
    send: Send
    path: str
    """The routed path without the `/anthropic` prefix."""
    param: str = ""
    """The trailing `{id}` segment, for routes that take one."""


Handler = Callable[["GatewayContext", Request], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    access: Access
    trailing_slash: bool = False
    """Also match the path with trailing slashes (`/api/logs/`)."""
    prefix_length: int = field(init=False, default=0)
    """How much of the request path `request.path` drops: the `/anthropic` prefix, or nothing."""

    def __post_init__(self) -> None:
        if self.path == ANTHROPIC_PREFIX or self.path.startswith(ANTHROPIC_PREFIX + "/"):
            object.__setattr__(self, "prefix_length", len(ANTHROPIC_PREFIX))


class Router:
    def __init__(self, routes: Iterable[Route], fallback: Callable[[str], Route]) -> None:
        self._exact: dict[tuple[str, str], Route] = {}
        self._param: dict[tuple[str, str], Route] = {}
        self.fallback = fallback
        for route in routes:
            if route.path.endswith("/" + _PARAM):
                table, key = self._param, route.path[: -len(_PARAM)]
            elif _PARAM in route.path:
                raise ValueError(f"{route.path}: {_PARAM} may only be the last segment")
            else:
                table, key = self._exact, route.path
            if (route.method, key) in table:
                raise ValueError(f"two routes for {route.method} {route.path}")
            table[(route.method, key)] = route

    def find(self, method: str, path: str) -> tuple[Route, str]:
        """(route, param) for a request; the fallback route when none matches."""
        route = self._exact.get((method, path))
        if route is not None:
            return route, ""
        head, _, tail = path.rpartition("/")
        route = self._param.get((method, head + "/"))
        if route is not None and tail:
            return route, tail
        stripped = path.rstrip("/")
        if stripped != path and stripped:
            found, param = self.find(method, stripped)
            if found.trailing_slash:
                return found, param
        return self.fallback(path), ""
