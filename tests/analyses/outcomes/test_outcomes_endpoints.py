"""Endpoint times, events and censoring reasons for constructed persons."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from outcome_fixtures import (
    CAR_T,
    HSCT,
    REFRACTORY,
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

from allrwe.analyses.outcomes import (
    ENDPOINT_COLUMNS,
    NOT_AVAILABLE,
    compute_endpoints,
    hsct_recorded,
    prepare_outcome_inputs,
)
from allrwe.cohort import Cohort
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec

CR = (1.0, 2.0, 200.0)
NR = (40.0, 0.2, 20.0)
PERSONS = list(range(1, 9))
ROWS = {
    "drug_exposure": [
        *(r for p in PERSONS if p != 4 for r in blin_cycles(p, 0)),
        *blin_cycles(4, 0, 42, 84),
    ],
    "measurement": [
        *triple(1, 31, *CR),
        *triple(2, 31, *NR),
        *triple(4, 100, *CR),
        *triple(5, 31, *CR),
        *triple(6, 31, *CR),
        *triple(7, 31, *CR),
        *triple(8, 31, *CR),
    ],
    "condition_occurrence": [
        cond(1, RELAPSE, -20),  # the relapse treated at index is not an event
        cond(1, RELAPSE, 152),
        cond(6, REFRACTORY, 90),
        cond(7, RELAPSE, 80),
    ],
    "procedure_occurrence": [proc(3, HSCT, 60), proc(7, CAR_T, 50), proc(8, HSCT, 150)],
    "death": [death(2, 121), death(5, 400), death(6, 200), death(8, 150)],
}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def _cohort(spec: StudySpec) -> Cohort:
    rows = [{"person_id": p} for p in PERSONS]
    rows[2] = {"person_id": 3, "treatment_setting": "consolidation", "setting": "ND"}
    return cohort(spec, rows)


@pytest.fixture(scope="module")
def cdm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cdm(tmp_path_factory.mktemp("ep") / "cdm.duckdb", PERSONS, ROWS)


def _endpoints(path: Path, vocab: Vocabulary, spec: StudySpec) -> pd.DataFrame:
    with connect(path) as src:
        return compute_endpoints(src, vocab, _cohort(spec))


@pytest.fixture(scope="module")
def endpoints(cdm_path: Path, vocab: Vocabulary) -> pd.DataFrame:
    return _endpoints(cdm_path, vocab, make_spec())


def _get(ep: pd.DataFrame, endpoint: str, variant: str = "none") -> dict[int, tuple]:
    rows = ep[(ep["endpoint"] == endpoint) & (ep["censor_variant"] == variant)]
    return {
        int(p): (int(t), int(e), r)
        for p, t, e, r in zip(
            rows["person_id"], rows["time_days"], rows["cause"], rows["reason"], strict=True
        )
    }


def test_overall_survival(endpoints: pd.DataFrame) -> None:
    assert _get(endpoints, "os") == {
        1: (366, 0, "observation_end"),
        2: (121, 1, "death"),
        3: (366, 0, "observation_end"),
        4: (366, 0, "observation_end"),
        5: (366, 0, "observation_end"),  # death after the observation period: censored
        6: (200, 1, "death"),
        7: (366, 0, "observation_end"),
        8: (150, 1, "death"),
    }


def test_event_free_survival(endpoints: pd.DataFrame) -> None:
    assert _get(endpoints, "efs") == {
        1: (152, 1, "relapse"),
        2: (1, 1, "treatment_failure"),  # no CR/CRh/CRi within 84 days: event on day 1
        3: (366, 0, "observation_end"),  # in remission at index: no failure rule
        4: (1, 1, "treatment_failure"),  # responded on day 100, after the window
        5: (366, 0, "observation_end"),
        6: (90, 1, "refractory"),
        7: (80, 1, "relapse"),
        8: (150, 1, "death"),
    }


def test_rfs_and_dor_are_for_responders_only(endpoints: pd.DataFrame) -> None:
    assert _get(endpoints, "rfs") == {
        1: (121, 1, "relapse"),
        4: (266, 0, "observation_end"),
        5: (335, 0, "observation_end"),
        6: (169, 1, "death"),
        7: (49, 1, "relapse"),
        8: (119, 1, "death"),
    }
    dor = _get(endpoints, "dor")
    assert set(dor) == {1, 4, 5, 6, 7, 8}
    assert dor[6] == (59, 1, "refractory")  # progression ends the response, not the RFS


def test_censoring_at_hsct_or_car_t(endpoints: pd.DataFrame) -> None:
    efs = _get(endpoints, "efs", "hsct_car_t")
    assert efs[3] == (60, 0, "allo_hsct")
    assert efs[7] == (50, 0, "car_t_infusion")
    assert efs[2] == (1, 1, "treatment_failure")
    assert efs[8] == (150, 1, "death")  # HSCT on the day of death: the death counts
    assert _get(endpoints, "os", "hsct_car_t")[3] == (60, 0, "allo_hsct")
    assert _get(endpoints, "rfs", "hsct_car_t")[7] == (19, 0, "car_t_infusion")


def test_competing_risk_codes(endpoints: pd.DataFrame) -> None:
    assert _get(endpoints, "time_to_hsct") == {
        1: (366, 0, "observation_end"),
        2: (121, 2, "death"),
        3: (60, 1, "hsct"),
        4: (366, 0, "observation_end"),
        5: (366, 0, "observation_end"),
        6: (200, 2, "death"),
        7: (366, 0, "observation_end"),
        8: (150, 1, "hsct"),  # HSCT on the day of death counts as HSCT
    }
    assert _get(endpoints, "time_to_hsct", "hsct_car_t") == {}
    nrm = _get(endpoints, "relapse_nrm")
    assert nrm[1] == (121, 1, "relapse")
    assert nrm[6] == (169, 2, "death")
    assert nrm[5] == (335, 0, "observation_end")


def test_endpoint_frame_shape(endpoints: pd.DataFrame) -> None:
    assert tuple(endpoints.columns) == ENDPOINT_COLUMNS
    first = endpoints[(endpoints["endpoint"] == "rfs") & (endpoints["person_id"] == 1)].iloc[0]
    assert first["start_date"] == pd.Timestamp("2020-02-01")
    assert first["end_date"] == pd.Timestamp("2020-06-01")
    assert (endpoints["event"] == (endpoints["cause"] > 0).astype("Int64")).all()
    assert endpoints["endpoint"].unique().tolist() == [
        "os", "efs", "rfs", "dor", "time_to_hsct", "relapse_nrm"
    ]  # fmt: skip
    assert endpoints["censor_variant"].unique().tolist() == ["none", "hsct_car_t"]


def test_followup_end_censors_at_the_cut_off(cdm_path: Path, vocab: Vocabulary) -> None:
    ep = _endpoints(cdm_path, vocab, make_spec("outcomes: {followup_end: 2020-06-30}"))
    os_ = _get(ep, "os")
    assert os_[1] == (181, 0, "followup_end")
    assert os_[2] == (121, 1, "death")
    assert _get(ep, "efs")[1] == (152, 1, "relapse")
    assert _get(ep, "efs")[6] == (90, 1, "refractory")
    assert _get(ep, "rfs")[5] == (150, 0, "followup_end")


def test_window_is_configurable(cdm_path: Path, vocab: Vocabulary) -> None:
    ep = _endpoints(cdm_path, vocab, make_spec("outcomes: {efs_no_cr_window_days: 100}"))
    assert _get(ep, "efs")[4] == (366, 0, "observation_end")


@pytest.mark.parametrize("with_death", [True, False])
def test_claims_endpoints_need_labs_and_status(
    tmp_path: Path, vocab: Vocabulary, with_death: bool
) -> None:
    rows = {
        k: v for k, v in ROWS.items() if k in ("drug_exposure", "procedure_occurrence", "death")
    }
    skip = () if with_death else ("death",)
    path = write_cdm(tmp_path / "claims.duckdb", PERSONS, rows, skip=skip)
    spec = make_spec()
    with connect(path) as src:
        inputs = prepare_outcome_inputs(src, vocab, _cohort(spec))
        ep = compute_endpoints(src, vocab, _cohort(spec), inputs=inputs)
    assert (inputs.labs_available, inputs.status_available) == (False, False)
    status = ep.groupby("endpoint")["status"].unique().map(list).to_dict()
    for name in ("efs", "rfs", "dor", "relapse_nrm"):
        assert status[name] == [NOT_AVAILABLE]
        assert ep.loc[ep["endpoint"] == name, "time_days"].isna().all()
    assert status["time_to_hsct"] == ["available"]
    if with_death:
        assert _get(ep, "os")[2] == (121, 1, "death")
    else:
        assert status["os"] == [NOT_AVAILABLE]


def test_time_to_hsct_needs_a_transplant_record_in_the_cdm(
    tmp_path: Path, vocab: Vocabulary
) -> None:
    # no allogeneic HSCT for anyone in the CDM (a CAR-T infusion only): time to HSCT and the
    # outcomes by HSCT after index are "not available", not a cumulative incidence of 0
    rows = {**ROWS, "procedure_occurrence": [proc(7, CAR_T, 50)]}
    path = write_cdm(tmp_path / "no_hsct.duckdb", PERSONS, rows)
    spec = make_spec()
    with connect(path) as src:
        inputs = prepare_outcome_inputs(src, vocab, _cohort(spec))
        ep = compute_endpoints(src, vocab, _cohort(spec), inputs=inputs)
    assert inputs.transplant_available is False
    hsct = ep[ep["endpoint"] == "time_to_hsct"]
    assert hsct["status"].unique().tolist() == [NOT_AVAILABLE]
    assert hsct["time_days"].isna().all()
    assert not hsct_recorded(ep)
    # the rest is unchanged: OS of person 2 still ends in death on day 121
    assert _get(ep, "os")[2] == (121, 1, "death")


def test_a_transplant_of_anyone_makes_time_to_hsct_available(endpoints: pd.DataFrame) -> None:
    assert hsct_recorded(endpoints)
