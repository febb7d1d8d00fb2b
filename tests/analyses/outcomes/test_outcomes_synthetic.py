"""On a synthetic EMR CDM, responses and event times equal the generator's ground truth exactly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from allrwe.analyses.outcomes import (
    OutcomeInputs,
    ResponseResult,
    endpoints_from_inputs,
    prepare_outcome_inputs,
    response_from_inputs,
)
from allrwe.analyses.outcomes import _read as outcome_inputs
from allrwe.analyses.therapy import index_treatments, prepare_inputs
from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import spec_from_text
from allrwe.synth import generate_cdm

SPEC = """
name: synthetic-outcomes
index_groups: {BLIN: [blinatumomab], INO: [inotuzumab_ozogamicin]}
entry: {allow_multiple_groups: false}
study_period: {start: 2021-08-01, end: 2023-06-30}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [-3650, 0]}}
"""


@dataclass(frozen=True)
class Run:
    response: ResponseResult
    endpoints: pd.DataFrame
    truth: pd.DataFrame
    truth_responses: pd.DataFrame


def _check_reused_patterns(src, vocab, cohort, inputs: OutcomeInputs) -> None:
    """Given the treatment patterns' inputs, the outcome inputs are the same, read once."""
    pattern_inputs = prepare_inputs(src, vocab, cohort)
    treatments = index_treatments(pattern_inputs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outcome_inputs, "prepare_inputs", _not_again)
        mp.setattr(outcome_inputs, "index_treatments", _not_again)
        reused = prepare_outcome_inputs(
            src, vocab, cohort, pattern_inputs=pattern_inputs, treatments=treatments
        )
    assert len(inputs.cycles) > 100
    for name in ("cycles", "treatment_end", "deaths", "labs"):
        pd.testing.assert_frame_equal(
            _sorted(getattr(reused, name)), _sorted(getattr(inputs, name))
        )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order (the engine returns them in any order)."""
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _not_again(*args: object, **kwargs: object) -> None:
    raise AssertionError("the treatment patterns' inputs were read again")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("synth") / "emr"
    res = generate_cdm(
        out, persons=1000, seed=3, profile="emr", fmt="duckdb",
        params={"population": {"all_patients": 300}},
    )  # fmt: skip
    vocab = load_vocabulary()
    spec = spec_from_text(SPEC)
    with connect(res.cdm_url) as src:
        cohort = build_cohort(src, spec, vocab)
        inputs = prepare_outcome_inputs(src, vocab, cohort)
        _check_reused_patterns(src, vocab, cohort, inputs)
    response = response_from_inputs(inputs)
    truth = pd.read_parquet(Path(out) / "truth" / "truth_patients")
    return Run(
        response,
        endpoints_from_inputs(inputs, response),
        truth[truth["novel_agent"]].set_index("person_id"),
        pd.read_parquet(Path(out) / "truth" / "truth_responses"),
    )


def _dates(values: pd.Series) -> list[object]:
    return [None if pd.isna(v) else pd.Timestamp(v) for v in values]


def test_cohort_is_the_truth_population(run: Run) -> None:
    persons = run.response.persons.set_index("person_id")
    assert len(persons) > 50
    assert sorted(persons.index) == sorted(run.truth.index)
    truth = run.truth.loc[persons.index]
    assert _dates(persons["index_date"]) == _dates(truth["index_date"])


def test_assessments_equal_truth(run: Run) -> None:
    got = run.response.assessments
    want = run.truth_responses
    assert len(got) == len(want)
    key = ["person_id", "assessment_date"]
    got = got.assign(assessment_date=pd.to_datetime(got["assessment_date"])).sort_values(key)
    want = want.assign(assessment_date=pd.to_datetime(want["assessment_date"])).sort_values(key)
    assert got["person_id"].tolist() == want["person_id"].tolist()
    assert got["assessment_date"].tolist() == want["assessment_date"].tolist()
    assert got["cycle"].tolist() == want["cycle"].tolist()
    assert got["response"].tolist() == want["response"].tolist()


def test_best_response_and_dates_equal_truth(run: Run) -> None:
    persons = run.response.persons.set_index("person_id")
    truth = run.truth.loc[persons.index]
    assert persons["best_response"].tolist() == truth["best_response"].tolist()
    assert set(truth["best_response"]) >= {"CR", "NR"}
    assert _dates(persons["best_response_date"]) == _dates(truth["best_response_date"])
    assert _dates(persons["first_response_date"]) == _dates(truth["first_remission_date"])
    assert persons["mrd_evaluable"].tolist() == truth["mrd_measured"].tolist()
    assert _dates(persons["first_mrd_negative_date"]) == _dates(truth["mrd_negative_date"])


@pytest.mark.parametrize("endpoint", ["efs", "os"])
def test_efs_and_os_equal_truth(run: Run, endpoint: str) -> None:
    ep = run.endpoints
    rows = ep[(ep["endpoint"] == endpoint) & (ep["censor_variant"] == "none")]
    rows = rows.set_index("person_id")
    truth = run.truth.loc[rows.index]
    assert rows["time_days"].astype(int).tolist() == truth[f"{endpoint}_time_days"].tolist()
    assert rows["event"].astype(bool).tolist() == truth[f"{endpoint}_event"].tolist()
    assert rows["event"].sum() > 5


def test_event_dates_equal_truth(run: Run) -> None:
    ep = run.endpoints.set_index("person_id")
    os_ = ep[(ep["endpoint"] == "os") & (ep["censor_variant"] == "none")]
    deaths = os_[os_["event"] == 1]
    assert _dates(deaths["end_date"]) == _dates(run.truth.loc[deaths.index, "death_date"])
    assert len(deaths) == run.truth["death_date"].notna().sum()
    efs = ep[(ep["endpoint"] == "efs") & (ep["censor_variant"] == "none")]
    relapses = efs[efs["reason"] == "relapse"]
    assert len(relapses) > 0
    assert _dates(relapses["end_date"]) == _dates(run.truth.loc[relapses.index, "relapse_date"])
    hsct = ep[(ep["endpoint"] == "time_to_hsct") & (ep["cause"] == 1)]
    assert len(hsct) == run.truth["hsct_date"].notna().sum()
    assert _dates(hsct["end_date"]) == _dates(run.truth.loc[hsct.index, "hsct_date"])
