"""The counts beside Table 2's medians and landmark rates are headlines (issue #16, #20).

The overall ``n`` of a survival summary is the total of every stratification's ``n``. With a
small stratum in each, hiding that one total (weight ``n + 1``) is cheaper than hiding a
second stratum per stratification, so a plain least-weight choice hid it, and the median,
landmark rates and follow-up of the overall row with it: in the sweep's ``seed001`` emr run
at 5,000 persons, seed 1, every overall survival ``n`` and median of BLIN was hidden. The
summaries' persons and events, and the risk sets behind the landmark rates, are headlines
now, and every other count of the overall stratum weighs
:data:`~allrwe.results.complementary.OVERALL_WEIGHT` times a stratum's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allrwe.results import ResultSet, make_records, suppress, suppression
from allrwe.results.attack import attack
from allrwe.results.complementary import OVERALL_WEIGHT
from allrwe.results.suppression import cell_weights

#: per stratification: (name, levels with their ``n``); 80 persons, one small level in each
STRATA = {
    "age_band": {"<35": 2, "35 to <55": 40, ">=55": 38},
    "ph_status": {"Ph+": 3, "Ph-": 77},
    "setting": {"ND": 76, "RR": 4},
    "line": {"1": 79, "2": 1},
}


#: (analysis, its count, the estimate beside it in Table 2 and that estimate's value)
TABLE_2 = [
    ("survival_summary", "n", "median_months", 14.5),
    ("survival_landmark", "n_risk", "survival", 0.92),
]


def _summary(
    analysis: str, count: str = "n", estimate: str = "median_months", value: float = 14.5
) -> ResultSet:
    tokens = [f"total:{analysis}/{name}" for name in STRATA]
    names, levels, values, margins = ["overall"], ["overall"], [80.0], ["|".join(tokens)]
    for name, cells in STRATA.items():
        for level, n in cells.items():
            names.append(name)
            levels.append(level)
            values.append(float(n))
            margins.append(f"{analysis}/{name}")
    counts = make_records(
        analysis=analysis,
        strata_name=names,
        strata_level=levels,
        variable="os",
        estimate_name=count,
        value=values,
        margin=margins,
    )
    median = make_records(analysis=analysis, variable="os", estimate_name=estimate, value=[value])
    records = pd.concat([counts, median], ignore_index=True).assign(suppressed=False)
    return ResultSet.create(records, spec={"name": "t"}, cdm_source="t")


def _overall(published: pd.DataFrame, estimate: str) -> float:
    row = (published["strata_name"] == "overall") & (published["estimate_name"] == estimate)
    return float(published.loc[row, "value"].iloc[0])


@pytest.mark.parametrize(("analysis", "count", "estimate", "value"), TABLE_2)
def test_the_overall_count_behind_a_table_2_estimate_weighs_as_a_headline(
    analysis, count, estimate, value
):
    records = _summary(analysis, count, estimate, value).records
    weights = cell_weights(records)
    overall = (records["strata_name"] == "overall").to_numpy() & (
        records["estimate_name"] == count
    ).to_numpy()
    assert weights[overall].tolist() == [81.0 * 1000.0]
    assert weights[~overall & (records["estimate_name"] == count).to_numpy()].max() == 80.0


@pytest.mark.parametrize(("analysis", "count", "estimate", "value"), TABLE_2)
def test_table_2_keeps_its_count_and_estimate_where_strata_can_cover_them(
    analysis, count, estimate, value
):
    published = suppress(_summary(analysis, count, estimate, value), 5).records
    assert _overall(published, count) == 80.0
    assert _overall(published, estimate) == value
    # each small level is covered by a second level of its own stratification instead
    hidden = published.loc[published["suppressed"], "strata_level"].tolist()
    assert sorted(hidden) == sorted(["<35", ">=55", "Ph+", "Ph-", "ND", "RR", "1", "2"])
    assert attack(published, 5).leaks == ()


def test_plain_weights_would_hide_the_one_total(monkeypatch):
    # weights of value + 1 alone: the one total (81) is cheaper than a second level in each
    # of the four stratifications (39 + 78 + 77 + 80)
    def plain(records: pd.DataFrame) -> np.ndarray:
        return np.nan_to_num(records["value"].to_numpy(dtype="float64"), nan=0.0) + 1.0

    monkeypatch.setattr(suppression, "cell_weights", plain)
    published = suppress(_summary("survival_summary"), 5).records
    assert np.isnan(_overall(published, "n"))
    assert np.isnan(_overall(published, "median_months"))
    hidden = published.loc[published["suppressed"], "strata_level"].tolist()
    assert sorted(hidden) == sorted(["overall", "overall", "<35", "Ph+", "RR", "2"])
    assert attack(published, 5).leaks == ()


def test_another_count_of_the_overall_stratum_weighs_ten_times_a_stratum_count():
    records = _summary("other_summary").records
    weights = cell_weights(records)
    overall = (records["strata_name"] == "overall").to_numpy() & (
        records["estimate_name"] == "n"
    ).to_numpy()
    assert weights[overall].tolist() == [81.0 * OVERALL_WEIGHT]
    published = suppress(ResultSet.create(records, spec={"name": "t"}, cdm_source="t"), 5)
    assert _overall(published.records, "n") == 80.0
    assert attack(published.records, 5).leaks == ()
