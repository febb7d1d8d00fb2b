"""Property tests: pathways do not depend on row order or person ids, and keep their shape."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allrwe.analyses.pathways import compute_pathways

D0 = pd.Timestamp("2020-01-01")

# Draws where nobody is treated are valid inputs; their StudyWarning is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore::allrwe.errors.StudyWarning")

_event = st.tuples(
    st.integers(min_value=1, max_value=5),  # person
    st.sampled_from(["A", "B", "C", "HSCT"]),
    st.integers(min_value=0, max_value=300),  # start day
    st.integers(min_value=0, max_value=120),  # duration
)
_options = st.fixed_dictionaries(
    {
        "filter": st.sampled_from(["first", "changes", "all"]),
        "overlap": st.sampled_from(["truncate", "keep"]),
        "era_collapse_days": st.sampled_from([0, 30]),
        "min_post_combination_days": st.sampled_from([0, 30]),
        "concat_targets": st.booleans(),
        "exit_names": st.sampled_from([(), ("HSCT",)]),
    }
)


def _tables(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    events = pd.DataFrame(
        [(p, n, D0 + pd.Timedelta(days=s), D0 + pd.Timedelta(days=s + d)) for p, n, s, d in rows],
        columns=["person_id", "name", "start_date", "end_date"],
    )
    persons = list(range(1, 7))  # person 6 never has events
    targets = pd.DataFrame(
        {
            "person_id": [*persons, 1, 2],
            "start_date": [D0 - pd.Timedelta(days=10)] * 6 + [D0 + pd.Timedelta(days=150)] * 2,
            "end_date": [D0 + pd.Timedelta(days=140)] * 6 + [D0 + pd.Timedelta(days=400)] * 2,
        }
    )
    return events, targets


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, max_size=14), options=_options, seed=st.integers(0, 2**31))
def test_result_is_invariant_to_row_order(rows, options, seed):
    events, targets = _tables(rows)
    expected = compute_pathways(events, targets, **options)
    shuffled = compute_pathways(
        events.sample(frac=1.0, random_state=seed),
        targets.sample(frac=1.0, random_state=seed + 1),
        **options,
    )
    pd.testing.assert_frame_equal(shuffled.patients, expected.patients)
    pd.testing.assert_frame_equal(shuffled.treatment_history, expected.treatment_history)
    pd.testing.assert_frame_equal(shuffled.attrition, expected.attrition)
    pd.testing.assert_frame_equal(shuffled.counts, expected.counts)


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(_event, max_size=14),
    options=_options,
    new_ids=st.permutations([907, 15, 4410, 2, 88, 31337]),
)
def test_result_is_invariant_to_person_id_relabelling(rows, options, new_ids):
    events, targets = _tables(rows)
    relabel = dict(zip(range(1, 7), new_ids, strict=True))
    back = {v: k for k, v in relabel.items()}
    expected = compute_pathways(events, targets, **options)
    relabelled = compute_pathways(
        events.assign(person_id=events["person_id"].map(relabel)),
        targets.assign(person_id=targets["person_id"].map(relabel)),
        **options,
    )
    keys = ["person_id", "target_index"] if "target_index" in expected.patients else ["person_id"]
    patients = relabelled.patients.assign(person_id=relabelled.patients["person_id"].map(back))
    patients = patients.sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(patients, expected.patients)
    pd.testing.assert_frame_equal(relabelled.counts, expected.counts)
    pd.testing.assert_frame_equal(relabelled.attrition, expected.attrition)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, max_size=14), min_post=st.sampled_from([0, 30]))
def test_truncate_with_filter_all_leaves_no_overlap(rows, min_post):
    events, targets = _tables(rows)
    result = compute_pathways(
        events, targets, filter="all", max_path_length=1000, min_post_combination_days=min_post
    )
    th = result.treatment_history
    ordered = th.sort_values(["person_id", "target", "seq"])
    same = ordered["person_id"].eq(ordered["person_id"].shift(-1))
    gaps = (ordered["start_date"].shift(-1) - ordered["end_date"])[same]
    assert (gaps >= pd.Timedelta(0)).all()
    assert (th["duration_days"] >= 0).all()


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, max_size=14), options=_options, max_len=st.integers(1, 4))
def test_pathways_respect_filter_and_max_length(rows, options, max_len):
    events, targets = _tables(rows)
    result = compute_pathways(events, targets, max_path_length=max_len, **options)
    patients = result.patients
    assert (patients["n_steps"] <= max_len).all()
    th = result.treatment_history
    keys = ["person_id", "target"]
    expected_seq = th.groupby(keys).cumcount() + 1
    assert th["seq"].tolist() == expected_seq.tolist()
    assert result.counts["n_persons"].sum() == (patients["n_steps"] > 0).sum()
    treatments = th[~th["name"].isin(options["exit_names"])]
    if options["filter"] == "first":
        assert not treatments.duplicated(["person_id", "target", "name"]).any()
    if options["filter"] == "changes":
        repeated = treatments["name"].eq(treatments["name"].shift()) & treatments["person_id"].eq(
            treatments["person_id"].shift()
        )
        assert not (repeated & treatments["target"].eq(treatments["target"].shift())).any()
