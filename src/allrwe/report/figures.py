"""Figures: Plotly specifications for the HTML report, matplotlib PNG and SVG for manuscripts.

Both are drawn from the plain data of :class:`~allrwe.report.model.Figure` blocks, which hold
published values only. The bytes are deterministic: Plotly specifications are plain JSON with
rounded numbers and fixed element ids; matplotlib runs without pyplot, with a fixed SVG hash
salt, no date or software stamps, and the bundled DejaVu Sans font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from allrwe.report.model import Figure

__all__ = ["PALETTE", "plotly_spec", "write_static"]

#: colours of the series (colour-blind-safe, Okabe–Ito)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_BANDS = (
    "rgba(0,114,178,0.15)",
    "rgba(213,94,0,0.15)",
    "rgba(0,158,115,0.15)",
    "rgba(204,121,167,0.15)",
    "rgba(230,159,0,0.15)",
    "rgba(86,180,233,0.15)",
    "rgba(0,0,0,0.10)",
)
_FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
_RC: dict[str, Any] = {
    "svg.hashsalt": "allrwe",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}


def _r(value: Any, digits: int = 6) -> Any:
    """Round a number for JSON (None for NaN); leave other values alone."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, digits)
    if isinstance(value, list | tuple):
        return [_r(v, digits) for v in value]
    return value


def _layout(xlabel: str, ylabel: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": _FONT, "size": 12},
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {
            "title": {"text": xlabel},
            "showline": True,
            "linecolor": "#444",
            "ticks": "outside",
            "zeroline": False,
        },
        "yaxis": {
            "title": {"text": ylabel},
            "showline": True,
            "linecolor": "#444",
            "ticks": "outside",
            "zeroline": False,
            "gridcolor": "#eeeeee",
        },
        "legend": {"orientation": "h", "y": -0.2},
        "height": 420,
    }
    layout.update(extra)
    return layout


def _curve_traces(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    traces: list[dict[str, Any]] = []
    for i, c in enumerate(data["curves"]):
        colour, band = PALETTE[i % len(PALETTE)], _BANDS[i % len(_BANDS)]
        x = _r(list(c["x"]))
        common = {
            "x": x,
            "mode": "lines",
            "line": {"shape": "hv"},
            "hoverinfo": "skip",
            "showlegend": False,
            "legendgroup": c["name"],
        }
        traces.append(
            {
                **common,
                "type": "scatter",
                "y": _r(list(c["upper"])),
                "line": {"shape": "hv", "width": 0},
            }
        )
        traces.append(
            {
                **common,
                "type": "scatter",
                "y": _r(list(c["lower"])),
                "fill": "tonexty",
                "fillcolor": band,
                "line": {"shape": "hv", "width": 0},
            }
        )
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": _r(list(c["y"])),
                "mode": "lines",
                "name": c["name"],
                "legendgroup": c["name"],
                "line": {"shape": "hv", "color": colour, "width": 2},
                "hovertemplate": "%{x:.1f} months: %{y:.3f}<extra>" + c["name"] + "</extra>",
            }
        )
        if c["cx"]:
            traces.append(
                {
                    "type": "scatter",
                    "x": _r(list(c["cx"])),
                    "y": _r(list(c["cy"])),
                    "mode": "markers",
                    "showlegend": False,
                    "hoverinfo": "skip",
                    "legendgroup": c["name"],
                    "marker": {
                        "symbol": "line-ns-open",
                        "size": 7,
                        "color": colour,
                        "line": {"width": 1.5, "color": colour},
                    },
                }
            )
    return traces


def plotly_spec(figure: Figure) -> dict[str, Any]:
    """Return the Plotly specification (``data``, ``layout``) of a figure as plain data.

    Parameters
    ----------
    figure : Figure
        A figure block of kind ``km``, ``cif``, ``bars``, ``hbars`` or ``sankey``.

    Returns
    -------
    dict
        JSON-able ``{"data": [...], "layout": {...}}``.
    """
    data = figure.data
    if figure.chart in ("km", "cif"):
        layout = _layout(
            data["xlabel"],
            data["ylabel"],
            yaxis={
                "title": {"text": data["ylabel"]},
                "range": [0, 1.02],
                "showline": True,
                "linecolor": "#444",
                "ticks": "outside",
                "gridcolor": "#eeeeee",
            },
        )
        return {"data": _curve_traces(data), "layout": layout}
    if figure.chart == "bars":
        traces = [
            {
                "type": "bar",
                "name": s["name"],
                "x": list(data["categories"]),
                "y": _r(list(s["values"])),
                "marker": {"color": PALETTE[i % len(PALETTE)]},
            }
            for i, s in enumerate(data["series"])
        ]
        return {"data": traces, "layout": _layout(data["xlabel"], data["ylabel"], barmode="group")}
    if figure.chart == "hbars":
        items = list(data["items"])[::-1]
        trace = {
            "type": "bar",
            "orientation": "h",
            "y": [i["name"] for i in items],
            "x": [i["value"] for i in items],
            "marker": {"color": PALETTE[0]},
        }
        layout = _layout(data["xlabel"], "", height=max(220, 40 + 28 * len(items)))
        layout["margin"] = {"l": 260, "r": 20, "t": 10, "b": 50}
        return {"data": [trace], "layout": layout}
    if figure.chart == "sankey":
        trace = {
            "type": "sankey",
            "arrangement": "fixed",
            "node": {
                "label": list(data["nodes"]),
                "pad": 14,
                "thickness": 14,
                "color": [PALETTE[i % len(PALETTE)] for i in range(len(data["nodes"]))],
            },
            "link": {
                "source": [lk["source"] for lk in data["links"]],
                "target": [lk["target"] for lk in data["links"]],
                "value": [lk["value"] for lk in data["links"]],
                "color": "rgba(120,120,120,0.25)",
            },
        }
        return {
            "data": [trace],
            "layout": {
                "font": {"family": _FONT, "size": 11},
                "height": 460,
                "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            },
        }
    raise ValueError(f"unknown figure kind {figure.chart!r}")


# ------------------------------------------------------------------ static


def _steps(ax: Any, xs: Sequence[float], ys: Sequence[Any], **kw: Any) -> None:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True)]
    ax.step(
        [p[0] for p in pts], [math.nan if p[1] is None else p[1] for p in pts], where="post", **kw
    )


