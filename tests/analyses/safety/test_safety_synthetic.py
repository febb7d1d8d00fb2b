"""On a synthetic EMR CDM, AE and death counts equal what the generator's ground truth implies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allrwe.analyses.safety import summarise_safety
from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import spec_from_text
from allrwe.synth import generate_cdm

SPEC = """
name: synthetic-safety
index_groups: {BLIN: [blinatumomab], INO: [inotuzumab_ozogamicin]}
entry: {allow_multiple_groups: false}
study_period: {start: 2000-01-01, end: 2030-12-31}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [null, 0]}}
"""

#: records, truth of the cohort's patients, truth adverse events
Run = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


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
        records = summarise_safety(src, vocab, cohort, spec)
    truth = pd.read_parquet(Path(out) / "truth" / "truth_patients").set_index("person_id")
    aes = pd.read_parquet(Path(out) / "truth" / "truth_aes")
    return records, truth.loc[cohort.frame["person_id"].to_numpy()], aes


def counts(records: pd.DataFrame, analysis: str) -> dict[tuple[str, str], int]:
    sel = records[
        (records["analysis"] == analysis)
        & (records["group"] == "overall")
        & (records["strata_name"] == "overall")
        & (records["estimate_name"] == "count")
    ]
    return {
        (str(v), str(lv)): int(x)
        for v, lv, x in zip(sel["variable"], sel["variable_level"], sel["value"], strict=True)
    }


def test_ae_counts_in_the_treatment_window_equal_the_truth(run: Run) -> None:
    records, truth, aes = run
    window = truth[["index_date", "index_end_date"]].reset_index()
    a = aes.merge(window, on="person_id")
    onset = pd.to_datetime(a["onset_date"])
    inside = (onset >= pd.to_datetime(a["index_date"])) & (
        onset <= pd.to_datetime(a["index_end_date"]) + pd.Timedelta(days=30)
    )
    a = a[inside]
    got = counts(records, "safety_ae")
    assert a["person_id"].nunique() > 5
    assert got[("any_ae", "any grade")] == a["person_id"].nunique()
    assert got[("any_ae", "grade >=3")] == a.loc[a["grade"] >= 3, "person_id"].nunique()
    for term, rows in a.groupby("term"):
        assert got[(str(term), "any grade")] == rows["person_id"].nunique(), term
        assert got[(str(term), "grade >=3")] == rows.loc[rows["grade"] >= 3, "person_id"].nunique()
    for term in set(aes["term"]) - set(a["term"]):
        assert got[(str(term), "any grade")] == 0


def test_deaths_equal_the_truth(run: Run) -> None:
    records, truth, _ = run
    dead = truth[truth["death_recorded"]]
    days = (pd.to_datetime(dead["death_date"]) - pd.to_datetime(dead["index_date"])).dt.days
    got = counts(records, "safety_deaths")
    assert got[("death", "any")] == len(dead) > 0
    assert got[("death_within_30_days", "yes")] == int((days <= 30).sum())
    assert got[("death_within_60_days", "yes")] == int((days <= 60).sum())
    # treatment-related deaths carry the generator's local cause, named by its source value
    trm = int((dead["death_cause"] == "treatment-related").sum())
    assert got.get(("death", "transplant-related mortality"), 0) == trm
