"""Prior and subsequent therapy, destinations, sequences, duration and cycle counts.

Scenario (days from 2020-01-01):

* person 1, INO index day 0: inotuzumab 0/7/14 and 21/28/35 (2 cycles, 36 days); vincristine
  day -200 and dasatinib day -100 before; blinatumomab 60-87 then HSCT day 120. Person 1 also
  enters BLIN at day 60 (one 28-day bag): inotuzumab, vincristine, dasatinib before; HSCT after.
* person 2, INO index day 30: inotuzumab 30/37/44 (1 cycle, 15 days); nothing else.
* person 3, BLIN index day 0: bags 0-6, 7-13, 17-27 (a 3-day interruption) and 42-69 (after a
  14-day break: cycle 2; 70 days); cytarabine day -300 and HSCT day -200 before; inotuzumab day
  100 and cytarabine day 130 after.
* person 4, BLIN index day 60: one bag 60-73 (14 days); CAR-T infusion day 100 after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pattern_helpers import PATTERN_SPEC, cohort_frame, day, event_frame

from allrwe.analyses.therapy import (
    cycle_distribution,
    destination_strata,
    destination_table,
    index_treatments,
    inputs_from_frames,
    prior_therapy,
    sequences,
    subsequent_therapy,
    summarise_therapy_inputs,
    therapy_by_person,
    therapy_records,
    treatment_duration,
)
from allrwe.analyses.therapy._inputs import TherapyInputs
from allrwe.analyses.therapy.periods import _repeat_lists
from allrwe.errors import StudySpecError
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec, spec_from_text

EVENTS = event_frame(
    *[(1, "inotuzumab_ozogamicin", d, d) for d in (0, 7, 14, 21, 28, 35)],
    (1, "vincristine", -200, -200),
    (1, "dasatinib", -100, -71),
    (1, "blinatumomab", 60, 87),
    (1, "allo_hsct", 120, 120),
    *[(2, "inotuzumab_ozogamicin", d, d) for d in (30, 37, 44)],
    (3, "blinatumomab", 0, 6),
    (3, "blinatumomab", 7, 13),
    (3, "blinatumomab", 17, 27),
    (3, "blinatumomab", 42, 69),
    (3, "cytarabine", -300, -296),
    (3, "allo_hsct", -200, -200),
    (3, "inotuzumab_ozogamicin", 100, 100),
    (3, "cytarabine", 130, 134),
    (4, "blinatumomab", 60, 73),
    (4, "car_t_infusion", 100, 100),
)
COHORT = cohort_frame(
    (1, "INO", 0), (2, "INO", 30), (3, "BLIN", 0), (4, "BLIN", 60), (1, "BLIN", 60)
)


@pytest.fixture
def inputs(spec: StudySpec, vocab: Vocabulary) -> TherapyInputs:
    return inputs_from_frames(COHORT, EVENTS, spec, vocab)


def table(frame: pd.DataFrame, group: str, variable: str | None = None) -> dict[str, tuple]:
    sub = frame[frame["group"] == group]
    if variable is not None:
        sub = sub[sub["variable"] == variable]
    return {
        r.level: (int(r.n), int(r.denominator), round(float(r.percentage), 1))
        for r in sub.itertuples(index=False)
    }


def test_index_treatments(inputs: TherapyInputs) -> None:
    tr = index_treatments(inputs).set_index(["group", "person_id"])
    assert tr["index_end"].to_dict() == {
        ("INO", 1): day(35),
        ("INO", 2): day(44),
        ("BLIN", 3): day(69),
        ("BLIN", 4): day(73),
        ("BLIN", 1): day(87),
    }
    assert tr["duration_days"].to_dict() == {
        ("INO", 1): 36,
        ("INO", 2): 15,
        ("BLIN", 3): 70,
        ("BLIN", 4): 14,
        ("BLIN", 1): 28,
    }
    assert tr["n_cycles"].to_dict() == {
        ("INO", 1): 2,
        ("INO", 2): 1,
        ("BLIN", 3): 2,
        ("BLIN", 4): 1,
        ("BLIN", 1): 1,
    }


def test_era_gap_ends_the_index_treatment(spec: StudySpec, vocab: Vocabulary) -> None:
    short = spec.model_copy(
        update={"patterns": spec.patterns.model_copy(update={"era_gap_days": 10})}
    )
    tr = index_treatments(inputs_from_frames(COHORT, EVENTS, short, vocab))
    row = tr.set_index(["group", "person_id"])
    assert row.loc[("BLIN", 3), "index_end"] == day(27)  # 42 - 27 = 15 > 10
    assert row.loc[("BLIN", 3), "n_cycles"] == 1


def test_prior_therapy(inputs: TherapyInputs) -> None:
    prior = prior_therapy(inputs)
    assert table(prior, "INO") == {
        "chemotherapy": (1, 2, 50.0),
        "tki": (1, 2, 50.0),
        "hsct": (0, 2, 0.0),
        "car_t": (0, 2, 0.0),
        "blinatumomab": (0, 2, 0.0),
        "inotuzumab": (0, 2, 0.0),
        "other_novel_agent": (0, 2, 0.0),
        "any": (1, 2, 50.0),
    }
    assert table(prior, "BLIN") == {
        "chemotherapy": (2, 3, 66.7),
        "tki": (1, 3, 33.3),
        "hsct": (1, 3, 33.3),
        "car_t": (0, 3, 0.0),
        "blinatumomab": (0, 3, 0.0),
        "inotuzumab": (1, 3, 33.3),
        "other_novel_agent": (1, 3, 33.3),
        "any": (2, 3, 66.7),
    }


def test_prior_lookback_window(spec: StudySpec, vocab: Vocabulary) -> None:
    windowed = spec.model_copy(
        update={"windows": spec.windows.model_copy(update={"prior_lookback_days": 150})}
    )
    prior = prior_therapy(inputs_from_frames(COHORT, EVENTS, windowed, vocab))
    # vincristine (day -200) is outside the 150 days, dasatinib (day -100) inside
    assert table(prior, "INO")["chemotherapy"] == (0, 2, 0.0)
    assert table(prior, "INO")["tki"] == (1, 2, 50.0)


def test_subsequent_therapy(inputs: TherapyInputs) -> None:
    sub = subsequent_therapy(inputs)
    assert table(sub, "INO") == {
        "chemotherapy": (0, 2, 0.0),
        "tki": (0, 2, 0.0),
        "hsct": (1, 2, 50.0),
        "car_t": (0, 2, 0.0),
        "blinatumomab": (1, 2, 50.0),
        "inotuzumab": (0, 2, 0.0),
        "other_novel_agent": (1, 2, 50.0),
        "any": (1, 2, 50.0),
    }
    assert table(sub, "BLIN") == {
        "chemotherapy": (1, 3, 33.3),
        "tki": (0, 3, 0.0),
        "hsct": (1, 3, 33.3),
        "car_t": (1, 3, 33.3),
        "blinatumomab": (0, 3, 0.0),
        "inotuzumab": (1, 3, 33.3),
        "other_novel_agent": (2, 3, 66.7),
        "any": (3, 3, 100.0),
    }


def test_follow_up_window_limits_subsequent_therapy(spec: StudySpec, vocab: Vocabulary) -> None:
    windowed = spec.model_copy(
        update={"windows": spec.windows.model_copy(update={"subsequent_followup_days": 30})}
    )
    sub = subsequent_therapy(inputs_from_frames(COHORT, EVENTS, windowed, vocab))
    # INO person 1: blinatumomab 25 days after the end (in), HSCT 85 days after (out)
    assert table(sub, "INO")["blinatumomab"] == (1, 2, 50.0)
    assert table(sub, "INO")["hsct"] == (0, 2, 0.0)
    assert table(sub, "BLIN")["any"] == (1, 3, 33.3)  # only person 4's CAR-T (27 days)


def test_sequences_with_both_denominators(inputs: TherapyInputs) -> None:
    seq = sequences(inputs)
    rows = {
        (r.level, r.denominator_definition): (r.n, r.denominator, r.percentage)
        for r in seq.itertuples(index=False)
    }
    assert rows == {
        ("INO->BLIN", "group"): (1, 2, 50.0),
        ("INO->BLIN", "with subsequent therapy"): (1, 1, 100.0),
        ("BLIN->INO", "group"): (1, 3, pytest.approx(100 / 3)),
        ("BLIN->INO", "with subsequent therapy"): (1, 3, pytest.approx(100 / 3)),
    }


def test_destinations_by_duration_and_cycles(inputs: TherapyInputs) -> None:
    dest = destination_table(inputs)
    overall = dest[(dest["variable"] == "destination") & (dest["n"] > 0)]
    assert sorted(zip(overall["group"], overall["level"], overall["n"], strict=True)) == [
        ("BLIN", "car_t", 1),
        ("BLIN", "hsct", 1),
        ("BLIN", "inotuzumab", 1),
        ("INO", "blinatumomab", 1),
        ("INO", "none", 1),
    ]
    by_dur = dest[(dest["variable"] == "destination_by_duration") & (dest["n"] > 0)]
    assert sorted(
        zip(
            by_dur["group"], by_dur["subgroup"], by_dur["level"], by_dur["denominator"], strict=True
        )
    ) == [
        ("BLIN", "15-28", "hsct", 1),
        ("BLIN", "<=14", "car_t", 1),
        ("BLIN", ">28", "inotuzumab", 1),
        ("INO", "15-28", "none", 1),
        ("INO", ">28", "blinatumomab", 1),
    ]
    by_cyc = dest[(dest["variable"] == "destination_by_cycles") & (dest["group"] == "BLIN")]
    one = by_cyc[(by_cyc["subgroup"] == "1") & (by_cyc["n"] > 0)]
    assert sorted(zip(one["level"], one["n"], one["denominator"], strict=True)) == [
        ("car_t", 1, 2),
        ("hsct", 1, 2),
    ]


def test_same_day_destination_tie_follows_class_order(spec: StudySpec, vocab: Vocabulary) -> None:
    events = event_frame(
        (1, "inotuzumab_ozogamicin", 0, 0),
        (1, "cytarabine", 40, 40),
        (1, "allo_hsct", 40, 40),
    )
    inputs = inputs_from_frames(cohort_frame((1, "INO", 0)), events, spec, vocab)
    dest = destination_table(inputs)
    got = dest[(dest["variable"] == "destination") & (dest["n"] > 0)]["level"].tolist()
    assert got == ["chemotherapy"]  # chemotherapy comes first in patterns.therapy_classes


def test_duration_summary_and_buckets(inputs: TherapyInputs) -> None:
    summary, buckets = treatment_duration(inputs)
    s = summary.set_index("group")
    assert s.loc["INO", ["n", "median", "min", "max"]].tolist() == [2, 25.5, 15.0, 36.0]
    assert s.loc["BLIN", ["n", "median", "min", "max"]].tolist() == [3, 28.0, 14.0, 70.0]
    assert table(buckets, "BLIN") == {
        "<=14": (1, 3, 33.3),
        "15-28": (1, 3, 33.3),
        ">28": (1, 3, 33.3),
    }
    assert table(buckets, "INO") == {
        "<=14": (0, 2, 0.0),
        "15-28": (1, 2, 50.0),
        ">28": (1, 2, 50.0),
    }


def test_cycle_distribution(inputs: TherapyInputs) -> None:
    dist = cycle_distribution(inputs)
    assert table(dist, "INO") == {"1": (1, 2, 50.0), "2": (1, 2, 50.0)}
    assert table(dist, "BLIN") == {"1": (2, 3, 66.7), "2": (1, 3, 33.3)}
    capped = cycle_distribution(inputs, cap=2)
    assert table(capped, "BLIN") == {"1": (2, 3, 66.7), "2+": (1, 3, 33.3)}


def test_therapy_by_person_timing(inputs: TherapyInputs) -> None:
    th = therapy_by_person(inputs)
    p1 = th[(th["group"] == "INO") & (th["person_id"] == 1)].sort_values("days_from_index")
    assert list(zip(p1["therapy_class"], p1["period"], p1["days_from_index"], strict=True)) == [
        ("chemotherapy", "prior", -200),
        ("tki", "prior", -100),
        ("blinatumomab", "subsequent", 60),
        ("hsct", "subsequent", 120),
    ]


def test_stratified_prior_therapy(spec: StudySpec, vocab: Vocabulary) -> None:
    cohort = COHORT.assign(setting=["RR", "ND", "RR", "ND", "RR"])
    prior = prior_therapy(inputs_from_frames(cohort, EVENTS, spec, vocab), by=["setting"])
    chemo = prior[(prior["level"] == "chemotherapy") & (prior["group"] == "BLIN")]
    assert list(zip(chemo["setting"], chemo["n"], chemo["denominator"], strict=True)) == [
        ("ND", 0, 1),
        ("RR", 2, 2),
    ]


def test_line_mode_ends_the_index_treatment_with_the_line(vocab: Vocabulary) -> None:
    spec = spec_from_text(
        "name: t\nindex_groups: {BLIN: [blinatumomab]}\n"
        "study_period: {start: 2019-01-01, end: 2021-12-31}\n"
        "patterns: {index_treatment_end: line, era_gap_days: 5}\n"
    )
    events = event_frame((3, "blinatumomab", 0, 27), (3, "blinatumomab", 42, 69))
    cohort = cohort_frame((3, "BLIN", 0))
    tr = index_treatments(inputs_from_frames(cohort, events, spec, vocab))
    assert tr["index_end"].tolist() == [day(69)]  # same line (gap 15 <= 60) despite era gap 5


def test_lymphodepletion_of_a_car_t_takes_the_car_t_class(
    spec: StudySpec, vocab: Vocabulary
) -> None:
    events = event_frame(
        (1, "inotuzumab_ozogamicin", 0, 0),
        (1, "fludarabine", 95, 97),  # lymphodepletion of the day-100 infusion
        (1, "car_t_infusion", 100, 100),
        (1, "fludarabine", 200, 202),  # no infusion follows: chemotherapy
        (2, "inotuzumab_ozogamicin", 0, 0),
        (2, "fludarabine", 60, 62),
    )
    cohort = cohort_frame((1, "INO", 0), (2, "INO", 0))
    th = therapy_by_person(inputs_from_frames(cohort, events, spec, vocab))
    sub = th[th["period"] == "subsequent"]
    got = sorted(
        zip(
            sub["person_id"],
            sub["concept_set"],
            sub["days_from_index"],
            sub["therapy_class"],
            strict=True,
        )
    )
    assert got == [
        (1, "car_t_infusion", 100, "car_t"),
        (1, "fludarabine", 95, "car_t"),
        (1, "fludarabine", 200, "chemotherapy"),
        (2, "fludarabine", 60, "chemotherapy"),
    ]
    assert table(subsequent_therapy(inputs_from_frames(cohort, events, spec, vocab)), "INO")[
        "chemotherapy"
    ] == (2, 2, 100.0)


def test_repeat_lists_pairs_rows_with_their_items_in_order() -> None:
    codes = np.array([1, -1, 0, 1, 2])
    rows, items = _repeat_lists(codes, [("a",), ("b", "c"), ()])
    assert rows.tolist() == [0, 0, 2, 3, 3]
    assert items.tolist() == ["b", "c", "a", "b", "c"]
    rows, items = _repeat_lists(np.array([-1, -1]), [])
    assert rows.tolist() == []
    assert items.tolist() == []


def test_destinations_within_the_setting(spec: StudySpec, vocab: Vocabulary) -> None:
    # person 3 is ND, the others R/R: BLIN p1 -> hsct (15-28 days), p3 -> inotuzumab (> 28),
    # p4 -> car_t (<= 14), as in test_destinations_by_duration_and_cycles
    cohort = COHORT.assign(setting=np.where(COHORT["person_id"] == 3, "ND", "RR"))
    dest = destination_strata(inputs_from_frames(cohort, EVENTS, spec, vocab), ["setting", "sex"])
    assert set(dest["stratum"]) == {"setting"}  # sex is not a cohort stratum of the patterns
    blin = dest[(dest["group"] == "BLIN") & (dest["n"] > 0)]
    got = sorted(zip(blin["variable"], blin["subgroup"], blin["level"], blin["denominator"],
                     strict=True))  # fmt: skip
    # destination by duration or cycles within the setting is not produced (a 3-way table)
    assert got == [
        ("destination", "ND", "inotuzumab", 1),
        ("destination", "RR", "car_t", 2),
        ("destination", "RR", "hsct", 2),
    ]


def test_destinations_by_duration_and_cycles_within_the_setting(vocab: Vocabulary) -> None:
    # seed 001 Fig. 1: ND and R/R side by side, each by duration bucket and by cycles
    text = PATTERN_SPEC + "strata: [setting]\npatterns: {destinations_by: [duration, cycles]}\n"
    spec = spec_from_text(text)
    cohort = COHORT.assign(setting=np.where(COHORT["person_id"] == 3, "ND", "RR"))
    inputs = inputs_from_frames(cohort, EVENTS, spec, vocab)
    dest = destination_strata(inputs, spec.strata)
    assert set(dest["stratum"]) == {"setting", "setting &&& duration", "setting &&& cycles"}
    # the crossed cells are the two-way table of the destinations by setting and by the cut,
    # computed on another path: destination_table with the setting as a by-column
    ref = destination_table(inputs, by=["setting"])
    for cut, variable in (("duration", "destination_by_duration"),
                          ("cycles", "destination_by_cycles")):  # fmt: skip
        part = ref[ref["variable"] == variable]
        expected = {
            (f"{r.setting} &&& {r.subgroup}", r.group, r.level): (r.n, r.denominator)
            for r in part.itertuples()
        }
        mine = dest[dest["stratum"] == f"setting &&& {cut}"]
        got = {(r.subgroup, r.group, r.level): (r.n, r.denominator) for r in mine.itertuples()}
        assert got == expected
        # each setting's crossed levels add up to its own destinations
        for (setting, group, level), n in (
            mine.assign(setting=mine["subgroup"].str.partition(" &&& ")[0])
            .groupby(["setting", "group", "level"])["n"]
            .sum()
            .items()
        ):
            row = dest[(dest["stratum"] == "setting") & (dest["subgroup"] == setting)
                       & (dest["group"] == group) & (dest["level"] == level)]  # fmt: skip
            assert int(row["n"].iloc[0]) == n
    blin = dest[(dest["group"] == "BLIN") & (dest["n"] > 0)
                & (dest["stratum"] == "setting &&& duration")]  # fmt: skip
    # p3 (ND) -> inotuzumab after > 28 days; R/R p1 -> hsct (15-28), p4 -> car_t (<= 14)
    assert sorted(zip(blin["subgroup"], blin["level"], strict=True)) == [
        ("ND &&& >28", "inotuzumab"),
        ("RR &&& 15-28", "hsct"),
        ("RR &&& <=14", "car_t"),
    ]


def test_destinations_by_needs_the_setting_stratum() -> None:
    with pytest.raises(StudySpecError, match="add 'setting' to strata"):
        spec_from_text(PATTERN_SPEC + "patterns: {destinations_by: [duration]}\n")


def test_prior_and_subsequent_therapy_within_patterns_therapy_by(vocab: Vocabulary) -> None:
    # seed 001 Supplementary Table 1: therapy before blinatumomab within ND and R/R.
    # BLIN: person 3 ND (cytarabine and HSCT before, inotuzumab and cytarabine after),
    # persons 1 and 4 R/R (1: inotuzumab, vincristine, dasatinib before, HSCT after;
    # 4: nothing before, CAR-T after); INO: person 2 has no setting (unknown).
    spec = spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [setting]}\n")
    setting = COHORT["person_id"].map({1: "RR", 2: None, 3: "ND", 4: "RR"})
    cohort = COHORT.assign(setting=setting.to_numpy())
    patterns = summarise_therapy_inputs(inputs_from_frames(cohort, EVENTS, spec, vocab), None,
                                        vocab)  # fmt: skip
    records = therapy_records(patterns)
    counts = records[records["estimate_name"] == "count"]
    got = {
        (r.analysis, r.group, r.strata_name, r.strata_level, r.variable_level): int(r.value)
        for r in counts.itertuples()
    }
    assert got[("prior_therapy", "BLIN", "overall", "overall", "chemotherapy")] == 2
    assert got[("prior_therapy", "BLIN", "setting", "ND", "chemotherapy")] == 1
    assert got[("prior_therapy", "BLIN", "setting", "RR", "chemotherapy")] == 1
    assert got[("prior_therapy", "BLIN", "setting", "ND", "hsct")] == 1
    assert got[("prior_therapy", "BLIN", "setting", "RR", "hsct")] == 0
    assert got[("prior_therapy", "BLIN", "setting", "RR", "tki")] == 1
    assert got[("prior_therapy", "INO", "setting", "unknown", "any")] == 0
    assert got[("prior_therapy", "INO", "setting", "RR", "tki")] == 1
    assert got[("subsequent_therapy", "BLIN", "setting", "RR", "hsct")] == 1
    assert got[("subsequent_therapy", "BLIN", "setting", "RR", "car_t")] == 1
    assert got[("subsequent_therapy", "BLIN", "setting", "ND", "inotuzumab")] == 1
    pct = records[
        (records["estimate_name"] == "percentage")
        & (records["analysis"] == "prior_therapy")
        & (records["group"] == "BLIN")
        & (records["strata_level"] == "RR")
        & (records["variable_level"] == "any")
    ]
    assert pct["value"].tolist() == [50.0]  # 1 of the 2 R/R persons
    # the levels of a stratum add up to the overall row (checked by the suppression links)
    for level in ("chemotherapy", "tki", "hsct", "any"):
        parts = sum(got[("prior_therapy", "BLIN", "setting", s, level)] for s in ("ND", "RR"))
        assert parts == got[("prior_therapy", "BLIN", "overall", "overall", level)]


def test_therapy_by_left_empty_keeps_the_period_tables_unstratified(
    spec: StudySpec, vocab: Vocabulary
) -> None:
    patterns = summarise_therapy_inputs(inputs_from_frames(COHORT, EVENTS, spec, vocab), None,
                                        vocab)  # fmt: skip
    assert "stratum" not in patterns.prior_therapy
    assert set(therapy_records(patterns)["strata_name"]) >= {"overall"}
    prior = therapy_records(patterns).query("analysis == 'prior_therapy'")
    assert set(prior["strata_name"]) == {"overall"}


def test_therapy_by_names_only_strata_the_patterns_can_read() -> None:
    # ph_status is read once a run by the study (tests/study/test_stages_completion.py)
    spec = spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [setting, ph_status]}\n")
    assert spec.patterns.therapy_by == ["setting", "ph_status"]
    with pytest.raises(StudySpecError, match=r"patterns\.therapy_by\[0\].*age_band"):
        spec_from_text(PATTERN_SPEC + "patterns: {therapy_by: [age_band]}\n")
