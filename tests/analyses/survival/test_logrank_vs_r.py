"""Log-rank / G-rho tests against R survival::survdiff 3.5."""

from __future__ import annotations

import numpy as np
import pytest
from survival_oracle import assert_r_close, cases, dataset, golden

from allrwe.analyses.survival import logrank

LR_CASES = cases("logrank_cases")


@pytest.mark.parametrize("case", LR_CASES, ids=[c["case"] for c in LR_CASES])
def test_logrank_matches_survdiff(case):
    d = dataset(case["data"])
    strata = d[case["strata"]].to_numpy() if isinstance(case["strata"], str) else None
    res = logrank(
        d[case["time"]].to_numpy(),
        d[case["event"]].to_numpy(),
        d[case["group"]].to_numpy(),
        strata=strata,
        rho=case["rho"],
    )
    tests = golden("logrank_tests")
    want = tests[tests["case"] == case["case"]].iloc[0]
    assert_r_close([res.chisq, res.p], [want["chisq"], want["p"]], what="chisq, p")
    assert res.df == want["df"]
    groups = golden("logrank_groups")
    wg = groups[groups["case"] == case["case"]].set_index("group")
    got = res.table.assign(group=[str(g) for g in res.groups]).set_index("group")
    got = got.loc[wg.index]
    assert_r_close(got["observed"], wg["observed"], what="observed")
    assert_r_close(got["expected"], wg["expected"], what="expected")
    np.testing.assert_array_equal(got["n"], wg["n"])
    order = [list(map(str, res.groups)).index(g) for g in wg.index]
    assert_r_close(np.diag(res.variance)[order], wg["var_diag"], what="variance")
    assert int(res.n.sum()) == want["n_used"]
