"""Unit tests of the single pathway steps on history frames (integer days)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.pathways import steps


def _history(*rows: tuple) -> pd.DataFrame:
    """Rows ``(person, target, name, start, end)``."""
    frame = pd.DataFrame(rows, columns=["person_id", "target", "name", "start", "end"])
    return frame.assign(duration=frame["end"] - frame["start"])


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return list(frame[["person_id", "name", "start", "end"]].itertuples(index=False, name=None))


def test_combine_names_sorts_and_deduplicates_parts():
    out = steps.combine_names(
        np.array(["B", "A+C", "C", "b"], dtype=object),
        np.array(["A", "B", "A+C", "A"], dtype=object),
    )
    assert out.tolist() == ["A+B", "A+B+C", "A+C", "A+b"]
    assert steps.combine_names(np.array([], dtype=object), np.array([], dtype=object)).size == 0


def test_era_collapse_merges_per_person_target_and_name_only():
    h = _history(
        (1, 1, "A", 0, 10),
        (1, 1, "A", 40, 50),  # gap 30: merges
        (1, 1, "B", 55, 60),
        (1, 2, "A", 70, 80),  # other target episode: kept apart
        (2, 1, "A", 20, 30),
    )
    out, row = steps.era_collapse(h, gap_days=30)
    assert _rows(out) == [(1, "A", 0, 50), (1, "B", 55, 60), (1, "A", 70, 80), (2, "A", 20, 30)]
    assert out["duration"].tolist() == [50, 5, 10, 10]
    assert row == steps.AttritionRow("Era collapse (era_collapse_days=30)", 4, 2)


def test_era_collapse_measures_gap_from_latest_end_of_the_chain():
    # The middle record ends early; the gap to the third counts from the first one's end.
    h = _history((1, 1, "A", 0, 100), (1, 1, "A", 10, 20), (1, 1, "A", 120, 130))
    out, _ = steps.era_collapse(h, gap_days=30)
    assert _rows(out) == [(1, "A", 0, 130)]


def test_combination_iteration_returns_none_without_overlap():
    h = _history((1, 1, "A", 0, 10), (1, 1, "B", 10, 20), (2, 1, "A", 0, 5))
    assert (
        steps.combination_iteration(
            h,
            combination_window_days=30,
            min_post_combination_days=30,
            overlap="truncate",
            iteration=1,
        )
        is None
    )


def test_combination_iteration_handles_first_overlap_of_each_person_only():
    h = _history(
        (1, 1, "A", 0, 300),
        (1, 1, "B", 50, 250),
        (1, 1, "C", 100, 200),
        (2, 1, "A", 0, 100),
        (2, 1, "B", 55, 200),
    )
    out, row = steps.combination_iteration(
        h, combination_window_days=30, min_post_combination_days=0, overlap="truncate", iteration=1
    )
    assert _rows(out) == [
        (1, "A", 0, 50),
        (1, "A+B", 50, 250),
        (1, "C", 100, 200),
        (1, "A", 250, 300),
        (2, "A", 0, 55),
        (2, "A+B", 55, 100),
        (2, "B", 100, 200),
    ]
    assert row.n_records == 7
    assert row.reason.startswith("Combination iteration 1 ")


def test_combination_iteration_keep_skips_short_overlaps():
    h = _history((1, 1, "A", 0, 100), (1, 1, "B", 80, 200))
    assert (
        steps.combination_iteration(
            h, combination_window_days=30, min_post_combination_days=30, overlap="keep", iteration=1
        )
        is None
    )


def test_apply_window_keeps_events_by_start_date_only():
    episodes = pd.DataFrame(
        {"person_id": [1, 1], "target": [1, 2], "index": [100, 300], "window_end": [200, 400]}
    )
    events = pd.DataFrame(
        {
            "person_id": [1, 1, 1, 1, 2],
            "name": ["A", "B", "C", "D", "A"],
            "start": [99, 100, 200, 350, 150],
            "end": [150, 500, 201, 360, 160],
        }
    )
    out, row = steps.apply_window(episodes, events, reason="window")
    assert list(out[["target", "name", "start", "end"]].itertuples(index=False, name=None)) == [
        (1, "B", 100, 500),
        (1, "C", 200, 201),
        (2, "D", 350, 360),
    ]
    assert row == steps.AttritionRow("window", 3, 1)


def test_number_target_episodes_orders_by_date_and_anchors_windows():
    targets = pd.DataFrame({"person_id": [1, 1, 2], "start": [300, 100, 50], "end": [400, 200, 60]})
    out = steps.number_target_episodes(
        targets,
        start_anchor="end_date",
        window_start_days=1,
        end_anchor="end_date",
        window_end_days=90,
        concat_targets=False,
    )
    assert out.to_dict("list") == {
        "person_id": [1, 1, 2],
        "target": [1, 2, 1],
        "index": [201, 401, 61],
        "window_end": [290, 490, 150],
    }


def test_filter_changes_sums_durations_of_merged_rows():
    h = _history((1, 1, "A", 0, 10), (1, 1, "A", 100, 130), (1, 1, "B", 200, 210))
    out, row = steps.filter_treatments(h, method="changes")
    assert _rows(out) == [(1, "A", 0, 130), (1, "B", 200, 210)]
    assert out["duration"].tolist() == [40, 10]
    assert row == steps.AttritionRow("Filter treatments (filter=changes)", 2, 1)


def test_cut_path_length_numbers_steps_per_episode():
    h = _history((1, 1, "A", 0, 10), (1, 1, "B", 20, 30), (1, 2, "C", 5, 6), (1, 1, "C", 40, 50))
    out, row = steps.cut_path_length(h, max_path_length=2)
    assert list(out[["target", "seq", "name"]].itertuples(index=False, name=None)) == [
        (1, 1, "A"),
        (1, 2, "B"),
        (2, 1, "C"),
    ]
    assert row.n_records == 3
