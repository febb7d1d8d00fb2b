"""The record collector and the vectorised helpers of the survival summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allrwe.analyses.outcomes._records import COUNT, NUMERIC, RECORD_COLUMNS, Records, labels
from allrwe.analyses.outcomes.risk_table import risk_counts
from allrwe.analyses.outcomes.strata import row_groups

KEYS = {"group": "BLIN", "strata_name": "setting", "strata_level": "RR", "variable": "os"}


def test_add_table_equals_one_add_per_level() -> None:
    times = np.array([0.0, 6.5, 30.0])
    surv = np.array([1.0, 0.8, np.nan])
    risk = np.array([10, 8, 3])
    table = Records()
    table.add_table(KEYS, labels(times), [
        ("survival_curve", "time_days", NUMERIC, times),
        ("survival_curve", "survival", NUMERIC, surv),
        ("survival_curve_counts", "n_risk", COUNT, risk),
    ])  # fmt: skip
    one = Records()
    for t, s, r in zip(times, surv, risk, strict=True):
        level = {**KEYS, "variable_level": f"{t:g}"}
        one.add({**level, "analysis": "survival_curve"},
                {"time_days": (NUMERIC, t), "survival": (NUMERIC, s)})  # fmt: skip
        one.add({**level, "analysis": "survival_curve_counts"}, {"n_risk": (COUNT, r)})
    got, want = table.frame(), one.frame()
    pd.testing.assert_frame_equal(got, want)
    assert got["variable_level"].tolist() == ["0", "0", "0", "6.5", "6.5", "6.5", "30", "30", "30"]
    assert got["estimate_name"].tolist()[:3] == ["time_days", "survival", "n_risk"]
    assert got["value"].tolist()[:6] == [0.0, 1.0, 10.0, 6.5, 0.8, 8.0]
    assert np.isnan(got["value"].iloc[7])


def test_margin_only_on_counts_and_empty_frame() -> None:
    rec = Records()
    assert list(rec.frame().columns) == list(RECORD_COLUMNS)
    assert rec.frame()["analysis"].dtype == object
    rec.add({**KEYS, "analysis": "a", "variable_level": "overall"},
            {"n": (COUNT, 4), "p": (NUMERIC, None)}, margin="m")  # fmt: skip
    out = rec.frame()
    assert out["margin"].tolist() == ["m", ""]
    assert out["value"].iloc[0] == 4.0
    assert np.isnan(out["value"].iloc[1])
    assert not out["suppressed"].any()


@pytest.mark.parametrize("step", [1.0, 3.0, 2.5])
def test_risk_counts_match_a_count_per_month(step: float) -> None:
    rng = np.random.default_rng(3)
    time = rng.integers(0, 400, 60).astype("float64")
    event = rng.random(60) < 0.5
    months, n_risk, n_event, n_censor = risk_counts(time, event, step)
    assert months[0] == 0.0
    assert months[-1] * 30.4375 <= time.max() < (months[-1] + step) * 30.4375
    for m, r, e, c in zip(months, n_risk, n_event, n_censor, strict=True):
        t = m * 30.4375
        assert r == (time >= t).sum()
        assert e == (event & (time <= t)).sum()
        assert c == (~event & (time <= t)).sum()


def test_risk_counts_of_no_rows() -> None:
    months, n_risk, _, _ = risk_counts(np.zeros(0), np.zeros(0, dtype=bool), 3.0)
    assert months.size == 0
    assert n_risk.size == 0


def test_row_groups_follow_groupby() -> None:
    frame = pd.DataFrame({
        "endpoint": ["os", "efs", "os", "efs", "os", None],
        "variant": ["none", "none", "hsct", "none", "none", "none"],
    })  # fmt: skip
    got = [(k, p.tolist()) for k, p in row_groups(frame, ["endpoint", "variant"])]
    want = [(k, p.index.tolist()) for k, p in frame.groupby(["endpoint", "variant"], sort=False)]
    assert got == want
    assert got == [(("os", "none"), [0, 4]), (("efs", "none"), [1, 3]), (("os", "hsct"), [2])]