def _curves(fig: MplFigure, data: Mapping[str, Any]) -> None:
    risk = data.get("risk") or {"times": [], "rows": []}
    rows = risk["rows"]
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.6 + 0.35 * max(1, len(rows))], hspace=0.35)
    ax = fig.add_subplot(grid[0])
    for i, c in enumerate(data["curves"]):
        colour = PALETTE[i % len(PALETTE)]
        lower = [math.nan if v is None else v for v in c["lower"]]
        upper = [math.nan if v is None else v for v in c["upper"]]
        ax.fill_between(c["x"], lower, upper, step="post", color=colour, alpha=0.15, linewidth=0)
        _steps(ax, c["x"], c["y"], color=colour, linewidth=1.6, label=c["name"])
        if c["cx"]:
            ax.plot(c["cx"], c["cy"], linestyle="none", marker="|", color=colour, markersize=6)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_ylabel(data["ylabel"])
    ax.set_xlabel(data["xlabel"])
    ax.legend(frameon=False, loc="best")
    table = fig.add_subplot(grid[1], sharex=ax)
    table.set_axis_off()
    table.set_ylim(-0.5, max(1, len(rows)) - 0.5)
    table.set_title("Number at risk", loc="left", fontsize=8)
    for j, row in enumerate(rows):
        y = len(rows) - 1 - j
        table.text(
            -0.04,
            y,
            row["name"],
            transform=table.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=7,
            color=PALETTE[j % len(PALETTE)],
        )
        for t, value in zip(risk["times"], row["values"], strict=True):
            if t <= ax.get_xlim()[1]:
                table.text(t, y, value, ha="center", va="center", fontsize=7)


def _bars(fig: MplFigure, data: Mapping[str, Any]) -> None:
    ax = fig.add_subplot()
    cats = list(data["categories"])
    series = list(data["series"])
    width = 0.8 / max(1, len(series))
    for i, s in enumerate(series):
        xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(cats))]
        ys = [0.0 if v is None else v for v in s["values"]]
        ax.bar(xs, ys, width=width, color=PALETTE[i % len(PALETTE)], label=s["name"])
    ax.set_xticks(range(len(cats)), cats)
    ax.set_xlabel(data["xlabel"])
    ax.set_ylabel(data["ylabel"])
    if len(series) > 1:
        ax.legend(frameon=False)


def _hbars(fig: MplFigure, data: Mapping[str, Any]) -> None:
    ax = fig.add_subplot()
    items = list(data["items"])[::-1]
    ax.barh(range(len(items)), [i["value"] for i in items], color=PALETTE[0])
    ax.set_yticks(range(len(items)), [i["name"] for i in items], fontsize=7)
    ax.set_xlabel(data["xlabel"])


_DRAW = {"km": _curves, "cif": _curves, "bars": _bars, "hbars": _hbars}


def write_static(figure: Figure, folder: Path) -> list[Path]:
    """Write a static figure as ``<id>.png`` (150 dpi) and ``<id>.svg``.

    Parameters
    ----------
    figure : Figure
        A figure block of kind ``km``, ``cif``, ``bars`` or ``hbars``.
    folder : pathlib.Path
        Where to write (created).

    Returns
    -------
    list of pathlib.Path
        The two files written.
    """
    draw = _DRAW.get(figure.chart)
    if draw is None:
        raise ValueError(f"no static rendering for figure kind {figure.chart!r}")
    folder.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        height = 5.0 if figure.chart in ("km", "cif") else 3.6
        if figure.chart == "hbars":
            height = max(2.0, 0.8 + 0.3 * len(figure.data["items"]))
        fig = MplFigure(
            figsize=(7.0, height),
            layout="constrained" if figure.chart != "km" and figure.chart != "cif" else None,
        )
        FigureCanvasAgg(fig)
        draw(fig, figure.data)
        png, svg = folder / f"{figure.id}.png", folder / f"{figure.id}.svg"
        fig.savefig(png, dpi=150, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]
