"""Table 1 on claims-like data: Ph+ inferred from TKIs, unrecorded facts "unknown", no labs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from baseline_cdm import D0, cid, drug, proc, write_cdm

from allrwe.analyses.baseline import summarise_baseline, table_one
from allrwe.cohort import Cohort
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec, spec_from_text

SPEC = """
name: claims_test
index_groups: {A: [blinatumomab]}
study_period: {start: 2020-01-01, end: 2022-12-31}
baseline:
  variables: [ph_status, cns_involvement, chemo_intolerance, genetic_features]
  labs: [wbc]
"""


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory, vocab: Vocabulary) -> Path:
    tables = {
        "drug_exposure": [
            drug(1, cid(vocab, "dasatinib"), -400, -300),  # TKI before index
            drug(2, cid(vocab, "imatinib"), 20, 50),  # TKI after index: still Ph+
            drug(3, cid(vocab, "vincristine"), -30),
        ]
    }
    return write_cdm(tmp_path_factory.mktemp("claims") / "cdm.duckdb", tables)


def cohort_of(spec: StudySpec) -> Cohort:
    frame = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "group": "A",
            "index_date": D0,
            "index_set": "blinatumomab",
            "obs_start": "2015-01-01",
            "obs_end": "2022-12-31",
        }
    )
    return Cohort.from_frame(frame, spec=spec)


def run(cdm: Path, vocab: Vocabulary, text: str) -> pd.DataFrame:
    spec = spec_from_text(text)
    with connect(cdm) as source:
        return summarise_baseline(source, vocab, cohort_of(spec), spec)


def counts(records: pd.DataFrame, variable: str) -> dict[str, int]:
    sel = records[
        (records["group"] == "A")
        & (records["variable"] == variable)
        & (records["estimate_name"] == "count")
    ]
    return {str(k): int(v) for k, v in zip(sel["variable_level"], sel["value"], strict=True)}


def test_claims_baseline(cdm: Path, vocab: Vocabulary) -> None:
    records = run(cdm, vocab, SPEC)
    # no Ph records anywhere in the CDM: Ph+ is inferred from any TKI exposure
    assert counts(records, "ph_status") == {"Ph+ (TKI-inferred)": 2, "Ph- (no TKI)": 1}
    # CNS and genetics are never recorded: unknown, not "no"
    assert counts(records, "cns_involvement") == {"yes": 0, "no": 0, "unknown": 3}
    genetics = counts(records, "genetic_features")
    assert genetics["unknown"] == 3
    assert sum(genetics.values()) == 3
    # chemotherapy intolerance is never recorded: "not available", with no count at all
    assert counts(records, "chemo_intolerance") == {}
    row = ("overall", "overall", "Intolerant of intensive chemotherapy", "not available")
    assert table_one(records).loc[row].tolist() == ["not available", "not available"]
    # no lab results: n = 0 and the statistics are not estimable (never 0)
    assert counts(records, "wbc") == {"overall": 0, "missing": 3}
    mean = records[(records["variable"] == "wbc") & (records["estimate_name"] == "mean")]
    assert np.isnan(mean["value"]).all()
    wide = table_one(records)
    assert wide.loc[("overall", "overall", "WBC, 10^9/L", "mean (SD)"), "A"] == "–"


def test_ph_source_can_be_forced_to_records(cdm: Path, vocab: Vocabulary) -> None:
    text = SPEC.replace("labs: [wbc]", "labs: []\n  ph_status_source: records")
    records = run(cdm, vocab, text)
    assert counts(records, "ph_status") == {"Ph+": 0, "Ph-": 0, "unknown": 3}


HSCT_SPEC = """
name: hsct_test
index_groups: {A: [blinatumomab]}
study_period: {start: 2020-01-01, end: 2022-12-31}
baseline:
  variables: [prior_hsct, post_hct_relapse, prior_car_t]
  labs: []
"""


def test_sets_the_cdm_never_records_are_not_available(cdm: Path, vocab: Vocabulary) -> None:
    # no procedure and no CAR-T product anywhere in this CDM: "not available", never "no"
    records = run(cdm, vocab, HSCT_SPEC)
    wide = table_one(records)
    for variable in ("prior_hsct", "post_hct_relapse", "prior_car_t"):
        assert counts(records, variable) == {}  # no count at all, not even "no"
        sel = records[(records["variable"] == variable) & (records["group"] == "A")]
        assert set(sel["variable_level"]) == {"not available"}
    row = ("overall", "overall", "Prior allogeneic HSCT", "not available")
    assert wide.loc[row].tolist() == ["not available", "not available"]


def test_a_set_recorded_for_anyone_is_a_true_zero(tmp_path: Path, vocab: Vocabulary) -> None:
    # person 2's transplant is after the index date: no one had one before, a real 0
    tables = {"procedure_occurrence": [proc(2, cid(vocab, "allo_hsct"), 40)]}
    cdm = write_cdm(tmp_path / "cdm.duckdb", tables)
    records = run(cdm, vocab, HSCT_SPEC)
    assert counts(records, "prior_hsct") == {"yes": 0, "no": 3}
    assert counts(records, "post_hct_relapse")["no prior allo-HCT"] == 3
    assert counts(records, "prior_car_t") == {}
