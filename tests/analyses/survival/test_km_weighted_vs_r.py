"""Weighted Kaplan–Meier with zero weights against R survival 3.5 (golden_survival_ext.R)."""

from __future__ import annotations

import numpy as np
import pytest
from survival_oracle import assert_r_close, dataset, golden

from allrwe.analyses.survival import kaplan_meier

CASES = ["small", "lung_zero", "lung_iptw"]
CONF_TYPES = ["log", "log-log", "plain"]


def _fit(case: str, conf_type: str):
    d = dataset("kmw")
    d = d[d["case"] == case]
    return kaplan_meier(d["time"], d["event"], weights=d["w"], conf_type=conf_type)


def _golden(name: str, case: str, conf_type: str):
    g = golden(name)
    return g[(g["case"] == case) & (g["conf_type"] == conf_type)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_weighted_curve_matches_survfit(case, conf_type):
    fit = _fit(case, conf_type)
    r = _golden("kmw_table", case, conf_type)
    for col in ("time", "n_risk", "n_event", "survival", "std_err", "lower", "upper"):
        expected = r["surv" if col == "survival" else col]
        assert_r_close(getattr(fit, col), expected, what=col)
    assert fit.variance == "ij"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_weighted_quantiles_match_quantile_survfit(case, conf_type):
    fit = _fit(case, conf_type)
    r = _golden("kmw_quantile", case, conf_type)
    for prob, q, lo, hi in zip(r["prob"], r["quantile"], r["lower"], r["upper"], strict=True):
        est = fit.quantile(prob)
        assert_r_close([est.estimate, est.lower, est.upper], [q, lo, hi], what=f"q{prob}")


def test_zero_weight_last_at_risk_keeps_the_standard_error():
    # the row at time 6 has weight 0 and is alone at risk: R keeps SE 0.13527619 there
    fit = _fit("small", "log")
    assert np.isfinite(fit.std_err).all()
    assert fit.std_err[-1] == pytest.approx(0.13527618997959326, rel=1e-12)


def test_ij_standard_error_is_exactly_constant_between_event_times():
    # between events the SE must not drift in the last place (else a quantile limit can move
    # to a later knot); it is carried forward bit for bit
    fit = _fit("lung_zero", "log")
    flat = fit.n_event == 0
    previous = np.concatenate(([0.0], fit.std_err[:-1]))
    assert flat.sum() > 50
    np.testing.assert_array_equal(fit.std_err[flat], previous[flat])


def test_weighted_quartiles_match_r_on_100_random_sets():
    # ties, zero and fractional weights: every quartile and limit as quantile.survfit
    data = dataset("kmw_random")
    want = golden("kmw_random_quantile")
    for (set_id, conf_type), r in want.groupby(["set", "conf_type"]):
        d = data[data["set"] == set_id]
        fit = kaplan_meier(d["time"], d["event"], weights=d["w"], conf_type=conf_type)
        got = [fit.quantile(p) for p in r["prob"]]
        assert_r_close([g.estimate for g in got], r["quantile"], what=f"{set_id} q")
        assert_r_close([g.lower for g in got], r["lower"], what=f"{set_id} lower")
        assert_r_close([g.upper for g in got], r["upper"], what=f"{set_id} upper")
    assert want["set"].nunique() >= 95
