"""The report's sections, built from suppressed records only."""

from __future__ import annotations

import pandas as pd
import pytest
from planted import CURVE_AT_RISK, CURVE_DAYS, MIN_CELL_COUNT

from allrwe.analyses.survival import DAYS_PER_MONTH
from allrwe.errors import DisclosureError
from allrwe.report import SECTION_IDS, build_report
from allrwe.report._view import level_sort_key
from allrwe.report.model import Figure, Table, Text


def _blocks(section, kind):
    out = []
    for b in section.blocks:
        if isinstance(b, kind):
            out.append(b)
        for inner in getattr(b, "blocks", ()):
            if isinstance(inner, kind):
                out.append(inner)
    return out


def _section(doc, sid):
    return next(s for _, s in doc.walk() if s.id == sid)


def _row(table: Table, label: str) -> tuple[str, ...]:
    return next(r.cells for r in table.rows if r.cells[0] == label)


def test_outline_snapshot(results, spec, meta):
    doc = build_report(results, spec, meta)
    assert [s.id for s in doc.sections] == list(SECTION_IDS)
    assert doc.outline() == [
        (1, "attrition", "Cohort attrition"),
        (1, "baseline", "Baseline characteristics"),
        (1, "patterns", "Treatment patterns"),
        (2, "patterns-cycles", "Cycles of the index treatment"),
        (2, "pathways", "Treatment pathways"),
        (1, "response", "Response"),
        (1, "survival", "Time-to-event outcomes"),
        (2, "km-os", "Overall survival"),
        (1, "cumulative-incidence", "Cumulative incidence"),
        (1, "safety", "Adverse events"),
        (1, "methods", "Methods"),
        (1, "notes", "Notes on the outputs"),
    ]


def test_unsuppressed_results_are_refused(raw, spec, meta):
    with pytest.raises(DisclosureError, match="suppressed results only"):
        build_report(raw, spec, meta)


def test_sections_without_data_say_not_available(results, spec, meta):
    doc = build_report(results, spec, meta)
    for sid, reason in [
        ("baseline", "no table in this test"),
        ("response", "bone-marrow blast"),
        ("safety", "Adverse events"),
    ]:
        section = _section(doc, sid)
        assert section.available is False
        texts = [p for t in _blocks(section, Text) for p in t.paragraphs]
        assert any("not available" in p and reason in p for p in texts), texts


def test_suppressed_cells_show_a_dash_and_the_footnote(results, spec, meta):
    doc = build_report(results, spec, meta)
    (table,) = _blocks(_section(doc, "patterns-cycles"), Table)
    assert table.header == ("Cycles", "BLIN (N = 400)")
    assert _row(table, "1") == ("1", "251 (62.8%)")
    assert _row(table, "2") == ("2", "–")  # complementary: 2 would give 3 away
    assert _row(table, "3") == ("3", "–")
    assert any(f"fewer than {MIN_CELL_COUNT} persons" in n for n in table.notes)


def test_attrition_shows_published_counts(results, spec, meta):
    doc = build_report(results, spec, meta)
    (table,) = _blocks(_section(doc, "attrition"), Table)
    first, second = (row.cells for row in table.rows[:2])
    assert first[:2] == ("1", "records of the index sets")
    assert first[3:] == ("0", "1200")
    assert second[:2] == ("2", "ALL diagnosis in [-365, 0] days")
    assert second[3:] == ("–", "400")
    # 437 before and 400 after the step would give the hidden 37 excluded away: not both shown
    assert "–" in (first[2], second[2])
    assert {first[2], second[2]} <= {"437", "400", "–"}


