"""The legend of a static curve figure stands above the plot: it covers no curve.

The curves of seed 001's EFS by setting × treatment setting (BLIN, emr CDM with 900 ALL
patients; issue #20 review): with the legend placed at matplotlib's "best" spot it lay over
ND: induction's curve and band (figures/km-efs-blin-setting-treatment-setting.png).
"""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from allrwe.report.render.static import _curves, legend_grid

_TIMES = [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0, 30.0, 33.0]


def _curve(name: str, colour: str, x: list[float], y: list[float]) -> dict[str, object]:
    return {"name": name, "colour": colour, "x": x, "y": y, "lower": [v - 0.1 for v in y],
            "upper": [min(1.0, v + 0.05) for v in y], "cx": [x[-1]], "cy": [y[-1]]}  # fmt: skip


def _data() -> dict[str, object]:
    curves = [
        _curve("ND: consolidation", "#0072B2", [0.0, 2.07, 6.34, 8.11], [1.0, 1.0, 0.955, 0.916]),
        _curve("ND: induction", "#D55E00", [0.0, 3.12, 31.6], [1.0, 1.0, 0.839]),
        _curve("R/R: consolidation", "#009E73", [0.0, 4.21], [1.0, 1.0]),
        _curve("R/R: re-induction", "#CC79A7", [0.0, 0.03, 6.77, 16.5, 26.4],
               [1.0, 1.0, 0.423, 0.371, 0.371]),
    ]  # fmt: skip
    rows = [{"name": c["name"], "values": ["30"] * len(_TIMES)} for c in curves]
    return {
        "title": "Event-free survival by setting × treatment setting, BLIN",
        "curves": curves,
        "xlabel": "Months",
        "ylabel": "Survival probability",
        "risk": {"times": _TIMES, "rows": rows},
    }


def _drawn() -> MplFigure:
    fig = MplFigure(figsize=(7.0, 5.0))
    FigureCanvasAgg(fig)
    _curves(fig, _data())
    fig.canvas.draw()
    return fig


def test_the_legend_is_above_the_plot_and_below_the_title():
    fig = _drawn()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend()
    box, plot = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    assert box.y0 >= plot.y1  # nothing of the legend inside the plot
    assert box.y1 <= title.y0  # nor over the title
    assert box.x1 <= fig.bbox.x1  # nor cut at the right edge
    assert [t.get_text() for t in legend.get_texts()] == [
        "ND: consolidation", "ND: induction", "R/R: consolidation", "R/R: re-induction",
        "steps withheld (dotted)",
    ]  # fmt: skip


def _plot_height(data: dict[str, object]) -> tuple[float, float]:
    """The plot's height and the figure's, in inches."""
    fig = MplFigure(figsize=(7.0, 5.0))
    FigureCanvasAgg(fig)
    _curves(fig, data)
    height = float(fig.get_size_inches()[1])
    return fig.axes[0].get_position().height * height, height


def test_the_plot_keeps_its_size_the_figure_grows_by_the_legend_rows():
    data = _data()
    assert legend_grid([c["name"] for c in data["curves"]] + ["steps withheld (dotted)"], 6.0)[
        1
    ] == 2  # fmt: skip
    two_rows = _plot_height(data)
    data["curves"] = data["curves"][2:3]  # one flat curve: one key, one row
    one_row = _plot_height(data)
    assert two_rows[0] == pytest.approx(one_row[0], rel=1e-9)
    assert two_rows[1] - one_row[1] == pytest.approx(1.5 * 8.0 / 72.0, rel=1e-9)
