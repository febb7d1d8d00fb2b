"""Figures: inline SVG, axis ticks, group colours and deterministic static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from allrwe.report import svg_figure, write_static
from allrwe.report.figures import PALETTE, group_colour, nice_ticks
from allrwe.report.model import Figure

KM = Figure(
    "km-test",
    "test",
    "km",
    {
        "curves": [
            {
                "name": "A",
                "x": [0.0, 1.0, 2.5],
                "y": [1.0, 0.9, 0.7],
                "lower": [1.0, 0.8, None],
                "upper": [1.0, 0.95, 0.85],
                "cx": [2.5],
                "cy": [0.7],
            }
        ],
        "xlabel": "Months",
        "ylabel": "Survival probability",
        "risk": {"times": [0.0, 3.0], "rows": [{"name": "A", "values": ["40", "–"]}]},
        # every time a point (threshold 1): each drop is drawn at the earlier point's time
        "exact": True,
    },
)
BARS = Figure(
    "bars-test",
    "test",
    "bars",
    {
        "categories": ["1", "2", "3"],
        "series": [{"name": "A", "values": [60.0, None, 10.0]}],
        "xlabel": "Cycles",
        "ylabel": "Persons (%)",
    },
)


def test_km_svg_draws_steps_band_censoring_marks_and_aligned_risk_table():
    svg = svg_figure(KM)
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "<script" not in svg
    # one stepped curve: horizontal then vertical moves only (M, H, V)
    curve = re.search(r'<path d="(M[^"]*)" fill="none" stroke="#0072B2"', svg)
    assert curve is not None
    assert re.fullmatch(r"M[\d. ]+(H[\d.]+|V[\d.]+)+", curve.group(1))
    assert curve.group(1).count("V") == 2  # two drops: 1 -> 0.9 -> 0.7
    # the band stops where the lower limit is missing: over [0, 1) it has the limits of the
    # point at 1 (the values just before it), one rectangle closed where it started
    band = re.search(r'<polygon points="([^"]*)"', svg)
    assert band is not None
    corners = band.group(1).split()
    assert len(corners) == 6
    assert corners[0] == corners[-1]
    xs = {c.split(",")[0] for c in corners}
    assert xs == {corners[0].split(",")[0], corners[2].split(",")[0]}
    # one censoring tick
    assert svg.count("v8") == 1
    # x ticks at the times of the number-at-risk table, each with its count below
    tick_x = re.findall(r'<path d="M([\d.]+) [\d.]+v5"', svg)
    cells = {
        t: x
        for x, t in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+" font-size="10" '
            r'text-anchor="middle">([^<]*)</text>',
            svg,
        )
    }
    assert tick_x == [cells["40"], cells["–"]]
    assert "Number at risk (months)" in svg


def test_legend_lists_only_drawn_curves():
    data = dict(KM.data)
    data["curves"] = [
        *KM.data["curves"],
        {
            **KM.data["curves"][0],
            "name": "Empty",
            "x": [0.0],
            "y": [1.0],
            "lower": [1.0],
            "upper": [1.0],
            "cx": [],
            "cy": [],
        },
    ]
    svg = svg_figure(Figure("km-2", "t", "km", data))
    assert ">A</text>" in svg
    assert ">Empty</text>" not in svg


def test_suppressed_bar_is_drawn_hatched_not_blank():
    svg = svg_figure(BARS)
    assert svg.count('fill="url(#hatch-bars-test)"') == 2  # the bar and its legend key
    assert "suppressed (–)" in svg


def test_bar_legend_keys_only_series_with_a_published_bar():
    # the cycles figure of the 100k bench listed CAR-T (no published bar) in the static
    # legend in matplotlib's default blue, the colour of INO
    data = {
        **BARS.data,
        "series": [
            {"name": "A", "colour": "#0072B2", "values": [60.0, None, 10.0]},
            {"name": "Hidden", "colour": "#009E73", "values": [None, None, None]},
        ],
    }
    svg = svg_figure(Figure("bars-2", "t", "bars", data))
    assert ">A</text>" in svg
    assert ">Hidden</text>" not in svg
    assert "#009E73" not in svg  # no key and no bar in its colour
    assert svg.count("<title>suppressed</title>") == 4

    from allrwe.report.render import static

    fig = static.MplFigure(figsize=(7.0, 3.6))
    static._bars(fig, data)
    (ax,) = fig.axes
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert names == ["A", "suppressed (–)"]


def test_title_is_drawn():
    svg = svg_figure(Figure("km-t", "t", "km", {**KM.data, "title": "Overall survival"}))
    assert ">Overall survival</text>" in svg


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(23.0) == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    assert nice_ticks(1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.0) == [0.0, 1.0]


def test_a_group_keeps_its_colour_whichever_groups_are_drawn():
    groups = ["BLIN", "INO", "CAR-T"]
    assert group_colour(groups, "INO") == PALETTE[1]
    assert group_colour(groups, "CAR-T") == PALETTE[2]


def test_unknown_figure_kind_is_refused():
    with pytest.raises(ValueError, match="unknown figure kind 'pie'"):
        svg_figure(Figure("x", "x", "pie", {}))


@pytest.mark.parametrize("figure", [KM, BARS], ids=["km", "bars"])
def test_static_files_are_byte_identical_and_unstamped(figure, tmp_path):
    first = write_static(figure, tmp_path / "a")
    second = write_static(figure, tmp_path / "b")
    assert [p.name for p in first] == [f"{figure.id}.png", f"{figure.id}.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    png, svg = (p.read_bytes() for p in first)
    assert png.startswith(b"\x89PNG")
    assert b"Software" not in png
    assert b"<dc:date>" not in svg
    assert b"<dc:creator>" not in svg


HBARS = Figure(
    "hbars-test",
    "test",
    "hbars",
    {
        "items": [
            {"name": "A – B – C", "value": 40},
            {"name": "A – B", "value": 25},
            {"name": "a much longer pathway label", "value": 12},
        ],
        "xlabel": "Persons",
    },
)


def _saved_with_savefig(figure: Figure, folder: Path) -> list[bytes]:
    """The files as ``Figure.savefig`` writes them (layout in a draw of its own)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    from allrwe.report.render import static as _static

    folder.mkdir()
    with mpl.rc_context(_static._RC):
        height = 5.0 if figure.chart == "km" else 3.6
        if figure.chart == "hbars":
            height = max(2.0, 0.8 + 0.3 * len(figure.data["items"]))
        layout = None if figure.chart == "km" else "constrained"
        fig = MplFigure(figsize=(7.0, height), layout=layout)
        FigureCanvasAgg(fig)
        _static._DRAW[figure.chart](fig, figure.data)
        fig.savefig(folder / "f.png", dpi=_static.PNG_DPI, metadata={"Software": None})
        fig.savefig(folder / "f.svg", metadata={"Date": None, "Creator": None})
    return [(folder / "f.png").read_bytes(), (folder / "f.svg").read_bytes()]


