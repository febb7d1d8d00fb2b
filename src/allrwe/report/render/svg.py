"""Inline SVG of the report's figures, drawn from the plain data of figure blocks.

The HTML report carries its figures as static SVG elements: no script, no plotly.js, a few
kilobytes per figure. The drawing follows the journal conventions of the static figures
(:mod:`allrwe.report.render.static`): a title, stepped curves with stepped confidence bands,
censoring ticks, the number-at-risk table under the axis with one column per axis tick,
a legend of the drawn curves only, and suppressed bars drawn as suppressed, not as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from allrwe.report.render.style import PALETTE, curve_style, nice_ticks

__all__ = ["svg_figure"]

_W = 720.0
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
_DASHES = ("", "6 3", "2 2", "8 3 2 3")


def _f(v: float) -> str:
    """Format a coordinate with one decimal, no trailing zeros."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _px(v: float) -> str:
    """Format a coordinate of a curve, band or mark to the whole pixel (they are many)."""
    return str(round(v))


def _text(x: float, y: float, s: str, size: float = 11, anchor: str = "middle", **kw: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in kw.items())
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" text-anchor="{anchor}"{extra}>'
        f"{escape(str(s))}</text>"
    )


def _width(s: str, size: float = 11) -> float:
    """Rough width of a text in pixels (DejaVu Sans averages 0.6 em)."""
    return 0.6 * size * len(s)


def _svg(height: float, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(_W)} {_f(height)}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {_FONT} fill="#1a1a1a">'
        + "".join(body)
        + "</svg>"
    )


def _segments(
    xs: Sequence[float], ys: Sequence[float | None]
) -> list[list[tuple[float, float, float]]]:
    """Split a step function at missing values: runs of ``(x, y, x_next)``."""
    runs: list[list[tuple[float, float, float]]] = []
    current: list[tuple[float, float, float]] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if y is None or (isinstance(y, float) and not math.isfinite(y)):
            if current:
                runs.append(current)
            current = []
            continue
        nxt = xs[i + 1] if i + 1 < len(xs) else x
        current.append((x, y, nxt))
    if current:
        runs.append(current)
    return runs


class _Axes:
    """Maps data to pixels inside a plot rectangle."""

    def __init__(
        self, left: float, top: float, width: float, height: float, xmax: float, ymax: float
    ) -> None:
        self.left, self.top, self.width, self.height = left, top, width, height
        self.xmax, self.ymax = max(xmax, 1e-9), max(ymax, 1e-9)

    def x(self, v: float) -> float:
        return self.left + self.width * min(v, self.xmax) / self.xmax

    def y(self, v: float) -> float:
        return self.top + self.height * (1 - min(max(v, 0.0), self.ymax) / self.ymax)


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


def _band(ax: _Axes, xs: Sequence[float], lo: Sequence[Any], hi: Sequence[Any]) -> list[str]:
    """Return stepped polygons between the limits (split where either is missing)."""
    both = [None if a is None or b is None else (a, b) for a, b in zip(lo, hi, strict=True)]
    shapes = []
    for run in _segments(xs, [None if p is None else 0.0 for p in both]):
        index = {x: i for i, x in enumerate(xs)}
        upper: list[tuple[float, float]] = []
        lower: list[tuple[float, float]] = []
        for x, _, nxt in run:
            pair = both[index[x]]
            assert pair is not None
            upper += [(x, pair[1]), (nxt, pair[1])]
            lower += [(x, pair[0]), (nxt, pair[0])]
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


def _legend(items: list[tuple[str, str, str]], x0: float, y: float) -> tuple[list[str], float]:
    """Lay out legend keys ``(name, colour, dash)`` in wrapping rows; return parts, end y."""
    out: list[str] = []
    x = x0
    for name, colour, dash in items:
        w = 30 + _width(name, 11) + 18
        if x + w > _W - 10 and x > x0:
            x, y = x0, y + 18
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 24)}" y2="{_f(y - 4)}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_text(x + 30, y, name, 11, "start"))
        x += w
    return out, y


