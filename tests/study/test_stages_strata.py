"""Which strata the outcome summaries split by: the spec's strata, then its crossed strata."""

from __future__ import annotations

import pytest

from allrwe.errors import StudySpecError
from allrwe.spec import spec_from_text
from allrwe.study.stages import _wanted_variable_strata, outcome_strata

SPEC = """\
name: s
index_groups: {BLIN: [blinatumomab]}
study_period: {start: 2018-01-01, end: 2021-12-31}
"""


def test_crossed_strata_follow_the_single_ones():
    spec = spec_from_text(
        SPEC + "strata: [setting, group, age_band]\n"
        "crossed_strata: [[setting, treatment_setting], [ph_status, treatment_setting],"
        " [group, sex], [setting, treatment_setting]]\n"
    )
    # group is implicit in every summary, so neither it nor a cross holding it is listed;
    # a repeated cross is listed once.
    assert outcome_strata(spec) == [
        "setting",
        "age_band",
        ("setting", "treatment_setting"),
        ("ph_status", "treatment_setting"),
    ]
    # ph_status is read from the CDM even when it appears only in a cross
    assert _wanted_variable_strata(spec) == ["ph_status"]


def test_a_cross_needs_two_strata():
    with pytest.raises(StudySpecError, match=r"crossed_strata\[0\]"):
        spec_from_text(SPEC + "crossed_strata: [[setting]]\n")
    with pytest.raises(StudySpecError, match=r"crossed_strata\[0\]\[1\]"):
        spec_from_text(SPEC + "crossed_strata: [[setting, relapse_day]]\n")


def test_prior_hsct_is_a_stratum_read_from_its_baseline_variable():
    spec = spec_from_text(SPEC + "strata: [prior_hsct]\ncrossed_strata: [[prior_hsct, setting]]\n")
    assert outcome_strata(spec) == ["prior_hsct", ("prior_hsct", "setting")]
    assert _wanted_variable_strata(spec) == ["prior_hsct"]
