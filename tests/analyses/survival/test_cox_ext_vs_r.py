"""Cox aliasing, infinite estimates, case weights, robust variance and clusters vs R coxph."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from survival_oracle import assert_r_close, cases, dataset, golden

from allrwe.analyses.survival import cox
from allrwe.errors import StudyWarning

COXX = cases("coxx_cases")


def _opt(value):
    return value if isinstance(value, str) else None


def _fit(case: dict, ties: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cox(
            dataset(case["data"]),
            time=case["time"],
            event=case["event"],
            entry=_opt(case["entry"]),
            covariates=case["covariates"].split(";"),
            strata=_opt(case["strata"]),
            weights=_opt(case["weights"]),
            cluster=_opt(case["cluster"]),
            robust=bool(case["robust"]) or None,
            ties=ties,
        )
    return res, [str(w.message) for w in caught if issubclass(w.category, StudyWarning)]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", COXX, ids=[c["case"] for c in COXX])
def test_cox_matches_coxph(case, ties):
    res, _ = _fit(case, ties)
    coef = golden("coxx_coef")
    want = coef[(coef["case"] == case["case"]) & (coef["ties"] == ties)]
    assert list(res.terms) == list(want["term"])
    assert_r_close(res.coef, want["coef"], what="coef")
    # the information of a coefficient heading to infinity is a difference of nearly equal
    # sums (here 3e-7), so its SE carries that cancellation: 1e-6 for those terms only
    finite = ~res.infinite
    assert_r_close(res.se[finite], want["se"][finite], what="se")
    assert_r_close(res.se[~finite], want["se"][~finite], rtol=1e-6, what="se (infinite)")
    naive = np.sqrt(np.diag(res.naive_variance))
    plain = ~res.aliased & ~res.infinite
    assert_r_close(naive[plain], want["naive_se"][plain], what="naive se")
    fits = golden("coxx_fit")
    f = fits[(fits["case"] == case["case"]) & (fits["ties"] == ties)].iloc[0]
    assert (res.n, res.n_event, res.iterations) == (f["n"], f["n_event"], f["iter"])
    assert_r_close([res.loglik_null, res.loglik], [f["loglik_null"], f["loglik"]], what="ll")
    wald_rtol = 1e-6 if res.infinite.any() else 1e-8
    for name, test in (("lr", res.likelihood_ratio), ("wald", res.wald), ("score", res.score)):
        assert_r_close(test.statistic, f[name], rtol=wald_rtol if name == "wald" else 1e-8,
                       what=name)  # fmt: skip
        assert test.df == f["df"]
    assert res.robust == (not np.isnan(f["robust_score"]))
    if res.robust:
        assert res.robust_score is not None
        assert_r_close(res.robust_score.statistic, f["robust_score"], what="robust score")


def test_redundant_covariate_is_set_aside_as_r_does():
    # x2 = x1 + 1e-7 noise: R gives x2 NA and the LR test 2 df, x1 and sex as without x2
    case = next(c for c in COXX if c["case"] == "lung_alias")
    res, messages = _fit(case, "efron")
    assert res.aliased.tolist() == [False, True, False]
    assert np.isnan([res.coef[1], res.se[1], res.hazard_ratio[1]]).all()
    assert res.likelihood_ratio.df == 2
    assert res.variance[1].tolist() == [0.0, 0.0, 0.0]
    assert messages == [
        "cox: x2 redundant (aliased with the other covariates); set aside with an NA "
        "coefficient, as R's coxph"
    ]
    alone = cox(dataset("lung_x"), time="time", event="dead", covariates=["x1", "sex"])
    np.testing.assert_allclose(res.coef[[0, 2]], alone.coef, rtol=1e-12)
    assert res.table["aliased"].tolist() == [False, True, False]


def test_infinite_estimate_is_flagged_not_called_collinear():
    case = next(c for c in COXX if c["case"] == "lung_sep")
    res, messages = _fit(case, "efron")
    assert res.infinite.tolist() == [False, True]
    assert not res.aliased.any()
    assert res.converged
    r_warning = golden("coxx_warn").set_index("case").loc["lung_sep", "warning"]
    assert "variable  2 ; coefficient may be infinite" in r_warning
    assert messages == [
        "cox: the likelihood converged before the coefficient of sep; it may be infinite "
        "(monotone likelihood)"
    ]


def test_whole_number_weights_equal_repeated_rows_with_breslow_ties():
    # (Efron gives each tied death the mean weight, so it differs from repeated rows)
    d = dataset("lung_x").dropna(subset=["ph.ecog"]).reset_index(drop=True)
    d["k"] = 1 + np.arange(len(d)) % 3
    weighted = cox(d, time="time", event="dead", covariates=["age", "sex"], weights="k",
                   ties="breslow")  # fmt: skip
    repeated = d.loc[d.index.repeat(d["k"])]
    expanded = cox(repeated, time="time", event="dead", covariates=["age", "sex"],
                   ties="breslow")  # fmt: skip
    assert not weighted.robust
    np.testing.assert_allclose(weighted.coef, expanded.coef, rtol=1e-10)
    np.testing.assert_allclose(weighted.se, expanded.se, rtol=1e-10)


def test_cluster_of_one_row_each_is_the_robust_variance():
    d = dataset("lung_x").assign(row=lambda f: np.arange(len(f)))
    robust = cox(d, time="time", event="dead", covariates=["age", "sex"], robust=True)
    clustered = cox(d, time="time", event="dead", covariates=["age", "sex"], cluster="row")
    np.testing.assert_allclose(clustered.variance, robust.variance, rtol=1e-13)


def test_every_covariate_redundant_is_an_error():
    from allrwe.errors import AnalysisError

    d = pd.DataFrame({"t": [1, 2, 3, 4, 5], "e": [1, 1, 0, 1, 1], "x": [2.0] * 5})
    with pytest.raises(AnalysisError, match=r"every covariate of \['x'\] is constant"):
        cox(d, time="t", event="e", covariates=["x"])
