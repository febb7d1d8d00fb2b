"""The drawing rules shared by the inline SVG and the static figures.

Palette, axis ticks, curve styles and the names of the static files: a leaf module, imported
by :mod:`allrwe.report.figures` (which re-exports it), :mod:`allrwe.report.render.svg` and
:mod:`allrwe.report.render.static`, so that none of them imports another (issue #18).
"""

from __future__ import annotations

import colorsys
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from allrwe.report.model import Figure

__all__ = [
    "PALETTE",
    "STATIC_CHARTS",
    "WITHHELD_KEY",
    "band_vertices",
    "curve_pieces",
    "curve_style",
    "distinct_colours",
    "drawn_classes",
    "group_colour",
    "has_withheld",
    "ink",
    "nice_ticks",
    "sankey_sizes",
    "static_files",
    "therapy_colour",
    "therapy_colours",
]

#: colours of the series (colour-blind-safe, Okabe–Ito)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_NICE = (1.0, 2.0, 2.5, 5.0, 10.0)

#: legend key of the dotted connectors drawn where a curve's steps are withheld
WITHHELD_KEY = "steps withheld (dotted)"

#: one run of a step function: ``(x, y, x_next)``, drawn flat from ``x`` to ``x_next``
Run = list[tuple[float, float, float]]


def _finite(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and not math.isfinite(v))


def curve_pieces(
    xs: Sequence[float], ys: Sequence[Any], exact: bool = False
) -> tuple[list[Run], list[tuple[float, float, float, float]]]:
    """Split a published curve into what is known (steps) and what is not (connectors).

    A published point carries the estimate just *before* its time
    (:mod:`allrwe.analyses.outcomes.curves`), so between two consecutive points
    ``(x0, y0)`` and ``(x1, y1)`` the curve starts at ``y0`` and has reached ``y1`` just
    before ``x1``. Equal values: no event in between, the curve is flat at ``y0`` (a step
    known exactly). Different values: the steps fell at times in ``[x0, x1)`` that are not
    published, unless every time of the curve is a point (``exact``, a threshold of 1), when
    the one time in ``[x0, x1)`` is ``x0`` itself and the curve steps there. A stretch
    whose steps are not published is a *connector* ``(x0, y0, x1, y1)``, drawn dotted: the
    curve lies between the two values, its step times are unknown. Missing values (None or
    NaN) split the curve as they do today.

    Parameters
    ----------
    xs, ys : sequence
        The drawn points (the first is the curve's start: time 0, survival 1 or incidence 0).
    exact : bool, default False
        Whether every time of the curve is a published point.

    Returns
    -------
    runs : list of list of (x, y, x_next)
        Step functions, each drawn flat from ``x`` to ``x_next`` then vertically to the next
        entry's ``y``; runs of no width are left out.
    connectors : list of (x0, y0, x1, y1)
        The stretches whose steps are withheld.

    Examples
    --------
    >>> runs, connectors = curve_pieces([0.0, 1.0, 3.0, 4.0], [1.0, 1.0, 0.5, 0.5])
    >>> runs
    [[(0.0, 1.0, 1.0), (1.0, 1.0, 1.0)], [(3.0, 0.5, 4.0), (4.0, 0.5, 4.0)]]
    >>> connectors
    [(1.0, 1.0, 3.0, 0.5)]
    >>> curve_pieces([0.0, 1.0, 3.0], [1.0, 1.0, 0.5], exact=True)
    ([[(0.0, 1.0, 0.0), (0.0, 1.0, 1.0), (1.0, 0.5, 3.0)]], [])
    """
    runs: list[Run] = []
    connectors: list[tuple[float, float, float, float]] = []
    blocks: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if _finite(y):
            blocks[-1].append((float(x), float(y)))
        elif blocks[-1]:
            blocks.append([])
    for block in (b for b in blocks if b):
        if exact:
            x0, y0 = block[0]
            run = [(x0, y0, x0)]
            run += [(a[0], b[1], b[0]) for a, b in itertools.pairwise(block)]
            runs.append(run)
            continue
        current: Run = []
        for j, (x, y) in enumerate(block):
            nxt = block[j + 1] if j + 1 < len(block) else None
            if nxt is not None and nxt[1] == y:
                current.append((x, y, nxt[0]))
                continue
            current.append((x, y, x))
            runs.append(current)
            current = []
            if nxt is not None:
                connectors.append((x, y, nxt[0], nxt[1]))
    return [r for r in runs if any(n > x for x, _, n in r) or (exact and len(r) > 1)], connectors


