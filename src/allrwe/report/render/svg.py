"""Inline SVG of the report's figures, drawn from the plain data of figure blocks.

The HTML report carries its figures as static SVG elements: no script, no plotly.js, a few
kilobytes per figure. The drawing follows the journal conventions of the static figures
(:mod:`allrwe.report.render.static`): a title, stepped curves with stepped confidence bands
(dotted, with straight bands, between published points whose steps are withheld:
:func:`~allrwe.report.render.style.curve_pieces`),
censoring ticks, the number-at-risk table under the axis with one column per axis tick,
a legend of the drawn curves only, and suppressed bars drawn as suppressed, not as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from allrwe.report.render.style import (
    PALETTE,
    WITHHELD_KEY,
    band_vertices,
    curve_pieces,
    curve_style,
    has_withheld,
    nice_ticks,
)
from allrwe.report.render.svg_base import (
    _DASHES,
    _W,
    _Axes,
    _f,
    _frame,
    _hatch,
    _legend,
    _px,
    _svg,
    _text,
    _width,
)
from allrwe.report.render.svg_patterns import DRAW_PATTERNS

__all__ = ["svg_figure"]


def _step_path(ax: _Axes, run: list[tuple[float, float, float]]) -> str:
    """Return the path of a step function, one move per change of pixel."""
    cx, cy = _px(ax.x(run[0][0])), _px(ax.y(run[0][1]))
    parts = [f"M{cx} {cy}"]
    pending_h = ""
    for i, (x, y, nxt) in enumerate(run):
        py = _px(ax.y(y))
        if i and py != cy:
            if pending_h:
                parts.append(pending_h)
                pending_h = ""
            parts.append(f"V{py}")
            cy = py
        px = _px(ax.x(nxt))
        if nxt > x and px != cx:
            pending_h = f"H{px}"
            cx = px
    if pending_h:
        parts.append(pending_h)
    return "".join(parts)


def _band(
    ax: _Axes, xs: Sequence[float], lo: Sequence[Any], hi: Sequence[Any], exact: bool
) -> list[str]:
    """Return the band's polygons (:func:`~allrwe.report.render.style.band_vertices`)."""
    shapes = []
    for block in band_vertices(xs, lo, hi, exact):
        upper = [(x, h) for x, _, h in block]
        lower = [(x, low) for x, low, _ in block]
        points = [(_px(ax.x(px)), _px(ax.y(py))) for px, py in upper + lower[::-1]]
        kept = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
        # a point between two on the same horizontal or vertical line adds nothing
        lean = [
            p
            for i, p in enumerate(kept)
            if i in (0, len(kept) - 1)
            or (
                not (kept[i - 1][0] == p[0] == kept[i + 1][0])
                and not (kept[i - 1][1] == p[1] == kept[i + 1][1])
            )
        ]
        shapes.append(" ".join(f"{x},{y}" for x, y in lean))
    return shapes


#: dash of the connectors drawn where a curve's steps are withheld (dots, round caps)
_WITHHELD_DASH = "0.1 4"


def _curve_paths(
    ax: _Axes, c: Mapping[str, Any], colour: str, dash_attr: str, exact: bool
) -> list[str]:
    """Return a curve's known steps (solid) and its withheld stretches (one dotted path)."""
    runs, connectors = curve_pieces(c["x"], c["y"], exact)
    out = [
        f'<path d="{_step_path(ax, run)}" fill="none" stroke="{colour}" '
        f'stroke-width="2"{dash_attr}><title>{escape(str(c["name"]))}</title></path>'
        for run in runs
    ]
    if connectors:
        dots = "".join(
            f"M{_px(ax.x(x0))} {_px(ax.y(y0))}L{_px(ax.x(x1))} {_px(ax.y(y1))}"
            for x0, y0, x1, y1 in connectors
        )
        out.append(
            f'<path d="{dots}" fill="none" stroke="{colour}" stroke-width="2.2" '
            f'stroke-dasharray="{_WITHHELD_DASH}" stroke-linecap="round">'
            f"<title>{escape(str(c['name']))}: steps withheld</title></path>"
        )
    return out


