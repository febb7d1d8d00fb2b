"""Hidden counts of Table 2's stratum columns that protect nothing are published again (#20).

The greedy repair hides a stratum's whole summary as the complement of one small count: in
the seed001 example on a 100,000-person emr CDM (seed 1), every ND and R/R column of Table 2
was "–" (EFS ND 43 persons and 5 events, R/R 24 and 13), though only OS's 2 deaths in ND
(and the 8 in R/R, overall 10 minus 2) needed hiding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import make_records
from allrwe.results.attack import attack
from allrwe.results.suppression import column_counts
from republication import republish

#: (endpoint, stratum level, persons, events): OS deaths 2 in ND (small), 10 in all
SUMMARY = [
    ("os", "overall", 67, 10),
    ("os", "ND", 43, 2),
    ("os", "RR", 24, 8),
    ("efs", "overall", 67, 18),
    ("efs", "ND", 43, 5),
    ("efs", "RR", 24, 13),
]


def _summary(strata_name: str = "setting") -> pd.DataFrame:
    """Survival summaries of 67 persons by ``strata_name`` (ND 43, RR 24), margins declared."""
    rows = []
    for endpoint, level, persons, events in SUMMARY:
        for estimate, value in (("n", persons), ("n_event", events)):
            margin = f"strata/{endpoint}/{estimate}"
            rows.append(
                {
                    "strata_name": "overall" if level == "overall" else strata_name,
                    "strata_level": level,
                    "variable": endpoint,
                    "estimate_name": estimate,
                    "value": value,
                    "margin": f"total:{margin}" if level == "overall" else margin,
                }
            )
    frame = pd.DataFrame(rows)
    return make_records(
        analysis="survival_summary",
        group="BLIN",
        strata_name=frame["strata_name"].tolist(),
        strata_level=frame["strata_level"].tolist(),
        variable=frame["variable"].tolist(),
        variable_level="overall",
        estimate_name=frame["estimate_name"].tolist(),
        estimate_type="count",
        value=frame["value"].astype(float).tolist(),
        margin=frame["margin"].tolist(),
    )


def _names(records: pd.DataFrame, flags: np.ndarray) -> list[str]:
    keys = records["variable"] + "/" + records["strata_level"] + "/" + records["estimate_name"]
    return sorted(keys[flags].tolist())


def _greedy(records: pd.DataFrame) -> np.ndarray:
    """What the greedy choice left: every stratum count hidden."""
    return (records["strata_name"] != "overall").to_numpy()


def test_the_column_counts_that_protect_nothing_are_published_again():
    records = _summary()
    columns = column_counts(records)
    out, shown = republish(records, _greedy(records), columns)
    # OS's 2 deaths in ND stay hidden, and the 8 in R/R (10 - 8 would give the 2 away);
    # the persons of both columns and all of EFS are shown
    assert _names(records, out) == ["os/ND/n_event", "os/RR/n_event"]
    efs = shown[(shown["variable"] == "efs") & (shown["strata_name"] == "setting")]
    assert efs["value"].tolist() == [43.0, 5.0, 24.0, 13.0]
    assert attack(shown, 5).leaks == ()


def test_the_counts_left_hidden_give_the_small_count_away_when_shown():
    records = _summary()
    out, _ = republish(records, _greedy(records), column_counts(records))
    rr_deaths = (
        (records["variable"] == "os")
        & (records["strata_level"] == "RR")
        & (records["estimate_name"] == "n_event")
    ).to_numpy()
    shown = records.assign(value=np.where(out & ~rr_deaths, np.nan, records["value"]))
    leaks = attack(shown, 5).leaks
    assert [(leak.low, leak.high) for leak in leaks] == [(2, 2)]


def test_strata_no_table_shows_as_columns_are_not_tried():
    records = _summary("ph_status")
    columns = column_counts(records)
    assert not columns.any()
    out, _ = republish(records, _greedy(records), columns)
    assert out.sum() == 8


def test_column_counts_flag_the_summaries_landmarks_and_responders_of_column_strata():
    records = make_records(
        analysis=[
            "survival_summary",
            "survival_summary",
            "survival_landmark",
            "survival_landmark",
            "response",
            "response",
            "baseline",
            "survival_summary",
        ],
        strata_name=[
            "setting",
            "setting",
            "line",
            "line",
            "setting",
            "setting",
            "setting",
            "overall",
        ],
        strata_level=["ND", "ND", "1", "1", "ND", "ND", "ND", "overall"],
        variable=["os", "os", "os", "os", "cr", "best_response", "persons", "os"],
        variable_level="overall",
        estimate_name=["n", "median_days", "n_risk", "n_event", "count", "count", "count", "n"],
        estimate_type=["count", "numeric", "count", "count", "count", "count", "count", "count"],
        value=[43.0, 300.0, 40.0, 3.0, 8.0, 8.0, 43.0, 67.0],
    )
    flags = column_counts(records)
    names = records["analysis"] + "/" + records["variable"] + "/" + records["estimate_name"]
    assert sorted(names[flags]) == [
        "response/cr/count",
        "survival_landmark/os/n_risk",
        "survival_summary/os/n",
    ]
