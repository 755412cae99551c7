"""Shared plumbing for the gateway subcommands (`usage`, `models`, `doctor`): one client per run,
one-line failures, plain aligned tables.

Output is plain text, never Rich markup: model ids, session ids and gateway messages are
untrusted and must not be interpreted as markup.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TextIO, TypeVar

from heimdall.gateways.protocol import GatewayClient, GatewayError, GatewayUnreachable

if TYPE_CHECKING:
    from heimdall.config import Config

T = TypeVar("T")

EMBEDDED_NOT_RUNNING = (
    "embedded gateway not running at {url} (start it with `heimdall gateway`, or run `heimdall`; "
    "or point at another gateway with --gateway URL)"
)


def fail(message: str, code: int = 1, stream: TextIO | None = None) -> int:
    """Print `heimdall: <message>` on one line to stderr and return the exit code."""
    print(f"heimdall: {' '.join(message.split())}", file=stream or sys.stderr)
    return code


def uses_embedded(config: Config) -> bool:
    return config.gateway.kind == "embedded" or (config.gateway.kind == "auto" and not config.gateway.url)


def explain(error: GatewayError, client: GatewayClient | None) -> str:
    """The one-line reason, with the embedded gateway's "not running" said plainly."""
    if client is not None and client.kind == "embedded" and isinstance(error, GatewayUnreachable):
        return EMBEDDED_NOT_RUNNING.format(url=client.base_url)
    return error.message


def run_with_client(config: Config, work: Callable[[GatewayClient], Awaitable[T]]) -> tuple[T | None, int]:
    """Build the client, run `work(client)` on a fresh loop, always close. (result, exit code)."""
    from heimdall.gateways import make_client

    try:
        client = make_client(config)
    except GatewayError as exc:
        return None, fail(exc.message)

    async def go() -> T:
        try:
            return await work(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(go()), 0
    except GatewayError as exc:
        return None, fail(explain(exc, client))


def count(value: int) -> str:
    return f"{value:,}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns padded to their widest cell; `right[i]` right-aligns column i (numbers)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def printable(text: str) -> str:
    """Untrusted text for a terminal: control characters shown as `?` (no escape injection)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