def has_withheld(curves: Sequence[Mapping[str, Any]], exact: bool = False) -> bool:
    """Return whether any drawn curve has a stretch whose steps are withheld.

    Parameters
    ----------
    curves : sequence of mapping
        The ``curves`` of a figure's data (``x``, ``y``, and the limits ``lower``, ``upper``).
    exact : bool, default False
        Whether every time of the curves is a published point (then nothing is withheld).
    """
    if exact:
        return False
    return any(
        curve_pieces(c["x"], c[k])[1]
        for c in curves
        if len(c["x"]) > 1
        for k in ("y", "lower", "upper")
    )


def band_vertices(
    xs: Sequence[float], lower: Sequence[Any], upper: Sequence[Any], exact: bool = False
) -> list[list[tuple[float, float, float]]]:
    """Return the vertices ``(x, lower, upper)`` of a curve's confidence band, block by block.

    The band follows the rule of :func:`curve_pieces`: between two points with the same limits
    it is flat; where the limits differ it steps at the earlier point when ``exact``, else
    it runs straight from one point's limits to the next's (the times of its steps are
    withheld). A point missing either limit splits the band.

    Examples
    --------
    >>> band_vertices([0.0, 2.0, 5.0], [1.0, 1.0, 0.4], [1.0, 1.0, 0.8])
    [[(0.0, 1.0, 1.0), (2.0, 1.0, 1.0), (5.0, 0.4, 0.8)]]
    >>> band_vertices([0.0, 2.0], [1.0, 0.4], [1.0, 0.8], exact=True)
    [[(0.0, 1.0, 1.0), (0.0, 0.4, 0.8), (2.0, 0.4, 0.8)]]
    """
    blocks: list[list[tuple[float, float, float]]] = [[]]
    for x, lo, hi in zip(xs, lower, upper, strict=True):
        if _finite(lo) and _finite(hi):
            blocks[-1].append((float(x), float(lo), float(hi)))
        elif blocks[-1]:
            blocks.append([])
    if not exact:
        return [b for b in blocks if b]
    out = []
    for block in (b for b in blocks if b):
        vertices = [block[0]]
        for a, b in itertools.pairwise(block):
            vertices += [(a[0], b[1], b[2]), b]
        out.append(vertices)
    return out


def nice_ticks(top: float, *, count: int = 6) -> list[float]:
    """Return round axis ticks from 0 to at least ``top`` (about ``count`` of them).

    Parameters
    ----------
    top : float
        The largest value to show.
    count : int, default 6
        The wanted number of ticks.

    Returns
    -------
    list of float
        ``0, step, 2 * step, ...`` up to the first multiple of the step at or above ``top``.
    """
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in _NICE if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(k * step, 10) for k in range(n + 1)]


def curve_style(curve: Mapping[str, Any], index: int) -> tuple[str, int]:
    """Return the colour and the dash number (0 solid) of a curve or a bar series.

    The report gives each group one colour in every figure (``colour``, set from the group's
    place in the spec) and each competing cause of a group its own dash (``dash``); data
    without them take the palette in drawing order.

    Parameters
    ----------
    curve : Mapping
        A curve (or series) of a figure's data.
    index : int
        Its place among the figure's curves.

    Returns
    -------
    tuple of (str, int)
        The colour and the dash number.
    """
    colour = curve.get("colour") or PALETTE[index % len(PALETTE)]
    return str(colour), int(curve.get("dash", 0))


