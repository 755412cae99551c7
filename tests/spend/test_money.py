"""Money formatting: half-up rounding to the cent, demo labels, per-MTok prices."""

from __future__ import annotations

from heimdall.spend.money import format_price, format_rate, format_usd


def test_format_usd() -> None:
    assert format_usd(0.008775) == "$0.01"
    assert format_usd(0.125) == "$0.13"  # half-up, not banker's rounding
    assert format_usd(0.004999) == "$0.00"
    assert format_usd(1234.5) == "$1,234.50"
    assert format_usd(0.008775, 6) == "$0.008775"
    assert format_usd(0.5, demo=True) == "$0.50 demo"
    assert format_usd(None) == "—"


def test_format_rate() -> None:
    assert format_rate(None) == "—/h"
    assert format_rate(1.2) == "$1.20/h"
    assert format_rate(1.2, demo=True) == "$1.20/h demo"


def test_format_price() -> None:
    assert [format_price(p) for p in (3.0, 0.3, 0.075, 0.0, None, 1234.5)] == [
        "$3.00", "$0.30", "$0.075", "$0.00", "—", "$1,234.50"]
