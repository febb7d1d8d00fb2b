"""Summary statistics and SMDs against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allrwe.analyses.baseline import (
    age_band_labels,
    first_entries,
    kth_range,
    proportions,
    smd_binary,
    smd_categorical,
    smd_continuous,
    summarise_continuous,
)


def test_continuous_summary_by_hand() -> None:
    s = summarise_continuous([4.0, 1.0, np.nan, 3.0, 2.0, 10.0])
    assert (s.n, s.n_missing) == (5, 1)
    assert s.mean == pytest.approx(4.0)
    # squared deviations 0, 9, 1, 4, 36 -> variance 50 / 4
    assert s.sd == pytest.approx(np.sqrt(12.5))
    assert (s.median, s.q25, s.q75, s.min, s.max) == (3.0, 2.0, 4.0, 1.0, 10.0)


def test_continuous_summary_of_one_and_none() -> None:
    one = summarise_continuous([7.0])
    assert (one.n, one.mean, one.median) == (1, 7.0, 7.0)
    assert np.isnan(one.sd)
    none = summarise_continuous([np.nan, np.nan])
    assert (none.n, none.n_missing) == (0, 2)
    assert all(np.isnan(v) for v in none.estimates().values())


def test_smd_continuous_by_hand() -> None:
    # (12 - 10) / sqrt((3^2 + 1^2) / 2) = 2 / sqrt(5)
    assert smd_continuous(12.0, 3.0, 10.0, 1.0) == pytest.approx(2 / np.sqrt(5))
    assert smd_continuous(10.0, 1.0, 12.0, 3.0) == pytest.approx(-2 / np.sqrt(5))
    assert smd_continuous(5.0, 0.0, 5.0, 0.0) == 0.0
    assert smd_continuous(6.0, 0.0, 5.0, 0.0) == np.inf
    assert np.isnan(smd_continuous(6.0, np.nan, 5.0, 1.0))


def test_smd_binary_by_hand() -> None:
    # p1 = 0.4, p2 = 0.1: 0.3 / sqrt((0.24 + 0.09) / 2)
    assert smd_binary(0.4, 0.1) == pytest.approx(0.3 / np.sqrt(0.165))
    assert smd_binary(0.0, 0.0) == 0.0
    assert smd_binary(1.0, 0.0) == np.inf


def test_smd_categorical_three_levels_by_hand() -> None:
    # p1 = (0.5, 0.3, 0.2), p2 = (0.2, 0.4, 0.4); categories 2 and 3:
    # T = (-0.1, -0.2); S1 = [[.21, -.06], [-.06, .16]], S2 = [[.24, -.16], [-.16, .24]]
    # S = [[.225, -.11], [-.11, .20]], det = .045 - .0121 = .0329
    # S^-1 = [[.20, .11], [.11, .225]] / .0329
    # T'S^-1T = (.01 * .20 + 2 * .02 * .11 + .04 * .225) / .0329 = .0154 / .0329
    got = smd_categorical([0.5, 0.3, 0.2], [0.2, 0.4, 0.4])
    assert got == pytest.approx(np.sqrt(0.0154 / 0.0329))


def test_smd_categorical_edge_cases() -> None:
    assert smd_categorical([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0
    # a category empty in both groups drops out
    with_empty = smd_categorical([0.6, 0.4, 0.0], [0.3, 0.7, 0.0])
    assert with_empty == pytest.approx(abs(smd_binary(0.4, 0.7)))
    # all of one group in a level the other lacks
    assert smd_categorical([1.0, 0.0], [0.0, 1.0]) == np.inf
    assert np.isnan(smd_categorical(proportions([0, 0]), [0.5, 0.5]))
    with pytest.raises(ValueError, match="two vectors"):
        smd_categorical([0.5, 0.5], [1.0])


@given(
    st.lists(st.integers(0, 50), min_size=2, max_size=5).filter(lambda c: sum(c) > 0),
    st.data(),
)
def test_smd_categorical_is_symmetric_and_order_free(
    counts: list[int], data: st.DataObject
) -> None:
    other = data.draw(
        st.lists(st.integers(0, 50), min_size=len(counts), max_size=len(counts)).filter(
            lambda c: sum(c) > 0
        )
    )
    p, q = proportions(counts), proportions(other)
    d = smd_categorical(p, q)
    assert d == pytest.approx(smd_categorical(q, p), rel=1e-6, abs=1e-9)
    order = data.draw(st.permutations(range(len(counts))))
    assert d == pytest.approx(smd_categorical(p[order], q[order]), rel=1e-6, abs=1e-9)


@given(st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_two_levels_reduce_to_the_binary_formula(p1: float, p2: float) -> None:
    got = smd_categorical([1 - p1, p1], [1 - p2, p2])
    assert got == pytest.approx(abs(smd_binary(p1, p2)), rel=1e-9)


def test_age_band_labels() -> None:
    assert age_band_labels([35, 55]) == ["<35", "35 to <55", ">=55"]
    assert age_band_labels([18.0]) == ["<18", ">=18"]


def test_first_entries_picks_earliest_index_then_group_order() -> None:
    frame = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 2, 3],
            "group": ["INO", "BLIN", "INO", "BLIN", "BLIN"],
            "index_date": pd.to_datetime(
                ["2020-05-01", "2020-03-01", "2020-01-01", "2020-01-01", "2021-01-01"]
            ),
        }
    )
    mask = first_entries(frame, ["INO", "BLIN"])
    # person 1: BLIN is earlier; person 2: same day, INO comes first in the spec
    assert mask.tolist() == [False, True, True, False, True]


def test_kth_range_counts_k_values_from_each_end() -> None:
    ages = np.array([52.0, 19.0, np.nan, 33.0, 71.0, 44.0, 28.0, 60.0, 38.0])
    ordered = np.sort(ages[~np.isnan(ages)])  # 19 28 33 38 44 52 60 71
    assert kth_range(ages, 1) == (ordered[0], ordered[-1]) == (19.0, 71.0)
    assert kth_range(ages, 3) == (ordered[2], ordered[-3]) == (33.0, 52.0)
    assert kth_range(ages, 4) == (38.0, 44.0)  # 8 values: 2k exactly
    assert kth_range(ages, 5) is None  # the bounds would share persons
    with pytest.raises(ValueError, match="at least 1"):
        kth_range(ages, 0)