def _curves(figure_id: str, data: Mapping[str, Any]) -> str:
    curves = [c for c in data["curves"] if len(c["x"]) > 1]
    risk = data.get("risk") or {"times": [], "rows": []}
    rows = [r for r in risk["rows"] if any(v for v in r["values"])]
    names = [str(r["name"]) for r in rows]  # the row labels of the number-at-risk table
    left = max(64.0, 34 + max((_width(n, 10) for n in names), default=0))
    title = str(data.get("title", ""))
    body = [_text(left, 18, title, 14, "start", font_weight="bold")] if title else []
    styles = [curve_style(c, i) for i, c in enumerate(curves)]
    keys = [
        (str(c["name"]), s[0], _DASHES[s[1] % len(_DASHES)])
        for c, s in zip(curves, styles, strict=True)
    ]
    legend, y = _legend(
        keys,
        left,
        42 if title else 18,
    )
    body += legend
    times = [float(t) for t in risk["times"]]
    xmax = max([*times, *(max(c["x"]) for c in curves)], default=1.0)
    ticks = times if len(times) >= 2 else nice_ticks(xmax)
    xmax = max(xmax, ticks[-1])
    top = y + 16
    ax = _Axes(left, top, _W - left - 24, 280, xmax, 1.0)
    body += _frame(ax, ticks, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], data["xlabel"], data["ylabel"])
    for c, (colour, _) in zip(curves, styles, strict=True):
        for shape in _band(ax, c["x"], c["lower"], c["upper"]):
            body.append(f'<polygon points="{shape}" fill="{colour}" fill-opacity="0.14"/>')
    for c, (colour, dash) in zip(curves, styles, strict=True):
        dash_attr = f' stroke-dasharray="{_DASHES[dash % len(_DASHES)]}"' if dash else ""
        for run in _segments(c["x"], c["y"]):
            body.append(
                f'<path d="{_step_path(ax, run)}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash_attr}><title>{escape(str(c["name"]))}</title></path>'
            )
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


def _frame(
    ax: _Axes, xticks: Sequence[float], yticks: Sequence[float], xlabel: str, ylabel: str
) -> list[str]:
    bottom = ax.top + ax.height
    out = [
        f'<path d="M{_f(ax.left)} {_f(ax.top)}V{_f(bottom)}H{_f(ax.left + ax.width)}" '
        'fill="none" stroke="#444"/>'
    ]
    for t in xticks:
        x = ax.x(t)
        out.append(f'<path d="M{_f(x)} {_f(bottom)}v5" stroke="#444"/>')
        out.append(_text(x, bottom + 18, f"{t:g}", 11))
    for t in yticks:
        y = ax.y(t)
        out.append(f'<path d="M{_f(ax.left - 5)} {_f(y)}H{_f(ax.left + ax.width)}" stroke="#eee"/>')
        out.append(_text(ax.left - 8, y + 4, f"{t:g}", 11, "end"))
    out.append(_text(ax.left + ax.width / 2, bottom + 38, xlabel, 12))
    cy = ax.top + ax.height / 2
    out.append(_text(16, cy, ylabel, 12, transform=f"rotate(-90 16 {_f(cy)})"))
    return out


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
    keys = [*items, ("suppressed (–)", f"url(#hatch-{figure_id})", "")] if hidden else items
    legend, y = _legend(keys, 64, 42 if title else 18)
    if hidden:  # the key of suppressed bars is a hatched box, not a line
        line = legend[-2]
        x0 = float(line.split('x1="')[1].split('"')[0])
        legend[-2] = (
            f'<rect x="{_f(x0 + 6)}" y="{_f(y - 11)}" width="14" height="12" '
            f'fill="url(#hatch-{figure_id})" stroke="#888"/>'
        )
        legend[-1] = legend[-1].replace(f'x="{_f(x0 + 30)}"', f'x="{_f(x0 + 26)}"')
    body += legend
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
    defs = (
        f'<defs><pattern id="hatch-{figure_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>'
    )
    return _svg(bottom + 50, [defs, *body], title or figure_id)


def _hatch(figure_id: str) -> str:
    return (
        f'<defs><pattern id="hatch-{figure_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>'
    )


