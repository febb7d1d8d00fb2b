"""Seed 001's Table 2: response and endpoints by treatment setting, each column its own n."""

from __future__ import annotations

import math

import pandas as pd
from planted import DEMO_SPEC

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.sections.efficacy import efficacy_tables
from allrwe.results import make_records
from allrwe.spec import load_spec


def _stratum(level: str, n: int, median: float, rate: float) -> list[pd.DataFrame]:
    sn = "overall" if level == "overall" else "setting"
    keys = {"group": "INO", "strata_name": sn, "strata_level": level}
    return [
        make_records(analysis="baseline", **keys, variable="persons", variable_level="overall",
                     estimate_name="count", value=n),
        make_records(analysis="survival_summary", **keys, variable="os",
                     estimate_name=["n", "n_event", "median_months", "median_lower_months",
                                    "median_upper_months", "available", "median_followup_days",
                                    "followup_min_days", "followup_max_days"],
                     value=[n, n // 2, median, median - 2, math.nan, 1.0, 365.25, 30.4375,
                            730.5]),
        make_records(analysis="survival_landmark", **keys, variable="os",
                     variable_level="12 months", estimate_name=["survival", "lower", "upper"],
                     value=[rate, rate - 0.1, rate + 0.1]),
        make_records(analysis="response", **keys, variable="response",
                     estimate_name=["count", "denominator", "percentage", "lower", "upper",
                                    "available"],
                     value=[n // 2, n, 50.0, 40.0, 60.0, 1.0]),
    ]  # fmt: skip


def test_table_two_has_a_column_per_setting_headed_with_its_n():
    records = pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=90),
            *_stratum("overall", 90, 9.0, 0.45),
            *_stratum("ND", 30, 14.0, 0.6),
            *_stratum("R/R", 60, 7.5, 0.35),
        ],
        ignore_index=True,
    )  # fmt: skip
    spec = load_spec(DEMO_SPEC)
    (table,) = efficacy_tables(Context(ResultView(records), ["INO"], 5), spec)
    assert table.header == ("", "All (N = 90)", "ND (n = 30)", "R/R (n = 60)")
    rows = {r.cells[0]: r.cells[1:] for r in table.rows}
    assert rows["CR/CRh/CRi"] == ("45/90, 50.0% (40.0, 60.0)", "15/30, 50.0% (40.0, 60.0)",
                                  "30/60, 50.0% (40.0, 60.0)")  # fmt: skip
    assert rows["median, months (95% CI)"] == ("9.0 (7.0, NE)", "14.0 (12.0, NE)", "7.5 (5.5, NE)")
    assert rows["12-month rate, % (95% CI)"] == (
        "45.0% (35.0, 55.0)",
        "60.0% (50.0, 70.0)",
        "35.0% (25.0, 45.0)",
    )
    assert rows["median follow-up, months"] == ("12.0 (1–24)",) * 3


def test_twelve_month_rate_without_a_curve_point_is_withheld_not_ne():
    def landmark(level: str, survival: float, at_risk: int) -> pd.DataFrame:
        sn = "overall" if level == "overall" else "setting"
        return make_records(
            analysis="survival_landmark", group="INO", strata_name=sn, strata_level=level,
            variable="os", variable_level="12 months",
            estimate_name=["survival", "lower", "upper", "n_risk"],
            value=[survival, survival - 0.1, survival + 0.1, at_risk],
        )  # fmt: skip

    records = pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=90),
            *_stratum("overall", 90, 9.0, 0.45)[:2],
            *_stratum("ND", 30, 14.0, 0.6)[:2],
            *_stratum("R/R", 60, 7.5, 0.35)[:2],
            landmark("overall", 0.45, 40),
            landmark("ND", math.nan, 12),  # at risk, but no curve point at 12 months
            landmark("R/R", math.nan, 0),  # nobody followed to 12 months
        ],
        ignore_index=True,
    )  # fmt: skip
    (table,) = efficacy_tables(Context(ResultView(records), ["INO"], 5), load_spec(DEMO_SPEC))
    rows = {r.cells[0]: r.cells[1:] for r in table.rows}
    assert rows["12-month rate, % (95% CI)"] == ("45.0% (35.0, 55.0)", "–", "NE (NE, NE)")
    assert any("withheld (–)" in n for n in table.notes)


