"""A result set rebuilding the seed003/seed004 leak (shared by tests/results and tests/study).

The seed003 and seed004 examples (inotuzumab on the emr test CDM) left the INO Ph+
survival-summary ``n`` = 4 recoverable: the later published points of the Ph- and overall
OS curves fix their first risk sets (each risk set is the next one plus those who left in
between), those fix the summary ``n`` of Ph- (18) and overall (22), and Ph+ = 22 - 18.
:func:`stratum_chain_records` rebuilds that structure with the same numbers.
"""

from __future__ import annotations

import pandas as pd

from allrwe.results import ResultSet, make_records
from allrwe.results.links import declare_links

GROUP = "INO"
#: (strata_name, strata_level, n, n_event) of the OS summary: everyone dies, so that the
#: persons who leave a curve after its last point (7 and 8 deaths, none censored) are
#: publishable, as the analysis makes them (allrwe.analyses.outcomes.curves)
SUMMARY = [
    ("overall", "overall", 22, 22),
    ("ph_status", "Ph+", 4, 4),
    ("ph_status", "Ph-", 18, 18),
]
#: curve points (day, n_risk, n_event since the previous point, n_censor, survival)
CURVES = {
    ("overall", "overall"): [(98, 22, 0, 0), (155, 17, 5, 0), (188, 12, 5, 0), (221, 7, 5, 0)],
    ("ph_status", "Ph-"): [(135, 18, 0, 0), (173, 13, 5, 0), (210, 8, 5, 0)],
}
LEAKED = "survival_summary/INO/ph_status=Ph+/os/overall/n"


def _curve(name: str, level: str, points: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    rows: dict[str, list[object]] = {"variable_level": [], "estimate_name": [], "value": []}
    survival = 1.0
    for day, risk, events, censored in points:
        # the estimate just before the point's day is the product-limit of the steps so far
        survival *= 1.0 - events / (risk + events + censored)
        for estimate, value in (
            ("n_risk", risk),
            ("n_event", events),
            ("n_censor", censored),
            ("survival", survival),
            ("time_days", day),
        ):
            rows["variable_level"].append(str(day))
            rows["estimate_name"].append(estimate)
            rows["value"].append(float(value))
    return make_records(
        analysis="survival_curve",
        group=GROUP,
        strata_name=name,
        strata_level=level,
        variable="os",
        variable_level=rows["variable_level"],  # type: ignore[arg-type]
        estimate_name=rows["estimate_name"],  # type: ignore[arg-type]
        estimate_type=[
            "count" if e.startswith("n_") else "numeric"
            for e in rows["estimate_name"]  # type: ignore[union-attr]
        ],
        value=rows["value"],  # type: ignore[arg-type]
    )


def stratum_chain_records() -> ResultSet:
    """Return the unsuppressed records of the seed003/seed004 stratum leak."""
    summary = make_records(
        analysis="survival_summary",
        group=GROUP,
        strata_name=[s for s, *_ in SUMMARY for _ in range(2)],
        strata_level=[lv for _, lv, *_ in SUMMARY for _ in range(2)],
        variable="os",
        estimate_name=["n", "n_event"] * len(SUMMARY),
        estimate_type="count",
        value=[float(v) for *_, n, e in SUMMARY for v in (n, e)],
    )
    curves = [_curve(name, level, points) for (name, level), points in CURVES.items()]
    records = declare_links(pd.concat([summary, *curves], ignore_index=True))
    return ResultSet.create(records, spec={"study": "test"}, cdm_source="synthetic")
