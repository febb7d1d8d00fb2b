"""Cycle rules: blinatumomab infusions, the inotuzumab day-1/8/15 schedule, single infusions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pattern_helpers import day

from allrwe.analyses.therapy import (
    assign_cycles,
    dose_schedule_cycles,
    infusion_cycles,
    single_cycles,
)
from allrwe.spec import DoseScheduleCycles, GapCycles, InfusionCycles, SingleCycles


def records(person: int, spans: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": person,
            "start_date": [day(s) for s, _ in spans],
            "end_date": [day(e) for _, e in spans],
        }
    )


def cycles_of(spans: list[tuple[int, int]], rule: object) -> list[int]:
    return assign_cycles(records(1, spans), rule)["cycle"].tolist()  # type: ignore[arg-type]


def test_bags_with_a_3_day_interruption_are_one_cycle() -> None:
    # 7-day bags; days 14-16 untreated (3 days), then the cycle goes on
    assert cycles_of([(0, 6), (7, 13), (17, 27)], InfusionCycles()) == [1, 1, 1]


def test_bags_after_a_14_day_break_start_cycle_2() -> None:
    out = assign_cycles(records(1, [(0, 27), (42, 69)]), InfusionCycles())
    assert out["cycle"].tolist() == [1, 2]
    assert out["cycle_start"].tolist() == [day(0), day(42)]


def test_the_interruption_limit_is_inclusive_and_a_parameter() -> None:
    seven = [(0, 10), (18, 27)]  # days 11-17 untreated: 7 days
    eight = [(0, 10), (19, 27)]
    assert cycles_of(seven, InfusionCycles()) == [1, 1]
    assert cycles_of(eight, InfusionCycles()) == [1, 2]
    assert cycles_of(seven, InfusionCycles(max_interruption_days=6)) == [1, 2]
    assert cycles_of(eight, GapCycles()) == [1, 2]


def test_overlapping_and_nested_bags() -> None:
    # a 7-day bag with a 1-day bag inside it, then a contiguous bag
    assert cycles_of([(0, 6), (2, 2), (7, 13), (30, 31)], InfusionCycles()) == [1, 1, 1, 2]


def test_inotuzumab_two_cycles_with_a_7_day_gap_between_them() -> None:
    # cycle 1 of 21 days: doses on days 0, 7, 14; cycle 2 starts on day 21, 7 days after day 14
    out = assign_cycles(records(1, [(d, d) for d in (0, 7, 14, 21, 28, 35)]), DoseScheduleCycles())
    assert out["cycle"].tolist() == [1, 1, 1, 2, 2, 2]
    assert out["dose_in_cycle"].tolist() == [1, 2, 3, 1, 2, 3]
    assert out["day_in_cycle"].tolist() == [1, 8, 15, 1, 8, 15]


def test_inotuzumab_extended_delayed_and_incomplete_cycles() -> None:
    days = [
        0,
        8,
        16,  # cycle 1 with doses 1 and 2 days late (window +-2)
        28,
        35,  # cycle 2 after a 28-day cycle 1; its day-15 dose skipped
        56,
        63,
        70,  # cycle 3 (day 56 - 28 = 28 >= 19)
        96,  # cycle 4: a single dose after a delay
    ]
    out = assign_cycles(records(1, [(d, d) for d in days]), DoseScheduleCycles())
    assert out["cycle"].tolist() == [1, 1, 1, 2, 2, 3, 3, 3, 4]


def test_a_fourth_dose_inside_the_cycle_length_opens_a_cycle() -> None:
    days = [0, 5, 10, 15]
    out = assign_cycles(records(1, [(d, d) for d in days]), DoseScheduleCycles())
    assert out["cycle"].tolist() == [1, 1, 1, 2]


def test_same_day_records_count_once_and_quantities_add_up() -> None:
    rec = records(1, [(0, 0), (0, 0), (7, 7)]).assign(quantity=[1.0, 0.5, 0.9])
    out = assign_cycles(rec, DoseScheduleCycles())
    assert out["cycle"].tolist() == [1, 1]
    assert out["quantity"].tolist() == [1.5, 0.9]


def test_single_rule_counts_administration_days() -> None:
    assert cycles_of([(0, 0), (0, 0), (90, 90)], SingleCycles()) == [1, 2]


def test_vectorised_functions_keep_persons_apart() -> None:
    person = np.array([1, 1, 2, 2])
    start = np.array([0, 20, 0, 20])
    assert dose_schedule_cycles(person, start, max_doses=3, min_cycle_days=19).tolist() == [
        1,
        2,
        1,
        2,
    ]
    assert infusion_cycles(person, start, start + 5, max_interruption=7).tolist() == [1, 2, 1, 2]
    assert single_cycles(person, start).tolist() == [1, 2, 1, 2]


def test_cycle_day_and_dose_numbers_per_person_and_same_day_merges() -> None:
    rec = pd.concat(
        [
            # person 2 first: input order does not matter
            records(2, [(0, 0), (8, 8), (8, 10), (25, 25)]).assign(
                quantity=[1.0, np.nan, np.nan, 2.0]
            ),
            records(1, [(3, 3), (10, 10), (17, 17), (24, 24)]).assign(
                quantity=[1.0, 2.0, 0.5, 1.0]
            ),
        ],
        ignore_index=True,
    )
    out = assign_cycles(rec, DoseScheduleCycles())
    assert out["person_id"].tolist() == [1, 1, 1, 1, 2, 2, 2]
    assert out["cycle"].tolist() == [1, 1, 1, 2, 1, 1, 2]
    assert out["cycle_start"].tolist() == [day(3)] * 3 + [day(24), day(0), day(0), day(25)]
    assert out["day_in_cycle"].tolist() == [1, 8, 15, 1, 1, 9, 1]
    assert out["dose_in_cycle"].tolist() == [1, 2, 3, 1, 1, 2, 1]
    # The two day-8 records of person 2 merge: latest end, quantity missing (none given).
    assert out["end_date"].tolist()[5] == day(10)
    assert out["quantity"].isna().tolist() == [False] * 5 + [True, False]
    assert out["quantity"].tolist()[:5] == [1.0, 2.0, 0.5, 1.0, 1.0]


def test_no_records_give_no_cycles() -> None:
    for rule in (DoseScheduleCycles(), InfusionCycles(), SingleCycles()):
        out = assign_cycles(records(1, []).assign(quantity=[]), rule)
        assert out.empty
        assert "dose_in_cycle" in out