def test_pathways_figure_uses_published_pathways_only(results, spec, meta):
    doc = build_report(results, spec, meta)
    section = _section(doc, "pathways")
    sankey = next(f for f in _blocks(section, Figure) if f.chart == "sankey")
    assert sankey.data["nodes"] == ["1. blinatumomab", "2. Stopped"]
    assert sankey.data["links"] == [{"source": 0, "target": 1, "value": 300}]
    (table,) = (t for t in _blocks(section, Table) if t.id.startswith("table-pathways-"))
    assert [r.cells for r in table.rows] == [
        ("Blinatumomab", "300 (75.0%)"),
        ("None", "–"),
        ("Blinatumomab → HSCT", "–"),  # steps joined by arrows, keys relabelled
    ]


def test_curve_stops_where_the_number_at_risk_is_suppressed(results, spec, meta):
    doc = build_report(results, spec, meta)
    section = _section(doc, "km-os")
    figure = next(f for f in _blocks(section, Figure) if f.chart == "km")
    (curve,) = figure.data["curves"]
    first_small = next(
        d for d, n in zip(CURVE_DAYS, CURVE_AT_RISK, strict=True) if n < MIN_CELL_COUNT
    )
    visible = [d for d in CURVE_DAYS if d < first_small]
    assert curve["x"] == [0.0, *(pytest.approx(d / DAYS_PER_MONTH) for d in visible)]
    assert curve["y"][0] == 1.0
    assert curve["truncated"] == [True]
    risk = next(t for t in _blocks(section, Table) if t.id.startswith("risk-"))
    assert risk.header == ("Group", "0", "3", "6")
    assert risk.rows[0].cells == ("BLIN", "400", "300", "–")


def test_survival_summary_table(results, spec, meta):
    doc = build_report(results, spec, meta)
    summary = next(t for t in _blocks(_section(doc, "km-os"), Table) if t.id.startswith("summary"))
    assert summary.header == (
        "Group",
        "Persons",
        "Events",
        "Median, months (95% CI)",
        "6-month, % (95% CI)",
        "12-month, % (95% CI)",
        "Median follow-up, months",
    )
    assert summary.rows[0].cells == (
        "BLIN",
        "400",
        "188",
        "7.9 (6.1, NE)",
        "61.0% (52.0, 69.0)",
        "–",
        "NE",
    )
    assert any("NE not estimable" in n for n in summary.notes)


def test_methods_are_written_from_the_spec(results, spec, meta):
    doc = build_report(results, spec, meta)
    (text,) = _blocks(_section(doc, "methods"), Text)
    body = " ".join(text.paragraphs)
    for phrase in (
        "between 2018-01-01 and 2023-06-30",
        "log-log",
        "Brookmeyer and Crowley",
        "Greenwood",
        "Clopper–Pearson",
        "counts from 1 to 49 are hidden",
        "ALL diagnosis",
        "T-lineage ALL",
        "6 and 12 months",
    ):
        assert phrase in body, phrase


def test_title_block(results, spec, meta):
    assert meta.title == "allrwe demo: blinatumomab and inotuzumab ozogamicin in B-ALL"
    assert meta.data_source == "Planted test CDM"
    assert meta.run_date == "2024-05-06"
    assert meta.min_cell_count == MIN_CELL_COUNT
    assert len(meta.spec_hash) == 64


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([">=55", "unknown", "<35", "35 to <55"], ["<35", "35 to <55", ">=55", "unknown"]),
        (["10", "2", "1", "4+"], ["1", "2", "4+", "10"]),
        ([">28", "15-28", "<=14"], ["<=14", "15-28", ">28"]),
        (["no", "yes"], ["yes", "no"]),
        (["NR", "CRi", "CR", "CRh"], ["CR", "CRh", "CRi", "NR"]),
    ],
)
def test_levels_sort_in_reading_order(levels, expected):
    assert sorted(levels, key=level_sort_key) == expected


def test_curve_values_are_python_floats_with_none_for_nan():
    import numpy as np

    from allrwe.report.sections.survival import _listed

    values = _listed(np.array([0.5, np.nan, 1.0 / 3.0, 0.0]))
    assert values == [0.5, None, 1.0 / 3.0, 0.0]
    assert [type(v) for v in values] == [float, type(None), float, float]
    assert _listed(np.array([], dtype="float64")) == []