def _curves(figure_id: str, data: Mapping[str, Any]) -> str:
    curves = [c for c in data["curves"] if len(c["x"]) > 1]
    risk = data.get("risk") or {"times": [], "rows": []}
    rows = [r for r in risk["rows"] if any(v for v in r["values"])]
    names = [str(r["name"]) for r in rows]  # the row labels of the number-at-risk table
    left = max(64.0, 34 + max((_width(n, 10) for n in names), default=0))
    title = str(data.get("title", ""))
    body = [_text(left, 18, title, 14, "start", font_weight="bold")] if title else []
    styles = [curve_style(c, i) for i, c in enumerate(curves)]
    exact = bool(data.get("exact"))
    keys = [
        (str(c["name"]), s[0], _DASHES[s[1] % len(_DASHES)])
        for c, s in zip(curves, styles, strict=True)
    ]
    if has_withheld(curves, exact):
        keys.append((WITHHELD_KEY, "#555", _WITHHELD_DASH))
    legend, y = _legend(
        keys,
        left,
        42 if title else 18,
    )
    if keys and keys[-1][0] == WITHHELD_KEY:  # dots need round caps to show
        legend[-2] = legend[-2].replace("/>", ' stroke-linecap="round"/>')
    body += legend
    times = [float(t) for t in risk["times"]]
    xmax = max([*times, *(max(c["x"]) for c in curves)], default=1.0)
    ticks = times if len(times) >= 2 else nice_ticks(xmax)
    xmax = max(xmax, ticks[-1])
    top = y + 16
    ax = _Axes(left, top, _W - left - 24, 280, xmax, 1.0)
    body += _frame(ax, ticks, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], data["xlabel"], data["ylabel"])
    for c, (colour, _) in zip(curves, styles, strict=True):
        for shape in _band(ax, c["x"], c["lower"], c["upper"], exact):
            body.append(f'<polygon points="{shape}" fill="{colour}" fill-opacity="0.14"/>')
    for c, (colour, dash) in zip(curves, styles, strict=True):
        dash_attr = f' stroke-dasharray="{_DASHES[dash % len(_DASHES)]}"' if dash else ""
        body += _curve_paths(ax, c, colour, dash_attr, exact)
        # one tick per pixel: censorings closer than a pixel draw the same mark
        censor = dict.fromkeys(
            f"M{_px(ax.x(cx))} {_px(ax.y(cy) - 4)}v8"
            for cx, cy in zip(c["cx"], c["cy"], strict=True)
            if cy is not None
        )
        marks = "".join(censor)
        if marks:
            body.append(f'<path d="{marks}" stroke="{colour}" stroke-width="1.3"/>')
    y = top + ax.height + 58
    if rows:
        body.append(_text(8, y, f"Number at risk ({str(data['xlabel']).lower()})", 11, "start"))
        body[-1] = body[-1].replace("<text", '<text font-weight="bold"', 1)
        colours = {str(c["name"]): s[0] for c, s in zip(curves, styles, strict=True)}
        for j, row in enumerate(rows):
            y += 17
            colour = colours.get(str(row["name"]), PALETTE[j % len(PALETTE)])
            body.append(_text(left - 24, y, row["name"], 10, "end", fill=colour))
            for t, v in zip(times, row["values"], strict=True):
                if t <= xmax:
                    body.append(_text(ax.x(t), y, v or "–", 10))
    return _svg(y + 12, body, title or figure_id)


def _drawn(series: Mapping[str, Any]) -> bool:
    """Whether a bar series has a published value, so a bar of its own colour."""
    return any(v is not None for v in series["values"])


def _bars(figure_id: str, data: Mapping[str, Any]) -> str:
    cats = [str(c) for c in data["categories"]]
    series = list(data["series"])
    title = str(data.get("title", ""))
    body = [_text(64, 18, title, 14, "start", font_weight="bold")] if title else []
    items = [
        (str(s["name"]), s.get("colour") or PALETTE[i % len(PALETTE)], "")
        for i, s in enumerate(series)
    ]
    hidden = any(v is None for s in series for v in s["values"])
    # a key for each series that draws a bar of its colour: one with every bar suppressed
    # draws hatched bars only, which the hatched key stands for
    drawn = [it for it, s in zip(items, series, strict=True) if _drawn(s)]
    keys = [*drawn, ("suppressed (–)", f"url(#hatch-{figure_id})", "")] if hidden else drawn
    legend, y = _legend(keys, 64, 42 if title else 18)
    if hidden:  # the key of suppressed bars is a hatched box, not a line
        line = legend[-2]
        x0 = float(line.split('x1="')[1].split('"')[0])
        legend[-2] = (
            f'<rect x="{_f(x0 + 6)}" y="{_f(y - 11)}" width="14" height="12" '
            f'fill="url(#hatch-{figure_id})" stroke="#888"/>'
        )
        legend[-1] = legend[-1].replace(f'x="{_f(x0 + 30)}"', f'x="{_f(x0 + 26)}"')
    # the keys of bars are boxes, as in the stacked bars, not the lines of curves
    body += [p.replace('stroke-width="2.5"', 'stroke-width="10"') for p in legend]
    values = [v for s in series for v in s["values"] if v is not None]
    yticks = nice_ticks(max(values, default=1.0))
    ax = _Axes(64, y + 16, _W - 64 - 24, 240, max(1, len(cats)), yticks[-1])
    body += _frame(ax, [], yticks, data["xlabel"], data["ylabel"])
    slot = ax.width / max(1, len(cats))
    width = 0.8 * slot / max(1, len(series))
    bottom = ax.top + ax.height
    for k, cat in enumerate(cats):
        body.append(_text(ax.left + slot * (k + 0.5), bottom + 18, cat, 11))
        for i, (s, item) in enumerate(zip(series, items, strict=True)):
            x = ax.left + slot * k + 0.1 * slot + i * width
            v = s["values"][k]
            if v is None:
                body.append(
                    f'<rect x="{_f(x)}" y="{_f(bottom - 14)}" width="{_f(width)}" height="14" '
                    f'fill="url(#hatch-{figure_id})" stroke="#888"><title>suppressed</title></rect>'
                )
                body.append(_text(x + width / 2, bottom - 18, "–", 11))
                continue
            top = ax.y(v)
            body.append(
                f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(width)}" height="{_f(bottom - top)}" '
                f'fill="{item[1]}"><title>{escape(item[0])}, {escape(cat)}: {v:.1f}</title></rect>'
            )
    return _svg(bottom + 50, [_hatch(figure_id), *body], title or figure_id)


