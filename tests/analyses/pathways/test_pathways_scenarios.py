"""Scenario tests in the TreatmentPatterns style: tiny inputs, named after the expected pathway.

Days are offsets from 2020-01-01. Unless a test says otherwise every person has one target
episode from day -100 to day 2000 and the defaults apply (era collapse 30, combination window
30, min post-combination 30, filter "first", max path length 5, overlap "truncate").
"""

from __future__ import annotations

import pandas as pd
import pytest

from allrwe.analyses.pathways import compute_pathways
from allrwe.errors import StudyWarning

D0 = pd.Timestamp("2020-01-01")


def day(n: int) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=n)


def events(*rows: tuple) -> pd.DataFrame:
    """Rows ``(name, start, end)`` for person 1 or ``(person, name, start, end)``."""
    full = [row if len(row) == 4 else (1, *row) for row in rows]
    return pd.DataFrame(
        [(p, n, day(s), day(e)) for p, n, s, e in full],
        columns=["person_id", "name", "start_date", "end_date"],
    )


def targets(*rows: tuple) -> pd.DataFrame:
    """Rows ``(start, end)`` for person 1 or ``(person, start, end)``."""
    full = [row if len(row) == 3 else (1, *row) for row in rows]
    return pd.DataFrame(
        [(p, day(s), day(e)) for p, s, e in full], columns=["person_id", "start_date", "end_date"]
    )


def default_targets(ev: pd.DataFrame) -> pd.DataFrame:
    return targets(*[(p, -100, 2000) for p in sorted(ev["person_id"].unique())])


def run(ev: pd.DataFrame, tg: pd.DataFrame | None = None, **settings):
    return compute_pathways(ev, default_targets(ev) if tg is None else tg, **settings)


def pathway(ev: pd.DataFrame, tg: pd.DataFrame | None = None, person: int = 1, **settings) -> str:
    patients = run(ev, tg, **settings).patients
    return str(patients.loc[patients["person_id"] == person, "pathway"].item())


def history(ev: pd.DataFrame, tg: pd.DataFrame | None = None, **settings) -> list[tuple]:
    """``(name, start day, end day)`` of person 1's final steps."""
    th = run(ev, tg, **settings).treatment_history
    th = th[th["person_id"] == 1]
    return [
        (n, (s - D0).days, (e - D0).days)
        for n, s, e in zip(th["name"], th["start_date"], th["end_date"], strict=True)
    ]


# --- sequences and era collapse -------------------------------------------------------------


def test_A_then_B_is_A_B():
    assert pathway(events(("A", 0, 60), ("B", 90, 150))) == "A-B"


def test_A_alone_is_A():
    assert pathway(events(("A", 0, 60))) == "A"


def test_A_gap_20_A_collapses_to_A():
    ev = events(("A", 0, 60), ("A", 80, 140))
    assert pathway(ev, filter="all") == "A"
    assert history(ev, filter="all") == [("A", 0, 140)]


def test_A_gap_30_A_collapses_to_A_because_gap_equal_to_size_merges():
    assert pathway(events(("A", 0, 60), ("A", 90, 150)), filter="all") == "A"


def test_A_gap_31_A_is_A_A_with_filter_all():
    assert pathway(events(("A", 0, 60), ("A", 91, 151)), filter="all") == "A-A"


def test_A_gap_40_A_is_A_A_with_filter_all():
    ev = events(("A", 0, 60), ("A", 100, 160))
    assert pathway(ev, filter="all") == "A-A"
    assert history(ev, filter="all") == [("A", 0, 60), ("A", 100, 160)]


def test_A_gap_40_A_is_A_with_filter_first():
    assert pathway(events(("A", 0, 60), ("A", 100, 160))) == "A"


def test_A_gap_40_A_is_A_with_era_collapse_40():
    assert pathway(events(("A", 0, 60), ("A", 100, 160)), filter="all", era_collapse_days=40) == "A"


