"""Known prices and gateway-shaped usage cells shared by the usage, sidebar and menu tests."""

from __future__ import annotations

from datetime import UTC, datetime

from heimdall.gateways.protocol import ModelInfo, SessionUsage, UsageReport, UsageTotals

SONNET = ModelInfo("claude-sonnet-4-5", input_per_mtok=3.0, output_per_mtok=15.0,
                   cache_read_per_mtok=0.30, cache_write_per_mtok=3.75)
HAIKU = ModelInfo("claude-haiku-4-5", input_per_mtok=1.0, output_per_mtok=5.0,
                  cache_read_per_mtok=0.10, cache_write_per_mtok=1.25)
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def cell(model: ModelInfo, requests: int = 1, *, inp: int = 1200, out: int = 345, cr: int = 0,
         cw: int = 0, errors: int = 0, first: datetime | None = T0,
         last: datetime | None = None) -> UsageTotals:
    """A cell as a gateway would report `requests` identical requests priced at `model`'s rates."""
    totals = UsageTotals(input_tokens=inp * requests, output_tokens=out * requests,
                         cache_read_tokens=cr * requests, cache_write_tokens=cw * requests,
                         requests=requests, errors=errors, first_request=first,
                         last_request=last or first)
    totals.cost_usd = model.estimate_cost(totals) or 0.0
    return totals


def report(at: datetime, **sessions: dict[str, UsageTotals]) -> UsageReport:
    rep = UsageReport(as_of=at)
    for sid, models in sessions.items():
        rep.sessions[sid] = SessionUsage(sid, dict(models))
    return rep
