"""Room for the row names of a static figure's number-at-risk table.

The rule this module owns: a row name of the number-at-risk table beneath a static
Kaplan–Meier or cumulative-incidence figure is never cut off at the figure's left edge. A
stratified figure names its rows by stratum level (``ND: consolidation``, seed 001 Fig. 2b/d),
longer than the group names of the overall figures; when a name would start left of the
figure, the plot and the table move right by what it lacks plus a small pad. A figure whose
names fit is left as laid out, so its bytes do not change.

Imported by :mod:`allrwe.report.render.static` only (matplotlib is imported by that module).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["LEFT_PAD_POINTS", "fit_row_names"]

#: space kept between the figure's left edge and the longest row name, in points
LEFT_PAD_POINTS = 4.0


def fit_row_names(fig: Any, names: Sequence[Any]) -> bool:
    """Widen the left margin of ``fig`` so that every text of ``names`` lies inside it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure laid out on a grid spec without constrained layout, on an Agg canvas.
    names : sequence of matplotlib.text.Text
        The row names, drawn right-aligned left of the axes.

    Returns
    -------
    bool
        Whether the margin was widened (False: the names fit, the figure is unchanged).
    """
    if not names:
        return False
    renderer = fig.canvas.get_renderer()
    start = min(float(t.get_window_extent(renderer).x0) for t in names)
    pad = LEFT_PAD_POINTS * fig.dpi / 72.0
    if start >= pad:
        return False
    left = float(fig.subplotpars.left) + (pad - start) / float(fig.bbox.width)
    fig.subplots_adjust(left=left)
    return True