def _stacked(figure_id: str, data: Mapping[str, Any]) -> str:
    """Panels side by side of 100 % stacked bars (seed 001 Fig. 1: ND | R/R).

    ``data``: ``title``, ``classes`` (the stacked parts, bottom up), ``ylabel`` and
    ``panels``: each ``title`` and ``bars`` (``name``, ``section`` and ``values``: one
    percentage per class, ``None`` when suppressed). The suppressed parts of a bar are drawn
    together as one hatched part on top (100 % minus the published parts, which the tables
    show too); a bar without any published part is not drawn.
    """
    classes = [str(c) for c in data["classes"]]
    panels = list(data["panels"])
    title = str(data.get("title", ""))
    body = [_text(64, 18, title, 14, "start", font_weight="bold")] if title else []
    hidden = any(v is None for p in panels for b in p["bars"] for v in b["values"])
    keys = [(c, PALETTE[i % len(PALETTE)], "") for i, c in enumerate(classes)]
    if hidden:
        keys.append(("suppressed (–)", f"url(#hatch-{figure_id})", ""))
    legend, y = _legend(keys, 64, 42 if title else 18)
    # the keys of bar parts are boxes, not lines
    body += [p.replace('stroke-width="2.5"', 'stroke-width="10"') for p in legend]
    top, height, gap = y + 40, 220.0, 30.0
    width = (_W - 64 - 16 - gap * (len(panels) - 1)) / max(1, len(panels))
    ticks = [0.0, 25.0, 50.0, 75.0, 100.0]
    for j, panel in enumerate(panels):
        ax = _Axes(64 + j * (width + gap), top, width, height, 1.0, 100.0)
        bottom = top + height
        body.append(_text(ax.left + width / 2, top - 12, panel["title"], 12, font_weight="bold"))
        body.append(
            f'<path d="M{_f(ax.left)} {_f(top)}V{_f(bottom)}H{_f(ax.left + width)}" '
            'stroke="#444" fill="none"/>'
        )
        if j == 0:
            for t in ticks:
                body.append(f'<path d="M{_f(ax.left - 5)} {_f(ax.y(t))}h5" stroke="#444"/>')
                body.append(_text(ax.left - 8, ax.y(t) + 4, f"{t:g}", 10, "end"))
            cy = top + height / 2
            body.append(_text(16, cy, data["ylabel"], 12, transform=f"rotate(-90 16 {_f(cy)})"))
        bars = list(panel["bars"])
        slot = width / max(1, len(bars))
        sections: dict[str, list[int]] = {}
        for k, bar in enumerate(bars):
            sections.setdefault(str(bar.get("section", "")), []).append(k)
            x = ax.left + slot * (k + 0.15)
            w = slot * 0.7
            body.append(_text(x + w / 2, bottom + 14, bar["name"], 10))
            shown = [v for v in bar["values"] if v is not None]
            if not shown:
                body.append(_text(x + w / 2, bottom - 6, "–", 11))
                continue
            level = 0.0
            for i, v in enumerate(bar["values"]):
                if v is None or v <= 0:
                    continue
                y0, y1 = ax.y(level + v), ax.y(level)
                tip = f"{classes[i]}, {bar['name']}: {v:.1f}%"
                body.append(
                    f'<rect x="{_f(x)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(y1 - y0)}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
                )
                level += v
            if len(shown) < len(bar["values"]) and level < 99.95:
                y0, y1 = ax.y(100.0), ax.y(level)
                body.append(
                    f'<rect x="{_f(x)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(y1 - y0)}" '
                    f'fill="url(#hatch-{figure_id})" stroke="#888"><title>suppressed</title></rect>'
                )
        for name, at in sections.items():
            if not name:
                continue
            mid = ax.left + slot * (at[0] + at[-1] + 1) / 2
            body.append(_text(mid, bottom + 32, name, 11))
    return _svg(top + height + 48, [_hatch(figure_id), *body], title or figure_id)


def _swimmer(figure_id: str, data: Mapping[str, Any]) -> str:
    """Draw an aggregated swimmer plot: one lane per published pathway, one box per step.

    ``data``: ``title``, ``classes`` (the colour order) and ``sections``: each ``title`` and
    ``lanes`` (``steps``: the therapy of each step in order; ``text``: persons, e.g.
    ``"18 (36%)"``). The builder leaves out every pathway whose count is suppressed, pooled or
    below the minimum cell count, so no lane stands for fewer persons than that.
    """
    classes = [str(c) for c in data["classes"]]
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(classes)}
    title = str(data.get("title", ""))
    body = [_text(8, 18, title, 14, "start", font_weight="bold")] if title else []
    legend, y = _legend([(c, colour[c], "") for c in classes], 16, 42 if title else 18)
    body += [p.replace('stroke-width="2.5"', 'stroke-width="8"') for p in legend]
    sections = list(data["sections"])
    steps = max((len(lane["steps"]) for s in sections for lane in s["lanes"]), default=1)
    left, right = 24.0, 110.0
    step_w = (_W - left - right) / max(1, steps)
    y += 24
    body.append(_text(left + step_w * steps / 2, y, "Step after the index date", 11))
    for k in range(steps):
        body.append(_text(left + step_w * (k + 0.5), y + 16, str(k + 1), 10))
    y += 28
    for section in sections:
        body.append(_text(8, y + 12, section["title"], 11, "start", font_weight="bold"))
        y += 18
        for lane in section["lanes"]:
            for k, step in enumerate(lane["steps"]):
                x = left + step_w * k
                fill = colour.get(str(step), "#bbb")
                body.append(
                    f'<rect x="{_f(x + 1)}" y="{_f(y)}" width="{_f(step_w - 2)}" height="16" '
                    f'fill="{fill}" rx="3"><title>{escape(str(step))}</title></rect>'
                )
                fits = int((step_w - 8) / _width("x", 9))
                name = str(step) if len(str(step)) <= fits else str(step)[: max(1, fits - 1)] + "…"
                body.append(_text(x + 5, y + 12, name, 9, "start", fill="#fff"))
            body.append(_text(_W - 8, y + 12, lane["text"], 10, "end"))
            y += 20
        y += 8
    return _svg(y + 10, body, title or figure_id)


