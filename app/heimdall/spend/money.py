"""Money as Heimdall shows it: one formatter for every dollar figure in the app.

Every dollar is the gateway's number rounded half-up from the float's shortest repr (so 0.125
shows $0.13, as a person would round it, not banker's $0.12). Demo figures carry "demo" so a
screenshot of the demo can never pass for real spend.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def format_usd(amount: float | None, digits: int = 2, *, demo: bool = False) -> str:
    """`$1,234.57`: rounded half-up from the float's shortest repr, so 0.125 shows $0.13."""
    if amount is None:
        return "—"
    quantum = Decimal(1).scaleb(-digits)
    value = Decimal(repr(float(amount))).quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"${value:,.{digits}f}"
    return f"{text} demo" if demo else text


def format_rate(per_hour: float | None, *, demo: bool = False) -> str:
    """Burn rate: `$1.20/h`, `—/h` while there is too little history to tell."""
    if per_hour is None:
        return "—/h"
    return f"{format_usd(per_hour, 2)}/h" + (" demo" if demo else "")


def format_price(per_mtok: float | None) -> str:
    """Price per million tokens: `$3.00`, `$0.075`, `—` when the gateway does not say."""
    if per_mtok is None:
        return "—"
    if per_mtok and per_mtok < 0.1:
        return f"${per_mtok:.3f}".rstrip("0")
    return f"${per_mtok:,.2f}"
