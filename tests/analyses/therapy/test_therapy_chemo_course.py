"""Chemotherapy before index classed by course length (``patterns.prior_chemo_course``).

Scenario (days from 2020-01-01; BLIN index day 100 for everyone; era gap 30 days):

* person 1, ND, in remission at index (consolidation): cytarabine 80-84, one 5-day course:
  short-term.
* person 2, ND: vincristine 50-69, one 20-day course: longer.
* person 3, ND: no chemotherapy before index (cytarabine 130-150 after it): none.
* person 4, R/R, consolidation: cytarabine 90-96, exactly 7 days: short-term at 7, longer at 6.
* person 5, R/R: cytarabine 30-32, vincristine 31-33, cytarabine 60-64: 27 days from 33 to 60
  join one course of 35 days (30-64): longer; with an era gap of 10 two courses of 4 and 5
  days: short-term.
* person 6, R/R: cytarabine 95-96 and vincristine 95-96, one 2-day course, counted once:
  short-term.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pattern_helpers import PATTERN_SPEC, cohort_frame, event_frame

from allrwe.analyses.therapy import inputs_from_frames, summarise_therapy_inputs, therapy_records
from allrwe.analyses.therapy.chemo_course import person_courses, prior_chemo_course_table
from allrwe.errors import StudySpecError
from allrwe.io.vocabulary import Vocabulary
from allrwe.results import ResultSet, suppress
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX
from allrwe.spec import spec_from_text

EVENTS = event_frame(
    *[(p, "blinatumomab", 100, 127) for p in range(1, 7)],
    (1, "cytarabine", 80, 84),
    (2, "vincristine", 50, 69),
    (3, "cytarabine", 130, 150),
    (4, "cytarabine", 90, 96),
    (5, "cytarabine", 30, 32),
    (5, "vincristine", 31, 33),
    (5, "cytarabine", 60, 64),
    (6, "cytarabine", 95, 96),
    (6, "vincristine", 95, 96),
)
_COHORT = cohort_frame(*[(p, "BLIN", 100) for p in range(1, 7)])
COHORT = _COHORT.assign(
    setting=np.where(_COHORT["person_id"] <= 3, "ND", "RR"),
    treatment_setting=np.where(_COHORT["person_id"].isin([1, 4]), "consolidation", "re-induction"),
)
SHORT, LONGER = "short-term chemotherapy (≤ 7 days)", "longer chemotherapy (> 7 days)"
NONE = "no chemotherapy"
COURSES = PATTERN_SPEC + "patterns: {prior_chemo_course: {short_max_days: 7}}\n"


def classes(spec_text: str, vocab: Vocabulary) -> dict[int, str]:
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(spec_text), vocab)
    out = person_courses(inputs)
    return dict(zip(out["person_id"], out["course"], strict=True))


def test_each_person_is_classed_by_the_length_of_the_courses(vocab: Vocabulary) -> None:
    assert classes(COURSES, vocab) == {1: SHORT, 2: LONGER, 3: NONE, 4: SHORT, 5: LONGER, 6: SHORT}


def test_the_boundary_and_the_era_gap_move_persons(vocab: Vocabulary) -> None:
    six = classes(COURSES.replace("short_max_days: 7", "short_max_days: 6"), vocab)
    assert six[4] == "longer chemotherapy (> 6 days)"  # a 7-day course is more than 6
    assert six[1] == "short-term chemotherapy (≤ 6 days)"
    gap = COURSES.replace("patterns: {", "patterns: {era_gap_days: 10, ")
    assert classes(gap, vocab)[5] == SHORT  # 33 -> 60 is 27 days: two courses of 4 and 5 days


def test_class_counts_partition_the_group_and_each_setting(vocab: Vocabulary) -> None:
    spec = spec_from_text(COURSES.replace("patterns: {", "patterns: {therapy_by: [setting], "))
    inputs = inputs_from_frames(COHORT, EVENTS, spec, vocab)
    table = summarise_therapy_inputs(inputs, None, vocab).prior_chemo_course
    got = {
        (r.subgroup or "all", r.level): (r.n, r.denominator)
        for r in table[table["group"] == "BLIN"].itertuples()
    }
    assert got == {
        ("all", SHORT): (3, 6), ("all", LONGER): (2, 6), ("all", NONE): (1, 6),
        ("ND", SHORT): (1, 3), ("ND", LONGER): (1, 3), ("ND", NONE): (1, 3),
        ("RR", SHORT): (2, 3), ("RR", LONGER): (1, 3), ("RR", NONE): (0, 3),
    }  # fmt: skip
    # persons counted once: the classes add up to the group (INO has nobody: all zero)
    overall = prior_chemo_course_table(inputs)
    assert overall.groupby("group")["n"].sum().to_dict() == {"BLIN": 6, "INO": 0}


def test_remission_at_index_within_each_class(vocab: Vocabulary) -> None:
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(COURSES), vocab)
    cr = summarise_therapy_inputs(inputs, None, vocab).cr_by_course
    got = {(r.course, r.level): (r.n, r.denominator) for r in cr.itertuples()}
    assert got == {
        (SHORT, "in CR at index"): (2, 3), (SHORT, "not in CR at index"): (1, 3),
        (LONGER, "in CR at index"): (0, 2), (LONGER, "not in CR at index"): (2, 2),
        (NONE, "in CR at index"): (0, 1), (NONE, "not in CR at index"): (1, 1),
    }  # fmt: skip


def test_records_declare_the_class_and_remission_margins(vocab: Vocabulary) -> None:
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(COURSES), vocab)
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab))
    mine = records[(records["analysis"] == "prior_chemo_course") & (records["group"] == "BLIN")]
    counts = mine[mine["estimate_name"] == "count"]
    classes = counts[counts["variable"] == "prior_chemo_course"].set_index("variable_level")
    tokens = {lv: m.split(MARGIN_SEPARATOR) for lv, m in classes["margin"].items()}
    assert {t[0] for t in tokens.values()} == {classes["margin"][SHORT].split(MARGIN_SEPARATOR)[0]}
    cr = counts[counts["variable"] == "in_cr_at_index"]
    short = cr[cr["strata_level"] == SHORT]
    assert short["value"].tolist() == [2.0, 1.0]
    assert TOTAL_PREFIX + short["margin"].iloc[0] in tokens[SHORT]
    assert short["margin"].nunique() == 1
    # complementary suppression at 2: the one in NONE is hidden, and with it a class count
    # or its complement, so that 6 - 3 - 2 cannot give it back
    published = suppress(ResultSet.create(records, spec={"a": 1}, cdm_source="t"), 2).records
    hidden = published[
        (published["analysis"] == "prior_chemo_course")
        & (published["group"] == "BLIN")
        & (published["variable"] == "prior_chemo_course")
        & (published["estimate_name"] == "count")
        & published["suppressed"]
    ]
    assert NONE in set(hidden["variable_level"])
    assert len(hidden) >= 2


def test_off_by_default_and_the_class_must_be_known(vocab: Vocabulary) -> None:
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(PATTERN_SPEC), vocab)
    assert summarise_therapy_inputs(inputs, None, vocab).prior_chemo_course.empty
    with pytest.raises(StudySpecError, match="not among therapy_classes"):
        spec_from_text(COURSES.replace("short_max_days: 7", "therapy_class: chemo"))


def test_no_treatment_setting_gives_no_remission_rows(vocab: Vocabulary) -> None:
    cohort = COHORT.drop(columns="treatment_setting")
    inputs = inputs_from_frames(cohort, EVENTS, spec_from_text(COURSES), vocab)
    patterns = summarise_therapy_inputs(inputs, None, vocab)
    assert patterns.cr_by_course.empty
    assert int(pd.to_numeric(patterns.prior_chemo_course["n"]).sum()) == 6
