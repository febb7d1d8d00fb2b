"""The report's Simon–Makuch figure: drawn from the published (thinned) curve points only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes import after_index_records
from allrwe.analyses.outcomes.after_index import CURVE_ANALYSIS
from allrwe.analyses.survival import DAYS_PER_MONTH
from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.render.svg import svg_figure
from allrwe.report.sections.after_index import after_index_table
from allrwe.report.sections.survival import simon_makuch_figures
from allrwe.results import ResultSet, suppress
from allrwe.spec import StudySpec, spec_from_text

INDEX = pd.Timestamp("2020-01-01")
# (OS days, died, HSCT day or None): 8 transplanted on days 10-45, 14 never
PERSONS = [(200, 1, 20), (60, 1, 10), (300, 0, 25), (150, 1, 5), (90, 1, 15), (400, 0, 28),
           (260, 1, 40), (380, 0, 45)] + [
    (t, e, None) for t, e in ((40, 1), (45, 1), (70, 1), (80, 1), (120, 1), (130, 0),
                              (140, 1), (200, 1), (250, 0), (300, 1), (350, 0), (400, 0),
                              (30, 1), (410, 0))
]  # fmt: skip


def _spec(min_cell_count: int, event: str = "hsct") -> StudySpec:
    return spec_from_text(f"""
name: t
min_cell_count: {min_cell_count}
index_groups: {{INO: [inotuzumab_ozogamicin]}}
study_period: {{start: 2019-01-01, end: 2022-12-31}}
outcomes:
  after_index: {{event: {event}, endpoints: [os], landmarks_months: [1], horizon_months: 6}}
""")


def _endpoints() -> pd.DataFrame:
    rows = []
    for pid, (time, died, hsct) in enumerate(PERSONS, start=1):
        common = {"person_id": pid, "group": "INO", "censor_variant": "none",
                  "status": "available", "start_date": INDEX}  # fmt: skip
        rows.append({**common, "endpoint": "os", "time_days": time, "event": died, "cause": died,
                     "end_date": INDEX + pd.Timedelta(days=time)})  # fmt: skip
        stop = time if hsct is None else hsct
        rows.append({**common, "endpoint": "time_to_hsct", "time_days": stop,
                     "event": int(hsct is not None), "cause": 1 if hsct else 2 * died,
                     "end_date": INDEX + pd.Timedelta(days=stop)})  # fmt: skip
    return pd.DataFrame(rows)


def _published(k: int) -> pd.DataFrame:
    records = after_index_records(_endpoints(), _spec(k))
    return suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), k).records


def test_figure_draws_exactly_the_published_points() -> None:
    records = _published(3)
    (figure,) = simon_makuch_figures(Context(ResultView(records), ["INO"], 3), "os", ["INO"],
                                     "Overall survival", "hsct")  # fmt: skip
    assert (figure.id, figure.chart, figure.static) == ("sm-hsct-os-ino", "km", False)
    curves = {c["name"]: c for c in figure.data["curves"]}
    assert set(curves) == {"HSCT", "no HSCT"}
    for level, name in (("hsct", "HSCT"), ("no_hsct", "no HSCT")):
        part = records[(records["analysis"] == CURVE_ANALYSIS)
                       & (records["strata_level"] == level)]  # fmt: skip
        wide = part.pivot(index="variable_level", columns="estimate_name", values="value")
        wide = wide.sort_values("time_days")
        assert (wide["n_risk"] >= 3).all()  # thinned: every point has 3 or more at risk
        for kind in ("n_event", "n_censor", "n_enter"):
            assert ((wide[kind] == 0) | (wide[kind] >= 3)).all()
        drawn = curves[name]
        assert (drawn["x"][0], drawn["y"][0]) == (0.0, 1.0)
        np.testing.assert_allclose(drawn["x"][1:], wide["time_days"] / DAYS_PER_MONTH)
        np.testing.assert_allclose(drawn["y"][1:], wide["survival"])
    # fewer points than the curve has times: 8 transplanted persons' rows in 1-day steps
    hsct = records[(records["analysis"] == CURVE_ANALYSIS) & (records["strata_level"] == "hsct")]
    assert 1 < hsct["variable_level"].nunique() < 8
    svg = svg_figure(figure.id, figure.chart, figure.data)
    assert svg.startswith("<svg")
    assert svg.count("<path d=") >= 4


def test_no_figure_when_no_point_can_be_published() -> None:
    # 22 persons: with a minimum cell count of 23 no risk set reaches it
    records = _published(23)
    assert records.loc[records["analysis"] == CURVE_ANALYSIS].empty
    ctx = Context(ResultView(records), ["INO"], 23)
    assert simon_makuch_figures(ctx, "os", ["INO"], "Overall survival", "hsct") == []


def test_car_t_table_and_figure_are_named_by_their_event() -> None:
    # the same persons with CAR-T in place of HSCT: the records, table and figure follow it
    endpoints = _endpoints().replace({"endpoint": {"time_to_hsct": "time_to_car_t"}})
    records = after_index_records(endpoints, _spec(3, "car_t"))
    published = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), 3).records
    ctx = Context(ResultView(published), ["INO"], 3)
    table = after_index_table(ctx, "os", "km-os", 6.0, "car_t")
    assert table is not None
    assert table.id == "after-index-car-t-km-os"
    assert table.caption == "Outcomes by CAR-T after index"
    assert table.rows[0].cells[1] == "landmark 1 months, CAR-T by then"
    (figure,) = simon_makuch_figures(ctx, "os", ["INO"], "Overall survival", "car_t")
    assert figure.id == "sm-car-t-os-ino"
    assert [c["name"] for c in figure.data["curves"]] == ["CAR-T", "no CAR-T"]
