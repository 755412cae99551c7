"""SGR parameter strings <-> rich Styles.

Row runs carry their attributes as a canonical SGR parameter string (``"0;1;38:2:255:0:0"``).
That string is the cache key: one rich ``Style`` is built per distinct string and then reused,
so turning a row into segments costs a dict lookup per run, never per cell.

``normalize_colon_sgr`` rewrites colon sub-parameter SGRs (``38:2::r:g:b``, ``4:3``, ``58:...``)
into the plain semicolon form every backend understands: underline styles become plain underline
on/off and underline colour is dropped.
"""

from __future__ import annotations

from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.style import Style

_STYLE_CACHE: dict[str, Style | None] = {}
_CACHE_LIMIT = 65_536


_MISSING = object()
_HEX = [f"{n:02x}" for n in range(256)]
_TRUECOLOR = ColorType.TRUECOLOR
_tuple_new = tuple.__new__


def _color_from(spec: str) -> Color | None:
    """Colour from the sub-parameters after 38/48 (``5:n`` or ``2:[cs:]r:g:b``).

    Not cached here: callers memoise whole parameters (see ``_EFFECTS``).
    """
    parts = spec.split(":")
    try:
        if parts[0] == "2" and len(parts) >= 4:
            r, g, b = int(parts[-3] or 0) & 0xFF, int(parts[-2] or 0) & 0xFF, int(parts[-1] or 0) & 0xFF
            # Built directly (what Color.from_rgb builds, at a third of the cost): this runs per
            # new colour, and random truecolour output brings hundreds a frame.
            # (tuple.__new__ is what these NamedTuples' own __new__ calls, minus a Python frame.)
            triplet = _tuple_new(ColorTriplet, (r, g, b))
            return _tuple_new(Color, ("#" + _HEX[r] + _HEX[g] + _HEX[b], _TRUECOLOR, None, triplet))
        if parts[0] == "5" and len(parts) >= 2:
            return Color.from_ansi(int(parts[1]) & 0xFF)
    except ValueError:
        pass
    return None


_STANDARD = [Color.from_ansi(n) for n in range(16)]
# get_truecolor of an EIGHT_BIT colour reads rich's fixed xterm palette; the theme is not used.
_EIGHT_BIT_RGB = {n: Color.from_triplet(Color.from_ansi(n).get_truecolor()) for n in range(16, 256)}


_RENDER_CACHE: dict[tuple[str, Style], Style | None] = {}


_COLOURS_ONLY: dict[Style, bool] = {}


def _colours_only(base: Style) -> bool:
    """Does ``base`` set nothing but colours (the usual widget style from CSS)?"""
    known = _COLOURS_ONLY.get(base)
    if known is None:
        known = _COLOURS_ONLY[base] = base == Style.from_color(base.color, base.bgcolor)
    return known


