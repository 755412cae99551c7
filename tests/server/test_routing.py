"""The gateway's route table: exact paths, a trailing `{id}`, trailing slashes, fallbacks."""

from __future__ import annotations

import pytest
from heimdall.server import api, relay
from heimdall.server.app import ROUTER, ROUTES, bifrost_not_found, warm_up
from heimdall.server.auth import Access
from heimdall.server.routing import Request, Route, Router


def test_exact_routes_and_the_anthropic_prefix() -> None:
    route, param = ROUTER.find("POST", "/anthropic/v1/messages")
    assert route.handler is relay.messages and route.access is Access.INFERENCE and param == ""
    assert "/anthropic/v1/messages"[route.prefix_length :] == "/v1/messages"
    route, _ = ROUTER.find("POST", "/v1/messages")
    assert route.handler is relay.messages and route.prefix_length == 0
    assert ROUTER.find("HEAD", "/anthropic")[0].handler is warm_up
    assert ROUTER.find("GET", "/v1/models")[0].handler is api.models
    assert ROUTER.find("GET", "/health")[0].access is Access.OPEN


def test_a_trailing_id_segment() -> None:
    assert ROUTER.find("GET", "/api/logs/abc-123") == (ROUTER.find("GET", "/api/logs/x")[0], "abc-123")
    assert ROUTER.find("GET", "/api/logs/stats")[0].handler is api.logs_stats  # exact wins
    route, param = ROUTER.find("GET", "/anthropic/v1/models/claude-x")
    assert route.handler is relay.list_models and param == "claude-x"
    assert ROUTER.find("GET", "/api/logs/a/b")[0].handler is bifrost_not_found


def test_trailing_slashes_only_where_allowed() -> None:
    assert ROUTER.find("GET", "/api/logs/")[0].handler is api.logs
    assert ROUTER.find("GET", "/api/logs//")[0].handler is api.logs
    assert ROUTER.find("GET", "/api/logs/abc/")[1] == "abc"
    assert ROUTER.find("POST", "/v1/messages/")[0].handler is not relay.messages


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/api/nope", Access.API),  # an unknown /api path still wants the Bearer token
        ("DELETE", "/api/logs", Access.API),
        ("GET", "/v1/messages", Access.INFERENCE),
        ("GET", "/anthropic/v1/other", Access.INFERENCE),
        ("POST", "/health", Access.INFERENCE),
        ("GET", "/nope", Access.INFERENCE),
        ("GET", "", Access.INFERENCE),
    ],
)
def test_unrouted_paths_keep_their_neighbours_access(method: str, path: str, access: Access) -> None:
    route, _ = ROUTER.find(method, path)
    assert route.method == "*" and route.access is access


def test_every_declared_route_is_reachable() -> None:
    for route in ROUTES:
        path = route.path.replace("{id}", "some-id")
        assert ROUTER.find(route.method, path)[0] is route


async def _handler(ctx: object, request: Request) -> None:
    return None


def test_the_table_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="two routes"):
        Router([Route("GET", "/a", _handler, Access.OPEN)] * 2, lambda path: ROUTES[0])
    with pytest.raises(ValueError, match="last segment"):
        Router([Route("GET", "/a/{id}/b", _handler, Access.OPEN)], lambda path: ROUTES[0])
