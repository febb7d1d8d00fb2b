"""Issue 20 review: truthful curve captions, withheld landmark rates, one-group tables, CR/CRi."""

from __future__ import annotations

import math

import pandas as pd
from planted import DEMO_SPEC

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Details, Figure, Section, Table
from allrwe.report.sections.efficacy import efficacy_tables
from allrwe.report.sections.safety import safety_section
from allrwe.report.sections.survival import WITHHELD_NOTE, survival_section
from allrwe.report.structure import baseline_section
from allrwe.results import make_records
from allrwe.spec import load_spec

SPEC = load_spec(DEMO_SPEC)  # landmarks at 6 and 12 months
#: a published OS curve (CohortSurvival points) that ends with 35 at risk at day 468
DAYS = [97, 374, 432, 468]
AT_RISK = [51, 45, 40, 35]
EVENTS = [0, 6, 0, 0]
CENSORED = [0, 0, 5, 5]
SURVIVAL = [1.0, 0.882353, 0.882353, 0.882353]


def _curve(group: str = "BLIN") -> pd.DataFrame:
    parts = [
        make_records(
            analysis="survival_curve", group=group, variable="os", variable_level=str(day),
            estimate_name=["time_days", "n_risk", "n_event", "n_censor", "survival", "lower",
                           "upper"],
            value=[day, n, d, c, s, s - 0.1, min(1.0, s + 0.05)],
        )
        for day, n, d, c, s in zip(DAYS, AT_RISK, EVENTS, CENSORED, SURVIVAL, strict=True)
    ]  # fmt: skip
    # the number-at-risk table is published at its own times and goes on past the curve
    risk = make_records(
        analysis="survival_risk_table", group=group, variable="os",
        variable_level=[f"{m} months" for m in (0, 6, 12, 18, 24)], estimate_name="n_risk",
        value=[51, 48, 45, 31, 20],
    )  # fmt: skip
    return pd.concat([*parts, risk], ignore_index=True)