def test_overlapping_A_records_collapse_to_A_with_latest_end():
    ev = events(("A", 0, 100), ("A", 50, 80))
    assert history(ev, filter="all") == [("A", 0, 100)]


def test_A_gap_A_gap_A_chain_collapses_to_one_A():
    ev = events(("A", 0, 20), ("A", 40, 60), ("A", 80, 100), ("A", 200, 260))
    assert history(ev, filter="all") == [("A", 0, 100), ("A", 200, 260)]


def test_A_B_A_with_collapsible_gap_is_A_A_with_filter_all():
    # The two A eras (gap 25) merge across B; B is then contained in A, and the 15-day
    # combination piece is shorter than min_post_combination_days.
    ev = events(("A", 0, 50), ("B", 55, 70), ("A", 75, 120))
    assert history(ev, filter="all") == [("A", 0, 55), ("A", 70, 120)]


# --- combinations (FRFS / LRFS) -------------------------------------------------------------


def test_overlap_45_days_is_A_AplusB_B_frfs():
    ev = events(("A", 0, 100), ("B", 55, 200))
    assert pathway(ev) == "A-A+B-B"
    assert history(ev) == [("A", 0, 55), ("A+B", 55, 100), ("B", 100, 200)]


def test_overlap_exactly_30_days_is_A_AplusB_B():
    assert pathway(events(("A", 0, 100), ("B", 70, 200))) == "A-A+B-B"


def test_contained_B_is_A_AplusB_A_lrfs_with_filter_all():
    ev = events(("A", 0, 200), ("B", 50, 120))
    assert pathway(ev, filter="all") == "A-A+B-A"
    assert history(ev, filter="all") == [("A", 0, 50), ("A+B", 50, 120), ("A", 120, 200)]


def test_contained_B_is_A_AplusB_with_filter_first():
    assert pathway(events(("A", 0, 200), ("B", 50, 120))) == "A-A+B"


def test_atlas_subsumed_case_is_1_1plus2_1():
    """OHDSI/WebAPI #779 "Subsumed": ATLAS splits at 06-30/07-01; we share the boundary."""
    ev = pd.DataFrame(
        {
            "person_id": [1, 1],
            "name": ["1", "2"],
            "start_date": pd.to_datetime(["2016-01-01", "2016-07-01"]),
            "end_date": pd.to_datetime(["2018-01-01", "2017-07-01"]),
        }
    )
    tg = pd.DataFrame(
        {
            "person_id": [1],
            "start_date": [pd.Timestamp("2015-01-01")],
            "end_date": [pd.Timestamp("2019-01-01")],
        }
    )
    result = compute_pathways(ev, tg, filter="all")
    assert result.patients["pathway"].tolist() == ["1-1+2-1"]
    th = result.treatment_history
    assert th["name"].tolist() == ["1", "1+2", "1"]
    assert th["start_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-01-01",
        "2016-07-01",
        "2017-07-01",
    ]
    assert th["end_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-07-01",
        "2017-07-01",
        "2018-01-01",
    ]
    assert th["duration_days"].tolist() == [182, 365, 184]


def test_combination_BplusA_is_named_AplusB():
    # The later event is B, so TreatmentPatterns first writes "B+A", then sorts it.
    assert pathway(events(("A", 0, 100), ("B", 40, 200))) == "A-A+B-B"
    assert pathway(events(("B", 0, 100), ("A", 40, 200))) == "B-A+B-A"


def test_combination_names_sort_case_insensitively_like_R():
    assert pathway(events(("chemo", 0, 100), ("BLIN", 40, 200))) == "chemo-BLIN+chemo-BLIN"