def render_style_for(params: str, base: Style) -> Style | None:
    """``base + style_for(params)``, with 256-colour indices 16-255 given their RGB triplet.

    This is what a Textual view draws with. Textual's ANSIToTruecolor filter turns every colour
    without a triplet into RGB on each new style, and 16-255 map to the fixed xterm palette
    (no theme involved), so resolving them here yields the very same output for less work.
    Indices 0-15 keep their number: the theme decides those. Cached per (params, base), so the
    per-segment ``base + style`` of ``Segment.apply_style`` is not needed either.
    """
    key = (params, base)
    cached = _RENDER_CACHE.get(key, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    if _colours_only(base):
        # Built in one go: what ``base + style`` gives, without the intermediate Style.
        color, bgcolor, bits = _parse(params, True)
        color = color or base.color
        bgcolor = bgcolor or base.bgcolor
        if bits or color is not None or bgcolor is not None:
            rendered: Style | None = _make_style(color, bgcolor, bits)
        else:
            rendered = None
    else:
        style = _build_style(params, resolve_256=True)
        rendered = (base + style) if base else style
    if len(_RENDER_CACHE) >= _CACHE_LIMIT:
        _RENDER_CACHE.clear()
    _RENDER_CACHE[key] = rendered
    return rendered


def style_for(params: str) -> Style | None:
    """The rich Style for a canonical SGR parameter string; None means default attributes."""
    cached = _STYLE_CACHE.get(params, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    style = _build_style(params)
    if len(_STYLE_CACHE) >= _CACHE_LIMIT:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[params] = style
    return style


def _resolved(color: Color | None) -> Color | None:
    """An xterm 256-colour (16-255) as its RGB triplet, exactly as Textual would resolve it."""
    if color is None or color.triplet is not None or color.type is not ColorType.EIGHT_BIT:
        return color
    assert color.number is not None
    return _EIGHT_BIT_RGB[color.number]


# What one parameter does: set the foreground (to a colour or None), set the background, add
# attribute bits (rich's layout), or nothing.
_FG, _BG, _ATTR, _NONE = 0, 1, 2, 3
_ATTR_BITS = {"1": 1, "2": 2, "3": 4, "4": 8, "7": 64, "8": 128, "9": 256}  # bold..strike
_NO_EFFECT = (_NONE, None)
Effect = tuple[int, "Color | int | None"]


def _effect(param: str, resolve_256: bool) -> Effect:
    """The effect of one parameter of a canonical SGR string (what the row dump holds)."""
    if not param or param == "0":
        return _NO_EFFECT
    if ":" in param:
        head, _, spec = param.partition(":")
        if head == "38" or head == "48":
            color = _color_from(spec)
            if resolve_256:
                color = _resolved(color)
            return (_FG if head == "38" else _BG, color)
        return _NO_EFFECT
    bits = _ATTR_BITS.get(param)
    if bits is not None:
        return (_ATTR, bits)
    if not param.isdigit() or len(param) > 3:
        return _NO_EFFECT
    n = int(param)
    if 30 <= n <= 37:
        return (_FG, _STANDARD[n - 30])
    if 40 <= n <= 47:
        return (_BG, _STANDARD[n - 40])
    if 90 <= n <= 97:
        return (_FG, _STANDARD[n - 90 + 8])
    if 100 <= n <= 107:
        return (_BG, _STANDARD[n - 100 + 8])
    return _NO_EFFECT  # 5 (blink) is deliberately drawn as nothing


# Effects per parameter, memoised: a style string differs from the last one in a colour or two,
# so most of its parameters (attributes, 256-colour indices) are dict hits.
_EFFECTS: tuple[dict[str, Effect], dict[str, Effect]] = ({}, {})


def _parse(params: str, resolve_256: bool) -> tuple[Color | None, Color | None, int]:
    """(foreground, background, attribute bits) of an SGR parameter string."""
    effects = _EFFECTS[resolve_256]
    color: Color | None = None
    bgcolor: Color | None = None
    bits = 0
    for param in params.split(";"):
        effect = effects.get(param)
        if effect is None:
            effect = _effect(param, resolve_256)
            if len(effects) >= _CACHE_LIMIT:
                effects.clear()
            effects[param] = effect
        kind, value = effect
        if kind == _FG:
            color = value  # type: ignore[assignment]
        elif kind == _BG:
            bgcolor = value  # type: ignore[assignment]
        elif kind == _ATTR:
            bits |= value  # type: ignore[operator]
    return color, bgcolor, bits


def _make_style(color: Color | None, bgcolor: Color | None, bits: int) -> Style:
    """``Style(color=color, bgcolor=bgcolor, <attributes in bits>=True)``, at a third of the cost.

    Built the way rich's own ``Style.from_color`` builds styles, with the attribute bits set as
    ``Style.__init__`` sets them for attributes given as True (tests compare the two).
    """
    style = Style.from_color(color, bgcolor)
    if bits:
        style._attributes = bits
        style._set_attributes = bits
        style._null = False
    return style


def _build_style(params: str, resolve_256: bool = False) -> Style | None:
    color, bgcolor, bits = _parse(params, resolve_256)
    if not bits and color is None and bgcolor is None:
        return None
    return _make_style(color, bgcolor, bits)


def normalize_colon_sgr(params: str) -> str:
    """Rewrite an SGR parameter string that uses colon sub-parameters into semicolon form."""
    out: list[str] = []
    for param in params.split(";"):
        if ":" not in param:
            out.append(param or "0")
            continue
        head, *rest = param.split(":")
        if head in ("38", "48"):
            if rest and rest[0] == "5" and len(rest) >= 2 and rest[1].isdigit():
                out.append(f"{head};5;{int(rest[1]) & 0xFF}")
            elif rest and rest[0] == "2" and len(rest) >= 4:
                rgb = [int(p) & 0xFF if p.isdigit() else 0 for p in rest[-3:]]
                out.append(f"{head};2;{rgb[0]};{rgb[1]};{rgb[2]}")
        elif head == "4":
            # 4:0 is "no underline"; 4:1..4:5 are underline styles (single, double, curly...).
            out.append("24" if rest and rest[0] == "0" else "4")
        elif head in ("58", "59"):
            continue  # underline colour: not drawn
        elif head.isdigit():
            out.append(head)
    # Empty means "nothing left to apply" (e.g. only an underline colour): the caller drops it.
    return ";".join(out)
