"""Cumulative incidence against R survfit (multi-state) and cmprsk::cuminc; Gray's test."""

from __future__ import annotations

import numpy as np
import pytest
from survival_oracle import assert_r_close, cases, dataset, golden

from allrwe.analyses.survival import CONF_TYPES, cumulative_incidence, gray_test

CIF_CASES = {c["case"]: c for c in cases("cif_cases")}
GRID = [(c, t) for c in CIF_CASES for t in CONF_TYPES]


def _inputs(case_id):
    case = CIF_CASES[case_id]
    d = dataset(case["data"])
    return d[case["time"]].to_numpy(), d[case["cause"]].to_numpy()


@pytest.mark.parametrize(("case_id", "conf_type"), GRID)
def test_incidence_matches_survfit_multistate(case_id, conf_type):
    res = cumulative_incidence(*_inputs(case_id), conf_type=conf_type)
    g = golden("cif_table")
    g = g[(g["case"] == case_id) & (g["conf_type"] == conf_type)]
    for k, cause in enumerate(res.causes):
        want = g[g["cause"] == cause]
        got = res.cause_table(cause)
        for col in ("time", "n_risk", "n_event", "estimate", "std_err", "lower", "upper"):
            assert_r_close(got[col], want[col], what=f"cause {cause} {col}")
        assert_r_close(res.n_censor, want["n_censor"], what="n_censor")
        assert k == res.causes.index(cause)
    free = g[g["cause"] == 0]
    assert_r_close(res.event_free, free["estimate"], what="event-free")
    assert_r_close(res.event_free_std_err, free["std_err"], what="event-free se")


@pytest.mark.parametrize("case_id", list(CIF_CASES))
def test_cmprsk_variance_matches_cuminc(case_id):
    res = cumulative_incidence(*_inputs(case_id), variance="cmprsk")
    g = golden("cif_cmprsk_var")
    for cause in res.causes:
        want = g[(g["case"] == case_id) & (g["cause"] == cause)]
        rows = np.searchsorted(res.time, want["time"].to_numpy())
        k = res.causes.index(cause)
        assert_r_close(res.time[rows], want["time"], what="time")
        assert_r_close(res.estimate[rows, k], want["estimate"], what="estimate")
        assert_r_close(res.std_err[rows, k] ** 2, want["var"], what="var")


GRAY_CASES = cases("gray_cases")


@pytest.mark.parametrize("case", GRAY_CASES, ids=[c["case"] for c in GRAY_CASES])
def test_gray_test_matches_cuminc(case):
    d = dataset(case["data"])
    strata = d[case["strata"]].to_numpy() if isinstance(case["strata"], str) else None
    g = golden("gray")
    for row in g[g["case"] == case["case"]].itertuples():
        res = gray_test(
            d[case["time"]].to_numpy(),
            d[case["cause"]].to_numpy(),
            d[case["group"]].to_numpy(),
            cause_of_interest=int(row.cause),
            strata=strata,
            rho=case["rho"],
        )
        assert_r_close([res.stat, res.p], [row.stat, row.p], what=f"cause {row.cause}")
        assert res.df == row.df
