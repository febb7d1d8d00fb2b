"""Pathway figures: every therapy (combinations too) in its own colour; captions say what is drawn.

Pathways of the seed 001 example (emr CDM, 326 BLIN; issue #20 review), published counts of
the whole group: two combinations, blinatumomab+TKI and chemotherapy+TKI, were both drawn in
the one grey of every combination.
"""

from __future__ import annotations

import re

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.figures import svg_figure, therapy_colours
from allrwe.report.labels import relabel_section
from allrwe.report.model import Figure
from allrwe.report.sections.pathways import pathway_therapies, pathways_section
from allrwe.results import make_records
from allrwe.spec import PatternsSpec

#: published pathways of BLIN in the seed 001 example
SEED001_BLIN = {
    "blinatumomab": 95,
    "blinatumomab-blinatumomab+tki-chemotherapy+tki-tki": 6,
    "blinatumomab-blinatumomab+tki-tki": 24,
    "blinatumomab-blinatumomab+tki-tki-hsct": 40,
    "blinatumomab-chemotherapy": 21,
    "blinatumomab-chemotherapy-hsct": 13,
    "blinatumomab-hsct": 106,
}
_GROUPS = {"BLIN": ["blinatumomab"]}
#: the default therapy classes of a study spec (``patterns.therapy_classes``)
_CLASSES = PatternsSpec().therapy_classes


def pathway_records(paths: dict[str, int], group: str = "BLIN") -> pd.DataFrame:
    """Count and percentage records of ``paths`` for the whole group."""
    total = sum(paths.values())
    return make_records(
        analysis="pathways", group=group, variable="pathway",
        variable_level=[p for p in paths for _ in range(2)],
        estimate_name=["count", "percentage"] * len(paths),
        value=[v for n in paths.values() for v in (n, 100 * n / total)],
    )  # fmt: skip


def _section(keep_index: bool = True):
    records = pathway_records(SEED001_BLIN)
    view = ResultView(records)
    colours = therapy_colours(_GROUPS, _CLASSES, pathway_therapies(view.frame("pathways")))
    section = pathways_section(Context(view, ["BLIN"], 5, colours), keep_index=keep_index)
    assert section is not None
    return relabel_section(section)


def _figure(section, chart: str) -> Figure:
    return next(b for b in section.blocks if isinstance(b, Figure) and b.chart == chart)


def test_each_combination_has_a_colour_of_its_own():
    colours = therapy_colours(
        _GROUPS, _CLASSES, ["blinatumomab+tki", "chemotherapy+tki", "inotuzumab+tki"]
    )
    assert len(set(colours.values())) == len(colours) == 9
    # the classes keep their colours: the combinations take the next free ones
    assert colours["blinatumomab"] == "#0072B2"
    assert colours["chemotherapy"] == "#D55E00"
    assert colours["blinatumomab+tki"] == "#882255"
    assert colours["chemotherapy+tki"] == "#999933"


def test_sunburst_and_swimmer_draw_the_two_combinations_in_two_colours():
    section = _section()
    for chart in ("sunburst", "swimmer", "sankey"):
        figure = _figure(section, chart)
        fills = figure.data["colours"]
        assert fills["blinatumomab+TKI"] != fills["chemotherapy+TKI"], chart
        svg = svg_figure(figure)
        drawn = set(re.findall(r'fill="(#[0-9A-F]{6})"', svg))
        assert {fills["blinatumomab+TKI"], fills["chemotherapy+TKI"]} <= drawn, chart


def test_the_sunburst_caption_says_its_inner_ring_is_the_index_treatment():
    caption = _figure(_section(), "sunburst").caption
    assert "inner ring is the first therapy after the index date" not in caption
    assert "the inner ring is the first step of each pathway, the therapy at the index date" in (
        caption
    )
    assert "kept in every pathway" in caption
    assert "unless the pathway rules dropped it" in _figure(_section(False), "sunburst").caption


def test_the_swimmer_plot_numbers_its_steps_from_the_index_date():
    figure = _figure(_section(), "swimmer")
    assert "step 1: the therapy at the index date" in figure.caption
    assert "after the index date" not in figure.caption
    assert ">Step of the pathway (1: at the index date)</text>" in svg_figure(figure)