def test_three_way_combination_is_A_AplusB_AplusBplusC_AplusB_A():
    ev = events(("A", 0, 300), ("B", 50, 250), ("C", 100, 200))
    assert pathway(ev, filter="all") == "A-A+B-A+B+C-A+B-A"
    assert history(ev, filter="all") == [
        ("A", 0, 50),
        ("A+B", 50, 100),
        ("A+B+C", 100, 200),
        ("A+B", 200, 250),
        ("A", 250, 300),
    ]
    assert pathway(ev) == "A-A+B-A+B+C"


def test_three_way_attrition_has_two_combination_iterations():
    result = run(events(("A", 0, 300), ("B", 50, 250), ("C", 100, 200)), filter="all")
    reasons = result.attrition["reason"].tolist()
    assert sum(r.startswith("Combination iteration") for r in reasons) == 2
    rows = result.attrition.set_index("reason")["n_records"]
    assert rows["After combination"] == 5


def test_same_start_is_AplusB_B():
    # A is the earlier row (shorter end); the overlap is A's whole duration, so never a switch.
    ev = events(("A", 0, 50), ("B", 0, 200))
    assert history(ev, filter="all") == [("A+B", 0, 50), ("B", 50, 200)]


def test_identical_dates_is_AplusB():
    assert history(events(("A", 0, 100), ("B", 0, 100)), filter="all") == [("A+B", 0, 100)]


def test_combination_window_0_makes_every_overlap_a_combination():
    ev = events(("A", 0, 100), ("B", 95, 200))
    assert (
        pathway(ev, filter="all", combination_window_days=0, min_post_combination_days=0)
        == "A-A+B-B"
    )


# --- switches: truncate vs keep -------------------------------------------------------------


def test_overlap_20_days_is_switch_A_B_truncate():
    ev = events(("A", 0, 100), ("B", 80, 200))
    assert history(ev) == [("A", 0, 80), ("B", 80, 200)]


def test_overlap_20_days_is_switch_A_B_keep_leaves_dates():
    ev = events(("A", 0, 100), ("B", 80, 200))
    assert history(ev, overlap="keep") == [("A", 0, 100), ("B", 80, 200)]


def test_short_switch_truncates_A_below_min_post_so_is_B_with_truncate():
    assert pathway(events(("A", 0, 40), ("B", 15, 200))) == "B"


def test_short_switch_is_A_B_with_keep():
    assert pathway(events(("A", 0, 40), ("B", 15, 200)), overlap="keep") == "A-B"


def test_short_contained_switch_loses_remainder_is_A_B():
    # Overlap 20 < 30 and neither era's whole duration: a switch, so A's tail is lost.
    ev = events(("A", 0, 100), ("B", 80, 90))
    assert history(ev, filter="all", min_post_combination_days=0) == [("A", 0, 80), ("B", 80, 90)]


def test_short_overlap_equal_to_whole_B_is_combination_A_AplusB_A():
    ev = events(("A", 0, 100), ("B", 90, 100))
    assert pathway(ev, filter="all", min_post_combination_days=0) == "A-A+B-A"
    assert history(ev, filter="all", min_post_combination_days=0) == [
        ("A", 0, 90),
        ("A+B", 90, 100),
        ("A", 100, 100),
    ]
    assert pathway(ev, filter="all") == "A"


def test_keep_combines_a_later_long_overlap_after_a_short_one_A_B_BplusC_C():
    # Deliberate difference: TreatmentPatterns would never combine B and C here.
    ev = events(("A", 0, 100), ("B", 90, 200), ("C", 150, 300))
    assert history(ev, overlap="keep", filter="all") == [
        ("A", 0, 100),
        ("B", 90, 150),
        ("B+C", 150, 200),
        ("C", 200, 300),
    ]


# --- min_post_combination_days --------------------------------------------------------------


def test_short_combination_piece_dropped_is_A_B():
    ev = events(("A", 0, 100), ("B", 80, 300))
    assert pathway(ev, combination_window_days=10) == "A-B"
    assert history(ev, combination_window_days=10) == [("A", 0, 80), ("B", 100, 300)]


