"""Figures: inline SVG for the HTML report, matplotlib PNG and SVG for manuscripts.

Both are drawn from the plain data of :class:`~allrwe.report.model.Figure` blocks, which hold
published values only. The bytes are deterministic: the inline SVG is written as text with
rounded coordinates and fixed element ids; matplotlib runs without pyplot, with a fixed SVG hash
salt, no date or software stamps, and the bundled DejaVu Sans font.
"""

from __future__ import annotations

from pathlib import Path

from allrwe.report.model import Figure
from allrwe.report.render.style import (
    PALETTE,
    STATIC_CHARTS,
    curve_style,
    group_colour,
    has_withheld,
    nice_ticks,
    sankey_sizes,
    static_files,
    therapy_colour,
    therapy_colours,
)

__all__ = [
    "PALETTE",
    "STATIC_CHARTS",
    "curve_style",
    "group_colour",
    "has_withheld",
    "nice_ticks",
    "sankey_sizes",
    "static_files",
    "svg_figure",
    "therapy_colour",
    "therapy_colours",
    "write_static",
]


def svg_figure(figure: Figure) -> str:
    """Return the inline SVG of a figure, as drawn in the HTML report.

    Parameters
    ----------
    figure : Figure
        A figure block of kind ``km``, ``cif``, ``bars``, ``hbars`` or ``sankey``.

    Returns
    -------
    str
        One ``<svg>`` element (no script; it scales to the width of the page).

    Raises
    ------
    ValueError
        If the kind is unknown.
    """
    from allrwe.report.render.svg import svg_figure as draw

    return draw(figure.id, figure.chart, figure.data)


# ------------------------------------------------------------------ static


def write_static(figure: Figure, folder: Path) -> list[Path]:
    """Write a static figure as ``<id>.png`` (300 dpi) and ``<id>.svg``.

    Parameters
    ----------
    figure : Figure
        A figure block of kind ``km``, ``cif``, ``bars`` or ``hbars``.
    folder : pathlib.Path
        Where to write (created).

    Returns
    -------
    list of pathlib.Path
        The two files written (see :func:`static_files`).

    Raises
    ------
    ValueError
        If the kind has no static rendering.
    """
    # matplotlib is imported here, on the one path that draws with it: the HTML report and
    # the inline SVG do not need it.
    from allrwe.report.render.static import write_files

    return write_files(figure, folder)