def _hbars(figure_id: str, data: Mapping[str, Any]) -> str:
    items = list(data["items"])
    title = str(data.get("title", ""))
    left = min(360.0, 16 + max((_width(str(i["name"]), 10) for i in items), default=40))
    body = [_text(8, 18, title, 14, "start", font_weight="bold")] if title else []
    ticks = nice_ticks(max((float(i["value"]) for i in items), default=1.0))
    top = 34.0 if title else 10.0
    ax = _Axes(left, top, _W - left - 40, 24 * len(items), ticks[-1], 1.0)
    bottom = ax.top + ax.height
    body.append(f'<path d="M{_f(left)} {_f(top)}V{_f(bottom)}" stroke="#444"/>')
    for t in ticks:
        body.append(f'<path d="M{_f(ax.x(t))} {_f(bottom)}v5" stroke="#444"/>')
        body.append(_text(ax.x(t), bottom + 18, f"{t:g}", 11))
    for k, item in enumerate(items):
        y = top + 24 * k
        w = ax.x(float(item["value"])) - left
        body.append(
            f'<rect x="{_f(left)}" y="{_f(y + 4)}" width="{_f(w)}" height="16" '
            f'fill="{PALETTE[0]}"/>'
        )
        body.append(_text(left - 6, y + 16, item["name"], 10, "end"))
        body.append(_text(left + w + 4, y + 16, f"{item['value']:g}", 10, "start"))
    body.append(_text(left + ax.width / 2, bottom + 38, data["xlabel"], 12))
    return _svg(bottom + 48, body, title or figure_id)