def test_short_combination_piece_kept_with_min_post_0_is_A_AplusB_B():
    ev = events(("A", 0, 100), ("B", 80, 300))
    assert pathway(ev, combination_window_days=10, min_post_combination_days=0) == "A-A+B-B"


def test_short_era_without_any_overlap_anywhere_is_C_D():
    assert pathway(events(("C", 0, 10), ("D", 100, 200))) == "C-D"


def test_min_post_combination_filter_is_whole_table_so_short_C_of_other_person_is_dropped():
    # TreatmentPatterns quirk: person 2 never overlaps, yet loses the 10-day C because
    # person 1's overlap started a combination iteration.
    ev = events((1, "A", 0, 100), (1, "B", 55, 200), (2, "C", 0, 10), (2, "D", 100, 200))
    assert pathway(ev, person=2) == "D"
    assert pathway(ev, person=1) == "A-A+B-B"


# --- min_era_days ---------------------------------------------------------------------------


def test_min_era_drops_short_event_is_B():
    assert pathway(events(("A", 0, 5), ("B", 20, 100)), min_era_days=10) == "B"


def test_min_era_keeps_event_lasting_exactly_min_days_is_A_B():
    assert pathway(events(("A", 0, 10), ("B", 50, 100)), min_era_days=10) == "A-B"


def test_min_era_drops_short_target_so_person_is_absent():
    ev = events((1, "A", 0, 50), (2, "A", 0, 50))
    tg = targets((1, 0, 5), (2, 0, 500))
    result = compute_pathways(ev, tg, min_era_days=10)
    assert result.patients["person_id"].tolist() == [2]
    assert result.counts.to_dict("list") == {"pathway": ["A"], "n_persons": [1]}


def test_one_day_CAR_T_is_BLIN_CAR_T_with_min_era_0():
    assert pathway(events(("BLIN", 0, 28), ("CAR-T", 60, 60))) == "BLIN-CAR-T"


def test_one_day_CAR_T_dropped_with_min_era_1_is_BLIN():
    assert pathway(events(("BLIN", 0, 28), ("CAR-T", 60, 60)), min_era_days=1) == "BLIN"


def test_one_day_CAR_T_dropped_once_any_combination_pass_runs_is_BLIN():
    ev = events((1, "BLIN", 0, 56), (1, "CAR-T", 90, 90), (2, "INO", 0, 100), (2, "Chemo", 20, 200))
    assert pathway(ev) == "BLIN"
    assert pathway(ev, min_post_combination_days=0) == "BLIN-CAR-T"


# --- filterTreatments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"), [("first", "A-B"), ("changes", "A-B-A"), ("all", "A-B-A")]
)
def test_A_B_A_by_filter(method, expected):
    assert pathway(events(("A", 0, 60), ("B", 100, 160), ("A", 200, 260)), filter=method) == (
        expected
    )


@pytest.mark.parametrize(
    ("method", "expected"), [("first", "A-B"), ("changes", "A-B"), ("all", "A-A-B")]
)
def test_A_A_B_by_filter(method, expected):
    assert pathway(events(("A", 0, 60), ("A", 100, 160), ("B", 200, 260)), filter=method) == (
        expected
    )


def test_changes_merges_consecutive_A_regardless_of_gap_is_A_B():
    ev = events(("A", 0, 60), ("A", 500, 560), ("B", 600, 700))
    th = run(ev, filter="changes").treatment_history
    assert th["name"].tolist() == ["A", "B"]
    assert [(d - D0).days for d in th["start_date"]] == [0, 600]
    assert [(d - D0).days for d in th["end_date"]] == [560, 700]
    # Summed time on treatment, as TreatmentPatterns' durationEra: 60 + 60, not 560.
    assert th["duration_days"].tolist() == [120, 100]


