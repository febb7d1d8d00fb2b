"""Edge cases with hand-checked values, and input validation of the survival functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    KaplanMeier,
    cox,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    kaplan_meier_by,
    logrank,
    median_followup,
)
from allrwe.errors import AllrweError, AnalysisError


def test_censoring_tied_with_an_event_still_counts_at_risk():
    # at t=2: 4 at risk (two events, two censored) -> factor 2/4 after 10/11 at t=1
    fit = kaplan_meier([1, 2, 2, 2, 2, 3, 4], [1, 1, 0, 1, 0, 0, 1])
    t = fit.table.set_index("time")
    assert t.loc[2.0, "n_risk"] == 6
    assert t.loc[2.0, "n_event"] == 2
    assert t.loc[2.0, "n_censor"] == 2
    assert t.loc[2.0, "survival"] == pytest.approx((6 / 7) * (4 / 6), rel=1e-15)


def test_all_censored_curve_stays_at_one_without_median():
    fit = kaplan_meier([2, 3, 3, 5], [0, 0, 0, 0])
    np.testing.assert_array_equal(fit.survival, 1.0)
    np.testing.assert_array_equal(fit.std_err, 0.0)
    assert np.isnan(fit.lower).all()  # log-log has no interval at S = 1, as in R
    m = fit.median()
    assert np.isnan([m.estimate, m.lower, m.upper]).all()
    assert fit.rmst().estimate == 5.0


def test_single_row():
    fit = kaplan_meier([4.0], [1])
    assert fit.survival.tolist() == [0.0]
    assert np.isnan(fit.std_err[0])  # Greenwood is 0 * Inf at S = 0, NaN in R's summary
    assert fit.median().estimate == 4.0
    censored = kaplan_meier([4.0], [0])
    assert censored.survival.tolist() == [1.0]


def test_time_zero_events_count_at_time_zero():
    fit = kaplan_meier([0, 0, 1, 2], [1, 0, 1, 0])
    assert fit.time[0] == 0.0
    assert fit.survival[0] == pytest.approx(0.75)
    # no extra origin row when the curve already starts at 0
    assert fit.at([0.0]).survival.tolist() == [0.75]
    assert fit.at([-1.0]).survival.tolist() == [0.75]


def test_curve_reaching_zero_has_no_interval_there():
    fit = kaplan_meier([1, 2, 3], [1, 1, 1], conf_type="log")
    assert fit.survival[-1] == 0.0
    assert np.isnan(fit.lower[-1])
    assert np.isnan(fit.upper[-1])
    assert fit.quantile(1.0).estimate == 3.0


def test_median_midpoint_rule_when_flat_at_half():
    # S = 0.5 exactly after t=3 and stays until the event at t=5
    fit = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 0])
    assert fit.survival[2] == pytest.approx(0.5)
    assert fit.median().estimate == pytest.approx((3 + 5) / 2)


def test_landmarks_extend_semantics():
    fit = kaplan_meier([1, 2, 3, 5], [1, 0, 1, 0])
    assert fit.at([4, 10]).time.tolist() == [4.0]
    ext = fit.at([4, 10], extend=True)
    assert ext.time.tolist() == [4.0, 10.0]
    assert ext.n_risk.tolist() == [1.0, 0.0]
    assert ext.survival.iloc[1] == ext.survival.iloc[0]
    assert fit.at([7]).empty


def test_rmst_beyond_last_time_extends_last_value():
    fit = kaplan_meier([1, 2, 3], [1, 0, 0])
    assert fit.rmst(3).estimate == pytest.approx(1 + 2 * (2 / 3))
    assert fit.rmst(5).estimate == pytest.approx(1 + 4 * (2 / 3))


def test_median_followup_uses_reverse_km():
    # the deaths (t=1, t=2) are censored for follow-up; censorings at 3, 4, 5 are events
    got = median_followup([1, 2, 3, 4, 5], [1, 1, 0, 0, 0])
    assert got.estimate == 4.0


def test_kaplan_meier_by_returns_one_curve_per_sorted_group():
    curves = kaplan_meier_by([1, 2, 3, 4], [1, 0, 1, 1], ["b", "a", "b", "a"])
    assert list(curves) == ["a", "b"]
    assert curves["a"].n == 2
    assert curves["b"].survival.tolist() == [0.5, 0.0]


def test_estimator_shell():
    km = KaplanMeier(conf_type="log").fit([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    assert km.median_.estimate == 3.0
    assert list(km.survival_.columns[:2]) == ["time", "n_risk"]
    np.testing.assert_allclose(km.predict_survival([0.5, 1, 2.5, 9]), [1, 0.8, 0.6, 0.3])
    with pytest.raises(AnalysisError, match="not fitted"):
        KaplanMeier().predict_survival([1])


def test_days_per_month_convention():
    assert DAYS_PER_MONTH * 12 == 365.25


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"time": [1, -2], "event": [1, 0]}, "negative"),
        ({"time": [1, np.nan], "event": [1, 0]}, "missing"),
        ({"time": [], "event": []}, "0 rows"),
        ({"time": [1, 2], "event": [1, 2]}, "0/1"),
        ({"time": [1, 2], "event": [1]}, "rows"),
        ({"time": [1, 2], "event": [1, 0], "weights": [1, -1]}, "negative"),
        ({"time": [1, 2], "event": [1, 0], "weights": [0, 0]}, "all zero"),
        ({"time": [1, 2], "event": [1, 0], "conf_type": "loglog"}, "conf_type"),
        ({"time": [1, 2], "event": [1, 0], "conf_level": 1.5}, "conf_level"),
    ],
)
def test_kaplan_meier_rejects_bad_input(kwargs, match):
    with pytest.raises(AnalysisError, match=match):
        kaplan_meier(**kwargs)


def test_result_methods_reject_bad_arguments():
    fit = kaplan_meier([1, 2], [1, 0])
    with pytest.raises(AnalysisError, match="prob"):
        fit.quantile(1.5)
    with pytest.raises(AnalysisError, match="tau"):
        fit.rmst(-1)


def test_cox_input_errors():
    df = pd.DataFrame(
        {"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "x": [0, 1, 0, 1], "c": ["a", "b", "a", "b"]}
    )
    with pytest.raises(AnalysisError, match="not in data"):
        cox(df, time="t", event="e", covariates=["y"])
    with pytest.raises(AnalysisError, match="0/1 columns"):
        cox(df, time="t", event="e", covariates=["c"])
    with pytest.raises(AnalysisError, match="no events"):
        cox(df.assign(e=0), time="t", event="e", covariates=["x"])
    with pytest.raises(AnalysisError, match="every covariate of \\['x'\\] is constant"):
        cox(df.assign(x=1.0), time="t", event="e", covariates=["x"])
    with pytest.raises(AnalysisError, match="ties"):
        cox(df, time="t", event="e", covariates=["x"], ties="exact")  # type: ignore[arg-type]


def test_cox_drops_incomplete_rows():
    df = pd.DataFrame(
        {"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 1, 0], "x": [0.0, 1.0, np.nan, 1.0, 0.0, 0.5]}
    )
    res = cox(df, time="t", event="e", covariates=["x"])
    full = cox(df.dropna(), time="t", event="e", covariates="x")
    assert (res.n, res.n_event) == (5, 3)
    np.testing.assert_array_equal(res.coef, full.coef)


def test_tests_need_two_groups():
    with pytest.raises(AnalysisError, match="2 groups"):
        logrank([1, 2, 3], [1, 1, 0], ["a", "a", "a"])
    with pytest.raises(AnalysisError, match="2 groups"):
        gray_test([1, 2, 3], [1, 2, 0], [1, 1, 1])


def test_cumulative_incidence_input_errors():
    with pytest.raises(AnalysisError, match="codes"):
        cumulative_incidence([1, 2], [1, 1.5])
    with pytest.raises(AnalysisError, match="variance"):
        cumulative_incidence([1, 2], [1, 2], variance="delta")  # type: ignore[arg-type]
    res = cumulative_incidence([1, 2, 3], [1, 2, 0])
    with pytest.raises(AnalysisError, match="cause 3"):
        res.cause_table(3)


def test_errors_are_allrwe_errors():
    with pytest.raises(AllrweError):
        kaplan_meier([1], [3])
    with pytest.raises(ValueError, match="0/1"):
        kaplan_meier([1], [3])


def test_missing_groups_are_dropped_in_tests():
    time = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    event = np.array([1, 1, 0, 1, 1, 0, 1, 1])
    group = np.array(["a", "b", None, "a", "b", "a", "b", "a"], dtype=object)
    keep = np.array([g is not None for g in group])
    a = logrank(time, event, group)
    b = logrank(time[keep], event[keep], group[keep].astype(str))
    assert a.chisq == pytest.approx(b.chisq, rel=1e-12)
    assert int(a.n.sum()) == 7


def test_cumulative_incidence_without_events_and_stacked_table():
    none = cumulative_incidence([1, 2, 3], [0, 0, 0])
    assert none.causes == ()
    assert none.table.empty
    np.testing.assert_array_equal(none.event_free, 1.0)
    res = cumulative_incidence([0, 1, 1, 2], [1, 2, 0, 1])
    table = res.table
    assert table["cause"].tolist() == [1, 1, 1, 2, 2, 2]
    assert table["estimate"].tolist() == pytest.approx([0.25, 0.25, 0.75, 0.0, 0.25, 0.25])
