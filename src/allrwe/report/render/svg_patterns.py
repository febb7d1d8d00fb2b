"""Inline SVG of the treatment-pattern figures: stacked bars, swimmer, Sankey, sunburst.

Drawn from the plain data of figure blocks (published values only), with the pieces of
:mod:`allrwe.report.render.svg_base`; :func:`allrwe.report.render.svg.svg_figure` dispatches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from allrwe.report.render.style import (
    PALETTE,
    drawn_classes,
    ink,
    nice_ticks,
    sankey_sizes,
    therapy_colour,
)
from allrwe.report.render.svg_base import (
    _W,
    _Axes,
    _f,
    _hatch,
    _legend,
    _svg,
    _text,
    _width,
)

__all__ = ["DRAW_PATTERNS"]


def _fills(data: Mapping[str, Any], names: list[str]) -> list[str]:
    """Return the colour of each therapy: the report's one colour per therapy (``colours``).

    Data without ``colours`` (drawn outside a report) take the palette in order.
    """
    if "colours" not in data:
        return [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    return [therapy_colour(n, data["colours"]) for n in names]


def _stacked(figure_id: str, data: Mapping[str, Any]) -> str:
    """Panels side by side of 100 % stacked bars (seed 001 Fig. 1: ND | R/R).

    ``data``: ``title``, ``classes`` (the stacked parts, bottom up), ``ylabel`` and
    ``panels``: each ``title`` and ``bars`` (``name``, ``section`` and ``values``: one
    percentage per class, ``None`` when suppressed). The suppressed parts of a bar are drawn
    together as one hatched part on top (100 % minus the published parts, which the tables
    show too); a bar without any published part is hatched whole and marked –.
    """
    classes = [str(c) for c in data["classes"]]
    panels = list(data["panels"])
    title = str(data.get("title", ""))
    body = [_text(64, 18, title, 14, "start", font_weight="bold")] if title else []
    hidden = any(v is None for p in panels for b in p["bars"] for v in b["values"])
    fills = _fills(data, classes)
    keys = [(classes[i], fills[i], "") for i in drawn_classes(panels, len(classes))]
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
            level = 0.0
            for i, v in enumerate(bar["values"]):
                if v is None or v <= 0:
                    continue
                y0, y1 = ax.y(level + v), ax.y(level)
                tip = f"{classes[i]}, {bar['name']}: {v:.1f}%"
                body.append(
                    f'<rect x="{_f(x)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(y1 - y0)}" '
                    f'fill="{fills[i]}"><title>{escape(tip)}</title></rect>'
                )
                level += v
            if len(shown) < len(bar["values"]) and level < 99.95:
                y0, y1 = ax.y(100.0), ax.y(level)
                body.append(
                    f'<rect x="{_f(x)}" y="{_f(y0)}" width="{_f(w)}" height="{_f(y1 - y0)}" '
                    f'fill="url(#hatch-{figure_id})" stroke="#888"><title>suppressed</title></rect>'
                )
            if not any(shown):  # no published part: a whole hatched bar, marked –
                body.append(_text(x + w / 2, bottom - 6, "–", 11))
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
    colour = dict(zip(classes, _fills(data, classes), strict=True))
    title = str(data.get("title", ""))
    body = [_text(8, 18, title, 14, "start", font_weight="bold")] if title else []
    legend, y = _legend([(c, colour[c], "") for c in classes], 16, 42 if title else 18)
    body += [p.replace('stroke-width="2.5"', 'stroke-width="8"') for p in legend]
    sections = list(data["sections"])
    steps = max((len(lane["steps"]) for s in sections for lane in s["lanes"]), default=1)
    left, right = 24.0, 110.0
    step_w = (_W - left - right) / max(1, steps)
    y += 24
    body.append(
        _text(left + step_w * steps / 2, y, "Step of the pathway (1: at the index date)", 11)
    )
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
                body.append(_text(x + 5, y + 12, name, 9, "start", fill=ink(fill)))
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
            f'fill="{data.get("colour", PALETTE[0])}"/>'
        )
        body.append(_text(left - 6, y + 16, item["name"], 10, "end"))
        body.append(_text(left + w + 4, y + 16, f"{item['value']:g}", 10, "start"))
    body.append(_text(left + ax.width / 2, bottom + 38, data["xlabel"], 12))
    return _svg(bottom + 48, body, title or figure_id)


#: the line height of a Sankey node's label (10 px text)
_LABEL_LINE = 12.0


def _bare(node: str) -> str:
    """Return a Sankey node's therapy without its step number: ``"2. HSCT"`` is ``"HSCT"``."""
    number, _, name = node.partition(". ")
    return name if number.isdigit() and name else node


