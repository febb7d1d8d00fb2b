"""Seed 001 rows of the report: patients in CR at the start, response beside hazard ratios."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context, slug
from allrwe.report._view import ResultView
from allrwe.report.labels import relabel_text
from allrwe.report.render.svg import svg_figure
from allrwe.report.sections.response import IN_CR_LABEL, _rate_table
from allrwe.report.sections.survival import forest_figure
from allrwe.results import make_records
from allrwe.spec import spec_from_text

SPEC = spec_from_text(
    "name: t\nindex_groups: {BLIN: [blinatumomab]}\n"
    "study_period: {start: 2021-01-01, end: 2022-12-31}\n"
)


def _rec(analysis: str, sn: str, sl: str, variable: str, level: str, est: str, value: float,
         hidden: bool = False) -> pd.DataFrame:  # fmt: skip
    rec = make_records(
        analysis=analysis, group="BLIN", strata_name=sn, strata_level=sl, variable=variable,
        variable_level=level, estimate_name=est, value=value,
    )  # fmt: skip
    rec["suppressed"] = hidden
    return rec


def _rate(sn: str, sl: str, variable: str, n: float, d: float, hidden: bool = False) -> list:
    pct = 100 * n / d
    return [
        _rec("response", sn, sl, variable, "overall", e, v, hidden)
        for e, v in (("available", 1.0), ("count", n), ("denominator", d), ("percentage", pct),
                     ("lower", pct - 10), ("upper", pct + 10))
    ]  # fmt: skip


def test_patients_in_cr_at_the_start_head_the_response_table():
    parts = _rate("overall", "overall", "in_cr_at_index", 56, 104)
    parts += _rate("overall", "overall", "response", 30, 48)
    ctx = Context(ResultView(pd.concat(parts, ignore_index=True)), ["BLIN"], 5)
    table = _rate_table(ctx, SPEC, "overall", "overall", "t", "Response")
    first, second = table.rows[0], table.rows[1]
    assert first.cells[0] == IN_CR_LABEL
    assert first.cells[1] == "56/104, 53.8% (43.8, 63.8)"
    assert second.cells[1].startswith("30/48, 62.5%")
    assert any("left out of the response denominators" in n for n in table.notes)


def _forest_ctx(rates: list) -> Context:
    cox = "cox Ph- vs Ph+"
    parts = [
        _rec("survival_test", "ph_status", "overall", "os", cox, e, v)
        for e, v in (("hr", 0.62), ("hr_lower", 0.15), ("hr_upper", 2.58))
    ]
    return Context(ResultView(pd.concat([*parts, *rates], ignore_index=True)), ["BLIN"], 5)


def test_forest_shows_the_response_rates_of_the_levels_compared():
    rates = _rate("ph_status", "Ph-", "response", 20, 40)
    rates += _rate("ph_status", "Ph+", "response", 3, 8, hidden=True)
    figure = forest_figure(_forest_ctx(rates), "os", "Overall survival", SPEC)
    assert figure is not None
    (item,) = figure.data["items"]
    assert item["text"] == "0.62 (0.15, 2.58)"
    assert item["rates"] == "50% vs –"  # Ph+ is suppressed
    svg = svg_figure(figure.id, figure.chart, figure.data)
    assert ">CR/CRh/CRi</text>" in svg
    assert ">50% vs –</text>" in svg


def test_forest_falls_back_to_the_rate_suppression_leaves_published():
    rates = _rate("ph_status", "Ph-", "response", 20, 40, hidden=True)
    rates += _rate("ph_status", "Ph+", "response", 3, 8, hidden=True)
    rates += _rate("ph_status", "Ph-", "response_within_n", 18, 40)
    rates += _rate("ph_status", "Ph+", "response_within_n", 6, 8)
    figure = forest_figure(_forest_ctx(rates), "os", "Overall survival", SPEC)
    assert figure is not None
    assert figure.data["items"][0]["rates"] == "45% vs 75%"
    assert figure.data["rates_header"] == "CR/CRh/CRi ≤2 cycles"
    assert "CR/CRh/CRi rates within 2 cycles" in figure.caption


def test_crossed_strata_read_as_a_cross():
    assert relabel_text("Ph status &&& treatment_setting = Ph+ &&& consolidation") == (
        "Ph status × treatment setting = Ph+ × consolidation"
    )


def test_crossed_levels_with_signs_get_distinct_ids():
    # "Ph+ × consolidation" and "Ph- × consolidation" once shared an id, and a table number
    assert slug("Ph+ &&& consolidation") == "ph-pos-consolidation"
    assert slug("Ph- &&& consolidation") == "ph-neg-consolidation"
    assert slug("15-28") == "15-28"


def test_mrd_rates_name_their_threshold_and_strata_their_level():
    from allrwe.report.model import Details, Table
    from allrwe.report.sections.response import response_section

    parts = _rate("overall", "overall", "mrd_negative", 140, 155)
    parts += _rate("age_band", ">=55", "mrd_negative", 9, 11)
    ctx = Context(ResultView(pd.concat(parts, ignore_index=True)), ["BLIN"], 5)
    section = response_section(ctx, SPEC)
    table = section.blocks[0]
    assert isinstance(table, Table)
    # seed 001: "MRD negativity (< 0.01%)"; the spec's threshold is 0.01 %
    assert SPEC.outcomes.mrd_threshold_pct == 0.01
    assert table.rows[0].cells[0] == "MRD <0.01%, any time in the period"
    assert table.rows[0].cells[1].startswith("140/155, 90.3%")
    (details,) = (b for b in section.blocks if isinstance(b, Details))
    assert [t.caption for t in details.blocks] == ["Response by age band: ≥55"]
