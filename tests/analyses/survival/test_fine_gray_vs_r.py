"""Fine–Gray regression against cmprsk::crr 2.2 (golden_survival_ext.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from survival_oracle import assert_r_close, dataset, golden

from allrwe.analyses.survival import fine_gray
from allrwe.errors import AnalysisError

SPECS = {
    "mgus2_pcm": ("fg_mgus2", "etime", "event_cr", 1, ["age", "male", "hgb"]),
    "mgus2_death": ("fg_mgus2", "etime", "event_cr", 2, ["age", "male", "hgb"]),
    "bmt_relapse": ("fg_bmt", "t2", "cause_cr", 1, ["z1", "z3", "z8", "g2", "g3"]),
    "mgus2_pcm_cengroup_male": ("fg_mgus2", "etime", "event_cr", 1, ["age", "hgb"], "male"),
    "bmt_relapse_cengroup_z8": ("fg_bmt", "t2", "cause_cr", 1, ["z1", "g2", "g3"], "z8"),
}


def _fit(case: str):
    name, time, cause, code, cov, *groups = SPECS[case]
    return dataset(name), fine_gray(
        dataset(name), time=time, cause=cause, covariates=cov, cause_of_interest=code,
        censoring_groups=groups[0] if groups else None,
    )  # fmt: skip


@pytest.mark.parametrize("case", list(SPECS))
def test_fine_gray_matches_crr(case):
    _, res = _fit(case)
    want = golden("fg_coef")
    want = want[want["case"] == case]
    assert list(res.terms) == list(want["term"])
    assert_r_close(res.coef, want["coef"], what="coef")
    assert_r_close(res.se, want["se"], what="se")
    f = golden("fg_fit").set_index("case").loc[case]
    assert res.n == f["n"]
    assert res.converged == bool(f["converged"])
    assert_r_close([res.loglik, res.loglik_null], [f["loglik"], f["loglik_null"]], what="ll")


@pytest.mark.parametrize("case", list(SPECS))
def test_fine_gray_predictions_match_predict_crr(case):
    d, res = _fit(case)
    cov = SPECS[case][4]
    used = d.dropna(subset=cov + list(SPECS[case][5:]))
    rows = {1: used[cov].mean().to_numpy(), 2: used[cov].iloc[0].to_numpy()}
    want = golden("fg_predict")
    for k, x in rows.items():
        r = want[(want["case"] == case) & (want["row"] == k)]
        pred = res.predict(x)
        assert_r_close(pred["time"], r["time"], what="time")
        assert_r_close(pred["cif"], r["cif"], what=f"cif row {k}")


def test_fine_gray_input_errors():
    d = pd.DataFrame({"t": [1.0, 2, 3, 4], "c": [0, 2, 2, 0], "x": [0.0, 1, 0, 1]})
    with pytest.raises(AnalysisError, match="no failure with c = 1"):
        fine_gray(d, time="t", cause="c", covariates=["x"])
    with pytest.raises(AnalysisError, match=r"column\(s\) \['y'\] not in data"):
        fine_gray(d, time="t", cause="c", covariates=["y"])
    _, res = _fit("bmt_relapse")
    with pytest.raises(AnalysisError, match="predict needs 5 covariate value"):
        res.predict([1.0])
    assert np.all(np.diff(res.predict(np.zeros(5))["cif"]) >= 0)