def _node_label(node: str, persons: float, width: float, height: float) -> list[str]:
    """Return the lines of a Sankey node's label that fit in ``width`` × ``height`` pixels.

    ``"HSCT (106)"`` on one line, else the therapy and the count on two lines, else nothing:
    the node then has its label in its hover text and in the table of nodes beside the
    figure. The step number is left out (each column is headed with it).
    """
    one = [f"{_bare(node)} ({persons:g})"]
    two = [_bare(node), f"({persons:g})"]
    for lines in (one, two):
        if height >= _LABEL_LINE * len(lines) and max(_width(t, 10) for t in lines) <= width:
            return lines
    return []


def _sankey_labels(
    nodes: list[str],
    size: list[float],
    column: list[int],
    xpos: dict[int, float],
    ypos: dict[int, float],
    scale: float,
) -> list[str]:
    """Write each node's label after its bar where it overlaps no other label.

    A label stays within its node's slot (the bar and half the gap to each neighbour, so
    labels of one column never meet) and ends before the next column's bars (so labels of
    two columns never meet); a white halo keeps it legible over the flows.
    """
    bar, pad = _SANKEY_BAR, _SANKEY_PAD
    ends = {c: xpos[nxt] for c, nxt in zip(sorted(xpos), sorted(xpos)[1:], strict=False)}
    out = []
    for i, node in enumerate(nodes):
        x, h = xpos[column[i]] + bar + 4, size[i] * scale
        room = ends.get(column[i], _W) - x - 6
        lines = _node_label(node, size[i], room, h + pad)
        mid = ypos[i] + h / 2 + 4 - _LABEL_LINE * (len(lines) - 1) / 2
        for k, line in enumerate(lines):
            out.append(
                _text(
                    x,
                    mid + _LABEL_LINE * k,
                    line,
                    10,
                    "start",
                    paint_order="stroke",
                    stroke="#fff",
                    stroke_width="3",
                    stroke_linejoin="round",
                )
            )
    return out


#: width of a Sankey node's bar and gap between two nodes of a column, in pixels
_SANKEY_BAR, _SANKEY_PAD = 12.0, 10.0


def _sankey(figure_id: str, data: Mapping[str, Any]) -> str:
    """Draw a Sankey diagram: a column per step of the pathways, a band per transition.

    ``data``: ``title``, ``nodes`` (``"k. therapy"``: the therapy at step k), ``links``
    (``source``, ``target``: node indices; ``value``: persons) and ``colours``. Each column is
    headed with its step; node labels never overlap (:func:`_sankey_labels`); every node has
    its step, therapy and persons in its hover text.
    """
    nodes = [str(n) for n in data["nodes"]]
    links = list(data["links"])
    fills = _fills(data, nodes)
    size = sankey_sizes(len(nodes), links)
    column = [int(n.split(".")[0]) if n.split(".")[0].isdigit() else 1 for n in nodes]
    columns = sorted(set(column))
    height, pad, bar, top = 420.0, _SANKEY_PAD, _SANKEY_BAR, 26.0
    per_col = {c: [i for i in range(len(nodes)) if column[i] == c] for c in columns}
    scale = min(
        (height - pad * (len(ids) - 1)) / max(1e-9, sum(size[i] for i in ids))
        for ids in per_col.values()
    )
    step = (_W - 180) / max(1, len(columns) - 1)
    xpos = {c: 20 + step * k for k, c in enumerate(columns)}
    ypos: dict[int, float] = {}
    for ids in per_col.values():
        y = top
        for i in ids:
            ypos[i] = y
            y += size[i] * scale + pad
    out_off = dict(ypos)
    in_off = dict(ypos)
    body = [_text(xpos[c], 12, f"Step {c}", 10, "start", fill="#555") for c in columns]
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
            f'" fill="{fills[s]}" fill-opacity="0.3">'
            f"<title>{escape(nodes[s])} → {escape(nodes[t])}: {lk['value']:g}</title></path>"
        )
    for i in range(len(nodes)):
        x, h = xpos[column[i]], size[i] * scale
        tip = f"step {column[i]}: {_bare(nodes[i])}, {size[i]:g} persons"
        body.append(
            f'<rect x="{_f(x)}" y="{_f(ypos[i])}" width="{_f(bar)}" height="{_f(max(h, 1))}" '
            f'fill="{fills[i]}"><title>{escape(tip)}</title></rect>'
        )
    body += _sankey_labels(nodes, size, column, xpos, ypos, scale)
    height += top - 10
    title = str(data.get("title", ""))
    if not title:
        return _svg(height + 20, body, figure_id)
    heading = _text(20, 18, title, 14, "start", font_weight="bold")
    return _svg(height + 50, [heading, '<g transform="translate(0 30)">', *body, "</g>"], title)


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
    colour = dict(zip(names, _fills(data, names), strict=True))
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
                body.append(_text(x, y, f"{totals[kid]:g}", 10, fill=ink(colour[kid[-1]])))
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


#: the drawing function of each treatment-pattern figure kind
DRAW_PATTERNS = {
    "hbars": _hbars,
    "stacked": _stacked,
    "swimmer": _swimmer,
    "sankey": _sankey,
    "sunburst": _sunburst,
}
