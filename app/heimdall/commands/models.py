"""`heimdall models [--json]`: the models the gateway serves, with USD prices per million tokens.

JSON shape: `{"gateway": {"kind", "url"}, "models": [{"id", "provider", "display_name",
"input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok"}]}`; a price
is null when the gateway does not report it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from heimdall.config import Config
from heimdall.gateways.commandline import format_table, printable, run_with_client
from heimdall.gateways.protocol import GatewayClient, ModelInfo
from heimdall.spend.money import format_price


def model_json(model: ModelInfo) -> dict[str, Any]:
    return {
        "id": model.id,
        "provider": model.provider,
        "display_name": model.display_name,
        "input_per_mtok": model.input_per_mtok,
        "output_per_mtok": model.output_per_mtok,
        "cache_read_per_mtok": model.cache_read_per_mtok,
        "cache_write_per_mtok": model.cache_write_per_mtok,
    }


def run(args: argparse.Namespace, config: Config) -> int:
    async def work(client: GatewayClient) -> tuple[list[ModelInfo], str, str]:
        return await client.models(), client.kind, client.base_url

    result, code = run_with_client(config, work)
    if result is None:
        return code
    models, kind, url = result
    if args.json:
        print(
            json.dumps(
                {"gateway": {"kind": kind, "url": url}, "models": [model_json(m) for m in models]}, indent=2
            )
        )
        return 0
    print(f"{kind} gateway {url}: {len(models)} model(s); prices in USD per million tokens")
    rows = [
        [
            printable(m.id),
            printable(m.provider or "-"),
            format_price(m.input_per_mtok),
            format_price(m.output_per_mtok),
            format_price(m.cache_read_per_mtok),
            format_price(m.cache_write_per_mtok),
        ]
        for m in models
    ]
    headers = ["model", "provider", "input", "output", "cache read", "cache write"]
    print(format_table(headers, rows, [False, False, True, True, True, True]))
    return 0
