"""Completion of the index treatment (``patterns.completion``) and therapy by Ph status.

Scenario (days from 2020-01-01; blinatumomab cycles by the infusion rule, a cycle complete
when its first to last infused day span 28 days, ``safety.complete_infusion_days``):

* BLIN person 3, ND, index day 0: bags 0-6, 7-13, 17-27 (cycle 1: days 0-27, 28 days) and
  42-69 (a 14-day break: cycle 2, 28 days): 2 complete cycles; HSCT day 100 after;
  vincristine day -100 before; Ph+.
* BLIN person 4, R/R, index day 60: one bag 60-73 (14 days): 0; CAR-T day 100; dasatinib
  day 10 before; Ph-.
* BLIN person 5, R/R, index day 0: bags 0-20 and 25-31 (a 4-day interruption: one cycle,
  days 0-31): 1; cytarabine day 60; no Ph status.
* BLIN person 6, R/R, index day 0: one bag 0-26 (27 days): 0; HSCT day 50; vincristine
  day -30 before; Ph-.
* INO person 1, index day 0: doses 0/7/14 (one cycle of 3 doses): 1 complete.
* INO person 2, index day 30: doses 30/37 (2 of 3 doses): 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pattern_helpers import PATTERN_SPEC, cohort_frame, event_frame

from allrwe.analyses.therapy import (
    destination_strata,
    index_completion,
    index_treatments,
    inputs_from_frames,
    summarise_therapy_inputs,
    therapy_records,
)
from allrwe.errors import StudySpecError
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import spec_from_text

EVENTS = event_frame(
    (3, "blinatumomab", 0, 6),
    (3, "blinatumomab", 7, 13),
    (3, "blinatumomab", 17, 27),
    (3, "blinatumomab", 42, 69),
    (3, "allo_hsct", 100, 100),
    (3, "vincristine", -100, -100),
    (4, "blinatumomab", 60, 73),
    (4, "car_t_infusion", 100, 100),
    (4, "dasatinib", 10, 10),
    (5, "blinatumomab", 0, 20),
    (5, "blinatumomab", 25, 31),
    (5, "cytarabine", 60, 63),
    (6, "blinatumomab", 0, 26),
    (6, "allo_hsct", 50, 50),
    (6, "vincristine", -30, -30),
    *[(1, "inotuzumab_ozogamicin", d, d) for d in (0, 7, 14)],
    *[(2, "inotuzumab_ozogamicin", d, d) for d in (30, 37)],
)
_COHORT = cohort_frame(
    (3, "BLIN", 0), (4, "BLIN", 60), (5, "BLIN", 0), (6, "BLIN", 0), (1, "INO", 0), (2, "INO", 30)
)
COHORT = _COHORT.assign(setting=np.where(_COHORT["person_id"] == 3, "ND", "RR"))
COMPLETION = PATTERN_SPEC + "strata: [setting]\npatterns: {completion: {min_cycles: 1}}\n"


def completion_of(spec_text: str, vocab: Vocabulary) -> dict[tuple[str, int], tuple]:
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(spec_text), vocab)
    done = index_completion(inputs)
    return {(r.group, r.person_id): (r.complete_cycles, r.completion) for r in done.itertuples()}


def test_complete_cycles_and_completion_follow_the_cycle_rules(vocab: Vocabulary) -> None:
    assert completion_of(COMPLETION, vocab) == {
        ("BLIN", 3): (2.0, "completed"),
        ("BLIN", 4): (0.0, "not completed"),
        ("BLIN", 5): (1.0, "completed"),
        ("BLIN", 6): (0.0, "not completed"),
        ("INO", 1): (1.0, "completed"),
        ("INO", 2): (0.0, "not completed"),
    }
    two = completion_of(COMPLETION.replace("min_cycles: 1", "min_cycles: 2"), vocab)
    assert [k for k, (_, level) in two.items() if level == "completed"] == [("BLIN", 3)]


def test_a_longer_label_cycle_changes_who_completed(vocab: Vocabulary) -> None:
    # safety.complete_infusion_days: 32 -> only person 5's cycle (days 0-31) reaches it
    spec = COMPLETION + "safety: {complete_infusion_days: 32}\n"
    got = completion_of(spec, vocab)
    assert [k for k, v in got.items() if k[0] == "BLIN" and v[1] == "completed"] == [("BLIN", 5)]


def test_completion_is_missing_where_no_cycle_length_applies(vocab: Vocabulary) -> None:
    spec = COMPLETION.replace(
        "{completion: {min_cycles: 1}}",
        "{completion: {}, cycles: {blinatumomab: {rule: infusion}, "
        "inotuzumab_ozogamicin: {rule: single}}}",
    )
    got = completion_of(spec, vocab)
    assert got[("INO", 1)][1] is None
    assert np.isnan(got[("INO", 1)][0])
    assert got[("BLIN", 5)] == (1.0, "completed")
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(spec), vocab)
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab))
    na = records[records["variable_level"] == "not available"]
    assert na[["analysis", "group", "variable_level"]].values.tolist() == [
        ["destinations", "INO", "not available"]
    ]
    # INO persons are in no completion cut; BLIN's completed and not completed add up to 4
    crossed = records["strata_name"] == "setting &&& completion"
    cut = records[crossed & (records["estimate_name"] == "count")]
    assert set(cut["group"]) == {"BLIN"}
    assert cut["value"].sum() == 4


def test_destinations_among_those_who_completed_within_the_setting(vocab: Vocabulary) -> None:
    # seed 001: "Among 30 R/R patients completing blinatumomab, 10 underwent direct allo-HSCT"
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(COMPLETION), vocab)
    tr = index_treatments(inputs).merge(
        index_completion(inputs)[["person_id", "group", "completion"]], on=["person_id", "group"]
    )
    dest = destination_strata(inputs, ["setting"], treatments=tr)
    blin = dest[(dest["group"] == "BLIN") & (dest["n"] > 0)]
    got = sorted(zip(blin["stratum"], blin["subgroup"], blin["level"], blin["n"],
                     blin["denominator"], strict=True))  # fmt: skip
    # with setting, completion is cut only within it (a 1-D margin per setting)
    assert got == [
        ("setting", "ND", "hsct", 1, 1),
        ("setting", "RR", "car_t", 1, 3),
        ("setting", "RR", "chemotherapy", 1, 3),
        ("setting", "RR", "hsct", 1, 3),
        ("setting &&& completion", "ND &&& completed", "hsct", 1, 1),
        ("setting &&& completion", "RR &&& completed", "chemotherapy", 1, 1),
        ("setting &&& completion", "RR &&& not completed", "car_t", 1, 2),
        ("setting &&& completion", "RR &&& not completed", "hsct", 1, 2),
    ]
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab))
    pct = records[
        (records["group"] == "BLIN")
        & (records["strata_level"] == "RR &&& not completed")
        & (records["variable_level"] == "hsct")
        & (records["estimate_name"] == "percentage")
    ]
    assert pct["value"].tolist() == [50.0]


def test_completion_alone_without_a_setting_stratum(vocab: Vocabulary) -> None:
    spec = spec_from_text(PATTERN_SPEC + "patterns: {completion: {min_cycles: 1}}\n")
    inputs = inputs_from_frames(COHORT, EVENTS, spec, vocab)
    tr = index_treatments(inputs).merge(
        index_completion(inputs)[["person_id", "group", "completion"]], on=["person_id", "group"]
    )
    dest = destination_strata(inputs, [], treatments=tr)
    blin = dest[(dest["group"] == "BLIN") & (dest["n"] > 0)]
    got = sorted(zip(blin["stratum"], blin["subgroup"], blin["level"], blin["n"],
                     blin["denominator"], strict=True))  # fmt: skip
    assert got == [
        ("completion", "completed", "chemotherapy", 1, 2),
        ("completion", "completed", "hsct", 1, 2),
        ("completion", "not completed", "car_t", 1, 2),
        ("completion", "not completed", "hsct", 1, 2),
    ]


def test_without_completion_no_completion_cut_is_made(vocab: Vocabulary) -> None:
    spec = spec_from_text(PATTERN_SPEC + "strata: [setting]\n")
    patterns = summarise_therapy_inputs(inputs_from_frames(COHORT, EVENTS, spec, vocab), None,
                                        vocab)  # fmt: skip
    assert "completion" not in patterns.index_treatments
    names = set(therapy_records(patterns)["strata_name"])
    assert not any("completion" in n for n in names)


def test_prior_therapy_by_ph_status_from_the_shared_strata(vocab: Vocabulary) -> None:
    # seed 001 Supplementary Table 1 by Ph: the levels come from the caller (the study reads
    # the baseline variable once); person 5 has none and counts as unknown
    spec = spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [ph_status]}\n")
    strata = pd.DataFrame(
        {"person_id": [3, 4, 6], "group": "BLIN", "ph_status": ["Ph+", "Ph-", "Ph-"]}
    )
    inputs = inputs_from_frames(COHORT, EVENTS, spec, vocab)
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab, strata=strata))
    counts = records[
        (records["estimate_name"] == "count")
        & (records["analysis"] == "prior_therapy")
        & (records["group"] == "BLIN")
    ]
    got = {(r.strata_name, r.strata_level, r.variable_level): int(r.value)
           for r in counts.itertuples()}  # fmt: skip
    assert got[("ph_status", "Ph+", "chemotherapy")] == 1
    assert got[("ph_status", "Ph-", "chemotherapy")] == 1
    assert got[("ph_status", "Ph-", "tki")] == 1
    assert got[("ph_status", "unknown", "any")] == 0
    assert got[("overall", "overall", "chemotherapy")] == 2
    for level in ("chemotherapy", "tki", "any"):
        parts = sum(got[("ph_status", s, level)] for s in ("Ph+", "Ph-", "unknown"))
        assert parts == got[("overall", "overall", level)]
    # without the shared strata every person is unknown, never a guessed level
    alone = therapy_records(summarise_therapy_inputs(inputs, None, vocab))
    levels = set(alone.loc[alone["strata_name"] == "ph_status", "strata_level"])
    assert levels == {"unknown"}


def test_prior_therapy_within_ph_status_and_setting(vocab: Vocabulary) -> None:
    # seed 001 Supplementary Table 1 is three-way: Ph status within ND and R/R
    spec = spec_from_text(
        PATTERN_SPEC + "patterns: {therapy_by: [setting, [ph_status, setting]]}\n"
    )
    assert spec.patterns.therapy_by_names == ["setting", "ph_status &&& setting"]
    strata = pd.DataFrame(
        {"person_id": [3, 4, 6], "group": "BLIN", "ph_status": ["Ph+", "Ph-", "Ph-"]}
    )
    inputs = inputs_from_frames(COHORT, EVENTS, spec, vocab)
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab, strata=strata))
    counts = records[
        (records["estimate_name"] == "count")
        & (records["analysis"] == "prior_therapy")
        & (records["group"] == "BLIN")
    ]
    got = {(r.strata_name, r.strata_level, r.variable_level): int(r.value)
           for r in counts.itertuples()}  # fmt: skip
    crossed = "ph_status &&& setting"
    # person 3 (ND, Ph+): vincristine; 4 and 6 (R/R, Ph-): dasatinib, vincristine; 5 (R/R,
    # no Ph record): nothing before
    assert got[(crossed, "Ph+ &&& ND", "chemotherapy")] == 1
    assert got[(crossed, "Ph- &&& RR", "chemotherapy")] == 1
    assert got[(crossed, "Ph- &&& RR", "tki")] == 1
    assert got[(crossed, "unknown &&& RR", "any")] == 0
    levels = {sl for sn, sl, _ in got if sn == crossed}
    assert levels == {"Ph+ &&& ND", "Ph- &&& RR", "unknown &&& RR"}
    # the levels within R/R add up to the R/R row of the setting stratum
    for level in ("chemotherapy", "tki", "any"):
        within = sum(got.get((crossed, f"{ph} &&& RR", level), 0) for ph in ("Ph-", "unknown"))
        assert within == got[("setting", "RR", level)]
    with pytest.raises(StudySpecError, match="names a stratum twice"):
        spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [[setting, setting]]}\n")


def test_spec_rejects_what_cannot_be_computed() -> None:
    with pytest.raises(StudySpecError, match=r"patterns\.therapy_by\[0\].*sex"):
        spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [sex]}\n")
    with pytest.raises(StudySpecError, match=r"pathways.*needs patterns\.completion"):
        spec_from_text(PATTERN_SPEC + "pathways: {by: [setting, completion]}\n")
    with pytest.raises(StudySpecError, match=r"patterns\.completion\.min_cycles"):
        spec_from_text(PATTERN_SPEC + "patterns: {completion: {min_cycles: 0}}\n")


def test_persons_who_completed_are_counted_overall_and_within_setting(
    vocab: Vocabulary,
) -> None:
    # the size of seed 001's "30 R/R patients completing blinatumomab"
    inputs = inputs_from_frames(COHORT, EVENTS, spec_from_text(COMPLETION), vocab)
    records = therapy_records(summarise_therapy_inputs(inputs, None, vocab))
    part = records[(records["analysis"] == "index_completion")]
    counts = part[part["estimate_name"] == "count"]
    got = {(r.group, r.strata_name, r.strata_level, r.variable_level): int(r.value)
           for r in counts.itertuples()}  # fmt: skip
    assert got == {
        ("BLIN", "overall", "overall", "completed"): 2,
        ("BLIN", "overall", "overall", "not completed"): 2,
        ("BLIN", "setting", "ND", "completed"): 1,
        ("BLIN", "setting", "ND", "not completed"): 0,
        ("BLIN", "setting", "RR", "completed"): 1,
        ("BLIN", "setting", "RR", "not completed"): 2,
        ("INO", "overall", "overall", "completed"): 1,
        ("INO", "overall", "overall", "not completed"): 1,
        ("INO", "setting", "RR", "completed"): 1,
        ("INO", "setting", "RR", "not completed"): 1,
    }
    pct = part[(part["estimate_name"] == "percentage") & (part["strata_level"] == "RR")]
    assert [round(v, 1) for v in pct.loc[pct["group"] == "BLIN", "value"]] == [33.3, 66.7]
    # each setting's levels add up to its persons: a margin suppression protects
    assert (counts["margin"] != "").all()
