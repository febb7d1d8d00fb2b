"""On a synthetic EMR CDM, Table 1 counts equal what the generator's ground truth implies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allrwe.analyses.baseline import summarise_baseline
from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import spec_from_text
from allrwe.synth import generate_cdm

SPEC = """
name: synthetic-baseline
index_groups: {BLIN: [blinatumomab], INO: [inotuzumab_ozogamicin]}
entry: {allow_multiple_groups: false}
study_period: {start: 2000-01-01, end: 2030-12-31}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [null, 0]}}
baseline: {labs: []}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = tmp_path_factory.mktemp("synth") / "emr"
    res = generate_cdm(
        out, persons=1000, seed=3, profile="emr", fmt="duckdb",
        params={"population": {"all_patients": 300}},
    )  # fmt: skip
    vocab = load_vocabulary()
    spec = spec_from_text(SPEC)
    with connect(res.cdm_url) as src:
        cohort = build_cohort(src, spec, vocab)
        records = summarise_baseline(src, vocab, cohort, spec)
    truth = pd.read_parquet(Path(out) / "truth" / "truth_patients").set_index("person_id")
    return records, truth.loc[cohort.frame["person_id"].to_numpy()]


def counts(records: pd.DataFrame, variable: str) -> dict[str, int]:
    sel = records[
        (records["group"] == "overall")
        & (records["strata_name"] == "overall")
        & (records["variable"] == variable)
        & (records["estimate_name"] == "count")
    ]
    return {str(k): int(v) for k, v in zip(sel["variable_level"], sel["value"], strict=True)}


def test_cohort_is_the_novel_agent_patients(run: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, truth = run
    assert len(truth) > 50
    assert truth["novel_agent"].all()
    assert counts(records, "persons") == {"overall": len(truth)}


def test_categorical_counts_equal_the_truth(run: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    records, truth = run
    sex = truth["sex"].value_counts()
    assert counts(records, "sex") == {"male": sex["male"], "female": sex["female"], "unknown": 0}
    ph = truth["ph_status"].value_counts()
    assert counts(records, "ph_status") == {
        "Ph+": ph["positive"], "Ph-": ph["negative"], "unknown": 0
    }  # fmt: skip
    for variable, column in (
        ("prior_hsct", "prior_hsct"),
        ("prior_car_t", "prior_cart"),
        ("prior_inotuzumab", "prior_ino"),
        ("prior_blinatumomab", "prior_blin"),
        ("cns_involvement", "cns_involvement"),
    ):
        assert counts(records, variable)["yes"] == int(truth[column].sum()), variable
    genetics = counts(records, "genetic_features")
    for feature, n in truth["genetic_feature"].value_counts().items():
        assert genetics[str(feature)] == n
    assert genetics["none recorded"] == int(truth["genetic_feature"].isna().sum())
    # the generator puts patients in remission at index into consolidation
    in_cr = int((truth["disease_status_at_index"] == "consolidation").sum())
    assert counts(records, "disease_status") == {
        "CR": in_cr, "non-CR": len(truth) - in_cr, "unknown": 0
    }  # fmt: skip