@pytest.mark.parametrize("figure", [KM, BARS, HBARS], ids=["km", "bars", "hbars"])
def test_static_files_match_savefig_byte_for_byte(figure, tmp_path):
    written = write_static(figure, tmp_path / "ours")
    assert [p.read_bytes() for p in written] == _saved_with_savefig(figure, tmp_path / "savefig")


def test_sunburst_rings_are_prefixes_with_angles_proportional_to_persons():
    paths = [
        {"steps": ["blinatumomab"], "value": 30},
        {"steps": ["blinatumomab", "hsct"], "value": 10},
        {"steps": ["inotuzumab"], "value": 20},
    ]
    svg = svg_figure(Figure("sb", "t", "sunburst", {"paths": paths, "title": "Pathways"}))
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    # inner ring: blinatumomab (40 persons) then inotuzumab (20); outer: blinatumomab – hsct
    assert titles == ["blinatumomab: 40", "blinatumomab – hsct: 10", "inotuzumab: 20"]
    # blinatumomab spans 2/3 of the circle: a large arc (flag 1) on its outer edge
    first = re.search(r'<path d="([^"]*)"', svg)
    assert first is not None
    assert " 0 1 1 " in first.group(1)
    assert ">Pathways</text>" in svg


def test_sankey_is_titled_and_names_its_nodes_over_every_bar():
    data = {
        "title": "Treatment pathways (Sankey), BLIN",
        "nodes": ["1. blinatumomab", "2. HSCT", "2. blinatumomab+TKI", "3. Stopped"],
        "links": [
            {"source": 0, "target": 1, "value": 69},
            {"source": 0, "target": 2, "value": 51},
            {"source": 1, "target": 3, "value": 69},
            {"source": 2, "target": 3, "value": 51},
        ],
    }
    svg = svg_figure(Figure("sankey-blin", "t", "sankey", data))
    assert '<text x="20" y="18" font-size="14" text-anchor="start" font-weight="bold">' in svg
    assert ">Treatment pathways (Sankey), BLIN</text>" in svg
    # every bar is drawn before the first name, so no bar covers a name; the columns are
    # headed with their step, so a name leaves it out
    assert svg.rindex("<rect") < svg.index(">blinatumomab (120)</text>")
    assert ">Step 1</text>" in svg
    assert svg.count('paint-order="stroke" stroke="#fff"') == 4


def test_bar_keys_are_boxes_not_curve_lines():
    svg = svg_figure(BARS)
    assert '<line x1="64" y1="14" x2="88" y2="14" stroke="#0072B2" stroke-width="10"/>' in svg
    assert 'stroke-width="2.5"' not in svg
