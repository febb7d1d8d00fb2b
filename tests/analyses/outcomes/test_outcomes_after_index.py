"""Outcomes by HSCT after index: landmarks, Simon–Makuch curves and time-dependent Cox.

Ten BLIN patients, index 2020-01-01, observed to 2021-01-01 (OS censored on day 366):

====== ===== ===== ====================================================
person HSCT  death note
====== ===== ===== ====================================================
1      60    150   transplanted, dies
2      80          transplanted, alive
3      120   300   transplanted, dies
4      200         transplanted, alive
5      30    30    HSCT on the day of death: counts before it (no switch)
6            50
7            100
8            250
9, 10              alive
====== ===== ===== ====================================================

Persons 1–4 reach CR on day 31 (RFS starts then); person 11 has an HSCT on day 20, before its
CR on day 31, so its whole RFS follow-up is "hsct". Person 2 relapses on day 300.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from outcome_fixtures import (
    CAR_T,
    HSCT,
    RELAPSE,
    blin_cycles,
    cohort,
    cond,
    death,
    make_spec,
    proc,
    triple,
    write_cdm,
)

from allrwe.analyses.outcomes import after_index_records, after_index_sets
from allrwe.analyses.outcomes.after_index import CURVE_ANALYSIS, entries_between
from allrwe.analyses.survival import (
    DAYS_PER_MONTH,
    cox,
    kaplan_meier,
    kaplan_meier_by,
    landmark,
    logrank,
    simon_makuch,
    split_at_switch,
)
from allrwe.errors import AnalysisError, StudySpecError
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.results import ResultSet, suppress, validate_records
from allrwe.spec import StudySpec
from allrwe.study.stages import (
    RunInputs,
    TherapyOutput,
    VariableStrata,
    after_index_step,
    outcomes_step,
)

PERSONS = list(range(1, 12))
HSCT_DAY = {1: 60, 2: 80, 3: 120, 4: 200, 5: 30, 11: 20}
DEATH_DAY = {1: 150, 3: 300, 5: 30, 6: 50, 7: 100, 8: 250}
CR = (1.0, 2.0, 200.0)
ROWS = {
    "drug_exposure": [r for p in PERSONS for r in blin_cycles(p, 0)],
    "procedure_occurrence": [proc(p, HSCT, d) for p, d in HSCT_DAY.items()],
    "death": [death(p, d) for p, d in DEATH_DAY.items()],
    "measurement": [r for p in (1, 2, 3, 4, 11) for r in triple(p, 31, *CR)],
    "condition_occurrence": [cond(2, RELAPSE, 300)],
}
AFTER = "outcomes:\n  after_index: {landmarks_months: [3, 9], horizon_months: 6}\n"
# every curve time published, to compare with the engine (thinning: its own test below)
SPEC = "suppression: {policy: none}\n" + AFTER
L3, H6 = 3 * DAYS_PER_MONTH, 6 * DAYS_PER_MONTH


@pytest.fixture(scope="module")
def spec() -> StudySpec:
    return make_spec(SPEC)


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cdm(tmp_path_factory.mktemp("hsct") / "cdm.duckdb", PERSONS, ROWS)


@pytest.fixture(scope="module")
def run(cdm: Path, spec: StudySpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records as the study pipeline makes them (outcomes stage, then after-index)."""
    with connect(cdm) as src:
        run = RunInputs(src, spec, load_vocabulary(), cohort(spec, _rows()))
        outcomes = outcomes_step(run, TherapyOutput(), VariableStrata(run)).output
        records = after_index_step(run, outcomes).records
    assert outcomes.endpoints is not None
    return records, outcomes.endpoints


