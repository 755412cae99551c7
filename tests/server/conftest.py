"""Fixtures for the embedded-gateway tests: a real gateway served by uvicorn over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from heimdall.server.app import GatewaySettings, RunningGateway

TOKEN = "test-token-0123456789abcdef"


class GatewayUnderTest:
    def __init__(self, running: RunningGateway, token: str) -> None:
        self.running = running
        self.url = running.url
        self.token = token
        self.app = running.app
        self.api = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def logs(self, **params: Any) -> list[dict[str, Any]]:
        params.setdefault("limit", 1000)
        return self.get("/api/logs", **params)["logs"]

    def wait_settled(self, count: int, timeout: float = 15.0, **params: Any) -> list[dict[str, Any]]:
        """Wait until `count` rows match and none is still `processing`."""
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.logs(**params)
            if len(rows) >= count and all(r["status"] != "processing" for r in rows):
                return rows
            time.sleep(0.02)
        raise AssertionError(f"expected {count} settled rows, got {[r['status'] for r in rows]}")


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayUnderTest]]:
    started: list[GatewayUnderTest] = []

    def start(upstream: str, **overrides: Any) -> GatewayUnderTest:
        settings = GatewaySettings(
            token=overrides.pop("token", TOKEN),
            db_path=overrides.pop("db_path", tmp_path / f"gateway-{len(started)}.db"),
            host="127.0.0.1",
            port=0,
            upstream=upstream,
            **overrides,
        )
        gw = GatewayUnderTest(RunningGateway(settings).start(), settings.token)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.api.close()
        gw.running.stop()
