"""The drawing rules shared by the inline SVG and the static figures.

Palette, axis ticks, curve styles and the names of the static files: a leaf module, imported
by :mod:`allrwe.report.figures` (which re-exports it), :mod:`allrwe.report.render.svg` and
:mod:`allrwe.report.render.static`, so that none of them imports another (issue #18).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from allrwe.report.model import Figure

__all__ = [
    "PALETTE",
    "STATIC_CHARTS",
    "curve_style",
    "group_colour",
    "nice_ticks",
    "static_files",
    "therapy_colour",
    "therapy_colours",
]

#: colours of the series (colour-blind-safe, Okabe–Ito)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_NICE = (1.0, 2.0, 2.5, 5.0, 10.0)


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


#: colours of the therapies that are no group's own: Okabe–Ito, then Tol's muted scheme
_THERAPY_PALETTE = (*PALETTE[:6], "#882255", "#44AA99", "#332288", "#999933", "#000000")
#: colour of no further therapy (``none``, ``Stopped``), of a combination and of the rest
NO_THERAPY, COMBINATION, OTHER_THERAPY = "#BBBBBB", "#666666", "#999999"


def therapy_colours(
    groups: Mapping[str, Sequence[str]], classes: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """Return one colour per therapy class, the same in every figure of the report.

    A class sharing a concept set with an index group takes that group's colour (the
    blinatumomab class is drawn in the colour of the BLIN curves); the other classes take, in
    their spec order, the colours no group has.

    Parameters
    ----------
    groups : Mapping
        The index groups and their concept sets, in spec order.
    classes : Mapping
        The therapy classes and their concept sets, in spec order.

    Returns
    -------
    dict of str to str
        The colour of each class.

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
    free = [c for c in _THERAPY_PALETTE if c not in own.values()]
    rest = [name for name in classes if name not in out]
    for k, name in enumerate(rest):
        out[name] = free[k % len(free)]
    return {name: out[name] for name in classes}


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
