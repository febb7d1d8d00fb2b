"""Day windows relative to the index date (allrwe.cohort.status)."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from allrwe.cohort import Window, window_bounds
from allrwe.cohort.status import in_window


@pytest.mark.parametrize(
    ("window", "n_bounds", "kept"),
    [
        ((None, None), 0, [-3, -2, -1, 0, 1, 2, 3]),
        ((-2, None), 1, [-2, -1, 0, 1, 2, 3]),
        ((None, 0), 1, [-3, -2, -1, 0]),
        ((-1, 1), 2, [-1, 0, 1]),
        ((2, 2), 2, [2]),
    ],
)
def test_window_bounds_and_in_window_keep_the_same_offsets(
    window: Window, n_bounds: int, kept: list[int]
) -> None:
    t = ibis.memtable({"off": list(range(-3, 4))})
    bounds = window_bounds(t.off, window)
    assert len(bounds) == n_bounds  # no constant-true term for an unbounded end
    con = ibis.duckdb.connect()
    filtered = t.filter(*bounds) if bounds else t
    assert sorted(con.execute(filtered).off.tolist()) == kept
    assert sorted(con.execute(t.filter(in_window(t.off, window))).off.tolist()) == kept


def test_in_cr_at_index_is_the_remission_flag_classify_reads() -> None:
    from pathlib import Path

    from allrwe.cohort.status import classify, in_cr_at_index
    from allrwe.spec import load_spec

    frame = pd.DataFrame(
        {
            "rr_evidence": [False, True, False, True],
            "rr_prior_therapy": [False, False, False, False],
            "in_remission": [True, True, False, False],
            "index_date": pd.to_datetime(["2021-01-01"] * 4),
            "obs_start": pd.to_datetime(["2019-01-01"] * 4),
            "line_at_index": [1, 2, 1, 2],
        }
    )
    examples = Path(__file__).resolve().parents[2] / "examples"
    spec = load_spec(examples / "seed001_blinatumomab_emr.yaml")
    classified = classify(frame, spec)
    assert in_cr_at_index(classified).tolist() == [True, True, False, False]
    assert classified["treatment_setting"].tolist()[2:] == ["induction", "re-induction"]
    assert in_cr_at_index(frame).tolist() == [False] * 4  # no treatment setting: nobody
