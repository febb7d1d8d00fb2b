"""Property checks of the survival estimators on random data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allrwe.analyses.survival import (
    CONF_TYPES,
    cox,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    logrank,
)
from allrwe.errors import AnalysisError


@st.composite
def survival_data(draw, min_size=1, max_size=40, max_cause=1):
    n = draw(st.integers(min_size, max_size))
    # few distinct times, so ties of events and censorings are common
    time = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    cause = draw(st.lists(st.integers(0, max_cause), min_size=n, max_size=n))
    return np.array(time, dtype=float), np.array(cause)


FAST = settings(max_examples=60, deadline=None)


@FAST
@given(data=survival_data(), conf_type=st.sampled_from(CONF_TYPES))
def test_km_is_a_monotone_probability_inside_its_band(data, conf_type):
    time, event = data
    fit = kaplan_meier(time, event, conf_type=conf_type)
    s = fit.survival
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 0)
    assert np.all(np.diff(fit.n_risk) <= 0)
    assert fit.n_risk[0] == time.size
    assert fit.n_event.sum() + fit.n_censor.sum() == time.size
    ok = ~np.isnan(fit.lower)
    assert np.all(fit.lower[ok] <= s[ok] + 1e-12)
    ok = ~np.isnan(fit.upper)
    assert np.all(fit.upper[ok] >= s[ok] - 1e-12)


@FAST
@given(data=survival_data(min_size=2), seed=st.integers(0, 2**32 - 1))
def test_km_does_not_depend_on_row_order(data, seed):
    time, event = data
    perm = np.random.default_rng(seed).permutation(time.size)
    a = kaplan_meier(time, event).table
    b = kaplan_meier(time[perm], event[perm]).table
    pd.testing.assert_frame_equal(a, b)


@FAST
@given(data=survival_data())
def test_integer_weights_equal_repeated_rows(data):
    time, event = data
    w = np.arange(time.size) % 3 + 1
    weighted = kaplan_meier(time, event, weights=w)
    repeated = kaplan_meier(np.repeat(time, w), np.repeat(event, w))
    np.testing.assert_allclose(weighted.survival, repeated.survival, rtol=1e-12)
    np.testing.assert_allclose(weighted.n_risk, repeated.n_risk, rtol=1e-12)
    np.testing.assert_allclose(weighted.std_err_log, repeated.std_err_log, rtol=1e-12)


@FAST
@given(data=survival_data(max_cause=3), conf_type=st.sampled_from(CONF_TYPES))
def test_incidences_and_event_free_add_up_to_one(data, conf_type):
    time, cause = data
    res = cumulative_incidence(time, cause, conf_type=conf_type)
    total = res.event_free + res.estimate.sum(axis=1)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-12)
    assert np.all(np.diff(res.estimate, axis=0) >= -1e-15)
    km = kaplan_meier(time, cause > 0)
    np.testing.assert_allclose(res.event_free, km.survival, rtol=1e-12, atol=1e-15)
    assert np.all(res.std_err >= 0)


@FAST
@given(data=survival_data(min_size=4), seed=st.integers(0, 2**32 - 1))
def test_logrank_is_invariant_to_group_labels(data, seed):
    time, event = data
    group = np.random.default_rng(seed).integers(0, 2, time.size)
    if np.unique(group).size < 2 or event.sum() == 0:
        return
    try:
        a = logrank(time, event, group)
    except AnalysisError:
        # no information (e.g. every row an event at one time): R's solve() fails too
        with pytest.raises(AnalysisError, match="singular"):
            logrank(time, event, np.where(group == 0, "z", "a"))
        return
    b = logrank(time, event, np.where(group == 0, "z", "a"))
    np.testing.assert_allclose(a.chisq, b.chisq, rtol=1e-10, atol=1e-14)
    assert a.chisq >= 0
    np.testing.assert_allclose(a.observed.sum(), event.sum())
    np.testing.assert_allclose(a.observed.sum(), a.expected.sum(), rtol=1e-10)


@FAST
@given(data=survival_data(min_size=6, max_cause=2), seed=st.integers(0, 2**32 - 1))
def test_gray_statistic_does_not_depend_on_row_order(data, seed):
    time, cause = data
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, time.size)
    if np.unique(group).size < 2 or not (cause == 1).any():
        return
    perm = rng.permutation(time.size)
    a = gray_test(time, cause, group)
    b = gray_test(time[perm], cause[perm], group[perm])
    np.testing.assert_allclose(a.stat, b.stat, rtol=1e-9, atol=1e-12)


def test_cox_is_invariant_to_shifting_a_covariate_and_to_row_order():
    rng = np.random.default_rng(7)
    n = 300
    x = rng.normal(size=n)
    time = np.ceil(rng.exponential(np.exp(-0.5 * x)) * 20)
    event = rng.random(n) < 0.8
    df = pd.DataFrame({"t": time, "e": event, "x": x, "x_shift": x + 100})
    a = cox(df, time="t", event="e", covariates=["x"])
    b = cox(df, time="t", event="e", covariates=["x_shift"])
    c = cox(df.sample(frac=1, random_state=3), time="t", event="e", covariates=["x"])
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)
    np.testing.assert_allclose(a.coef, c.coef, rtol=1e-10)
    np.testing.assert_allclose(a.loglik, c.loglik, rtol=1e-12)
    assert 0.3 < a.coef[0] < 0.7
