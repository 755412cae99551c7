"""`heimdall usage [--json] [--by session|model] [--since 24h]`: spend per session or model.

Reads the gateway once (one request for all sessions). `--json` prints the stable shape of
`UsageReport.to_json` (documented in README): scripts rely on it, so it never changes shape.
Anything the gateway cannot show (e.g. LiteLLM counters that ignore --since) goes to stderr.
With no gateway configured this reads the embedded gateway and does not start one.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from heimdall.config import Config
from heimdall.gateways import parse_duration
from heimdall.gateways.commandline import count, fail, format_table, printable, run_with_client
from heimdall.gateways.protocol import GatewayClient, UsageReport, UsageTotals
from heimdall.spend.money import format_usd

HEADERS = ["cost", "input", "output", "cache read", "cache write", "requests", "errors"]


def _cells(totals: UsageTotals) -> list[str]:
    return [
        format_usd(totals.cost_usd, 6),  # sub-cent: gateway costs are fractions of a cent
        count(totals.input_tokens),
        count(totals.output_tokens),
        count(totals.cache_read_tokens),
        count(totals.cache_write_tokens),
        count(totals.requests),
        count(totals.errors),
    ]


def render(report: UsageReport, by: str, since_text: str, kind: str, url: str) -> str:
    if by == "model":
        rows = sorted(report.models.items(), key=lambda item: (-item[1].cost_usd, item[0]))
        body = [[printable(model), *_cells(cell)] for model, cell in rows]
        first = "model"
    else:
        sessions = sorted(report.sessions.values(), key=lambda s: (-s.totals.cost_usd, s.session))
        body = []
        for usage in sessions:
            models = ", ".join(printable(m) for m in sorted(usage.models)) or "-"
            body.append([printable(usage.session), *_cells(usage.totals), models])
        first = "session"
    headers = [first, *HEADERS] + (["models"] if by == "session" else [])
    right = [False] + [True] * len(HEADERS) + ([False] if by == "session" else [])
    total = UsageTotals()
    for usage in report.sessions.values():
        total.add(usage.totals)
    as_of = report.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"{kind} gateway {url}, last {since_text}, as of {as_of}"]
    if not body:
        lines.append("no tagged requests in this window")
        return "\n".join(lines)
    footer = ["total", *_cells(total)] + ([""] if by == "session" else [])
    lines.append(format_table(headers, [*body, footer], right))
    return "\n".join(lines)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        window = parse_duration(args.since)
    except ValueError as exc:
        return fail(str(exc), code=2)
    since = datetime.now(UTC) - window
    by = getattr(args, "by", "session") or "session"

    async def work(client: GatewayClient) -> tuple[UsageReport, str, str]:
        return await client.usage(None, since), client.kind, client.base_url

    result, code = run_with_client(config, work)
    if result is None:
        return code
    report, kind, url = result
    if args.json:
        print(json.dumps(report.to_json(kind, url), indent=2))
    else:
        print(render(report, by, args.since, kind, url))
    if report.note:
        print(f"note: {report.note}", file=sys.stderr)
    return 0
