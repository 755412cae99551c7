"""What a request cost, from the genai-prices library's bundled price data.

genai-prices ships its price table inside the wheel; we only ever read that bundled snapshot
(`UpdatePrices`, the one part that downloads, is never started), so pricing works offline and gives
the same answer on every machine with the same package version.

Anthropic reports `input_tokens` WITHOUT the cached part, while genai-prices wants the total
prompt (uncached + cache read + cache write) and derives the uncached part itself; long-context
tiers (e.g. Sonnet 4.5 above 200k prompt tokens) are chosen from that total, as Anthropic does.

User overrides (`[pricing.overrides."<model>"]`, USD per million tokens) beat the library. An
override without cache rates uses Anthropic's published multipliers of its input rate: read
0.1x, 5-minute write 1.25x, 1-hour write 2x. Overrides have no long-context tier.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from genai_prices import Usage, calc_price
from genai_prices import data_snapshot as _snapshot
from genai_prices.types import TieredPrices

if TYPE_CHECKING:
    from collections.abc import Mapping

    from heimdall.config import ModelPrice

PROVIDER_ID = "anthropic"
_MTOK = Decimal(1_000_000)
_DATE_SUFFIX = re.compile(r"-\d{8}$")

# Anthropic's cache multipliers of the base input rate (used only for overrides that omit them).
_READ_X = Decimal("0.1")
_WRITE_5M_X = Decimal("1.25")
_WRITE_1H_X = Decimal(2)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts as the Anthropic Messages API reports them (input excludes cached tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        """The whole prompt: uncached + cache read + cache write (what tiers are judged on)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Cost:
    usd: float
    missing: bool
    """True when no price is known for the model (the cost is then 0)."""


@dataclass(frozen=True, slots=True)
class PerMTok:
    """Rates in USD per million tokens (base tier)."""

    input: Decimal
    output: Decimal
    cache_read: Decimal | None
    cache_write: Decimal | None
    cache_write_1h: Decimal | None


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _base(price: object) -> Decimal | None:
    """The base-tier rate of a genai-prices price (plain Decimal or TieredPrices)."""
    if price is None:
        return None
    base = getattr(price, "base", price)
    return base if isinstance(base, Decimal) else None


class Pricer:
    """Prices Anthropic usage; thread-safe and offline."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._overrides: dict[str, PerMTok] = {}
        self._resolved: dict[tuple[str, str], object] = {}
        for model, price in (overrides or {}).items():
            self._overrides[model.lower()] = PerMTok(
                input=Decimal(repr(price.input)),
                output=Decimal(repr(price.output)),
                cache_read=_dec(price.cache_read),
                cache_write=_dec(price.cache_write),
                cache_write_1h=_dec(price.cache_write_1h),
            )

    def _override_for(self, model: str) -> PerMTok | None:
        key = model.lower()
        return self._overrides.get(key) or self._overrides.get(_DATE_SUFFIX.sub("", key))

    def cost(self, model: str, usage: TokenUsage, when: datetime | None = None) -> Cost:
        """USD for one request. Unknown model -> Cost(0.0, missing=True)."""
        override = self._override_for(model) if model else None
        if override is not None:
            return Cost(float(_override_cost(override, usage)), missing=False)
        if not model:
            return Cost(0.0, missing=True)
        when = when or datetime.now(UTC)
        key = (model, when.strftime("%Y-%m-%d"))
        prices = self._resolved.get(key, _UNRESOLVED)
        if prices is _UNRESOLVED:
            prices = self._resolved[key] = _simple_prices(model, when)
        if prices is _UNKNOWN:
            return Cost(0.0, missing=True)
        if prices is not None:
            return Cost(float(_simple_cost(prices, usage)), missing=False)
        return self.library_cost(model, usage, when)

    def library_cost(self, model: str, usage: TokenUsage, when: datetime | None = None) -> Cost:
        """The same, always through `genai_prices.calc_price` (the reference the fast path is
        tested against)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calc = calc_price(
                    Usage(
                        input_tokens=usage.prompt_tokens,
                        output_tokens=usage.output_tokens,
                        cache_read_tokens=usage.cache_read_tokens,
                        cache_write_tokens=usage.cache_write_tokens,
                        cache_write_1h_tokens=usage.cache_write_1h_tokens,
                    ),
                    model,
                    provider_id=PROVIDER_ID,
                    genai_request_timestamp=when or datetime.now(UTC),
                )
        except (LookupError, ValueError):
            return Cost(0.0, missing=True)
        return Cost(float(calc.total_price), missing=False)

    def rates(self, model: str, when: datetime | None = None) -> PerMTok | None:
        """Base-tier rates per MTok (for `/v1/models` pricing), or None when unknown."""
        override = self._override_for(model)
        if override is not None:
            return _filled(override)
        try:
            _, info = _snapshot.get_snapshot().find_provider_model(model, None, PROVIDER_ID, None)
        except LookupError:
            return None
        prices = info.get_prices(when or datetime.now(UTC))
        base_in = _base(prices.input_mtok)
        base_out = _base(prices.output_mtok)
        if base_in is None or base_out is None:
            return None
        return PerMTok(
            input=base_in,
            output=base_out,
            cache_read=_base(prices.cache_read_mtok),
            cache_write=_base(prices.cache_write_mtok),
            cache_write_1h=_base(prices.cache_write_1h_mtok),
        )

    def known_models(self) -> list[str]:
        """Current (not deprecated) Claude model ids the price data knows, plus overridden ones."""
        provider = _snapshot.get_snapshot().find_provider(None, PROVIDER_ID, None)
        ids = [m.id for m in provider.models if m.id.startswith("claude") and not m.deprecated]
        return sorted(set(ids) | set(self._overrides))