def test_filter_is_case_insensitive_First_is_A_B():
    result = run(events(("A", 0, 60), ("B", 100, 160), ("A", 200, 260)), filter="First")
    assert result.patients["pathway"].tolist() == ["A-B"]
    assert result.settings["filter"] == "first"


# --- maxPathLength --------------------------------------------------------------------------


def test_A_B_C_D_is_A_B_C_with_max_path_length_3():
    ev = events(("A", 0, 50), ("B", 100, 150), ("C", 200, 250), ("D", 300, 350))
    assert pathway(ev, max_path_length=3) == "A-B-C"
    assert pathway(ev) == "A-B-C-D"


def test_max_path_length_1_is_A():
    assert pathway(events(("A", 0, 50), ("B", 100, 150)), max_path_length=1) == "A"


# --- window and anchors ---------------------------------------------------------------------


def test_event_starting_before_index_is_dropped_is_B():
    ev = events(("A", 90, 200), ("B", 300, 400))
    assert pathway(ev, targets((100, 500))) == "B"


def test_event_starting_in_window_is_kept_whole_is_B():
    ev = events(("B", 400, 700))
    assert history(ev, targets((100, 500))) == [("B", 400, 700)]


def test_events_starting_on_index_and_on_window_end_are_kept_is_A_B():
    ev = events(("A", 100, 150), ("B", 500, 600), ("C", 501, 600))
    assert pathway(ev, targets((100, 500))) == "A-B"


def test_window_start_minus_30_keeps_event_before_index_is_A_B():
    ev = events(("A", 75, 90), ("B", 300, 400))
    assert pathway(ev, targets((100, 500)), window_start_days=-30) == "A-B"
    assert pathway(ev, targets((100, 500)), window_start_days=-20) == "B"


def test_end_anchor_start_date_window_end_200_is_A():
    ev = events(("A", 150, 250), ("B", 350, 400))
    tg = targets((100, 500))
    assert pathway(ev, tg, end_anchor="start_date", window_end_days=200) == "A"
    assert pathway(ev, tg) == "A-B"


def test_start_anchor_end_date_looks_after_the_target_is_C():
    ev = events(("A", 150, 250), ("C", 520, 600))
    tg = targets((100, 500))
    assert pathway(ev, tg, start_anchor="end_date", window_end_days=365) == "C"


def test_window_from_target_end_to_target_start_is_empty_pathway():
    ev = events(("A", 110, 250))
    with pytest.warns(StudyWarning, match="none of the 1 target episodes"):
        result = run(ev, targets((100, 120)), start_anchor="end_date", end_anchor="start_date")
    assert result.patients["pathway"].tolist() == [""]
    assert result.counts.empty


# --- several target episodes ----------------------------------------------------------------


def test_two_episodes_concatenated_is_A_B():
    ev = events(("A", 10, 50), ("C", 200, 250), ("B", 310, 350))
    result = run(ev, targets((0, 100), (300, 400)))
    assert result.patients.to_dict("list") == {"person_id": [1], "pathway": ["A-B"], "n_steps": [2]}


def test_two_episodes_not_concatenated_is_A_and_B():
    ev = events(("A", 10, 50), ("C", 200, 250), ("B", 310, 350))
    result = run(ev, targets((300, 400), (0, 100)), concat_targets=False)
    assert result.patients.to_dict("list") == {
        "person_id": [1, 1],
        "target_index": [1, 2],
        "pathway": ["A", "B"],
        "n_steps": [1, 1],
    }
    assert result.treatment_history["target"].tolist() == [1, 2]
    assert result.counts.to_dict("list") == {"pathway": ["A", "B"], "n_persons": [1, 1]}


def test_era_collapse_runs_across_concatenated_episodes_is_A():
    ev = events(("A", 80, 100), ("A", 110, 150))
    tg = targets((0, 100), (105, 200))
    assert pathway(ev, tg, filter="all") == "A"
    result = run(ev, tg, filter="all", concat_targets=False)
    assert result.patients["pathway"].tolist() == ["A", "A"]


