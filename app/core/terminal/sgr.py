"""SGR parameter strings <-> rich Styles.

Row runs carry their attributes as a canonical SGR parameter string (``"0;1;38:2:255:0:0"``).
That string is the cache key: one rich ``Style`` is built per distinct string and then reused,
so turning a row into segments costs a dict lookup per run, never per cell.

``normalize_colon_sgr`` rewrites colon sub-parameter SGRs (``38:2::r:g:b``, ``4:3``, ``58:...``)
into the plain semicolon form every backend understands: underline styles become plain underline
on/off and underline colour is dropped.
"""

from __future__ import annotations

from rich.color import Color
from rich.style import Style

_STYLE_CACHE: dict[str, Style | None] = {}
_CACHE_LIMIT = 65_536


def _color_from(parts: list[str]) -> Color | None:
    """Colour from the sub-parameters after 38/48 (``5:n`` or ``2:[cs:]r:g:b``)."""
    try:
        if parts[0] == "5" and len(parts) >= 2:
            return Color.from_ansi(int(parts[1]) & 0xFF)
        if parts[0] == "2" and len(parts) >= 4:
            r, g, b = (int(p or 0) & 0xFF for p in parts[-3:])
            return Color.from_rgb(r, g, b)
    except ValueError:
        return None
    return None


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
            head, *rest = param.split(":")
            if head == "38":
                color = _color_from(rest)
            elif head == "48":
                bgcolor = _color_from(rest)
            continue
        try:
            n = int(param)
        except ValueError:
            continue
        if n == 1:
            attrs["bold"] = True
        elif n == 2:
            attrs["dim"] = True
        elif n == 3:
            attrs["italic"] = True
        elif n == 4:
            attrs["underline"] = True
        elif n == 7:
            attrs["reverse"] = True
        elif n == 8:
            attrs["conceal"] = True
        elif n == 9:
            attrs["strike"] = True
        elif 30 <= n <= 37:
            color = Color.from_ansi(n - 30)
        elif 40 <= n <= 47:
            bgcolor = Color.from_ansi(n - 40)
        elif 90 <= n <= 97:
            color = Color.from_ansi(n - 90 + 8)
        elif 100 <= n <= 107:
            bgcolor = Color.from_ansi(n - 100 + 8)
        # 5 (blink) is deliberately drawn as nothing.
    if color is None and bgcolor is None and not attrs:
        return None
    return Style(color=color, bgcolor=bgcolor, **attrs)


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