def _sankey(figure_id: str, data: Mapping[str, Any]) -> str:
    nodes = [str(n) for n in data["nodes"]]
    links = list(data["links"])
    flow_in = [0.0] * len(nodes)
    flow_out = [0.0] * len(nodes)
    for lk in links:
        flow_out[lk["source"]] += lk["value"]
        flow_in[lk["target"]] += lk["value"]
    size = [max(a, b) for a, b in zip(flow_in, flow_out, strict=True)]
    column = [int(n.split(".")[0]) if n.split(".")[0].isdigit() else 1 for n in nodes]
    columns = sorted(set(column))
    height, pad, bar = 420.0, 10.0, 12.0
    per_col = {c: [i for i in range(len(nodes)) if column[i] == c] for c in columns}
    scale = min(
        (height - pad * (len(ids) - 1)) / max(1e-9, sum(size[i] for i in ids))
        for ids in per_col.values()
    )
    step = (_W - 180) / max(1, len(columns) - 1)
    xpos = {c: 20 + step * k for k, c in enumerate(columns)}
    ypos: dict[int, float] = {}
    for ids in per_col.values():
        y = 10.0
        for i in ids:
            ypos[i] = y
            y += size[i] * scale + pad
    out_off = dict(ypos)
    in_off = dict(ypos)
    body: list[str] = []
    for lk in sorted(links, key=lambda lk: (lk["source"], lk["target"])):
        s, t, w = lk["source"], lk["target"], lk["value"] * scale
        x0, x1 = xpos[column[s]] + bar, xpos[column[t]]
        y0, y1 = out_off[s], in_off[t]
        out_off[s] += w
        in_off[t] += w
        xm = (x0 + x1) / 2
        body.append(
            f'<path d="M{_f(x0)} {_f(y0)}C{_f(xm)} {_f(y0)} {_f(xm)} {_f(y1)} {_f(x1)} {_f(y1)}'
            f"V{_f(y1 + w)}C{_f(xm)} {_f(y1 + w)} {_f(xm)} {_f(y0 + w)} {_f(x0)} {_f(y0 + w)}Z"
            f'" fill="{PALETTE[s % len(PALETTE)]}" fill-opacity="0.25">'
            f"<title>{escape(nodes[s])} → {escape(nodes[t])}: {lk['value']:g}</title></path>"
        )
    for i, name in enumerate(nodes):
        x, h = xpos[column[i]], size[i] * scale
        body.append(
            f'<rect x="{_f(x)}" y="{_f(ypos[i])}" width="{_f(bar)}" height="{_f(max(h, 1))}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        body.append(_text(x + bar + 4, ypos[i] + h / 2 + 4, f"{name} ({size[i]:g})", 10, "start"))
    return _svg(height + 20, body, str(data.get("title", figure_id)))


def _sector(cx: float, cy: float, r0: float, r1: float, a0: float, a1: float) -> str:
    """Return the path of an annular sector between radii r0, r1 and angles a0, a1."""
    large = 1 if a1 - a0 > math.pi else 0

    def pt(r: float, a: float) -> str:
        return f"{_f(cx + r * math.sin(a))} {_f(cy - r * math.cos(a))}"

    if a1 - a0 >= 2 * math.pi - 1e-9:  # a full ring: two half arcs
        mid = a0 + math.pi
        return (
            f"M{pt(r1, a0)}A{_f(r1)} {_f(r1)} 0 1 1 {pt(r1, mid)}A{_f(r1)} {_f(r1)} 0 1 1 "
            f"{pt(r1, a0)}M{pt(r0, a0)}A{_f(r0)} {_f(r0)} 0 1 0 {pt(r0, mid)}"
            f"A{_f(r0)} {_f(r0)} 0 1 0 {pt(r0, a0)}Z"
        )
    return (
        f"M{pt(r0, a0)}L{pt(r1, a0)}A{_f(r1)} {_f(r1)} 0 {large} 1 {pt(r1, a1)}"
        f"L{pt(r0, a1)}A{_f(r0)} {_f(r0)} 0 {large} 0 {pt(r0, a0)}Z"
    )


def _sunburst(figure_id: str, data: Mapping[str, Any]) -> str:
    paths = [(tuple(str(x) for x in p["steps"]), float(p["value"])) for p in data["paths"]]
    totals: dict[tuple[str, ...], float] = {}
    for steps, n in paths:
        for k in range(1, len(steps) + 1):
            totals[steps[:k]] = totals.get(steps[:k], 0.0) + n
    names = sorted({steps[-1] for steps in totals})
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    depth = max((len(s) for s in totals), default=1)
    title = str(data.get("title", ""))
    cx, cy, ring = _W / 2 - 120, 250.0, 200.0 / (depth + 1)
    body = [_text(8, 18, title, 14, "start", font_weight="bold")] if title else []
    whole = sum(n for _, n in paths) or 1.0

    def draw(prefix: tuple[str, ...], a0: float, a1: float) -> None:
        kids = sorted(
            (p for p in totals if len(p) == len(prefix) + 1 and p[: len(prefix)] == prefix),
            key=lambda p: (-totals[p], p),
        )
        start = a0
        for kid in kids:
            span = (a1 - a0) * totals[kid] / (totals[prefix] if prefix else whole)
            r0, r1 = ring * len(kid), ring * (len(kid) + 1)
            body.append(
                f'<path d="{_sector(cx, cy, r0, r1, start, start + span)}" '
                f'fill="{colour[kid[-1]]}" stroke="#fff"><title>{escape(" – ".join(kid))}: '
                f"{totals[kid]:g}</title></path>"
            )
            if span > 0.35:
                mid, r = start + span / 2, (r0 + r1) / 2
                x, y = cx + r * math.sin(mid), cy - r * math.cos(mid) + 4
                body.append(_text(x, y, f"{totals[kid]:g}", 10, fill="#fff"))
            draw(kid, start, start + span)
            start += span

    draw((), 0.0, 2 * math.pi)
    y = 60.0
    for name in names:
        body.append(
            f'<rect x="{_f(_W - 220)}" y="{_f(y - 10)}" width="12" height="12" '
            f'fill="{colour[name]}"/>'
        )
        body.append(_text(_W - 202, y, name, 11, "start"))
        y += 18
    return _svg(max(500.0, y + 10), body, title or figure_id)


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
    "hbars": _hbars,
    "stacked": _stacked,
    "swimmer": _swimmer,
    "sankey": _sankey,
    "sunburst": _sunburst,
}


def svg_figure(figure_id: str, chart: str, data: Mapping[str, Any]) -> str:
    """Return the SVG element of a figure.

    Parameters
    ----------
    figure_id : str
        The figure's id (the accessible name when the data hold no title).
    chart : str
        ``km``, ``cif``, ``bars``, ``hbars`` or ``sankey``.
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
