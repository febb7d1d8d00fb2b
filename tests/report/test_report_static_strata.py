"""Stratified curves as static files (seed 001 Fig. 2) and room for their row names."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.render.static_labels import LEFT_PAD_POINTS, fit_row_names
from allrwe.report.sections.survival import STATIC_STRATA, stratum_figures
from allrwe.results import make_records

DAYS = [0, 91, 183]


def _level(variable: str, name: str, level: str, surv: list[float]) -> list[pd.DataFrame]:
    keys = {"group": "BLIN", "strata_name": name, "strata_level": level, "variable": variable}
    return [
        make_records(
            analysis="survival_curve", **keys,
            variable_level=[str(d) for d in DAYS for _ in range(7)],
            estimate_name=["time_days", "survival", "lower", "upper", "n_risk", "n_event",
                           "n_censor"] * len(DAYS),
            value=[v for d, y in zip(DAYS, surv, strict=True)
                   for v in (d, y, y - 0.1, y + 0.05, 40, 6, 0)],
        ),
        make_records(
            analysis="survival_risk_table", **keys,
            variable_level=["0 months", "3 months", "6 months"], estimate_name="n_risk",
            value=[40, 34, 28],
        ),
    ]  # fmt: skip


def _figures(variable: str, name: str, levels: list[str]) -> list:
    records = pd.concat(
        [p for k, lv in enumerate(levels) for p in _level(variable, name, lv, [1.0, 0.9 - k / 10,
                                                                              0.8 - k / 10])],
        ignore_index=True,
    )  # fmt: skip
    return stratum_figures(Context(ResultView(records), ["BLIN"], 5), variable, ["BLIN"], "EFS")


def test_efs_and_os_by_setting_are_static_other_endpoints_and_strata_are_not():
    for variable, name, static in (
        ("efs", "setting", True),
        ("os", "setting", True),
        ("rfs", "setting", False),
        ("efs", "age_band", False),
        ("efs:hsct_car_t", "setting", False),
    ):
        (figure,) = _figures(variable, name, ["ND", "RR"])
        assert figure.static is (static and name in STATIC_STRATA), (variable, name)


def test_treatment_setting_within_setting_is_one_static_figure_named_for_people():
    levels = ["ND &&& consolidation", "ND &&& induction", "RR &&& re-induction"]
    (figure,) = _figures("efs", "setting &&& treatment_setting", levels)
    assert figure.static
    assert figure.id == "km-efs-blin-setting-treatment-setting"
    assert figure.data["title"] == "EFS by setting × treatment setting, BLIN"
    names = [c["name"] for c in figure.data["curves"]]
    assert names == [lv.replace(" &&& ", ": ") for lv in levels]
    assert [r["name"] for r in figure.data["risk"]["rows"]] == names


def _table_figure(name: str) -> tuple[MplFigure, list]:
    fig = MplFigure(figsize=(7.0, 5.0))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[4.0, 1.0])
    fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1])
    text = table.text(-0.05, 0, name, transform=table.get_yaxis_transform(), ha="right",
                      fontsize=7)  # fmt: skip
    return fig, [text]


def test_a_long_row_name_moves_the_plot_right_until_it_fits():
    fig, names = _table_figure("R/R: consolidation (second line)")
    renderer = fig.canvas.get_renderer()
    assert names[0].get_window_extent(renderer).x0 < 0  # cut off as laid out
    left = fig.subplotpars.left
    assert fit_row_names(fig, names)
    assert fig.subplotpars.left > left
    start = names[0].get_window_extent(fig.canvas.get_renderer()).x0
    # the name sits 5 % of the axes' width left of them, and the axes narrowed by the shift
    shift = (fig.subplotpars.left - left) * fig.bbox.width
    assert abs(start - (LEFT_PAD_POINTS * fig.dpi / 72.0 + 0.05 * shift)) < 1.0


def test_a_short_row_name_leaves_the_figure_as_laid_out():
    fig, names = _table_figure("BLIN")
    left = fig.subplotpars.left
    assert not fit_row_names(fig, names)
    assert fig.subplotpars.left == left


def test_a_curve_ending_before_its_risk_row_is_named_with_the_persons_still_at_risk():
    nd = _level("efs", "setting", "ND", [1.0, 0.9, 0.8])
    rr = _level("efs", "setting", "RR", [1.0, 0.7, 0.6])
    rr[0] = rr[0][rr[0]["variable_level"] != "183"]  # RR's curve: no published point at 6 months
    records = pd.concat([*nd, *rr], ignore_index=True)
    ctx = Context(ResultView(records), ["BLIN"], 5)
    (figure,) = stratum_figures(ctx, "efs", ["BLIN"], "EFS")
    assert [c["x"][-1] for c in figure.data["curves"]] == [183 / 30.4375, 91 / 30.4375]
    # the row of RR goes on to 6 months (28 at risk) past its curve's end at 3.0 months
    assert "rows that go on past their curve's end: RR, 28 at risk at 6 months. " in (
        figure.caption
    )
    assert "each 0 or at least 5" in figure.caption
    assert "ND, " not in figure.caption  # ND's curve reaches its row's last column
    # the static files travel without the caption: they carry the same in a footnote
    assert figure.data["footnote"] == (
        "A curve ends at its last published point: a later point needs the events and the "
        "censorings since the last one each 0 or at least 5. Still at risk after the end of "
        "the curve: RR, 28 at risk at 6 months."
    )


def test_the_footnote_is_drawn_under_the_static_figure(tmp_path):
    from allrwe.report import write_static

    (figure,) = _figures("efs", "setting", ["ND", "RR"])
    assert "footnote" not in figure.data  # both curves reach their rows' ends
    noted = replace(figure, data={**figure.data, "footnote": "Still at risk: RR, 28."})
    plain_svg = next(p for p in write_static(figure, tmp_path / "a") if p.suffix == ".svg")
    noted_svg = next(p for p in write_static(noted, tmp_path / "b") if p.suffix == ".svg")
    assert "Still at risk: RR, 28." not in plain_svg.read_text()
    assert "<!-- Still at risk: RR, 28. -->" in noted_svg.read_text()


def test_the_axis_ticks_reach_the_end_of_the_longest_curve():
    parts = _level("efs", "setting", "ND", [1.0, 0.9, 0.8])
    risk = parts[1]
    risk.loc[risk["variable_level"] == "6 months", "suppressed"] = True  # 28 at risk: hidden
    ctx = Context(ResultView(pd.concat(parts, ignore_index=True)), ["BLIN"], 5)
    (figure,) = stratum_figures(ctx, "efs", ["BLIN"], "EFS")
    # the curve ends at 6.0 months (183 days); the 6-month column, hidden, stays as its tick
    assert figure.data["curves"][0]["x"][-1] == 183 / 30.4375
    assert figure.data["risk"]["times"] == [0.0, 3.0, 6.0]
    assert figure.data["risk"]["rows"][0]["values"] == ["40", "34", "–"]
