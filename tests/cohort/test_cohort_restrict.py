"""Inclusion restricted by what is known at index: classification (ND/RR) and line of therapy."""

from __future__ import annotations

import pytest
from test_cohort_build import SPEC, counts

from allrwe.cohort import build_cohort
from allrwe.errors import StudySpecError, StudyWarning
from allrwe.io import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import spec_from_text

# Without restriction (test_cohort_build.test_status_at_index): INO 1 (RR, line 1); BLIN 1
# (RR, line 2), 2 (ND, line 1), 4 (ND, line 2), 10 (RR, line 2).


def _with(inclusion_extra: str) -> str:
    return SPEC.replace(
        "  age: {min: 18, max: 75}\n", "  age: {min: 18, max: 75}\n" + inclusion_extra
    )


def test_restricted_to_relapsed_refractory(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    cohort = build_cohort(attrition_source, spec_from_text(_with("  settings: [RR]\n")), vocab)
    assert sorted(cohort.group_frame("BLIN")["person_id"]) == [1, 10]
    assert cohort.group_frame("INO")["person_id"].tolist() == [1]
    assert counts(cohort.attrition, "BLIN")[-1] == ("setting", 2, 2, 2)
    assert counts(cohort.attrition, "INO")[-1] == ("setting", 1, 1, 0)
    reason = cohort.attrition["reason"].iloc[-1]
    assert reason == "classification at index in RR"


def test_restricted_by_line(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = _with("  settings: [ND, RR]\n  min_line: 2\n")
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert sorted(cohort.group_frame("BLIN")["person_id"]) == [1, 4, 10]
    blin = counts(cohort.attrition, "BLIN")
    assert blin[-2:] == [("setting", 4, 4, 0), ("line", 3, 3, 1)]
    assert cohort.attrition["reason"].iloc[-1] == "line of therapy at index in [2, any]"
    assert set(cohort.lines["person_id"]) <= {1, 4, 10}


def test_line_one_only_empties_one_group(attrition_source: CdmSource, vocab: Vocabulary) -> None:
    text = _with("  max_line: 1\n  settings: [RR]\n")
    cohort = build_cohort(attrition_source, spec_from_text(text), vocab)
    assert cohort.group_frame("BLIN").empty
    assert counts(cohort.attrition, "BLIN")[-1] == ("line", 0, 0, 2)  # persons 1, 10: line 2
    assert counts(cohort.attrition, "INO")[-1] == ("line", 1, 1, 0)


def test_a_restriction_that_removes_everyone_warns(
    attrition_source: CdmSource, vocab: Vocabulary
) -> None:
    with pytest.warns(StudyWarning, match="empty"):
        cohort = build_cohort(
            attrition_source, spec_from_text(_with("  settings: [unknown]\n")), vocab
        )
    assert len(cohort.frame) == 0
    assert counts(cohort.attrition, "BLIN")[-1] == ("setting", 0, 0, 4)


def test_max_line_below_min_line_is_refused() -> None:
    with pytest.raises(
        StudySpecError, match=r"'inclusion.max_line': max_line 1 is below min_line 2"
    ):
        spec_from_text(_with("  min_line: 2\n  max_line: 1\n"))
