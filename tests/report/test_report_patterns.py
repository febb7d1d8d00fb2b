"""Seed 001 Fig. 1: the first therapy after the index treatment by duration and by cycles."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._patterns import destination_figures
from allrwe.report._view import ResultView
from allrwe.results import make_records


def test_destinations_are_drawn_per_duration_level_with_suppressed_bars_kept():
    rows = []
    for level, pcts in (("<=14", [40.0, 60.0]), ("15-28", [70.0, None])):
        for cls, pct in zip(["hsct", "car_t"], pcts, strict=True):
            rec = make_records(
                analysis="destinations", group="BLIN", strata_name="duration",
                strata_level=level, variable="destination", variable_level=cls,
                estimate_name="percentage", value=30.0 if pct is None else pct,
            )  # fmt: skip
            rec["suppressed"] = pct is None
            rows.append(rec)
    ctx = Context(ResultView(pd.concat(rows, ignore_index=True)), ["BLIN"], 5)
    (figure,) = destination_figures(ctx, ["hsct", "car_t", "tki"])
    assert figure.id == "destinations-blin-duration"
    assert figure.chart == "bars"
    assert figure.data["categories"] == ["hsct", "car_t"]
    assert [s["name"] for s in figure.data["series"]] == ["<=14 days", "15-28 days"]
    assert [s["values"] for s in figure.data["series"]] == [[40.0, 60.0], [70.0, None]]
