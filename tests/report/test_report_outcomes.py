"""Kaplan–Meier curves by stratum: one curve per level, numbers at risk per level."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.sections.survival import stratum_figures
from allrwe.results import make_records

DAYS = [0, 91, 183]


def _level(level: str, surv: list[float], at_risk: list[int]) -> list[pd.DataFrame]:
    keys = {"group": "INO", "strata_name": "setting", "strata_level": level, "variable": "os"}
    return [
        make_records(
            analysis="survival_curve", **keys,
            variable_level=[str(d) for d in DAYS for _ in range(4)],
            estimate_name=["time_days", "survival", "lower", "upper"] * len(DAYS),
            value=[v for d, y in zip(DAYS, surv, strict=True) for v in (d, y, y - 0.1, y + 0.05)],
        ),
        make_records(
            analysis="survival_curve", **keys,
            variable_level=[str(d) for d in DAYS for _ in range(3)],
            estimate_name=["n_risk", "n_event", "n_censor"] * len(DAYS),
            value=[v for n in at_risk for v in (n, 1, 0)],
        ),
        make_records(
            analysis="survival_risk_table", **keys,
            variable_level=["0 months", "3 months", "6 months"], estimate_name="n_risk",
            value=at_risk,
        ),
    ]  # fmt: skip


def test_each_level_of_a_stratum_is_drawn_with_its_own_numbers_at_risk():
    nd = _level("ND", [1.0, 0.9, 0.8], [60, 50, 40])
    rr = _level("R/R", [1.0, 0.7, 0.5], [30, 20, 10])
    records = pd.concat([*nd, *rr], ignore_index=True)
    (figure,) = stratum_figures(Context(ResultView(records), ["INO"], 5), "os", ["INO"], "OS")
    assert figure.id == "km-os-ino-setting"
    assert figure.data["title"] == "OS by setting, INO"
    assert [c["name"] for c in figure.data["curves"]] == ["ND", "R/R"]
    assert figure.data["curves"][1]["y"] == [1.0, 1.0, 0.7, 0.5]
    assert figure.data["risk"]["times"] == [0.0, 3.0, 6.0]
    assert [r["values"] for r in figure.data["risk"]["rows"]] == [
        ["60", "50", "40"],
        ["30", "20", "10"],
    ]
    colours = [c["colour"] for c in figure.data["curves"]]
    assert len(set(colours)) == 2


def test_forest_plot_lists_each_cox_comparison_with_its_ci():
    from allrwe.report.figures import svg_figure
    from allrwe.report.sections.survival import forest_figure

    records = make_records(
        analysis="survival_test", group="INO", strata_name="setting", variable="os",
        variable_level=["cox RR vs ND"] * 4 + ["logrank"],
        estimate_name=["hr", "hr_lower", "hr_upper", "p", "p"],
        value=[2.5, 1.5, 4.0, 0.001, 0.002],
    )  # fmt: skip
    figure = forest_figure(Context(ResultView(records), ["INO"], 5), "os", "Overall survival")
    assert figure is not None
    (item,) = figure.data["items"]
    assert item["name"] == "INO, setting: RR vs ND"
    assert (item["hr"], item["lower"], item["upper"]) == (2.5, 1.5, 4.0)
    assert item["text"] == "2.50 (1.50, 4.00)"
    svg = svg_figure(figure)
    assert ">2.50 (1.50, 4.00)</text>" in svg
    assert 'stroke-dasharray="3 3"' in svg  # the line of no effect


def test_axis_of_the_risk_table_ends_at_the_last_published_count():
    from allrwe.report.sections.survival import trim_risk

    risk = {
        "times": [0.0, 3.0, 6.0, 9.0],
        "rows": [{"name": "A", "values": ["12", "7", "–", ""]}, {"name": "B", "values": ["9"] * 4}],
    }
    assert trim_risk(risk)["times"] == [0.0, 3.0, 6.0, 9.0]
    risk["rows"] = risk["rows"][:1]
    assert trim_risk(risk) == {"times": [0.0, 3.0], "rows": [{"name": "A", "values": ["12", "7"]}]}


def test_a_p_value_below_the_last_digit_reads_as_a_bound():
    from allrwe.report.sections.survival import stat_test_rows

    keys = {"group": "all", "strata_name": "overall", "variable": "os"}
    parts = [
        make_records(analysis="survival_test", **keys, variable_level=test,
                     estimate_name=["chisq", "df", "p"], value=[chisq, 1, p])
        for test, chisq, p in (("logrank", 29.9, 4.6e-8), ("logrank ph", 7.55, 0.006))
    ]  # fmt: skip
    ctx = Context(ResultView(pd.concat(parts, ignore_index=True)), ["BLIN", "INO"], 5)
    rows = stat_test_rows(ctx, "survival_test", "os")
    # the demo's INO vs BLIN log-rank test: p = 4.6e-08, not "0.0000"
    assert [r.cells[-1] for r in rows] == ["<0.0001", "0.0060"]
