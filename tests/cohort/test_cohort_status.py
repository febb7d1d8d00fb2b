"""Day windows relative to the index date (allrwe.cohort.status)."""

from __future__ import annotations

import ibis
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
