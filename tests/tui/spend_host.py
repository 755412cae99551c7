"""Shared pieces of the SPEND UI tests: a tiny host app, known-price usage cells, a plain-text
screen dump, and a loopback HTTP server speaking the Bifrost `/api/logs` contract (counting every
request it gets), so polling is measured on the wire, not with mocks."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from heimdall.gateways.protocol import ModelInfo, UsageTotals
from heimdall.tui.widgets.spend_sidebar import SpendSidebar
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.usage_data import HAIKU, SONNET, T0, cell, report

__all__ = ["HAIKU", "SONNET", "T0", "cell", "report"]  # re-exported for the UI tests

ROOT = Path(__file__).resolve().parents[2]
STYLES = ROOT / "styles"



def screen_text(app: App[Any]) -> str:
    """What the screen shows, as plain text (for asserting on exact figures)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True,
                                                       screen_stack=app._background_screens))
    return console.export_text(styles=False)


class SidebarHost(App[None]):
    """A main area and the sidebar, styled by the real stylesheet."""

    CSS_PATH = str(STYLES / "sidebar.tcss")

    def __init__(self, *, demo: bool = False) -> None:
        super().__init__()
        self.demo = demo

    def compose(self) -> ComposeResult:
        yield Static("main area", id="main")
        yield SpendSidebar(demo=self.demo, tz=UTC, id="spend")


def log_row(row_id: str, session: str, model: ModelInfo, at: datetime, *, inp: int = 1200,
            out: int = 345, status: str = "success") -> dict[str, Any]:
    """One Bifrost log row, its cost priced like the gateway would (known prices x tokens)."""
    totals = UsageTotals(input_tokens=inp, output_tokens=out)
    return {
        "id": row_id,
        "status": status,
        "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "model": model.id,
        "cost": model.estimate_cost(totals),
        "token_usage": {"prompt_tokens": inp, "completion_tokens": out,
                        "total_tokens": inp + out},
        "metadata": {"session": session},
    }


class LogServer:
    """Loopback server with the Bifrost read endpoints a `BifrostClient` uses."""

    def __init__(self, port: int = 0) -> None:
        self.rows: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                with owner.lock:
                    owner.requests.append((url.path, query))
                    rows = list(owner.rows)
                if url.path == "/health":
                    body: Any = {"status": "ok"}
                elif url.path == "/api/info":
                    body = {"version": "v-test"}
                elif url.path == "/api/session/is-auth-enabled":
                    body = {"is_auth_enabled": False}
                elif url.path == "/api/logs":
                    if "sort_by" not in query:
                        rows = []
                    offset = int(query.get("offset", ["0"])[0])
                    limit = int(query.get("limit", ["1000"])[0])
                    page = rows[offset: offset + limit]
                    body = {"logs": page, "pagination": {"total_count": len(rows)}}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def usage_requests(self) -> int:
        """`/api/logs` tail requests (what one `client.usage()` turns into)."""
        with self.lock:
            return sum(1 for path, q in self.requests if path == "/api/logs" and "sort_by" in q)

    def add(self, *rows: dict[str, Any]) -> None:
        with self.lock:
            self.rows.extend(rows)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
