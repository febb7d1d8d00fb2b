"""Cohort construction on a hand-made CDM: attrition per step, entry rules, status at index."""

from __future__ import annotations

import pandas as pd
import pytest

from allrwe.cohort import ATTRITION_COLUMNS, COHORT_COLUMNS, Cohort, build_cohort
from allrwe.errors import StudySpecError, StudyWarning
from allrwe.io import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import spec_from_text

SPEC = """\
name: attrition
index_groups:
  INO: [inotuzumab_ozogamicin]
  BLIN: [blinatumomab]
study_period: {start: 2018-01-01, end: 2021-12-31}
inclusion:
  min_prior_observation_days: 180
  diagnosis: {concept_sets: [all_diagnosis], window: [-365, 0]}
  age: {min: 18, max: 75}
  exclusions:
    - {name: T-lineage ALL, concept_sets: [t_lineage_all], window: [null, 0]}
"""


def counts(cohort_attrition: pd.DataFrame, group: str) -> list[tuple[str, int, int, int]]:
    sub = cohort_attrition[cohort_attrition["group"] == group]
    return [(r.step, r.n_records, r.n_persons, r.n_excluded) for r in sub.itertuples(index=False)]


@pytest.fixture(scope="module")
def cohort(attrition_source: CdmSource, vocab: Vocabulary) -> Cohort:
    return build_cohort(attrition_source, spec_from_text(SPEC), vocab)


def test_attrition_per_step(cohort: Cohort) -> None:
    assert list(cohort.attrition.columns) == list(ATTRITION_COLUMNS)
    assert counts(cohort.attrition, "INO") == [
        ("records", 7, 5, 0),
        ("in_period", 7, 5, 0),
        ("first_per_person", 5, 5, 0),
        ("observation_period", 4, 4, 1),  # person 6: no period holds the index date
        ("prior_observation", 3, 3, 1),  # person 7: 61 days of prior observation
        ("diagnosis", 2, 2, 1),  # person 8: diagnosis 517 days before index
        ("age", 2, 2, 0),
        ("exclusion_1", 1, 1, 1),  # person 3: T-lineage ALL
    ]
    assert counts(cohort.attrition, "BLIN") == [
        ("records", 9, 7, 0),
        ("in_period", 7, 6, 1),  # person 5: only in 2022
        ("first_per_person", 6, 6, 0),
        ("observation_period", 6, 6, 0),
        ("prior_observation", 6, 6, 0),
        ("diagnosis", 6, 6, 0),
        ("age", 4, 4, 2),  # person 9 aged 16, person 11 aged 76
        ("exclusion_1", 4, 4, 0),
    ]
    reasons = cohort.attrition.set_index(["group", "step"])["reason"]
    assert reasons[("INO", "exclusion_1")] == "no T-lineage ALL in [-inf, 0] days"
    assert reasons[("INO", "diagnosis")] == "all_diagnosis in [-365, 0] days"


def test_cohort_rows_and_columns(attrition_source: CdmSource, cohort: Cohort) -> None:
    frame = cohort.frame
    assert list(frame.columns) == list(COHORT_COLUMNS)
    assert list(zip(frame["group"], frame["person_id"], strict=True)) == [
        ("INO", 1),
        ("BLIN", 1),
        ("BLIN", 2),
        ("BLIN", 4),
        ("BLIN", 10),
    ]
    row = frame.set_index(["group", "person_id"])
    # person 1 enters both groups (allow_multiple_groups), each with its own index date
    assert row.loc[("INO", 1), "index_date"] == pd.Timestamp("2019-03-01")
    assert row.loc[("BLIN", 1), "index_date"] == pd.Timestamp("2019-06-01")
    assert row.loc[("BLIN", 4), "index_date"] == pd.Timestamp("2019-01-01")
    assert row.loc[("BLIN", 2), "index_set"] == "blinatumomab"
    assert row.loc[("BLIN", 2), "obs_start"] == pd.Timestamp("2019-06-01")
    assert row.loc[("BLIN", 2), "obs_end"] == pd.Timestamp("2022-12-31")
    # ages: birthday rule (missing month/day = 1 January)
    assert row.loc[("BLIN", 2), "age_at_index"] == 29
    assert row.loc[("INO", 1), "age_at_index"] == 39
    assert row.loc[("BLIN", 10), "age_at_index"] == 74
    assert row.loc[("BLIN", 2), "gender_concept_id"] == 8532
    # the executed table and the engine table agree
    from_engine = attrition_source.execute(cohort.table)
    assert from_engine["person_id"].tolist() == frame["person_id"].tolist()
    assert attrition_source.execute(cohort.persons_table())["person_id"].nunique() == 4


