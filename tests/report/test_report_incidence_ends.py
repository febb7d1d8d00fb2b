"""Cumulative incidence: landmark values withheld, not NE, and rows past the curves' end."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Figure, Table
from allrwe.report.sections.incidence import cumulative_incidence_section
from allrwe.results import make_records
from allrwe.spec import spec_from_text

SPEC = spec_from_text(
    """
name: t
index_groups: {BLIN: [blinatumomab]}
study_period: {start: 2021-01-01, end: 2023-06-30}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [-3650, 0]}}
outcomes: {landmarks_months: [6, 12]}
"""
)


def _records() -> pd.DataFrame:
    keys = {"group": "BLIN", "variable": "relapse_nrm"}
    names = [
        "time_days",
        "relapse",
        "relapse_lower",
        "relapse_upper",
        "death",
        "death_lower",
        "death_upper",
        "n_risk",
        "n_event_relapse",
        "n_event_death",
        "n_censor",
    ]
    # the curve ends at 150 days (4.9 months), 163 at risk
    points = [(0, 0.0, 0, 0), (115, 0.029, 168, 5), (150, 0.058, 163, 5)]
    parts = [
        make_records(
            analysis="cumulative_incidence_curve", **keys,
            variable_level=[str(d) for d, *_ in points for _ in names],
            estimate_name=names * len(points),
            value=[v for d, y, n, e in points
                   for v in (d, y, y / 2, y * 2, 0.0, 0.0, 0.0, n, e, 0, 0)],
        ),
        make_records(
            analysis="cumulative_incidence_risk_table", **keys,
            variable_level=["0 months", "3 months", "6 months", "12 months"],
            estimate_name="n_risk", value=[173, 169, 158, 144],
        ),
        make_records(
            analysis="cumulative_incidence_summary", **keys, variable_level="overall",
            estimate_name=["n", "n_event_relapse", "n_event_death"], value=[173, 23, 0],
        ),
        # no published point at 6 or 12 months, persons at risk there: withheld, not NE
        make_records(
            analysis="cumulative_incidence_landmark", **keys,
            variable_level=["6 months"] * 7 + ["12 months"] * 7,
            estimate_name=["n_risk", "relapse", "relapse_lower", "relapse_upper", "death",
                           "death_lower", "death_upper"] * 2,
            value=[158] + [float("nan")] * 6 + [144] + [float("nan")] * 6,
        ),
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def test_landmark_incidence_with_persons_at_risk_is_withheld_and_rows_past_the_end_named():
    section = cumulative_incidence_section(Context(ResultView(_records()), ["BLIN"], 5), SPEC)
    (endpoint,) = section.children
    figure = next(b for b in endpoint.blocks if isinstance(b, Figure))
    table = next(b for b in endpoint.blocks if isinstance(b, Table) and b.id.startswith("summ"))
    (row,) = table.rows
    assert row.cells == ("BLIN", "173", "23", "0", "–", "–", "–", "–")
    assert any(n.startswith("A landmark rate is NE only when nobody") for n in table.notes)
    # the relapse and death curves end at 4.9 months; the group's row goes on to 12 months
    assert [round(c["x"][-1], 1) for c in figure.data["curves"]] == [4.9, 4.9]
    assert "rows that go on past their curve's end: BLIN, 144 at risk at 12 months." in (
        figure.caption
    )
    assert figure.data["footnote"].endswith("BLIN, 144 at risk at 12 months.")
