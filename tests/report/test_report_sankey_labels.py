"""Sankey node labels never overlap; a node too small to label is named in hover and a table.

Published pathways of the seed 001 (BLIN) and seed 000 (INO, claims) examples (issue #20
review): "2. blinatumomab+TKI (70)" ran over "3. chemotherapy+TKI (6)", and "2. blinatumomab
(17)" over "3. blinatumomab (8)".
"""

from __future__ import annotations

import itertools
import re

import pytest
from test_report_pathway_colours import SEED001_BLIN, pathway_records

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.figures import svg_figure
from allrwe.report.labels import relabel_section
from allrwe.report.model import Details, Figure, Table
from allrwe.report.render.svg_base import _width
from allrwe.report.sections.pathways import pathways_section

SEED000_INO = {
    "inotuzumab": 109,
    "inotuzumab-blinatumomab": 17,
    "inotuzumab-chemotherapy": 31,
    "inotuzumab-chemotherapy-blinatumomab": 8,
    "inotuzumab-chemotherapy-hsct": 13,
    "inotuzumab-hsct": 65,
    "inotuzumab-inotuzumab+tki-tki": 45,
    "inotuzumab-inotuzumab+tki-tki-chemotherapy+tki": 9,
    "inotuzumab-inotuzumab+tki-tki-chemotherapy+tki-chemotherapy": 6,
    "inotuzumab-inotuzumab+tki-tki-hsct": 33,
}

_LABEL = re.compile(
    r'<text x="([\d.]+)" y="([\d.]+)" font-size="10" text-anchor="start" '
    r'paint-order="stroke"[^>]*>([^<]*)</text>'
)
_BAR = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)" width="12" height="([\d.]+)"')


def _section(paths: dict[str, int], group: str):
    view = ResultView(pathway_records(paths, group))
    section = pathways_section(Context(view, [group], 5))
    assert section is not None
    return relabel_section(section)


def _boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """Each label's box ``(x0, y0, x1, y1, text)``, 10 px text drawn from its baseline."""
    return [
        (float(x), float(y) - 10, float(x) + _width(t, 10), float(y) + 2, t)
        for x, y, t in _LABEL.findall(svg)
    ]


@pytest.mark.parametrize(("paths", "group"), [(SEED001_BLIN, "BLIN"), (SEED000_INO, "INO")])
def test_no_two_node_labels_overlap_and_none_runs_into_a_bar(paths, group):
    section = _section(paths, group)
    sankey = next(b for b in section.blocks if isinstance(b, Figure) and b.chart == "sankey")
    svg = svg_figure(sankey)
    boxes = _boxes(svg)
    assert len(boxes) >= 8
    for a, b in itertools.combinations(boxes, 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, (a[4], b[4])
    bars = [
        (float(x), float(y), float(x) + 12, float(y) + float(h)) for x, y, h in _BAR.findall(svg)
    ]
    for box, bar in itertools.product(boxes, bars):
        apart = box[2] <= bar[0] or bar[2] <= box[0] or box[3] <= bar[1] or bar[3] <= box[1]
        assert apart, box[4]


def test_the_reviewers_two_overlaps_are_gone():
    section = _section(SEED001_BLIN, "BLIN")
    svg = svg_figure(next(b for b in section.blocks if isinstance(b, Figure)))
    texts = [t for *_, t in _boxes(svg)]
    assert "2. blinatumomab+TKI (70)" not in texts
    assert texts[texts.index("blinatumomab+TKI") :][:2] == ["blinatumomab+TKI", "(70)"]


def test_every_node_is_named_in_its_hover_text_and_in_the_table_of_nodes():
    section = _section(SEED000_INO, "INO")
    sankey = next(b for b in section.blocks if isinstance(b, Figure) and b.chart == "sankey")
    svg = svg_figure(sankey)
    labelled = {t for *_, t in _boxes(svg)}
    assert "blinatumomab (8)" not in labelled  # step 3: too small to label
    assert "<title>step 3: blinatumomab, 8 persons</title>" in svg
    (details,) = (b for b in section.blocks if isinstance(b, Details))
    (table,) = details.blocks
    assert isinstance(table, Table)
    assert table.header == ("Step", "Therapy", "Persons")
    rows = [r.cells for r in table.rows]
    assert ("3", "blinatumomab", "8") in rows
    assert ("2", "inotuzumab+TKI", "93") in rows
    assert len(rows) == len(sankey.data["nodes"])
