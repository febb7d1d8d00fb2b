"""Static figures: matplotlib PNG and SVG drawn from the plain data of a figure block.

Imported by :func:`allrwe.report.figures.write_static` only, so that building and rendering
the HTML report does not import matplotlib. matplotlib runs without pyplot, with a fixed SVG
hash salt, no date or software stamps, and the bundled DejaVu Sans font.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure as MplFigure

from allrwe.report.model import Figure
from allrwe.report.render.static_labels import fit_row_names
from allrwe.report.render.style import (
    PALETTE,
    WITHHELD_KEY,
    band_vertices,
    curve_pieces,
    curve_style,
    drawn_classes,
    has_withheld,
    nice_ticks,
    static_files,
    therapy_colour,
)

__all__ = ["write_files"]

_RC: dict[str, Any] = {
    "svg.hashsalt": "allrwe",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}


_DASHES = ("-", "--", ":", "-.")


def _steps(ax: Any, xs: Sequence[float], ys: Sequence[Any], **kw: Any) -> None:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True)]
    ax.step(
        [p[0] for p in pts], [math.nan if p[1] is None else p[1] for p in pts], where="post", **kw
    )


#: the connectors drawn where a curve's steps are withheld: round dots
_WITHHELD: dict[str, Any] = {
    "linestyle": (0, (0.05, 2.2)),
    "linewidth": 2.0,
    "dash_capstyle": "round",
}


def _pieces(ax: Any, c: Mapping[str, Any], exact: bool, colour: str, style: str) -> None:
    """Draw a curve as its known steps and dotted withheld stretches, with its band.

    See :func:`allrwe.report.render.style.curve_pieces` and
    :func:`~allrwe.report.render.style.band_vertices`, the rule the inline SVG follows too.
    """
    for block in band_vertices(c["x"], c["lower"], c["upper"], exact):
        ax.fill_between(
            [v[0] for v in block], [v[1] for v in block], [v[2] for v in block],
            color=colour, alpha=0.15, linewidth=0,
        )  # fmt: skip
    runs, connectors = curve_pieces(c["x"], c["y"], exact)
    xs: list[float] = []
    ys: list[float] = []
    for run in runs:
        for x, y, nxt in run:
            xs += [x, nxt]
            ys += [y, y]
        xs.append(math.nan)
        ys.append(math.nan)
    ax.plot(xs, ys, color=colour, linewidth=1.6, label=c["name"], linestyle=style)
    if connectors:
        dots_x = [v for x0, _, x1, _ in connectors for v in (x0, x1, math.nan)]
        dots_y = [v for _, y0, _, y1 in connectors for v in (y0, y1, math.nan)]
        ax.plot(dots_x, dots_y, color=colour, **_WITHHELD)


#: font size of a curve figure's legend, points; its rows are 1.5 lines apart, and it stands
#: this many font sizes above the plot
_LEGEND_SIZE, _LEGEND_GAP = 8.0, 0.8
#: margins of a curve figure without legend rows, inches: above the plot (title), below
_TOP_IN, _BOTTOM_IN = 0.6, 0.55


def legend_grid(names: Sequence[str], width_in: float) -> tuple[int, int]:
    """Return the ``(columns, rows)`` of a legend of ``names`` laid out in ``width_in`` inches.

    The legend of a curve figure stands above the plot, under its title, in as many columns
    as fit (each a key of 2 em, a gap of 0.8 em and the longest name at about 0.55 em a
    character of DejaVu Sans; 2 em between columns), so it covers no curve however many
    strata it names.

    Examples
    --------
    >>> legend_grid(["ND: consolidation", "ND: induction", "R/R: consolidation",
    ...              "R/R: re-induction", "steps withheld (dotted)"], 6.0)
    (3, 2)
    >>> legend_grid(["BLIN"], 6.0)
    (1, 1)
    """
    if not names:
        return 0, 0
    em = _LEGEND_SIZE / 72.0
    column = (2.0 + 0.8) * em + 0.55 * em * max(len(str(n)) for n in names)
    columns = max(1, min(len(names), int((width_in + 2.0 * em) // (column + 2.0 * em))))
    return columns, math.ceil(len(names) / columns)


def _curves(fig: MplFigure, data: Mapping[str, Any]) -> None:
    risk = data.get("risk") or {"times": [], "rows": []}
    rows = [r for r in risk["rows"] if any(v for v in r["values"])]
    curves = [c for c in data["curves"] if len(c["x"]) > 1]
    exact = bool(data.get("exact"))
    keys = [str(c["name"]) for c in curves] + (
        [WITHHELD_KEY] if has_withheld(curves, exact) else []
    )
    width, height = (float(v) for v in fig.get_size_inches())
    # from the plot's left edge to the figure's right one
    columns, lines = legend_grid(keys, width * (1.0 - fig.subplotpars.left) - 0.1)
    # the legend gets rows of its own above the plot, which keeps its size: the figure grows
    legend_in = (lines * 1.5 + _LEGEND_GAP) * _LEGEND_SIZE / 72.0 if lines else 0.0
    fig.set_size_inches(width, height + legend_in)
    fig.subplots_adjust(
        top=1.0 - (_TOP_IN + legend_in) / (height + legend_in),
        bottom=_BOTTOM_IN / (height + legend_in),
    )
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 0.6 + 0.35 * max(1, len(rows))], hspace=0.45)
    ax = fig.add_subplot(grid[0])
    colours: dict[str, str] = {}
    for i, c in enumerate(curves):
        colour, dash = curve_style(c, i)
        colours[str(c["name"])] = colour
        style = _DASHES[dash % len(_DASHES)]
        if exact or has_withheld([c]):
            _pieces(ax, c, exact, colour, style)
        else:  # flat throughout: drawn as before the withheld stretches were drawn apart
            lower = [math.nan if v is None else v for v in c["lower"]]
            upper = [math.nan if v is None else v for v in c["upper"]]
            ax.fill_between(
                c["x"], lower, upper, step="post", color=colour, alpha=0.15, linewidth=0
            )
            _steps(
                ax, c["x"], c["y"], color=colour, linewidth=1.6, label=c["name"], linestyle=style
            )
        if c["cx"]:
            ax.plot(c["cx"], c["cy"], linestyle="none", marker="|", color=colour, markersize=6)
    times = [float(t) for t in risk["times"]]
    xmax = max([*times, *(max(c["x"]) for c in curves)], default=1.0)
    ticks = times if len(times) >= 2 else nice_ticks(xmax)
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_xlim(0, max(xmax, ticks[-1]) * 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(data["ylabel"])
    ax.set_xlabel(data["xlabel"])
    if data.get("title"):
        pad = 6.0 + legend_in * 72.0  # points: the title stands above the legend's rows
        ax.set_title(str(data["title"]), loc="left", fontsize=11, fontweight="bold", pad=pad)
    if has_withheld(curves, exact):
        ax.plot([], [], color="#555", label=WITHHELD_KEY, **_WITHHELD)
    if curves:
        # above the plot, where it covers no curve (a stratified figure has up to 5 keys)
        ax.legend(
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=columns,
            fontsize=_LEGEND_SIZE,
            borderaxespad=_LEGEND_GAP,
            borderpad=0.0,
        )
    table = fig.add_subplot(grid[1], sharex=ax)
    table.set_axis_off()
    table.set_ylim(-0.5, max(1, len(rows)) - 0.5)
    table.set_title(
        f"Number at risk ({str(data['xlabel']).lower()})", loc="left", fontsize=8, x=-0.12
    )
    names = []
    for j, row in enumerate(rows):
        y = len(rows) - 1 - j
        names.append(
            table.text(
                -0.05,
                y,
                row["name"],
                transform=table.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=7,
                color=colours.get(str(row["name"]), PALETTE[j % len(PALETTE)]),
            )
        )
        for t, value in zip(times, row["values"], strict=True):
            table.text(t, y, value or "–", ha="center", va="center", fontsize=7)
    fit_row_names(fig, names)
    if data.get("footnote"):  # why a curve ends before its row (the caption, for a PNG alone)
        fig.text(0.01, 0.01, str(data["footnote"]), fontsize=6, va="bottom", wrap=True)


def _bars(fig: MplFigure, data: Mapping[str, Any]) -> None:
    ax = fig.add_subplot()
    cats = list(data["categories"])
    series = list(data["series"])
    width = 0.8 / max(1, len(series))
    values = [v for s in series for v in s["values"] if v is not None]
    stub = 0.04 * max(values, default=1.0)
    for i, s in enumerate(series):
        colour, _ = curve_style(s, i)
        xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(cats))]
        shown = [(x, v) for x, v in zip(xs, s["values"], strict=True) if v is not None]
        hidden = [x for x, v in zip(xs, s["values"], strict=True) if v is None]
        # a key for each series that draws a bar of its colour (as the inline SVG): an
        # empty bar set's key would take matplotlib's default colour
        label = s["name"] if shown else "_nolegend_"
        ax.bar([p[0] for p in shown], [p[1] for p in shown], width=width, color=colour, label=label)
        if hidden:
            ax.bar(
                hidden,
                [stub] * len(hidden),
                width=width,
                color="white",
                edgecolor="#888",
                hatch="///",
                linewidth=0.6,
            )
            for x in hidden:
                ax.text(x, stub * 1.3, "–", ha="center", va="bottom", fontsize=8)
    if any(v is None for s in series for v in s["values"]):
        ax.bar([0], [0], color="white", edgecolor="#888", hatch="///", label="suppressed (–)")
    ax.set_xticks(range(len(cats)), cats)
    ax.set_xlabel(data["xlabel"])
    ax.set_ylabel(data["ylabel"])
    if data.get("title"):
        ax.set_title(str(data["title"]), loc="left", fontsize=11, fontweight="bold")
    ax.legend(frameon=False)


def _hbars(fig: MplFigure, data: Mapping[str, Any]) -> None:
    ax = fig.add_subplot()
    items = list(data["items"])[::-1]
    ax.barh(range(len(items)), [i["value"] for i in items], color=data.get("colour", PALETTE[0]))
    ax.set_yticks(range(len(items)), [i["name"] for i in items], fontsize=7)
    ax.set_xlabel(data["xlabel"])
    if data.get("title"):
        ax.set_title(str(data["title"]), loc="left", fontsize=11, fontweight="bold")


def _stacked(fig: MplFigure, data: Mapping[str, Any]) -> None:
    """Panels side by side of 100 % stacked bars; see ``allrwe.report.render.svg._stacked``."""
    classes = list(data["classes"])
    colours = data.get("colours")
    fills = [
        therapy_colour(str(c), colours) if colours is not None else PALETTE[i % len(PALETTE)]
        for i, c in enumerate(classes)
    ]
    panels = list(data["panels"])
    drawn = set(drawn_classes(panels, len(classes)))  # a legend names only what is drawn
    axes = fig.subplots(1, max(1, len(panels)), sharey=True, squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        bars = list(panel["bars"])
        xs = range(len(bars))
        level = [0.0] * len(bars)
        for i, c in enumerate(classes):
            heights = [
                (b["values"][i] or 0.0) if any(v is not None for v in b["values"]) else 0.0
                for b in bars
            ]
            key = str(c) if i in drawn else "_nolegend_"
            ax.bar(xs, heights, bottom=level, color=fills[i], label=key, width=0.7)
            level = [a + h for a, h in zip(level, heights, strict=True)]
        # as in the inline SVG: the suppressed classes of a bar are one hatched part on top
        rest = [
            (100.0 - lv) if any(v is None for v in b["values"]) and lv < 99.95 else 0.0
            for b, lv in zip(bars, level, strict=True)
        ]
        if any(rest):
            ax.bar(xs, rest, bottom=level, color="white", edgecolor="#888", hatch="///",
                   linewidth=0.6, width=0.7, label="suppressed (–)")  # fmt: skip
        for x, lv, r in zip(xs, level, rest, strict=True):
            if lv == 0:  # no published part: marked – (over its hatching, if any)
                ax.text(x, r + 1, "–", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(xs), [str(b["name"]) for b in bars], fontsize=7)
        sections = list(dict.fromkeys(str(b.get("section", "")) for b in bars))
        ax.set_xlabel("  |  ".join(s for s in sections if s), fontsize=8)
        ax.set_title(str(panel["title"]), fontsize=10, fontweight="bold", pad=12)
        ax.set_ylim(0, 100)
    axes[0].set_ylabel(data["ylabel"])
    if data.get("title"):
        fig.suptitle(str(data["title"]), x=0.01, ha="left", fontsize=11, fontweight="bold")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=4, frameon=False, fontsize=7)


_DRAW = {"km": _curves, "cif": _curves, "bars": _bars, "hbars": _hbars, "stacked": _stacked}


#: resolution of the PNG files
PNG_DPI = 300.0


def _print_files(fig: MplFigure, canvas: FigureCanvasAgg, png: Path, svg: Path) -> None:
    """Print a drawn figure as PNG (at :data:`PNG_DPI`), then as SVG.

    ``Figure.savefig`` runs a constrained layout in a first draw with rendering switched off,
    then draws again without layout. Printing through the canvases runs the same layout, with
    the same renderer, at the start of the one draw that renders, so each file costs one
    draw. The layouts run in the same order (PNG, then SVG) from the same state, and the bytes
    are those of ``savefig`` (which would also read the ``savefig.*`` settings; the files
    here do not depend on them).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The drawn figure.
    canvas : FigureCanvasAgg
        Its Agg canvas.
    png, svg : pathlib.Path
        The files to write.
    """
    dpi = fig.dpi
    fig.dpi = PNG_DPI
    try:
        canvas.print_png(png, metadata={"Software": None})
    finally:
        fig.dpi = dpi
    FigureCanvasSVG(fig).print_svg(svg, metadata={"Date": None, "Creator": None})


def write_files(figure: Figure, folder: Path) -> list[Path]:
    """Draw ``figure`` and write its two files; see :func:`allrwe.report.figures.write_static`.

    Raises
    ------
    ValueError
        If the kind has no static rendering.
    """
    png, svg = static_files(figure, folder)
    draw = _DRAW[figure.chart]
    folder.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(_RC):  # type: ignore[arg-type]
        height = 5.0 if figure.chart in ("km", "cif") else 3.6
        if figure.chart == "hbars":
            height = max(2.0, 0.8 + 0.3 * len(figure.data["items"]))
        fig = MplFigure(
            figsize=(7.0, height),
            layout="constrained" if figure.chart != "km" and figure.chart != "cif" else None,
        )
        canvas = FigureCanvasAgg(fig)
        draw(fig, figure.data)
        _print_files(fig, canvas, png, svg)
    return [png, svg]