def test_event_inside_two_overlapping_episodes_is_counted_once_is_A():
    ev = events(("A", 50, 60))
    assert history(ev, targets((0, 100), (40, 200)), filter="all") == [("A", 50, 60)]


# --- exit events ----------------------------------------------------------------------------


def test_exit_event_is_appended_A_HSCT():
    ev = events(("A", 0, 60), ("HSCT", 100, 100))
    assert pathway(ev, exit_names=["HSCT"]) == "A-HSCT"


def test_exit_events_are_not_collapsed_or_filtered_A_HSCT_HSCT():
    ev = events(("A", 0, 60), ("HSCT", 100, 100), ("HSCT", 110, 110))
    assert pathway(ev, exit_names=["HSCT"]) == "A-HSCT-HSCT"
    assert pathway(ev) == "A-HSCT"


def test_exit_event_is_not_combined_A_HSCT():
    ev = events(("A", 0, 200), ("HSCT", 50, 80))
    assert history(ev, exit_names=("HSCT",), filter="all") == [("A", 0, 200), ("HSCT", 50, 80)]


def test_exit_event_survives_min_post_combination_A_AplusB_B_HSCT():
    ev = events(("A", 0, 100), ("B", 55, 200), ("HSCT", 250, 250))
    assert pathway(ev, exit_names=["HSCT"]) == "A-A+B-B-HSCT"


def test_exit_counts_toward_max_path_length_is_A_HSCT():
    ev = events(("A", 0, 60), ("HSCT", 100, 100), ("B", 200, 260))
    assert pathway(ev, exit_names=["HSCT"], max_path_length=2) == "A-HSCT"


def test_exit_event_dropped_by_min_era_is_A():
    ev = events(("A", 0, 60), ("HSCT", 100, 100))
    assert pathway(ev, exit_names=["HSCT"], min_era_days=1) == "A"


# --- untreated persons ----------------------------------------------------------------------


def test_target_without_events_has_empty_pathway_and_is_counted_only_on_request():
    ev = events((1, "A", 0, 60))
    tg = targets((1, 0, 500), (2, 0, 500))
    result = compute_pathways(ev, tg)
    assert result.patients.to_dict("list") == {
        "person_id": [1, 2],
        "pathway": ["A", ""],
        "n_steps": [1, 0],
    }
    assert result.counts.to_dict("list") == {"pathway": ["A"], "n_persons": [1]}
    assert result.count_pathways(include_none=True).to_dict("list") == {
        "pathway": ["A", "None"],
        "n_persons": [1, 1],
    }


def test_events_of_persons_without_target_are_ignored():
    ev = events((1, "A", 0, 60), (3, "B", 0, 60))
    result = compute_pathways(ev, targets((1, 0, 500)))
    assert result.patients["person_id"].tolist() == [1]
    assert result.treatment_history["person_id"].tolist() == [1]


# --- R/R ALL ---------------------------------------------------------------------------------


def test_INO_then_BLIN_is_INO_BLIN():
    """Seed 000 counts "inotuzumab-to-blinatumomab" sequences: INO then BLIN, no overlap."""
    ev = pd.DataFrame(
        {
            "person_id": [7, 7],
            "name": ["INO", "BLIN"],
            "start_date": pd.to_datetime(["2021-03-01", "2021-06-14"]),
            "end_date": pd.to_datetime(["2021-05-10", "2021-07-12"]),
        }
    )
    tg = pd.DataFrame(
        {
            "person_id": [7],
            "start_date": [pd.Timestamp("2021-02-20")],
            "end_date": [pd.Timestamp("2022-02-20")],
        }
    )
    result = compute_pathways(ev, tg)
    assert result.patients["pathway"].tolist() == ["INO-BLIN"]
    assert result.counts.to_dict("list") == {"pathway": ["INO-BLIN"], "n_persons": [1]}
