"""Cox regression against R survival::coxph 3.5."""

from __future__ import annotations

import numpy as np
import pytest
from survival_oracle import assert_r_close, cases, dataset, golden

from allrwe.analyses.survival import cox

COX_CASES = [(c, ties) for c in cases("cox_cases") for ties in ("efron", "breslow")]


@pytest.mark.parametrize(
    ("case", "ties"), COX_CASES, ids=[f"{c['case']}-{t}" for c, t in COX_CASES]
)
def test_cox_matches_coxph(case, ties):
    strata = case["strata"] if isinstance(case["strata"], str) else None
    res = cox(
        dataset(case["data"]),
        time=case["time"],
        event=case["event"],
        covariates=case["covariates"].split(";"),
        ties=ties,
        strata=strata,
    )
    coef = golden("cox_coef")
    want = coef[(coef["case"] == case["case"]) & (coef["ties"] == ties)]
    assert list(res.terms) == list(want["term"])
    for col in ("coef", "se", "lower", "upper", "z", "p"):
        assert_r_close(getattr(res, col), want[col], what=col)
    assert_r_close(res.hazard_ratio, want["hr"], what="hr")
    fits = golden("cox_fit")
    f = fits[(fits["case"] == case["case"]) & (fits["ties"] == ties)].iloc[0]
    assert (res.n, res.n_event, res.iterations) == (f["n"], f["n_event"], f["iter"])
    assert res.converged
    assert_r_close([res.loglik_null, res.loglik], [f["loglik_null"], f["loglik"]], what="ll")
    for name, test in (("lr", res.likelihood_ratio), ("wald", res.wald), ("score", res.score)):
        assert_r_close([test.statistic, test.p], [f[name], f[f"{name}_p"]], what=name)
        assert test.df == f[f"{name}_df"]
    np.testing.assert_allclose(np.sqrt(np.diag(res.variance)), res.se, rtol=1e-15)
