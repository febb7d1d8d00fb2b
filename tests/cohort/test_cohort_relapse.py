"""Relapse category at index (seed 003) and first-remission duration, by hand-made records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.cohort import (
    POST_HCT_LEVELS,
    RELAPSE_CATEGORIES,
    cr1_days,
    post_hct_relapse,
    relapse_category,
)

INDEX = pd.Timestamp("2021-06-01")


def day(n: int) -> pd.Timestamp:
    return INDEX + pd.Timedelta(days=n)


# person: setting, then what the records say
FRAME = pd.DataFrame(
    {
        "person_id": [1, 2, 3, 4, 5, 6, 7, 8],
        "index_date": INDEX,
        "setting": ["RR", "RR", "RR", "RR", "RR", "RR", "ND", "unknown"],
    }
)
STATUS = pd.DataFrame(
    [
        (1, day(-30), "rr"),  # 1: refractory, never in remission -> primary refractory
        (2, day(-400), "remission"),  # 2: CR1 of 300 days -> relapse <12 months
        (2, day(-100), "rr"),
        (3, day(-900), "remission"),  # 3: CR1 of 800 days -> later relapse
        (3, day(-100), "rr"),
        (3, day(-50), "remission"),
        (4, day(-700), "remission"),  # 4: one HCT (two records 20 days apart)
        (4, day(-10), "rr"),
        (5, day(-800), "remission"),  # 5: two HCTs 300 days apart
        (5, day(-5), "rr"),
        (6, day(-200), "remission"),  # 6: R/R by a prior line only, no relapse record
        (6, day(10), "rr"),  # after index: not counted
    ],
    columns=["person_id", "date", "kind"],
)
EVENTS = pd.DataFrame(
    [
        (4, "allo_hsct", day(-500), day(-500)),
        (4, "allo_hsct", day(-480), day(-480)),
        (5, "allo_hsct", day(-600), day(-600)),
        (5, "allo_hsct", day(-300), day(-300)),
        (6, "allo_hsct", day(5), day(5)),  # after index: not prior
        (6, "vincristine", day(-300), day(-300)),
    ],
    columns=["person_id", "concept_set", "start_date", "end_date"],
)


def test_each_category_by_its_rule():
    got = relapse_category(FRAME, EVENTS, STATUS, ["allo_hsct"]).tolist()
    assert got == [
        "primary refractory",
        "relapse <12 months",
        "later relapse",
        "relapse after first allo-HCT",
        "relapse after second allo-HCT",
        "unknown",
        "newly diagnosed",
        "unknown",
    ]
    assert set(got) <= set(RELAPSE_CATEGORIES)


def test_first_remission_duration():
    got = cr1_days(FRAME, STATUS)
    assert got[1:5].tolist() == [300.0, 800.0, 690.0, 795.0]
    assert np.isnan(got[[0, 5, 6]]).all()


def test_the_early_cut_is_a_setting_and_without_records_all_is_primary_refractory():
    late = relapse_category(FRAME, EVENTS, STATUS, ["allo_hsct"], early_days=900)
    assert late.iloc[2] == "relapse <12 months"  # 800 < 900
    empty = STATUS.iloc[0:0]
    none = relapse_category(FRAME, EVENTS.iloc[0:0], empty, ["allo_hsct"])
    assert none.tolist()[:6] == ["primary refractory"] * 6


def test_time_from_the_last_transplant_to_relapse():
    # 4: last HCT on day -480, relapse on day -10 (470 days); 5: last HCT on day -300,
    # relapse on day -5 (295 days); 6: HCT after index only; others: no HCT.
    got = post_hct_relapse(FRAME, EVENTS, STATUS, ["allo_hsct"]).tolist()
    assert got == [
        "no prior allo-HCT",
        "no prior allo-HCT",
        "no prior allo-HCT",
        ">=12 months after allo-HCT",
        "<12 months after allo-HCT",
        "no prior allo-HCT",
        "no prior allo-HCT",
        "no prior allo-HCT",
    ]
    assert set(got) <= set(POST_HCT_LEVELS)
    untimed = post_hct_relapse(FRAME, EVENTS, STATUS.iloc[0:0], ["allo_hsct"])
    assert untimed.iloc[3] == untimed.iloc[4] == "after allo-HCT (not timed)"
    later = post_hct_relapse(FRAME, EVENTS, STATUS, ["allo_hsct"], early_days=500)
    assert later.iloc[3] == "<12 months after allo-HCT"  # 470 < 500
