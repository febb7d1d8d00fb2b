"""Figures: Plotly specifications for the HTML report, matplotlib PNG and SVG for manuscripts.

Both are drawn from the plain data of :class:`~allrwe.report.model.Figure` blocks, which hold
published values only. The bytes are deterministic: Plotly specifications are plain JSON with
rounded numbers and fixed element ids; matplotlib runs without pyplot, with a fixed SVG hash
salt, no date or software stamps, and the bundled DejaVu Sans font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allrwe.report.model import Figure

__all__ = ["PALETTE", "STATIC_CHARTS", "plotly_spec", "static_files", "write_static"]

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

#: figure kinds with a static rendering (PNG and SVG)
STATIC_CHARTS = ("km", "cif", "bars", "hbars")


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
        The two files written (see :func:`static_files`).

    Raises
    ------
    ValueError
        If the kind has no static rendering.
    """
    # matplotlib is imported here, on the one path that draws with it: the HTML report and
    # the Plotly specifications do not need it.
    from allrwe.report._static import write_files

    return write_files(figure, folder)