def test_treatment_settings_follow_their_setting_as_in_seed_001():
    def stratum(sn: str, level: str, n: int) -> list[pd.DataFrame]:
        keys = {"group": "INO", "strata_name": sn, "strata_level": level}
        return [
            make_records(analysis="baseline", **keys, variable="persons",
                         variable_level="overall", estimate_name="count", value=n),
            make_records(analysis="survival_summary", **keys, variable="os",
                         estimate_name=["n", "median_months", "available"],
                         value=[n, math.nan, 1.0]),
        ]  # fmt: skip

    x = "setting &&& treatment_setting"
    records = pd.concat(
        [
            *stratum("overall", "overall", 90),
            *stratum("setting", "ND", 30),
            *stratum("setting", "RR", 60),
            *stratum(x, "RR &&& re-induction", 45),
            *stratum(x, "ND &&& induction", 10),
            *stratum(x, "ND &&& consolidation", 20),
        ],
        ignore_index=True,
    )
    (table,) = efficacy_tables(Context(ResultView(records), ["INO"], 5), load_spec(DEMO_SPEC))
    assert table.header == (
        "", "All", "ND (n = 30)", "ND: induction (n = 10)", "ND: consolidation (n = 20)",
        "RR (n = 60)", "RR: re-induction (n = 45)",
    )  # fmt: skip


def test_a_rate_with_no_one_to_assess_reads_na_with_its_note():
    from allrwe.report._blocks import make_table
    from allrwe.report.model import Row
    from allrwe.report.sections.response import rate_cell

    keys = {"group": "BLIN", "strata_name": "setting &&& treatment_setting",
            "strata_level": "ND &&& consolidation", "variable": "response"}  # fmt: skip
    records = make_records(
        analysis="response", **keys,
        estimate_name=["count", "denominator", "percentage", "lower", "upper", "available"],
        value=[0, 0, math.nan, math.nan, math.nan, 1.0],
    )  # fmt: skip
    ctx = Context(ResultView(records), ["BLIN"], 5)
    cell = rate_cell(ctx, "BLIN", keys["strata_name"], keys["strata_level"], "response", "overall")
    assert cell == "NA"  # everyone in CR at the start: seed 001's NA, not "0/0, NE (NE, NE)"
    table = make_table(ctx, "t", "T", ("", "ND: consolidation"), [Row(("CR/CRh/CRi", cell))])
    assert table.notes == ("NA not applicable: no one to assess (denominator 0).",)


def test_table_two_has_twelve_month_rows_by_ph_status_within_each_setting():
    def landmark(sn: str, level: str, survival: float) -> pd.DataFrame:
        return make_records(
            analysis="survival_landmark", group="INO", strata_name=sn, strata_level=level,
            variable="os", variable_level="12 months",
            estimate_name=["survival", "lower", "upper", "n_risk"],
            value=[survival, survival - 0.1, survival + 0.1, 8],
        )  # fmt: skip

    rates = {
        ("ph_status", "Ph+"): 0.82,
        ("ph_status", "Ph-"): 0.41,
        ("ph_status &&& setting", "Ph+ &&& ND"): 0.93,
        ("ph_status &&& setting", "Ph- &&& ND"): 0.55,
        ("ph_status &&& setting", "Ph+ &&& R/R"): 0.71,
        ("ph_status &&& setting", "Ph- &&& R/R"): 0.33,
    }
    records = pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=90),
            *_stratum("overall", 90, 9.0, 0.45),
            *_stratum("ND", 30, 14.0, 0.6),
            *_stratum("R/R", 60, 7.5, 0.35),
            *(landmark(sn, sl, r) for (sn, sl), r in rates.items()),
        ],
        ignore_index=True,
    )  # fmt: skip
    (table,) = efficacy_tables(Context(ResultView(records), ["INO"], 5), load_spec(DEMO_SPEC))
    rows = {r.cells[0]: r for r in table.rows}

    def shown(rate: float) -> str:
        return f"{100 * rate:.1f}% ({100 * (rate - 0.1):.1f}, {100 * (rate + 0.1):.1f})"

    for ph in ("Ph+", "Ph-"):
        row = rows[f"12-month rate, {ph}"]
        expected = (
            shown(rates[("ph_status", ph)]),
            shown(rates[("ph_status &&& setting", f"{ph} &&& ND")]),
            shown(rates[("ph_status &&& setting", f"{ph} &&& R/R")]),
        )
        assert row.cells[1:] == expected
        assert row.indent == 2
    # the Ph rows follow the endpoint's 12-month rate, Ph+ before Ph-
    names = [r.cells[0] for r in table.rows]
    at = names.index("12-month rate, % (95% CI)")
    assert names[at + 1 : at + 3] == ["12-month rate, Ph+", "12-month rate, Ph-"]