def group_colour(groups: list[str], group: str) -> str:
    """Return the colour of ``group``: its place among the study's groups in the palette."""
    index = groups.index(group) if group in groups else len(groups)
    return PALETTE[index % len(PALETTE)]


#: colours of the therapies that are no group's own: Okabe–Ito, then Tol's muted scheme (its
#: teal after its olive and indigo: beside Okabe–Ito's bluish green it is the least distinct)
_THERAPY_PALETTE = (
    *PALETTE[:6],
    "#882255",
    "#999933",
    "#332288",
    "#44AA99",
    "#000000",
    "#117733",
    "#AA4499",
    "#CC6677",
    "#DDCC77",
    "#88CCEE",
)
#: the golden angle in turns: hues this far apart never repeat (colours past the palette)
_GOLDEN_TURN = 0.381966


def _extra_colour(k: int) -> str:
    """Return the ``k``-th colour past the palette: a hue by the golden angle, mid saturation."""
    r, g, b = colorsys.hls_to_rgb((0.05 + k * _GOLDEN_TURN) % 1.0, 0.42, 0.55)
    return "#" + "".join(f"{round(255 * v):02X}" for v in (r, g, b))


def distinct_colours(n: int, taken: Sequence[str] = ()) -> list[str]:
    """Return ``n`` colours, none of them in ``taken`` and no two alike.

    The therapy palette first (Okabe–Ito, then Tol's muted scheme), then hues spaced by the
    golden angle, so that any number of therapies has colours of its own.

    Examples
    --------
    >>> distinct_colours(2, taken=["#0072B2"])
    ['#D55E00', '#009E73']
    >>> len(set(distinct_colours(40)))
    40
    """
    out = [c for c in _THERAPY_PALETTE if c not in taken][:n]
    k = 0
    while len(out) < n:
        colour = _extra_colour(k)
        k += 1
        if colour not in taken and colour not in out:
            out.append(colour)
    return out


#: colour of no further therapy (``none``, ``Stopped``), of a combination and of the rest
NO_THERAPY, COMBINATION, OTHER_THERAPY = "#BBBBBB", "#666666", "#999999"


def therapy_colours(
    groups: Mapping[str, Sequence[str]],
    classes: Mapping[str, Sequence[str]],
    others: Sequence[str] = (),
) -> dict[str, str]:
    """Return one colour per therapy, the same in every figure of the report, no two alike.

    A class sharing a concept set with an index group takes that group's colour (the
    blinatumomab class is drawn in the colour of the BLIN curves); the other classes take, in
    their spec order, the colours no group has; then each of ``others`` (the combinations a
    pathway records, ``blinatumomab+tki``) takes a colour no group or class has
    (:func:`distinct_colours`). Two combinations never share a grey, so a reader tells
    ``blinatumomab+TKI`` from ``chemotherapy+TKI`` in the Sankey, the sunburst and the swimmer
    plot alike.

    Parameters
    ----------
    groups : Mapping
        The index groups and their concept sets, in spec order.
    classes : Mapping
        The therapy classes and their concept sets, in spec order.
    others : sequence of str, optional
        Further therapies the figures draw (combinations), in the order to colour them.

    Returns
    -------
    dict of str to str
        The colour of each class, then of each of ``others``.

    Examples
    --------
    >>> therapy_colours({"BLIN": ["blinatumomab"]}, {"chemo": ["chemo"], "blin": ["blinatumomab"]})
    {'chemo': '#D55E00', 'blin': '#0072B2'}
    """
    own = {g: group_colour(list(groups), g) for g in groups}
    out: dict[str, str] = {}
    for name, sets in classes.items():
        match = next((g for g, gsets in groups.items() if set(sets) & set(gsets)), None)
        if match is not None:
            out[name] = own[match]
    rest = [name for name in classes if name not in out]
    rest += [name for name in dict.fromkeys(others) if name not in classes]
    out.update(zip(rest, distinct_colours(len(rest), list(own.values())), strict=True))
    return {name: out[name] for name in dict.fromkeys([*classes, *rest])}


