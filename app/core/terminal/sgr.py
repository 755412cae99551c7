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


_COLOR_CACHE: dict[str, Color | None] = {}


def _color_from(spec: str) -> Color | None:
    """Colour from the sub-parameters after 38/48 (``5:n`` or ``2:[cs:]r:g:b``), cached."""
    try:
        return _COLOR_CACHE[spec]
    except KeyError:
        pass
    parts = spec.split(":")
    color: Color | None = None
    try:
        if parts[0] == "2" and len(parts) >= 4:
            r, g, b = int(parts[-3] or 0) & 0xFF, int(parts[-2] or 0) & 0xFF, int(parts[-1] or 0) & 0xFF
            # Built directly: Color.from_rgb costs twice as much and this runs per new colour.
            color = Color(
                f"#{r:02x}{g:02x}{b:02x}", ColorType.TRUECOLOR, triplet=ColorTriplet(r, g, b)
            )
        elif parts[0] == "5" and len(parts) >= 2:
            color = Color.from_ansi(int(parts[1]) & 0xFF)
    except ValueError:
        color = None
    if len(_COLOR_CACHE) >= _CACHE_LIMIT:
        _COLOR_CACHE.clear()
    _COLOR_CACHE[spec] = color
    return color


_STANDARD = [Color.from_ansi(n) for n in range(16)]
_ATTR_CODES = {"1": "bold", "2": "dim", "3": "italic", "4": "underline", "7": "reverse",
               "8": "conceal", "9": "strike"}


def style_for(params: str) -> Style | None:
    """The rich Style for a canonical SGR parameter string; None means default attributes."""
    try:
        return _STYLE_CACHE[params]
    except KeyError:
        pass
    style = _build_style(params)
    if len(_STYLE_CACHE) >= _CACHE_LIMIT:
        _STYLE_CACHE.clear()
    _STYLE_CACHE[params] = style
    return style


def _build_style(params: str) -> Style | None:
    color: Color | None = None
    bgcolor: Color | None = None
    attrs: dict[str, bool] = {}
    for param in params.split(";"):
        if not param or param == "0":
            continue
        if ":" in param:
            head, _, spec = param.partition(":")
            if head == "38":
                color = _color_from(spec)
            elif head == "48":
                bgcolor = _color_from(spec)
            continue
        name = _ATTR_CODES.get(param)
        if name is not None:
            attrs[name] = True
            continue
        if not param.isdigit() or len(param) > 3:
            continue
        n = int(param)
        if 30 <= n <= 37:
            color = _STANDARD[n - 30]
        elif 40 <= n <= 47:
            bgcolor = _STANDARD[n - 40]
        elif 90 <= n <= 97:
            color = _STANDARD[n - 90 + 8]
        elif 100 <= n <= 107:
            bgcolor = _STANDARD[n - 100 + 8]
        # 5 (blink) is deliberately drawn as nothing.
    if attrs:
        return Style(color=color, bgcolor=bgcolor, **attrs)
    if color is None and bgcolor is None:
        return None
    return Style.from_color(color, bgcolor)


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