def _forest(figure_id: str, data: Mapping[str, Any]) -> str:
    """Hazard ratios with their 95% CIs on a log axis, one row per comparison."""
    items = list(data["items"])
    title = str(data.get("title", ""))
    rates = any(i.get("rates") for i in items)
    left = min(
        260.0 if rates else 300.0, 16 + max((_width(str(i["name"]), 11) for i in items), default=40)
    )
    right = 330.0 if rates else 170.0
    values = [v for i in items for v in (i["lower"], i["upper"]) if v and v > 0]
    lo = 2.0 ** math.floor(math.log2(min([*values, 0.5])))
    hi = 2.0 ** math.ceil(math.log2(max([*values, 2.0])))
    top = 34.0 if title else 10.0
    width = _W - left - right
    bottom = top + 24 * len(items) + 6

    def x(v: float) -> float:
        return left + width * (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))

    body = [_text(8, 18, title, 14, "start", font_weight="bold")] if title else []
    body.append(
        f'<path d="M{_f(x(1.0))} {_f(top)}V{_f(bottom)}" stroke="#888" stroke-dasharray="3 3"/>'
    )
    body.append(f'<path d="M{_f(left)} {_f(bottom)}H{_f(left + width)}" stroke="#444"/>')
    # ticks at 1 and every doubling while the labels fit (about 36 px each), else every
    # second or third doubling
    step = max(1, math.ceil(36 * math.log2(hi / lo) / max(width, 1.0)))
    k_lo, k_hi = round(math.log2(lo)), round(math.log2(hi))
    for k in range(k_lo, k_hi + 1):
        if k % step:
            continue
        tick = 2.0**k
        body.append(f'<path d="M{_f(x(tick))} {_f(bottom)}v5" stroke="#444"/>')
        body.append(_text(x(tick), bottom + 18, f"{tick:g}", 11))
    body.append(_text(left + width / 2, bottom + 38, str(data.get("xlabel", "")), 12))
    hr_at = _W - 165 if rates else _W - 8
    body.append(_text(hr_at, top - 2, "HR (95% CI)", 11, "end", font_weight="bold"))
    if rates:
        header = str(data.get("rates_header", "Response"))
        body.append(_text(_W - 8, top - 2, header, 11, "end", font_weight="bold"))
    for k, item in enumerate(items):
        y = top + 24 * k + 16
        body.append(_text(left - 8, y + 4, item["name"], 11, "end"))
        body.append(_text(hr_at, y + 4, item["text"], 11, "end"))
        if rates:
            body.append(_text(_W - 8, y + 4, item.get("rates") or "", 11, "end"))
        hr, low, high = item["hr"], item["lower"], item["upper"]
        if not (hr and low and high and hr > 0 and low > 0 and high > 0):
            continue
        body.append(
            f'<path d="M{_f(x(max(low, lo)))} {_f(y)}H{_f(x(min(high, hi)))}" stroke="#1a1a1a"/>'
        )
        body.append(
            f'<rect x="{_f(x(hr) - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="{PALETTE[0]}"/>'
        )
    return _svg(bottom + 48, body, title or figure_id)


_DRAW = {
    "forest": _forest,
    "km": _curves,
    "cif": _curves,
    "bars": _bars,
    **DRAW_PATTERNS,
}


def svg_figure(figure_id: str, chart: str, data: Mapping[str, Any]) -> str:
    """Return the SVG element of a figure.

    Parameters
    ----------
    figure_id : str
        The figure's id (the accessible name when the data hold no title).
    chart : str
        ``km``, ``cif``, ``bars``, ``forest`` or a treatment-pattern kind (``hbars``,
        ``stacked``, ``swimmer``, ``sankey``, ``sunburst``).
    data : Mapping
        The figure's plain data (published values only).

    Returns
    -------
    str
        One ``<svg>`` element, scaled to the width of its container.

    Raises
    ------
    ValueError
        If the kind is unknown.
    """
    draw = _DRAW.get(chart)
    if draw is None:
        raise ValueError(f"unknown figure kind {chart!r}")
    return draw(figure_id, data)