def test_status_at_index(cohort: Cohort) -> None:
    row = cohort.frame.set_index(["group", "person_id"])
    status = {k: (v.setting, v.treatment_setting) for k, v in row.iterrows()}
    assert status == {
        ("INO", 1): ("RR", "re-induction"),  # relapse record 9 days before index
        ("BLIN", 1): ("RR", "re-induction"),
        ("BLIN", 2): ("ND", "consolidation"),  # MRD measured 9 days before index
        ("BLIN", 4): ("ND", "induction"),
        ("BLIN", 10): ("RR", "consolidation"),  # prior HSCT; remission record 7 days before
    }
    assert row["line_at_index"].to_dict() == {
        ("INO", 1): 1,
        ("BLIN", 1): 2,  # blinatumomab is a new drug after INO's regimen window
        ("BLIN", 2): 1,
        ("BLIN", 4): 2,  # a 2-year gap after the 2017 record
        ("BLIN", 10): 2,  # HSCT opens no line; blinatumomab comes 578 days later (gap)
    }


def test_first_index_drug_only(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = SPEC + "entry: {allow_multiple_groups: false}\n"
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert counts(cohort.attrition, "BLIN")[:4] == [
        ("records", 9, 7, 0),
        ("in_period", 7, 6, 1),
        ("first_per_person", 6, 6, 0),
        ("first_index_drug", 5, 5, 1),  # person 1 started with inotuzumab
    ]
    assert sorted(cohort.group_frame("BLIN")["person_id"]) == [2, 4, 10]
    assert cohort.group_frame("INO")["person_id"].tolist() == [1]


def test_first_exposure_ever(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = SPEC + "entry: {first_exposure: ever}\n"
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert counts(cohort.attrition, "BLIN")[1] == ("first_ever_in_period", 5, 5, 2)
    assert 4 not in cohort.group_frame("BLIN")["person_id"].tolist()


def test_classification_by_line(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = SPEC + "classification: {rr_min_line: 2, rr_evidence: [], rr_prior_therapy: []}\n"
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    row = cohort.frame.set_index(["group", "person_id"])["setting"].to_dict()
    assert row == {
        ("INO", 1): "ND",
        ("BLIN", 1): "RR",
        ("BLIN", 2): "ND",
        ("BLIN", 4): "RR",
        ("BLIN", 10): "RR",
    }


def test_without_optional_criteria(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = (
        "name: bare\nindex_groups: {INO: [inotuzumab_ozogamicin]}\n"
        "study_period: {start: 2018-01-01, end: 2021-12-31}\n"
        "inclusion: {diagnosis: null, exclusions: []}\n"
    )
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert cohort.attrition["step"].tolist() == [
        "records",
        "in_period",
        "first_per_person",
        "observation_period",
    ]
    assert sorted(cohort.frame["person_id"]) == [1, 3, 7, 8]


def test_empty_cohort_warns(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = SPEC.replace("start: 2018-01-01, end: 2021-12-31", "start: 2010-01-01, end: 2010-12-31")
    with pytest.warns(StudyWarning, match="empty"):
        cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert len(cohort) == 0
    assert list(cohort.frame.columns) == list(COHORT_COLUMNS)
    assert cohort.attrition["n_persons"].tolist()[:2] == [5, 0]


def test_unknown_set_fails_before_querying(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    spec = spec_from_text(SPEC.replace("[blinatumomab]", "[blinatumumab]"))
    with pytest.raises(StudySpecError, match=r"index_groups\.BLIN"):
        build_cohort(attrition_source, spec, vocab)