def test_table_one_rows_order_variables_and_levels_and_mark_display_text():
    import pandas as pd

    from allrwe.report.structure import _table_one_rows

    index = pd.MultiIndex.from_tuples(
        [
            ("overall", "overall", "Sex", "female"),
            ("overall", "overall", "Age at index, years", "n"),
            ("overall", "overall", "Age at index, years", "mean (SD)"),
            ("overall", "overall", "Sex", "male"),
            ("overall", "overall", "Sex", "unknown"),
            ("overall", "overall", "Number of patients", ""),
            ("overall", "overall", "Zeta score", ">=55"),
            ("overall", "overall", "Zeta score", "<35"),
        ],
        names=["strata_name", "strata_level", "variable", "level"],
    )
    wide = pd.DataFrame(
        [
            ["40 (44.4%)", "suppressed"],
            ["90", "–"],
            ["51.2 (9.0)", "–"],
            ["50 (55.6%)", "3 (suppressed%)"],
            ["0", "0"],
            ["90", "12"],
            ["7 (7.8%)", "1"],
            ["9 (10.0%)", "2"],
        ],
        index=index,
        columns=["A", "Overall"],
    )
    rows = [(r.cells, r.indent, r.strong) for r in _table_one_rows(wide)]
    assert rows == [
        (("Number of patients", "90", "12"), 0, True),
        (("Age at index, years", "", ""), 0, True),
        (("n", "90", "NE"), 1, False),
        (("mean (SD)", "51.2 (9.0)", "NE"), 1, False),
        (("Sex", "", ""), 0, True),
        (("male", "50 (55.6%)", "3 (–%)"), 1, False),
        (("female", "40 (44.4%)", "–"), 1, False),
        (("unknown", "0", "0"), 1, False),
        (("Zeta score", "", ""), 0, True),
        (("<35", "9 (10.0%)", "2"), 1, False),
        ((">=55", "7 (7.8%)", "1"), 1, False),
    ]


def test_a_column_without_any_estimate_is_left_out_of_table_one():
    from allrwe.report.model import Row
    from allrwe.report.structure import _without_empty_columns

    header = ["Characteristic", "BLIN", "Overall", "SMD"]
    rows = [Row(("Persons", "502", "502", "")), Row(("age", "45", "45", "NE"), indent=1)]
    kept_header, kept_rows = _without_empty_columns(header, rows)
    assert kept_header == ["Characteristic", "BLIN", "Overall"]
    assert kept_rows[1] == Row(("age", "45", "45"), indent=1)


def test_pathways_figure_reads_the_whole_group_not_its_strata(results, spec, meta):
    """Pathway records by sex (or age band, index year) and the pooled level stay out of the
    Sankey: the whole group's 300 persons on blinatumomab are drawn once, not summed over strata."""
    from allrwe.results.model import pooled_label

    rec = results.records
    overall = rec[(rec["analysis"] == "pathways") & (rec["group"] == "BLIN")]
    by_sex = overall.assign(strata_name="sex", strata_level="Female")
    pooled = overall[overall["variable_level"] == "blinatumomab"].assign(
        variable_level=pooled_label(MIN_CELL_COUNT)
    )
    extra = results.with_records(
        pd.concat([rec, by_sex, pooled], ignore_index=True), results.provenance
    )
    doc = build_report(extra, spec, meta)
    sankey = next(f for f in _blocks(_section(doc, "pathways"), Figure) if f.chart == "sankey")
    assert sankey.data["nodes"] == ["1. blinatumomab", "2. Stopped"]
    assert sankey.data["links"] == [{"source": 0, "target": 1, "value": 300}]
    assert [item["name"] for item in sankey.data["top"]] == ["blinatumomab"]
