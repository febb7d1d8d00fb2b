"""Survival properties that ``tests/analyses/survival/test_survival_properties.py`` leaves out:
weighted curves, and what scaling every weight by ``c > 0`` does.

What holds (as in R ``survfit``): the curve S never depends on the scale of the weights; the
at-risk and event counts scale by ``c``. The variance depends on whether the weights are whole
numbers. Whole-number weights are frequency weights (Greenwood on weighted counts), so scaling
them by a whole ``c`` is ``c`` copies of every row: ``se(log S)`` shrinks by ``sqrt(c)``. Weights
with a fraction get the infinitesimal-jackknife (robust) variance, which does not depend on the
scale at all: the standard errors and the confidence limits stay the same. Moving between the
two (e.g. weights 1 → 0.5) changes the variance estimator, not the curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from allrwe.analyses.survival import CONF_TYPES, kaplan_meier

FAST = settings(max_examples=40, deadline=None)


@st.composite
def weighted_data(draw, *, whole: bool):
    n = draw(st.integers(2, 30))
    time = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if whole:
        weights = np.array(draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)), float)
    else:
        quarters = draw(st.lists(st.integers(1, 16), min_size=n, max_size=n))
        weights = np.array(quarters, dtype=float) / 4
        assume(np.any(weights != np.floor(weights)))
    return time, event, weights


def _is_whole(w: np.ndarray) -> bool:
    return bool(np.all(w == np.floor(w)))


@FAST
@given(data=weighted_data(whole=False), conf_type=st.sampled_from(CONF_TYPES))
def test_weighted_curve_is_a_monotone_probability_inside_its_band(data, conf_type):
    time, event, w = data
    fit = kaplan_meier(time, event, weights=w, conf_type=conf_type)
    assert fit.variance == "ij"
    s = fit.survival
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) <= 1e-15)
    ok = ~np.isnan(fit.lower)
    assert np.all(fit.lower[ok] <= s[ok] + 1e-12)
    ok = ~np.isnan(fit.upper)
    assert np.all(fit.upper[ok] >= s[ok] - 1e-12)


@FAST
@given(data=weighted_data(whole=False), seed=st.integers(0, 2**32 - 1))
def test_weighted_curve_does_not_depend_on_row_order(data, seed):
    time, event, w = data
    perm = np.random.default_rng(seed).permutation(time.size)
    a = kaplan_meier(time, event, weights=w).table
    b = kaplan_meier(time[perm], event[perm], weights=w[perm]).table
    pd.testing.assert_frame_equal(a, b, rtol=1e-10, atol=1e-14)


@FAST
@given(
    data=weighted_data(whole=False),
    c=st.floats(0.01, 100, allow_nan=False, allow_infinity=False),
)
def test_curve_ignores_the_scale_of_the_weights(data, c):
    time, event, w = data
    a = kaplan_meier(time, event, weights=w)
    b = kaplan_meier(time, event, weights=c * w)
    np.testing.assert_allclose(b.survival, a.survival, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(b.n_risk, c * a.n_risk, rtol=1e-10)
    np.testing.assert_allclose(b.n_event, c * a.n_event, rtol=1e-10, atol=1e-12)


@FAST
@given(data=weighted_data(whole=False), c=st.sampled_from([0.3, 0.7, 1.1, 2.9, 13.3]))
def test_robust_variance_and_limits_ignore_the_scale_of_fractional_weights(data, c):
    time, event, w = data
    assume(not _is_whole(c * w))
    a = kaplan_meier(time, event, weights=w)
    b = kaplan_meier(time, event, weights=c * w)
    assert a.variance == b.variance == "ij"
    np.testing.assert_allclose(b.std_err, a.std_err, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(b.lower, a.lower, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.upper, a.upper, rtol=1e-9, atol=1e-12)


@FAST
@given(data=weighted_data(whole=True), c=st.integers(2, 5))
def test_whole_weights_scaled_by_a_whole_number_act_as_copies(data, c):
    time, event, w = data
    a = kaplan_meier(time, event, weights=w)
    b = kaplan_meier(time, event, weights=c * w)
    copies = kaplan_meier(np.repeat(time, c), np.repeat(event, c), weights=np.repeat(w, c))
    assert a.variance == b.variance == "greenwood"
    np.testing.assert_allclose(b.survival, a.survival, rtol=1e-12)
    np.testing.assert_allclose(b.std_err_log, a.std_err_log / np.sqrt(c), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(b.std_err_log, copies.std_err_log, rtol=1e-9, atol=1e-15)


@FAST
@given(
    time=st.lists(st.integers(0, 10), min_size=2, max_size=30),
    seed=st.integers(0, 2**32 - 1),
    c=st.sampled_from([0.25, 0.5, 1.5, 3.3]),
)
def test_one_common_fractional_weight_changes_neither_curve_nor_limits(time, seed, c):
    # With every weight equal the robust variance coincides with Greenwood's, so switching
    # estimators (whole -> fractional weights) moves nothing; only where S reaches 0 does
    # Greenwood give NaN and the jackknife 0.
    t = np.array(time, dtype=float)
    e = np.random.default_rng(seed).random(t.size) < 0.6
    unit = kaplan_meier(t, e)
    common = kaplan_meier(t, e, weights=np.full(t.size, c))
    assert (unit.variance, common.variance) == ("greenwood", "ij")
    np.testing.assert_allclose(common.survival, unit.survival, rtol=1e-12)
    alive = unit.survival > 0
    np.testing.assert_allclose(common.std_err[alive], unit.std_err[alive], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(common.lower[alive], unit.lower[alive], rtol=1e-9, atol=1e-12)


def test_unequal_whole_weights_made_fractional_switch_to_the_robust_variance():
    # Weight 3 as a frequency weight is three persons; as a robust weight it is one person
    # counted three times, whose influence is not divided: the standard error grows.
    time = np.array([1, 2, 3, 4, 5, 6, 7, 8], dtype=float)
    event = np.array([1, 0, 1, 1, 0, 1, 0, 1], dtype=bool)
    w = np.array([3, 1, 3, 1, 3, 1, 3, 1], dtype=float)
    whole = kaplan_meier(time, event, weights=w)
    frac = kaplan_meier(time, event, weights=w * 1.001)
    assert (whole.variance, frac.variance) == ("greenwood", "ij")
    np.testing.assert_allclose(frac.survival, whole.survival, rtol=1e-12)
    # first event: S = 13/16, Greenwood se = S * sqrt(3 / (16 * 13))
    np.testing.assert_allclose(whole.std_err[0], 13 / 16 * np.sqrt(3 / (16 * 13)), rtol=1e-12)
    assert frac.std_err[0] > whole.std_err[0]
