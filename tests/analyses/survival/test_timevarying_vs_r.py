"""Split at a switch (HSCT), Simon–Makuch curves and landmarks vs R tmerge/survfit/coxph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from survival_oracle import assert_r_close, dataset, golden

from allrwe.analyses.outcomes.after_index import entries_between
from allrwe.analyses.survival import (
    cox,
    kaplan_meier_by,
    landmark,
    logrank,
    simon_makuch,
    split_at_switch,
)
from allrwe.errors import AnalysisError


def _jasa_rows() -> pd.DataFrame:
    d = dataset("jasa")
    rows = split_at_switch(d["futime"], d["fustat"], d["txtime"], person=d["id"])
    return rows.merge(d[["id", "age", "surgery"]], left_on="person", right_on="id")


def test_split_equals_tmerge_rows():
    ours = _jasa_rows()
    r = golden("tmerge_rows")
    assert len(ours) == len(r) == 169
    np.testing.assert_array_equal(ours["person"], r["id"])
    for mine, theirs in (("start", "tstart"), ("stop", "tstop"), ("event", "death"),
                         ("switched", "transplant")):  # fmt: skip
        np.testing.assert_array_equal(ours[mine].to_numpy(dtype=float), r[theirs], err_msg=mine)


def test_split_rule_at_the_edges():
    # no switch; switch mid-way; switch on the death day (counts before); switch on day 0
    rows = split_at_switch([5, 57, 4, 15], [1, 1, 1, 0], [np.nan, 11, 4, 0])
    assert rows.values.tolist() == [
        [0, 0, 5, 1, 0], [1, 0, 11, 0, 0], [1, 11, 57, 1, 1], [2, 0, 4, 1, 0], [3, 0, 15, 0, 1],
    ]  # fmt: skip


def test_split_with_entry_and_bad_input():
    rows = split_at_switch([10, 10], [1, 0], [2, 6], entry=[3, 3])
    assert rows[["start", "stop", "switched"]].values.tolist() == [
        [3, 10, 1], [3, 6, 0], [6, 10, 1],
    ]  # fmt: skip
    with pytest.raises(AnalysisError, match="switch has 1 negative or infinite"):
        split_at_switch([10, 10], [1, 0], [-1, np.nan])
    with pytest.raises(AnalysisError, match="switch has 1 rows but time has 2"):
        split_at_switch([10, 10], [1, 0], [1])


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_simon_makuch_matches_survfit_on_tmerge_rows(conf_type):
    d = dataset("jasa")
    curves = simon_makuch(d["futime"], d["fustat"], d["txtime"], conf_type=conf_type)
    g = golden("sm_km")
    assert sorted(curves) == [0, 1]
    for label, fit in curves.items():
        r = g[(g["conf_type"] == conf_type) & (g["group"] == label)]
        for col in ("time", "n_risk", "n_event", "std_err", "lower", "upper"):
            assert_r_close(getattr(fit, col), r[col], what=f"{label} {col}")
        assert_r_close(fit.survival, r["surv"], what=f"{label} surv")
    # the switched curve starts at the first transplant with those then at risk
    assert curves[1].time[0] >= np.nanmin(d["txtime"])


def test_simon_makuch_entries_balance_r_risk_sets():
    # the transplanted curve gains persons: R's consecutive numbers at risk differ by the
    # entries (allrwe.analyses.outcomes.after_index.entries_between on the tmerge rows) minus
    # R's events and the censorings at each time, exactly
    g = golden("sm_km")
    r = golden("tmerge_rows")
    for label in (0, 1):
        km = g[(g["conf_type"] == "log") & (g["group"] == label)]
        mine = r[r["transplant"] == label]
        time = km["time"].to_numpy(dtype=float)
        enter = entries_between(time, mine["tstart"].to_numpy(dtype=float))
        ends = mine[mine["death"] == 0]["tstop"].to_numpy(dtype=float)
        censor = np.array([(ends == t).sum() for t in time], dtype=float)
        risk, died = km["n_risk"].to_numpy(dtype=float), km["n_event"].to_numpy(dtype=float)
        flow = enter - died - censor
        np.testing.assert_array_equal(risk[1:] - risk[:-1], flow[:-1], err_msg=str(label))
        if label == 1:
            assert enter.sum() + risk[0] == len(mine)  # everyone enters once
            assert enter.sum() > 0


@pytest.mark.parametrize("conf_type", ["log", "log-log"])
def test_weighted_simon_makuch_matches_survfit(conf_type):
    # weights 0.5 + (id %% 3) * 0.4, 0 for every 10th person, as golden_survival_ext.R
    d = dataset("jasa")
    w = np.where(d["id"] % 10 == 0, 0.0, 0.5 + (d["id"] % 3) * 0.4)
    curves = simon_makuch(d["futime"], d["fustat"], d["txtime"], weights=w,
                          conf_type=conf_type)  # fmt: skip
    g = golden("cpw_km")
    for label, fit in curves.items():
        r = g[(g["case"] == "jasa_td") & (g["conf_type"] == conf_type)
              & (g["group"] == str(label))]  # fmt: skip
        assert fit.variance == "ij"
        for col in ("time", "n_risk", "n_event", "std_err", "lower", "upper"):
            assert_r_close(getattr(fit, col), r[col], what=f"{label} {col}")


def test_mantel_byar_test_matches_coxph_exact_score():
    rows = _jasa_rows()
    res = logrank(rows["stop"], rows["event"], rows["switched"], entry=rows["start"])
    r = golden("sm_logrank").iloc[0]
    assert_r_close(res.chisq, r["chisq"], what="Mantel-Byar chisq")
    assert res.df == r["df"]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("clustered", [False, True])
def test_time_dependent_cox_matches_coxph_on_tmerge_rows(ties, clustered):
    rows = _jasa_rows().rename(columns={"switched": "transplant"})
    res = cox(rows, time="stop", event="event", entry="start", ties=ties,
              covariates=["transplant", "age", "surgery"],
              cluster="person" if clustered else None)  # fmt: skip
    case = "jasa_td_cluster" if clustered else "jasa_td"
    coef = golden("td_coef")
    want = coef[(coef["case"] == case) & (coef["ties"] == ties)]
    assert_r_close(res.coef, want["coef"], what="coef")
    assert_r_close(res.se, want["se"], what="se")
    f = golden("td_fit")
    f = f[(f["case"] == case) & (f["ties"] == ties)].iloc[0]
    assert_r_close([res.loglik, res.wald.statistic], [f["loglik"], f["wald"]], what="fit")
    assert (res.n, res.n_event) == (f["n"], f["n_event"])


@pytest.mark.parametrize("at", [30, 90])
def test_landmark_matches_survfit_and_survdiff(at):
    d = dataset("jasa")
    lm = landmark(d["futime"], d["fustat"], d["txtime"], at=at)
    r = golden("lm_logrank").set_index("landmark").loc[at]
    assert (len(lm), int(lm["switched"].sum())) == (r["n"], r["n_switched"])
    test = logrank(lm["time"], lm["event"], lm["switched"])
    assert_r_close(test.chisq, r["chisq"], what="chisq")
    curves = kaplan_meier_by(lm["time"], lm["event"], lm["switched"])
    g = golden("lm_km")
    for label, fit in curves.items():
        want = g[(g["landmark"] == at) & (g["group"] == label)]
        for col in ("time", "n_risk", "n_event", "std_err", "lower", "upper"):
            assert_r_close(getattr(fit, col), want[col], what=f"{label} {col}")


def test_landmark_edges():
    lm = landmark([30, 31, 50], [1, 0, 1], [np.nan, 30, 40], at=30)
    # the person with the event on the landmark day is out; a switch on that day counts
    assert lm.values.tolist() == [[1, 1, 0, 1], [2, 20, 1, 0]]
    with pytest.raises(AnalysisError, match="nobody of 3 is followed after day 60"):
        landmark([30, 31, 50], [1, 0, 1], [np.nan, 30, 40], at=60)