def _summary(sn: str, sl: str, n: int, twelve: float, at_risk: int) -> list[pd.DataFrame]:
    keys = {"group": "BLIN", "strata_name": sn, "strata_level": sl, "variable": "os"}
    return [
        make_records(analysis="survival_summary", **keys,
                     estimate_name=["n", "n_event", "median_months", "available"],
                     value=[n, n // 4, math.nan, 1.0]),
        make_records(analysis="survival_landmark", **keys,
                     variable_level=["6 months"] * 4 + ["12 months"] * 4,
                     estimate_name=["survival", "lower", "upper", "n_risk"] * 2,
                     value=[0.9, 0.8, 0.95, n - 5, twelve, twelve - 0.1, twelve + 0.1, at_risk]),
    ]  # fmt: skip


def _section(records: pd.DataFrame) -> Section:
    ctx = Context(ResultView(records), ["BLIN"], 5)
    (child,) = survival_section(ctx, SPEC).children
    return child


def test_caption_says_where_each_curve_ends_and_why():
    records = pd.concat([_curve(), *_summary("overall", "overall", 51, 0.88, 45)])
    section = _section(records)
    figure = next(b for b in section.blocks if isinstance(b, Figure))
    (curve,) = figure.data["curves"]
    # drawn to the last published point, day 468 = 15.4 months, no further
    assert curve["x"][-1] == 468 / 30.4375
    assert curve["truncated"] == [False]
    assert "BLIN at 15.4 months (35 at risk)" in figure.caption
    assert "fewer than 5 persons remain" not in figure.caption
    assert "deaths" not in figure.caption  # the rule holds for any event
    assert "events and the censorings since the previous point are each 0 or at least 5" in (
        figure.caption
    )
    assert "and so are those after the last point" in figure.caption
    # the number-at-risk table goes on past the curve, as the caption says
    assert figure.data["risk"]["times"] == [0.0, 6.0, 12.0, 18.0, 24.0]
    assert figure.data["risk"]["rows"][0]["values"] == ["51", "48", "45", "31", "20"]


def test_caption_names_a_curve_stopped_before_a_suppressed_point():
    records = _curve()
    last = (records["variable_level"] == "468") & (records["analysis"] == "survival_curve")
    hide = last & records["estimate_name"].isin(["n_risk", "survival", "lower", "upper"])
    records.loc[hide, "value"] = math.nan
    records.loc[hide, "suppressed"] = True
    section = _section(pd.concat([records, *_summary("overall", "overall", 51, 0.88, 45)]))
    figure = next(b for b in section.blocks if isinstance(b, Figure))
    assert figure.data["curves"][0]["x"][-1] == 432 / 30.4375
    assert "BLIN at 14.2 months (40 at risk), the next point withheld" in figure.caption


def test_stratum_table_withholds_rates_with_persons_at_risk_as_table_two():
    records = pd.concat(
        [
            *_summary("overall", "overall", 90, 0.6, 40),
            *_summary("setting", "ND", 30, math.nan, 12),  # at risk, no curve point at 12
            *_summary("setting", "R/R", 60, math.nan, 0),  # nobody followed to 12 months
        ]
    )
    section = _section(records)
    (details,) = (b for b in section.blocks if isinstance(b, Details))
    strata = next(b for b in details.blocks if isinstance(b, Table) and b.id.startswith("strata"))
    rows = {r.cells[0]: r.cells for r in strata.rows}
    assert rows["BLIN, setting: ND"][5] == "–"
    assert rows["BLIN, setting: R/R"][5] == "NE (NE, NE)"
    assert rows["BLIN, setting: ND"][4] == "90.0% (80.0, 95.0)"
    assert WITHHELD_NOTE in strata.notes
    summary = next(b for b in section.blocks if isinstance(b, Table) and b.id.startswith("summ"))
    assert summary.rows[0].cells[5] == "60.0% (50.0, 70.0)"
    assert WITHHELD_NOTE not in summary.notes  # nothing withheld there
    # Table 2 reads the same cells through the same rule
    (table2,) = efficacy_tables(Context(ResultView(records), ["BLIN"], 5), SPEC)
    twelve = next(r for r in table2.rows if r.cells[0].startswith("12-month"))
    assert twelve.cells[1:] == ("60.0% (50.0, 70.0)", "–", "NE (NE, NE)")
    assert WITHHELD_NOTE in table2.notes


def test_suppressed_rates_are_not_explained_as_withheld():
    records = pd.concat(_summary("overall", "overall", 90, 0.6, 40))
    hide = records["analysis"] == "survival_landmark"
    records.loc[hide, "value"] = math.nan
    records.loc[hide, "suppressed"] = True
    summary = next(
        b for b in _section(records).blocks if isinstance(b, Table) and b.id.startswith("summ")
    )
    assert summary.rows[0].cells[4:6] == ("–", "–")
    assert WITHHELD_NOTE not in summary.notes


def _baseline(groups: list[str]) -> pd.DataFrame:
    parts = [
        make_records(analysis="cohort", group=g, variable="persons", estimate_name="count",
                     value=100)
        for g in groups
    ]  # fmt: skip
    for g in [*groups, "overall"]:
        n = 100 * len(groups) if g == "overall" else 100
        parts += [
            make_records(analysis="baseline", group=g, variable="persons",
                         estimate_name="count", value=n),
            make_records(analysis="baseline", group=g, variable="sex",
                         variable_level=["female", "female", "male", "male"],
                         estimate_name=["count", "percentage"] * 2,
                         value=[n * 0.4, 40.0, n * 0.6, 60.0]),
        ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_table_one_of_one_group_has_one_column():
    ctx = Context(ResultView(_baseline(["BLIN"])), ["BLIN"], 5)
    table = baseline_section(ctx).blocks[0]
    assert isinstance(table, Table)
    assert table.header == ("Characteristic", "BLIN (N = 100)")  # seed 001: "N = 96"
    assert ("female", "40 (40.0%)") in [r.cells for r in table.rows]
    two = Context(ResultView(_baseline(["BLIN", "INO"])), ["BLIN", "INO"], 5)
    table = baseline_section(two).blocks[0]
    assert isinstance(table, Table)
    assert table.header[1:] == ("BLIN (N = 100)", "INO (N = 100)", "Overall (N = 200)")
    assert ("female", "40 (40.0%)", "40 (40.0%)", "80 (40.0%)") in [r.cells for r in table.rows]


def _safety(groups: list[str]) -> pd.DataFrame:
    parts = []
    for g in [*groups, "overall"]:
        n = 200 * len(groups) if g == "overall" else 200
        parts += [
            make_records(analysis="cohort", group=g, variable="persons", estimate_name="count",
                         value=n),
            make_records(analysis="safety_ae", group=g, variable="persons",
                         estimate_name="count", value=n),
            make_records(analysis="safety_ae", group=g, variable="crs",
                         variable_level=["any grade", "any grade", "grade 1-2", "grade 1-2",
                                         "grade >=3", "grade >=3"],
                         estimate_name=["count", "percentage"] * 3,
                         value=[n * 0.2, 20.0, n * 0.15, 15.0, n * 0.05, 5.0]),
        ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_safety_table_of_one_group_has_no_overall_column():
    section = safety_section(Context(ResultView(_safety(["INO"])), ["INO"], 5))
    (table,) = section.children[0].blocks
    assert isinstance(table, Table)
    assert table.header == ("Adverse event", "INO (N = 200): any grade", "Grade 1–2", "Grade ≥3")
    assert table.rows[1].cells == ("crs", "40 (20.0%)", "30 (15.0%)", "10 (5.0%)")
    two = safety_section(Context(ResultView(_safety(["BLIN", "INO"])), ["BLIN", "INO"], 5))
    (table,) = two.children[0].blocks
    assert isinstance(table, Table)
    assert [h for h in table.header if ": any grade" in h] == [
        "BLIN (N = 200): any grade",
        "INO (N = 200): any grade",
        "Overall (N = 400): any grade",
    ]
    assert table.rows[1].cells[7:] == ("80 (20.0%)", "60 (15.0%)", "20 (5.0%)")


def test_table_two_names_the_cr_cri_composite_and_the_within_cycle_rates():
    keys = {"group": "BLIN", "variable_level": "overall"}
    rate = ["count", "denominator", "percentage", "lower", "upper", "available"]
    records = pd.concat(
        [
            *_summary("overall", "overall", 89, 0.6, 40),
            make_records(analysis="response", **keys, variable="response", estimate_name=rate,
                         value=[math.nan, 89, math.nan, math.nan, math.nan, 1.0]),
            make_records(analysis="response", **keys, variable="response_within_n",
                         estimate_name=rate, value=[63, 89, 70.8, 60.2, 79.9, 1.0]),
            make_records(analysis="response", **keys, variable="mrd_negative_within_n",
                         estimate_name=rate, value=[41, 47, 87.2, 74.3, 95.2, 1.0]),
        ]
    )  # fmt: skip
    hidden = (records["variable"] == "response") & records["estimate_name"].isin(
        ["count", "percentage", "lower", "upper"]
    )
    records.loc[hidden, "suppressed"] = True
    (table,) = efficacy_tables(Context(ResultView(records), ["BLIN"], 5), SPEC)
    rows = {r.cells[0]: r.cells[1:] for r in table.rows}
    assert rows["CR/CRh/CRi"] == ("–",)
    assert rows["CR/CRh/CRi within 2 cycles"] == ("63/89, 70.8% (60.2, 79.9)",)
    assert rows["MRD negativity within 2 cycles"] == ("41/47, 87.2% (74.3, 95.2)",)
    assert any("seed 001, call CR/CRi" in n for n in table.notes)


def test_a_variables_smd_stands_on_the_variables_row_not_on_a_level():
    smd = make_records(analysis="baseline", group="BLIN vs INO", variable="sex",
                       variable_level="overall", estimate_name="smd", value=0.0283)  # fmt: skip
    records = pd.concat([_baseline(["BLIN", "INO"]), smd], ignore_index=True)
    table = baseline_section(Context(ResultView(records), ["BLIN", "INO"], 5)).blocks[0]
    assert isinstance(table, Table)
    assert table.header[-1] == "SMD BLIN vs INO"
    rows = {r.cells[0]: r.cells for r in table.rows}
    # table_one put it on the first level's row (female); read there it is female's SMD
    assert rows["Sex"][-1] == "0.028"
    assert rows["female"][-1] == ""
    assert rows["male"][-1] == ""