@pytest.fixture(scope="module")
def records(run: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return run[0]


@pytest.fixture(scope="module")
def endpoints(run: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return run[1]


def _rows() -> list[dict[str, object]]:
    return [{"person_id": p} for p in PERSONS]


def _cell(rec: pd.DataFrame, analysis: str, level: str, var_level: str, var: str = "os") -> dict:
    part = rec[
        (rec["analysis"] == analysis)
        & (rec["strata_level"] == level)
        & (rec["variable_level"] == var_level)
        & (rec["variable"] == var)
    ]
    return dict(zip(part["estimate_name"], part["value"], strict=True))


def _os(endpoints: pd.DataFrame, spec: StudySpec) -> pd.DataFrame:
    return after_index_sets(endpoints, spec)[("os", "BLIN")]


def test_analysis_set_takes_hsct_day_from_time_to_hsct(
    endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    os_set = _os(endpoints, spec)
    assert os_set["person_id"].tolist() == PERSONS
    switch = dict(zip(os_set["person_id"], os_set["switch"], strict=True))
    assert {p: s for p, s in switch.items() if not np.isnan(s)} == HSCT_DAY
    assert os_set["event"].tolist() == [int(p in DEATH_DAY) for p in PERSONS]
    assert os_set["time"].tolist() == [DEATH_DAY.get(p, 366) for p in PERSONS]
    # RFS starts at the CR on day 31: HSCT day - 31, and 0 for the HSCT before the CR
    rfs = after_index_sets(endpoints, spec)[("rfs", "BLIN")]
    assert dict(zip(rfs["person_id"], rfs["switch"], strict=True)) == {
        1: 29.0, 2: 49.0, 3: 89.0, 4: 169.0, 11: 0.0
    }  # fmt: skip


def test_landmark_hand_checked(records: pd.DataFrame) -> None:
    # Followed after day 91.3 (3 months): 1, 2, 11 (HSCT by then) and 3, 4, 7, 8, 9, 10.
    # hsct: 1 dies 58.7 days after the landmark, 2 and 11 are censored at 274.7
    # -> S(6 months = 182.6 days) = 2/3, with 2 at risk.
    hsct = _cell(records, "after_index_landmark", "hsct", "landmark 3 months")
    assert (hsct["n"], hsct["n_event"], hsct["n_risk"]) == (3, 1, 2)
    assert hsct["survival"] == pytest.approx(2 / 3, rel=1e-12)
    # no_hsct: deaths of 7 (8.7 days after), 8 (158.7) and 3 (208.7) among 6 -> S = 5/6 * 4/5
    # at 182.6 days (3 is still alive), with 3, 4, 9, 10 at risk.
    none = _cell(records, "after_index_landmark", "no_hsct", "landmark 3 months")
    assert (none["n"], none["n_event"], none["n_risk"]) == (6, 3, 4)
    assert none["survival"] == pytest.approx(5 / 6 * 4 / 5, rel=1e-12)
    test = _cell(records, "after_index_landmark", "overall", "landmark 3 months")
    assert (test["n_hsct"], test["n_no_hsct"], test["df"]) == (3, 6, 1)


def test_landmark_equals_direct_calls(
    records: pd.DataFrame, endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    data = _os(endpoints, spec)
    for months in (3, 9):
        lm = landmark(data["time"], data["event"], data["switch"], at=months * DAYS_PER_MONTH)
        curves = kaplan_meier_by(lm["time"], lm["event"], lm["switched"])
        where = f"landmark {months} months"
        for k, level in ((1, "hsct"), (0, "no_hsct")):
            got = _cell(records, "after_index_landmark", level, where)
            want = curves[k].at([H6])  # empty when the curve ends before the horizon
            assert got["n"] == (lm["switched"] == k).sum()
            for name in ("survival", "lower", "upper"):
                expected = want[name].iloc[0] if len(want) else np.nan
                np.testing.assert_allclose(got[name], expected, rtol=1e-12)
        lr = logrank(lm["time"], lm["event"], lm["switched"])
        got = _cell(records, "after_index_landmark", "overall", where)
        np.testing.assert_allclose([got["chisq"], got["p"]], [lr.chisq, lr.p], rtol=1e-12)
    # followed after 9 months (273.9 days): 2, 3, 4, 11 transplanted by then; 9, 10 not
    nine = "landmark 9 months"
    assert _cell(records, "after_index_landmark", "hsct", nine)["n"] == 4
    assert _cell(records, "after_index_landmark", "no_hsct", nine)["n"] == 2
    # 9 + 6 months is after the last day (366): no survival, never a made-up one
    assert np.isnan(_cell(records, "after_index_landmark", "hsct", nine)["survival"])


def test_simon_makuch_hand_checked_and_equal_to_direct_calls(
    records: pd.DataFrame, endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    # hsct curve: rows (60,150] death, (80,366], (120,300] death, (200,366], (20,366];
    # at day 150 the rows of 1, 2, 3 and 11 are at risk -> S(6 months) = 3/4; 3 at risk then.
    at6 = _cell(records, "after_index_simon_makuch", "hsct", "6 months")
    assert at6["survival"] == pytest.approx(3 / 4, rel=1e-12)
    assert at6["n_risk"] == 3
    overall = _cell(records, "after_index_simon_makuch", "hsct", "overall")
    assert (overall["n"], overall["n_event"]) == (5, 2)
    data = _os(endpoints, spec)
    curves = simon_makuch(data["time"], data["event"], data["switch"])
    for k, level in ((1, "hsct"), (0, "no_hsct")):
        km = curves[k]
        part = records[
            (records["analysis"] == CURVE_ANALYSIS)
            & (records["strata_level"] == level)
            & (records["variable"] == "os")
        ]
        table = part.pivot(index="variable_level", columns="estimate_name", values="value")
        table = table.loc[[f"{t:g}" for t in km.time]]  # KeyError if a curve time is missing
        assert len(table) == len(km.time)
        # each point: the estimates just before it, the exits since the previous one
        before = {c: np.concatenate([[1.0], getattr(km, c)[:-1]]) for c in ("survival", "lower",
                                                                             "upper")}  # fmt: skip
        since = {c: np.concatenate([[0.0], getattr(km, c)[:-1]]) for c in ("n_event", "n_censor")}
        for name, want in {"time_days": km.time, **before, "n_risk": km.n_risk, **since}.items():
            np.testing.assert_allclose(table[name].to_numpy(), want, rtol=1e-12)
        # risk sets differ by exactly the published exits and entries
        risk = table["n_risk"].to_numpy()
        flow = table["n_enter"] - table["n_event"] - table["n_censor"]
        np.testing.assert_array_equal(risk[1:] - risk[:-1], flow.to_numpy()[1:])
        np.testing.assert_allclose(
            _cell(records, "after_index_simon_makuch", level, "6 months")["survival"],
            km.at([H6])["survival"].iloc[0],
            rtol=1e-12,
        )


def test_simon_makuch_curves_are_thinned_as_every_curve(endpoints: pd.DataFrame) -> None:
    # min cell count 2. hsct curve (rows in the docstring): times 150 (death, 4 at risk),
    # 300 (death; person 4 entered on day 200), 366 (3 censored): one person enters after
    # the first time, and every point would leave that 1 to the summary's n minus the
    # points, so the curve has no point, and the 6-month survival is hidden.
    spec = make_spec("min_cell_count: 2\n" + AFTER)
    rec = after_index_records(endpoints, spec)
    curve = rec[(rec["analysis"] == CURVE_ANALYSIS) & (rec["variable"] == "os")]
    hsct = curve[curve["strata_level"] == "hsct"]
    assert set(hsct["variable_level"]) == set()
    assert np.isnan(_cell(rec, "after_index_simon_makuch", "hsct", "6 months")["survival"])
    # no_hsct: 11 at risk on day 20; deaths 30, 50, 100, 250, switches (censored) 20, 60,
    # 80, 120, 200, 2 censored at the end. The 6-month anchor, day 200 (3 deaths and 4
    # censored since day 20), would leave one death (day 250) after it, which the summary's
    # deaths minus the points' would show. Points 20, 80 and 366 hold every rule (2 deaths
    # and 2 censored by day 80; 2 deaths and 3 censored by day 366; the 2 at risk on day 366
    # censored after it), and the death on day 250 hides the 6-month survival.
    no = _cell(rec, CURVE_ANALYSIS, "no_hsct", "366")
    assert (no["n_risk"], no["n_event"], no["n_censor"], no["n_enter"]) == (2, 2, 3, 0)
    assert no["survival"] == pytest.approx(9 / 10 * 8 / 9 * 5 / 6 * 2 / 3, rel=1e-12)
    levels = set(curve.loc[curve["strata_level"] == "no_hsct", "variable_level"])
    assert levels == {"20", "80", "366"}
    summary = _cell(rec, "after_index_simon_makuch", "no_hsct", "overall")
    shown = curve.loc[
        (curve["strata_level"] == "no_hsct") & (curve["estimate_name"] == "n_event"), "value"
    ]
    assert summary["n_event"] - shown.sum() == 0
    at6 = _cell(rec, "after_index_simon_makuch", "no_hsct", "6 months")
    assert np.isnan(at6["survival"])


def test_entries_between_counts_late_entries_up_to_the_next_time() -> None:
    times = np.array([5.0, 9.0, 20.0])
    assert entries_between(times, np.array([0.0, 4.9, 5.0, 8.0, 9.0, 19.0])).tolist() == [2, 2, 0]


def test_time_dependent_cox_and_mantel_byar_equal_direct_calls(
    records: pd.DataFrame, endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    data = _os(endpoints, spec)
    rows = split_at_switch(data["time"], data["event"], data["switch"], person=data["person_id"])
    assert len(rows) == len(PERSONS) + 5  # 1-4 and 11 split; 5 dies on the day of its HSCT
    fit = cox(rows, time="stop", event="event", covariates=["switched"], entry="start",
              cluster="person")  # fmt: skip
    got = _cell(records, "after_index_cox", "overall", "hsct time-dependent")
    np.testing.assert_allclose(
        [got["hr"], got["hr_lower"], got["hr_upper"], got["p"]],
        [fit.hazard_ratio[0], fit.lower[0], fit.upper[0], fit.p[0]],
        rtol=1e-12,
    )
    assert (got["n"], got["n_event"], got["n_hsct"]) == (11, 6, 5)
    lr = logrank(rows["stop"], rows["event"], rows["switched"], entry=rows["start"])
    mb = _cell(records, "after_index_cox", "overall", "mantel-byar")
    np.testing.assert_allclose([mb["chisq"], mb["p"]], [lr.chisq, lr.p], rtol=1e-12)


def test_records_are_valid_and_small_counts_blank_their_estimates(records: pd.DataFrame) -> None:
    validate_records(records)
    assert set(records["variable"]) == {"os", "efs", "rfs"}
    out = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), 5).records
    hsct = out[
        (out["analysis"] == "after_index_landmark")
        & (out["strata_level"] == "hsct")
        & (out["variable_level"] == "landmark 3 months")
        & (out["variable"] == "os")
    ]
    # n = 3 < 5: the survival beside it is hidden too
    assert hsct.set_index("estimate_name")["suppressed"].to_dict() == {
        "n": True, "n_event": True, "n_risk": True, "survival": True, "lower": True,
        "upper": True,
    }  # fmt: skip
    # n = 6 of the others is not small, but the risk table publishes the 9 followed after
    # 3 months, so it would give the 3 away: hidden as the complement, with the test's sizes
    cells = out[(out["analysis"] == "after_index_landmark") & (out["variable"] == "os")
                & (out["variable_level"] == "landmark 3 months")]  # fmt: skip
    hidden = cells.set_index(["strata_level", "estimate_name"])["suppressed"]
    for cell in (("no_hsct", "n"), ("overall", "n_no_hsct"), ("no_hsct", "survival"),
                 ("overall", "chisq")):  # fmt: skip
        assert hidden[cell], cell
    assert cells["margin"].str.endswith("landmark 3 months/n").sum() == 2


def test_stage_is_silent_without_the_option(cdm: Path) -> None:
    plain = make_spec()
    with connect(cdm) as src:
        run = RunInputs(src, plain, load_vocabulary(), cohort(plain, _rows()))
        outcomes = outcomes_step(run, TherapyOutput(), VariableStrata(run)).output
        assert after_index_step(run, outcomes).records.empty
    assert outcomes.endpoints is not None
    assert after_index_records(outcomes.endpoints, plain)["analysis"].str.startswith("after").all()


def test_without_any_hsct_only_the_untransplanted_are_reported(
    endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    none = endpoints.copy()
    hsct = none["endpoint"] == "time_to_hsct"
    none.loc[hsct & (none["cause"] == 1), "cause"] = 0
    rec = after_index_records(none, spec)
    os_rec = rec[rec["variable"] == "os"]
    assert "after_index_cox" not in set(os_rec["analysis"])  # no switch: nothing to compare
    assert set(os_rec["strata_level"]) == {"hsct", "no_hsct"}
    assert _cell(os_rec, "after_index_simon_makuch", "hsct", "overall") == {"n": 0, "n_event": 0}
    assert _cell(os_rec, "after_index_landmark", "hsct", "landmark 3 months") == {
        "n": 0, "n_event": 0, "n_risk": 0
    }  # fmt: skip
    # the untransplanted curve is then plain Kaplan–Meier of everyone: 4 deaths of 11 by day
    # 182.6 (30, 50, 100, 150) -> S = (10/11)(9/10)(8/9)(7/8) = 7/11
    at6 = _cell(os_rec, "after_index_simon_makuch", "no_hsct", "6 months")
    assert at6["survival"] == pytest.approx(7 / 11, rel=1e-12)


def test_spec_rejects_an_endpoint_without_a_definition() -> None:
    with pytest.raises(StudySpecError, match=r"outcomes\.after_index\.endpoints\[1\].*'dor'"):
        make_spec("outcomes:\n  after_index: {endpoints: [os, dor]}\n")
    with pytest.raises(StudySpecError, match=r"outcomes\.after_index\.landmarks_months"):
        make_spec("outcomes:\n  after_index: {landmarks_months: [6, 3]}\n")


def test_untransplanted_curve_equals_os_censored_at_hsct(
    endpoints: pd.DataFrame, spec: StudySpec
) -> None:
    # Two code paths, one answer: the Simon–Makuch "no_hsct" curve is Kaplan–Meier censored
    # at the HSCT, i.e. the os:hsct_car_t variant here (no CAR-T in this CDM).
    curves = simon_makuch(*(_os(endpoints, spec)[c] for c in ("time", "event", "switch")))
    rows = endpoints[(endpoints["endpoint"] == "os")
                     & (endpoints["censor_variant"] == "hsct_car_t")]  # fmt: skip
    km = kaplan_meier(rows["time_days"].to_numpy(float), rows["event"].to_numpy(int))
    np.testing.assert_array_equal(curves[0].time, km.time)
    np.testing.assert_allclose(curves[0].survival, km.survival, rtol=1e-14)
    np.testing.assert_array_equal(curves[0].n_risk, km.n_risk)


def test_response_as_the_event_after_index(endpoints: pd.DataFrame) -> None:
    # persons 1-4 and 11 reach CR on day 31 (the start of their RFS): the switch is day 31
    spec = make_spec(
        "outcomes:\n  after_index: {event: response, endpoints: [os], landmarks_months: [3]}\n"
    )
    os_set = after_index_sets(endpoints, spec)[("os", "BLIN")]
    switch = dict(zip(os_set["person_id"], os_set["switch"], strict=True))
    responders = dict.fromkeys((1, 2, 3, 4, 11), 31.0)
    assert {p: s for p, s in switch.items() if not np.isnan(s)} == responders
    rec = after_index_records(endpoints, spec)
    assert set(rec["strata_level"]) >= {"response", "no_response"}
    # landmark 3 months (91.3 days): followed beyond it are 1-4, 8-11 (6, 7 died on days 50,
    # 100 -> 7 is followed beyond, 6 is not; 5 died on day 30); responders 1-4, 11
    lm = _cell(rec, "after_index_landmark", "response", "landmark 3 months")
    none = _cell(rec, "after_index_landmark", "no_response", "landmark 3 months")
    assert (lm["n"], none["n"]) == (5, 4)
    assert set(rec.loc[rec["analysis"] == "after_index_cox", "variable_level"]) == {
        "mantel-byar", "response time-dependent"
    }  # fmt: skip


def test_response_event_without_rfs_rows_is_refused(endpoints: pd.DataFrame) -> None:
    spec = make_spec("outcomes:\n  after_index: {event: response, endpoints: [os]}\n")
    with pytest.raises(AnalysisError, match="no rfs rows"):
        after_index_sets(endpoints[endpoints["endpoint"] != "rfs"], spec)


CAR_T_SPEC = (
    "suppression: {policy: none}\n"
    "outcomes:\n  after_index: {event: car_t, endpoints: [os], landmarks_months: [3],"
    " horizon_months: 6}\n"
)


@pytest.fixture(scope="module")
def car_t_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The persons of the docstring with CAR-T (not HSCT) on the HSCT days."""
    rows = {**ROWS, "procedure_occurrence": [proc(p, CAR_T, d) for p, d in HSCT_DAY.items()]}
    path = write_cdm(tmp_path_factory.mktemp("car_t") / "cdm.duckdb", PERSONS, rows)
    spec = make_spec(CAR_T_SPEC)
    with connect(path) as src:
        run = RunInputs(src, spec, load_vocabulary(), cohort(spec, _rows()))
        outcomes = outcomes_step(run, TherapyOutput(), VariableStrata(run)).output
        records = after_index_step(run, outcomes).records
    assert outcomes.endpoints is not None
    return records, outcomes.endpoints


def test_car_t_as_the_event_after_index(car_t_run: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, endpoints = car_t_run
    spec = make_spec(CAR_T_SPEC)
    # time to CAR-T competes with death: 1-4 and 11 have CAR-T, 5 dies on its CAR-T day
    # (counts as CAR-T, as for HSCT), 6-8 die first; nobody has an HSCT
    car_t = endpoints[endpoints["endpoint"] == "time_to_car_t"].set_index("person_id")
    assert car_t.loc[[1, 2, 3, 4, 5, 11], "time_days"].tolist() == [60, 80, 120, 200, 30, 20]
    assert (car_t.loc[[1, 2, 3, 4, 5, 11], "cause"] == 1).all()
    assert (car_t.loc[[6, 7, 8], "cause"] == 2).all()
    hsct = endpoints[endpoints["endpoint"] == "time_to_hsct"]
    assert (hsct["cause"] != 1).all()
    os_set = after_index_sets(endpoints, spec)[("os", "BLIN")]
    switch = dict(zip(os_set["person_id"], os_set["switch"], strict=True))
    assert {p: s for p, s in switch.items() if not np.isnan(s)} == {
        p: float(d) for p, d in HSCT_DAY.items()
    }
    assert set(records["strata_name"]) >= {"car_t_status", "car_t_by_landmark"}
    assert set(records["strata_level"]) >= {"car_t", "no_car_t"}
    # the same numbers as the HSCT analysis of the same days (the direct calls)
    rows = split_at_switch(os_set["time"], os_set["event"], os_set["switch"],
                           person=os_set["person_id"])  # fmt: skip
    fit = cox(rows, time="stop", event="event", covariates=["switched"], entry="start",
              cluster="person")  # fmt: skip
    got = _cell(records, "after_index_cox", "overall", "car_t time-dependent")
    np.testing.assert_allclose([got["hr"], got["p"]], [fit.hazard_ratio[0], fit.p[0]],
                               rtol=1e-12)  # fmt: skip
    assert (got["n"], got["n_event"], got["n_car_t"]) == (11, 6, 5)
    at6 = _cell(records, "after_index_simon_makuch", "car_t", "6 months")
    assert at6["survival"] == pytest.approx(3 / 4, rel=1e-12)


def test_car_t_event_without_any_car_t_record_is_not_available(cdm: Path) -> None:
    spec = make_spec(CAR_T_SPEC)
    with connect(cdm) as src:  # the HSCT CDM: no CAR-T record at all
        run = RunInputs(src, spec, load_vocabulary(), cohort(spec, _rows()))
        outcomes = outcomes_step(run, TherapyOutput(), VariableStrata(run)).output
        step = after_index_step(run, outcomes)
    assert step.unavailable == {"after_index": "no record of CAR-T in this CDM"}
    assert not step.records["analysis"].str.startswith("after_index_").any()
    assert outcomes.endpoints is not None
    rows = outcomes.endpoints[outcomes.endpoints["endpoint"] == "time_to_car_t"]
    assert len(rows) == len(PERSONS)
    assert (rows["status"] == "not available").all()


def test_several_events_are_analysed_apart(endpoints: pd.DataFrame) -> None:
    one = make_spec("suppression: {policy: none}\noutcomes:\n  after_index: {event: hsct}\n")
    two = make_spec(
        "suppression: {policy: none}\noutcomes:\n  after_index: {event: [hsct, response, hsct]}\n"
    )
    assert two.outcomes.after_index is not None
    assert two.outcomes.after_index.events == ["hsct", "response"]
    both = after_index_records(endpoints, two)
    hsct = both[both["strata_name"].str.startswith("hsct_")].reset_index(drop=True)
    pd.testing.assert_frame_equal(hsct, after_index_records(endpoints, one))
    assert set(both["strata_name"]) == {
        "hsct_by_landmark", "hsct_status", "response_by_landmark", "response_status"
    }  # fmt: skip
