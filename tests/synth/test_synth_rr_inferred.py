"""R/R at index from treatment where relapse is not coded, against the generator's truth.

The claims profile codes 30 % of relapses; the ohdsi profile codes them all. The salvage rule
(``classification.rr_salvage``: a FLAG-IDA, MEC or clofarabine drug before index) must find
every truth R/R patient with two or more prior lines (a salvage line, or a CAR-T with its
fludarabine lymphodepletion) and never call a newly diagnosed patient R/R.
"""

from __future__ import annotations

import pandas as pd
import pytest

from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import load_vocabulary
from allrwe.io.vocabulary_resolution import resolve_vocabulary
from allrwe.spec import spec_from_text
from allrwe.synth import SynthResult

SPEC = """
name: rr-inferred
index_groups: {BLIN: [blinatumomab], INO: [inotuzumab_ozogamicin]}
entry: {allow_multiple_groups: false}
study_period: {start: 2000-01-01, end: 2030-12-31}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [null, 0]}}
"""


def classified(res: SynthResult, extra: str = "") -> pd.DataFrame:
    """Cohort setting beside the truth's setting and prior lines, one row per patient."""
    with connect(res.cdm_url) as src:
        vocab, _ = resolve_vocabulary(src, load_vocabulary())
        cohort = build_cohort(src, spec_from_text(SPEC + extra), vocab)
    truth = pd.read_parquet(res.truth["truth_patients"])
    return cohort.frame[["person_id", "setting"]].merge(
        truth[["person_id", "setting", "prior_lines"]], on="person_id", suffixes=("", "_t")
    )


@pytest.mark.parametrize("profile", ["claims", "ohdsi"])
def test_salvage_rule_finds_every_multi_line_patient_and_no_nd(
    profile: str, request: pytest.FixtureRequest
) -> None:
    rows = classified(request.getfixturevalue(f"{profile}_cdm"))
    nd = rows[rows["setting_t"] == "ND"]
    assert len(nd) > 20
    assert (nd["setting"] == "ND").all()
    multi = rows[rows["prior_lines"] >= 2]
    assert len(multi) > 20
    assert (multi["setting"] == "RR").all()
    # one prior line and no coded relapse: only rr_min_line finds them (documented)
    one = rows[rows["prior_lines"] == 1]
    assert (one["setting"] == "RR").sum() > 0


def test_without_the_salvage_rule_claims_lose_multi_line_patients(claims_cdm: SynthResult) -> None:
    on = classified(claims_cdm)
    off = classified(claims_cdm, "classification: {rr_salvage: []}\n")
    multi_on = on[on["prior_lines"] >= 2]
    multi_off = off[off["prior_lines"] >= 2]
    assert (multi_on["setting"] == "RR").all()
    lost = int((multi_off["setting"] == "ND").sum())
    assert lost > 10  # 70 % of claims relapses are not coded
    # the rule adds R/R only: every patient R/R without it stays R/R with it
    both = on.merge(off, on="person_id", suffixes=("_on", "_off"))
    assert not ((both["setting_off"] == "RR") & (both["setting_on"] != "RR")).any()
    assert int((both["setting_on"] != both["setting_off"]).sum()) == lost