def ink(fill: str) -> str:
    """Return the colour of a text drawn on ``fill``: white or near-black, the more legible.

    The one of the two with the higher contrast ratio (WCAG 2: ``(L1 + 0.05) / (L2 + 0.05)``
    of the relative luminances) against the fill; a name on a sand or sky-blue box is then
    written in black, on an indigo one in white.

    Examples
    --------
    >>> ink("#0072B2"), ink("#DDCC77"), ink("#332288")
    ('#fff', '#1a1a1a', '#fff')
    """
    if not (fill.startswith("#") and len(fill) == 7):
        return "#fff"

    def linear(channel: str) -> float:
        c = int(channel, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(fill[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # near-black #1a1a1a has a luminance of about 0.010
    return "#fff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.06 else "#1a1a1a"


def sankey_sizes(n_nodes: int, links: Sequence[Mapping[str, Any]]) -> list[float]:
    """Return the persons of each Sankey node: the larger of what flows in and what flows out.

    The first step has only outflows and ``Stopped`` only inflows; any other node has both,
    equal when every pathway through it is drawn.

    Examples
    --------
    >>> sankey_sizes(3, [{"source": 0, "target": 1, "value": 7}, {"source": 0, "target": 2,
    ...                  "value": 5}])
    [12.0, 7.0, 5.0]
    """
    flow_in = [0.0] * n_nodes
    flow_out = [0.0] * n_nodes
    for lk in links:
        flow_out[int(lk["source"])] += float(lk["value"])
        flow_in[int(lk["target"])] += float(lk["value"])
    return [max(a, b) for a, b in zip(flow_in, flow_out, strict=True)]


def drawn_classes(panels: Sequence[Mapping[str, Any]], n_classes: int) -> list[int]:
    """Return the indices of the classes a stacked-bar figure draws, in their order.

    The rule: a legend names only what is drawn. A class is drawn when one of its values,
    in any bar of any panel, is published and above zero; a class suppressed or zero in
    every bar is part of no bar (its persons are in the hatched part) and gets no key.

    Examples
    --------
    >>> bars = [{"values": [20.0, None, 0.0]}, {"values": [None, None, 5.0]}]
    >>> drawn_classes([{"bars": bars}], 3)
    [0, 2]
    """
    drawn = {
        i
        for p in panels
        for b in p["bars"]
        for i, v in enumerate(b["values"])
        if v is not None and v > 0
    }
    return [i for i in range(n_classes) if i in drawn]


def therapy_colour(name: str, colours: Mapping[str, str]) -> str:
    """Return the colour of a therapy as figures draw it (``colours`` from a figure's data).

    A class has its own colour (:func:`therapy_colours`); no further therapy (``none``,
    ``Stopped``) is light grey, a combination (``a+b``) dark grey, anything else mid grey.
    A Sankey node's step number (``"2. HSCT"``) is not part of the name.
    """
    bare = name.split(". ", 1)[1] if name.split(". ", 1)[0].isdigit() else name
    if bare in colours:
        return colours[bare]
    if bare.lower() in ("none", "stopped"):
        return NO_THERAPY
    return COMBINATION if "+" in bare else OTHER_THERAPY


#: figure kinds with a static rendering (PNG and SVG)
STATIC_CHARTS = ("km", "cif", "bars", "hbars", "stacked")


def static_files(figure: Figure, folder: Path) -> list[Path]:
    """Return the files :func:`write_static` writes for a figure: ``<id>.png``, ``<id>.svg``.

    Parameters
    ----------
    figure : Figure
        A figure block.
    folder : pathlib.Path
        The folder of the static figures.

    Returns
    -------
    list of pathlib.Path
        The PNG file, then the SVG file.

    Raises
    ------
    ValueError
        If the kind has no static rendering (not in :data:`STATIC_CHARTS`).
    """
    if figure.chart not in STATIC_CHARTS:
        raise ValueError(f"no static rendering for figure kind {figure.chart!r}")
    return [folder / f"{figure.id}.png", folder / f"{figure.id}.svg"]
