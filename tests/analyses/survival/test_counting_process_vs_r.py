"""(start, stop] input in KM, log-rank and Cox against R survival 3.5 (golden_survival_ext.R)."""

from __future__ import annotations

import numpy as np
import pytest
from survival_oracle import assert_r_close, cases, dataset, golden

from allrwe.analyses.survival import (
    KaplanMeier,
    cox,
    kaplan_meier,
    kaplan_meier_by,
    logrank,
    split_at_switch,
)
from allrwe.errors import AnalysisError

CP_SETS = {
    "heart": ("heart", "start", "stop", "event", "transplant"),
    "lung_lt": ("lung_lt", "entry", "time", "dead", "sex"),
}


def _km_rows(case: str, conf_type: str, group: str):
    g = golden("cp_km")
    return g[(g["case"] == case) & (g["conf_type"] == conf_type) & (g["group"] == group)]


def _check_curve(fit, r) -> None:
    for col in ("time", "n_risk", "n_event", "n_censor", "std_err", "lower", "upper"):
        assert_r_close(getattr(fit, col), r[col], what=col)
    assert_r_close(fit.survival, r["surv"], what="surv")


@pytest.mark.parametrize("case", list(CP_SETS))
@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_km_with_entry_matches_survfit_start_stop(case, conf_type):
    name, start, stop, event, group = CP_SETS[case]
    d = dataset(name)
    fit = kaplan_meier(d[stop], d[event], entry=d[start], conf_type=conf_type)
    _check_curve(fit, _km_rows(case, conf_type, "all"))
    by = kaplan_meier_by(d[stop], d[event], d[group], entry=d[start], conf_type=conf_type)
    assert len(by) == 2
    for label, curve in by.items():
        _check_curve(curve, _km_rows(case, conf_type, str(label)))


def test_estimator_shell_takes_entry():
    d = dataset("lung_lt")
    shell = KaplanMeier(conf_type="log").fit(d["time"], d["dead"], entry=d["entry"])
    _check_curve(shell.result_, _km_rows("lung_lt", "log", "all"))


def test_km_entry_at_zero_is_the_right_censored_curve():
    d = dataset("lung_lt")
    plain = kaplan_meier(d["time"], d["dead"])
    zero = kaplan_meier(d["time"], d["dead"], entry=np.zeros(len(d)))
    np.testing.assert_array_equal(zero.n_risk, plain.n_risk)
    np.testing.assert_allclose(zero.survival, plain.survival, rtol=1e-15)


def test_km_entry_not_before_stop_is_rejected():
    with pytest.raises(AnalysisError, match=r"entry is not before the stop time in 1 row"):
        kaplan_meier([3, 4], [1, 0], entry=[3, 0])


def _cpw_rows(case: str, conf_type: str, group: str):
    g = golden("cpw_km")
    return g[(g["case"] == case) & (g["conf_type"] == conf_type) & (g["group"] == group)]


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_weighted_km_with_entry_matches_survfit_ij(conf_type):
    d = dataset("lung_lt")
    fit = kaplan_meier(d["time"], d["dead"], entry=d["entry"], weights=d["wt"],
                       conf_type=conf_type)  # fmt: skip
    assert fit.variance == "ij"
    _check_curve_weighted(fit, _cpw_rows("lung_lt", conf_type, "all"))


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_weighted_simon_makuch_rows_match_survfit_ij(conf_type):
    # IPTW-style weights on the tmerge rows of jasa (0 for every 10th person)
    d = dataset("jasa")
    rows = split_at_switch(d["futime"], d["fustat"], d["txtime"], person=d["id"])
    w = np.where(rows["person"] % 10 == 0, 0.0, 0.5 + (rows["person"] % 3) * 0.4)
    curves = kaplan_meier_by(rows["stop"], rows["event"], rows["switched"],
                             entry=rows["start"], weights=w, conf_type=conf_type)  # fmt: skip
    for label, fit in curves.items():
        _check_curve_weighted(fit, _cpw_rows("jasa_td", conf_type, str(label)))


def _check_curve_weighted(fit, r) -> None:
    for col in ("time", "n_risk", "n_event", "std_err", "lower", "upper"):
        assert_r_close(getattr(fit, col), r[col], what=col)
    assert_r_close(fit.survival, r["surv"], what="surv")


LOGRANK = {
    "heart_transplant": ("heart", "start", "stop", "event", "transplant", None),
    "heart_surgery": ("heart", "start", "stop", "event", "surgery", None),
    "lung_lt_sex": ("lung_lt", "entry", "time", "dead", "sex", None),
    "lung_lt_ecog": ("lung_lt", "entry", "time", "dead", "ph.ecog", None),
    "lung_lt_sex_strata_ecog": ("lung_lt", "entry", "time", "dead", "sex", "ph.ecog"),
}


@pytest.mark.parametrize("case", list(LOGRANK))
def test_logrank_with_entry_matches_coxph_exact_score(case):
    name, start, stop, event, group, strata = LOGRANK[case]
    d = dataset(name)
    res = logrank(
        d[stop], d[event], d[group], entry=d[start], strata=None if strata is None else d[strata]
    )
    r = golden("cp_logrank").set_index("case").loc[case]
    assert_r_close(res.chisq, r["chisq"], what="chisq")
    assert res.df == r["df"]
    used = d[group].notna() & (d[strata].notna() if strata is not None else True)
    assert res.observed.sum() == d.loc[used, event].sum()
    assert res.n.sum() == r["n"]


def test_logrank_entry_at_zero_equals_survdiff_statistic():
    d = dataset("lung_lt")
    plain = logrank(d["time"], d["dead"], d["sex"])
    zero = logrank(d["time"], d["dead"], d["sex"], entry=np.zeros(len(d)))
    assert zero.chisq == pytest.approx(plain.chisq, rel=1e-13)
    np.testing.assert_allclose(zero.expected, plain.expected, rtol=1e-13)


CPX = cases("cpx_cases")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", CPX, ids=[c["case"] for c in CPX])
def test_cox_with_entry_matches_coxph_start_stop(case, ties):
    res = cox(
        dataset(case["data"]),
        time=case["time"],
        event=case["event"],
        entry=case["entry"],
        covariates=case["covariates"].split(";"),
        strata=case["strata"] if isinstance(case["strata"], str) else None,
        ties=ties,
    )
    coef = golden("cpx_coef")
    want = coef[(coef["case"] == case["case"]) & (coef["ties"] == ties)]
    assert list(res.terms) == list(want["term"])
    assert_r_close(res.coef, want["coef"], what="coef")
    assert_r_close(res.se, want["se"], what="se")
    fits = golden("cpx_fit")
    f = fits[(fits["case"] == case["case"]) & (fits["ties"] == ties)].iloc[0]
    assert (res.n, res.n_event, res.iterations) == (f["n"], f["n_event"], f["iter"])
    assert_r_close([res.loglik_null, res.loglik], [f["loglik_null"], f["loglik"]], what="ll")
    for name, test in (("lr", res.likelihood_ratio), ("wald", res.wald), ("score", res.score)):
        assert_r_close(test.statistic, f[name], what=name)
        assert test.df == f["df"]
