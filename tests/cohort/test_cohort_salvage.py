"""R/R inferred from a salvage regimen where no relapse is coded (classification.rr_salvage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cdm_builder import ALL_SNOMED, BLIN, FLUDARABINE, RELAPSE, cond, drug, make_cdm, obs, person

from allrwe.cohort import build_cohort
from allrwe.io import connect
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import spec_from_text

MITOXANTRONE = 1309188
CLOFARABINE = 19054821

SPEC = """\
name: salvage
index_groups: {BLIN: [blinatumomab]}
study_period: {start: 2018-01-01, end: 2021-12-31}
inclusion: {diagnosis: {concept_sets: [all_diagnosis], window: [null, 0]}}
"""

#: person -> (what happens before the blinatumomab index of 2020-06-01, expected default setting)
CASES = {
    1: ("fludarabine (FLAG-IDA) 60 days before", "RR"),
    2: ("mitoxantrone (MEC) 45 days before", "RR"),
    3: ("clofarabine 30 days before", "RR"),
    4: ("fludarabine on the index day only", "ND"),
    5: ("mitoxantrone the day after index", "ND"),
    6: ("no salvage drug, a relapse record", "RR"),
    7: ("nothing", "ND"),
    8: ("fludarabine 400 days before", "RR"),
}


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = "2020-06-01"
    drugs = [drug(p, BLIN, index, "2020-06-28") for p in CASES]
    drugs += [
        drug(1, FLUDARABINE, "2020-04-02", "2020-04-05"),
        drug(2, MITOXANTRONE, "2020-04-17", "2020-04-21"),
        drug(3, CLOFARABINE, "2020-05-02", "2020-05-06"),
        drug(4, FLUDARABINE, index),
        drug(5, MITOXANTRONE, "2020-06-02"),
        drug(8, FLUDARABINE, "2019-04-28", "2019-05-01"),
    ]
    tables = {
        "person": [person(p, 1980) for p in CASES],
        "observation_period": [obs(p, "2015-01-01", "2021-12-31") for p in CASES],
        "condition_occurrence": [cond(p, ALL_SNOMED, "2019-01-10") for p in CASES]
        + [cond(6, RELAPSE, "2020-05-20")],
        "drug_exposure": drugs,
    }
    return make_cdm(tmp_path_factory.mktemp("cdm") / "salvage.duckdb", tables)


def settings(cdm: Path, vocab: Vocabulary, extra: str = "") -> dict[int, str]:
    with connect(cdm) as src:
        cohort = build_cohort(src, spec_from_text(SPEC + extra), vocab)
    frame = cohort.frame
    return dict(zip(frame["person_id"], frame["setting"], strict=True))


def test_salvage_drug_strictly_before_index_makes_rr(cdm: Path, vocab: Vocabulary) -> None:
    assert settings(cdm, vocab) == {p: want for p, (_, want) in CASES.items()}


def test_salvage_rule_off_leaves_only_coded_relapse(cdm: Path, vocab: Vocabulary) -> None:
    got = settings(cdm, vocab, "classification: {rr_salvage: []}\n")
    assert got == {p: "RR" if p == 6 else "ND" for p in CASES}


def test_salvage_rule_honours_the_lookback(cdm: Path, vocab: Vocabulary) -> None:
    got = settings(cdm, vocab, "classification: {lookback_days: 365}\n")
    assert got[8] == "ND"  # fludarabine 400 days before index: outside the lookback
    assert [got[p] for p in (1, 2, 3, 6)] == ["RR", "RR", "RR", "RR"]


def test_salvage_rule_with_other_sets(cdm: Path, vocab: Vocabulary) -> None:
    got = settings(cdm, vocab, "classification: {rr_salvage: [mitoxantrone]}\n")
    assert {p for p, s in got.items() if s == "RR"} == {2, 6}