_UNRESOLVED = object()
_UNKNOWN = object()
# The five token prices every current Claude model has. A model with exactly these (plus
# web-search prices, which no Messages usage here carries) is priced by `_simple_cost`: the same
# Decimal arithmetic as genai-prices (tier chosen on the whole prompt), without its generic
# unit-registry machinery, which costs ~0.1 ms per call on the request path.
_SIMPLE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
_IGNORABLE_KEYS = frozenset({"web_searches_kcount"})


def _simple_prices(model: str, when: datetime) -> object:
    """The model's resolved price object when `_simple_cost` applies, None when only the library
    can price it, `_UNKNOWN` when it has no price."""
    try:
        _, info = _snapshot.get_snapshot().find_provider_model(model, None, PROVIDER_ID, None)
    except LookupError:
        return _UNKNOWN
    prices = info.get_prices(when)
    present = {k for k, v in prices.__dict__.items() if v is not None and not k.startswith("_")}
    if set(_SIMPLE_KEYS) <= present and present - set(_SIMPLE_KEYS) <= _IGNORABLE_KEYS:
        return prices
    return None


def _rate(price: object, prompt_tokens: int) -> Decimal:
    if isinstance(price, TieredPrices):
        for tier in reversed(price.tiers):
            if prompt_tokens > tier.start:
                return tier.price
        return price.base
    assert isinstance(price, Decimal)
    return price


def _simple_cost(prices: object, u: TokenUsage) -> Decimal:
    prompt = u.prompt_tokens
    rates = [_rate(getattr(prices, key), prompt) for key in _SIMPLE_KEYS]
    counts = (
        u.input_tokens,
        u.output_tokens,
        u.cache_read_tokens,
        u.cache_write_5m_tokens,
        u.cache_write_1h_tokens,
    )
    return sum((r * Decimal(c) for r, c in zip(rates, counts, strict=True)), Decimal(0)) / _MTOK


def _filled(p: PerMTok) -> PerMTok:
    return PerMTok(
        input=p.input,
        output=p.output,
        cache_read=p.cache_read if p.cache_read is not None else p.input * _READ_X,
        cache_write=p.cache_write if p.cache_write is not None else p.input * _WRITE_5M_X,
        cache_write_1h=p.cache_write_1h if p.cache_write_1h is not None else p.input * _WRITE_1H_X,
    )


def _override_cost(p: PerMTok, u: TokenUsage) -> Decimal:
    f = _filled(p)
    assert f.cache_read is not None and f.cache_write is not None and f.cache_write_1h is not None
    total = (
        Decimal(u.input_tokens) * f.input
        + Decimal(u.output_tokens) * f.output
        + Decimal(u.cache_read_tokens) * f.cache_read
        + Decimal(u.cache_write_5m_tokens) * f.cache_write
        + Decimal(u.cache_write_1h_tokens) * f.cache_write_1h
    )
    return total / _MTOK


def per_token(rate_per_mtok: Decimal | None) -> str | None:
    """USD per token as a plain decimal string, the way Bifrost's `/v1/models` prints prices."""
    if rate_per_mtok is None:
        return None
    value = (rate_per_mtok / _MTOK).normalize()
    return format(value, "f")
