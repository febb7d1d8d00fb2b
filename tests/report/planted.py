"""Hand-made results with planted small counts (records before suppression).

The threshold is 50, so that the planted small count (37) is a number no other cell shows.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from allrwe.analyses.attrition import attrition_records
from allrwe.analyses.records import status_records
from allrwe.results import count_records, make_records, percentage_records

MIN_CELL_COUNT = 50
PLANTED = 37
DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))
#: days of the curve points and the persons at risk there (the last two are small)
CURVE_DAYS = [30, 61, 91, 122, 152, 183, 213, 244]
CURVE_AT_RISK = [400, 352, 300, 251, 180, 96, 41, 12]


def _survival() -> pd.DataFrame:
    keys = {"group": "BLIN", "variable": "os"}
    surv = np.linspace(0.96, 0.55, len(CURVE_DAYS))
    curve = make_records(
        analysis="survival_curve",
        **keys,
        variable_level=[str(d) for d in CURVE_DAYS for _ in range(4)],
        estimate_name=["time_days", "survival", "lower", "upper"] * len(CURVE_DAYS),
        value=[v for d, s in zip(CURVE_DAYS, surv, strict=True) for v in (d, s, s - 0.1, s + 0.03)],
    )
    counts = make_records(
        analysis="survival_curve",
        **keys,
        variable_level=[str(d) for d in CURVE_DAYS for _ in range(3)],
        estimate_name=["n_risk", "n_event", "n_censor"] * len(CURVE_DAYS),
        value=[v for n in CURVE_AT_RISK for v in (n, 0, 0)],
    )
    summary = make_records(
        analysis="survival_summary",
        **keys,
        estimate_name=[
            "n",
            "n_event",
            "median_months",
            "median_lower_months",
            "median_upper_months",
            "available",
        ],
        value=[400, 188, 7.9, 6.1, np.nan, 1.0],
    )
    risk = make_records(
        analysis="survival_risk_table",
        **keys,
        variable_level=["0 months", "3 months", "6 months"],
        estimate_name="n_risk",
        value=[400, 300, 41],
    )
    landmark = make_records(
        analysis="survival_landmark",
        **keys,
        variable_level=["6 months"] * 4 + ["12 months"] * 4,
        estimate_name=["n_risk", "survival", "lower", "upper"] * 2,
        value=[96, 0.61, 0.52, 0.69, 12, 0.55, 0.41, 0.66],
    )
    return pd.concat([curve, counts, summary, risk, landmark], ignore_index=True)


def raw_records() -> pd.DataFrame:
    """Records of a small run: sizes, attrition, cycles, pathways, OS; response and baseline
    not available."""
    sizes = count_records(
        pd.DataFrame({"group": ["BLIN", "INO"], "count": [400, 17]}),
        analysis="cohort",
        variable="persons",
    )
    attrition = attrition_records(
        pd.DataFrame(
            {
                "group": ["BLIN", "BLIN"],
                "step": ["records", "diagnosis"],
                "reason": ["records of the index sets", "all_diagnosis in [-365, 0] days"],
                "n_records": [1200, 400],
                "n_persons": [437, 400],
                "n_excluded": [0, PLANTED],
            }
        )
    )
    cycles = percentage_records(
        pd.DataFrame(
            {
                "group": "BLIN",
                "variable": "cycles",
                "variable_level": ["1", "2", "3"],
                "count": [251, 112, PLANTED],
            }
        ),
        analysis="cycles",
        denominator=400,
    )
    pathways = percentage_records(
        pd.DataFrame(
            {
                "group": "BLIN",
                "variable": "pathway",
                "variable_level": ["blinatumomab", "blinatumomab-hsct", "None"],
                "count": [300, 63, PLANTED],
            }
        ),
        analysis="pathways",
        denominator=400,
    )
    response = make_records(
        analysis="response",
        group=["BLIN", "BLIN"],
        variable="response",
        estimate_name=["denominator", "available"],
        value=[400, 0.0],
    )
    baseline = status_records("baseline", ["BLIN", "INO"], "no table in this test")
    parts = [sizes, attrition, cycles, pathways, _survival(), response, baseline]
    return pd.concat(parts, ignore_index=True)
