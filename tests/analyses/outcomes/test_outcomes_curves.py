"""Published points of a curve: no subtraction of published numbers gives a small count."""

from __future__ import annotations

import numpy as np
import pytest

from allrwe.analyses.outcomes import curves
from allrwe.analyses.outcomes.curves import (
    landmark_anchors,
    landmark_point,
    published_points,
    value_before,
)
from allrwe.analyses.survival import kaplan_meier


def test_a_six_person_group_publishes_no_step():
    """The issue's finding: a 6-person KM curve stepped once per death."""
    km = kaplan_meier(np.arange(1.0, 7.0), np.ones(6, dtype=bool))
    index, counts = published_points(km.n_risk, {"n_event": km.n_event, "n_censor": km.n_censor}, 5)
    assert index.tolist() == [0]
    assert counts["n_event"].tolist() == [0.0]
    assert value_before(km.survival, index, 1.0).tolist() == [1.0]


@pytest.mark.parametrize("seed", range(20))
def test_random_curves_give_nothing_away_by_subtraction(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    time = rng.integers(1, 400, n).astype(float)
    event = rng.random(n) < 0.6
    km = kaplan_meier(time, event)
    index, counts = published_points(km.n_risk, {"n_event": km.n_event, "n_censor": km.n_censor}, 5)
    risk = km.n_risk[index]
    assert (risk >= 5).all()
    for kind in ("n_event", "n_censor"):
        assert ((counts[kind] == 0) | (counts[kind] >= 5)).all()
    # consecutive risk sets differ by exactly the published events and censorings
    np.testing.assert_array_equal(-np.diff(risk), (counts["n_event"] + counts["n_censor"])[1:])
    # the estimate changes only through the published events: n_risk * (1 - S / S-) guesses
    surv = value_before(km.survival, index, 1.0)
    guessed = np.round(risk[:-1] * (1.0 - surv[1:] / surv[:-1]))
    assert not ((guessed >= 1) & (guessed < 5)).any()
    assert ((surv[1:] < surv[:-1]) == (counts["n_event"][1:] > 0)).all()


def test_landmark_is_the_value_of_the_next_published_point_or_hidden():
    times = np.array([5.0, 9.0, 20.0, 30.0])
    has_event = np.array([True, True, False, True])
    index = np.array([0, 2, 3])
    assert landmark_point(times, index, has_event, 2.0) == 0
    assert landmark_point(times, index, has_event, 6.0) is None  # the death on day 9
    assert landmark_point(times, index, has_event, 10.0) == 1
    assert landmark_point(times, index, has_event, 25.0) == 2
    assert landmark_point(times, index, has_event, 31.0) is None  # past the last point


@pytest.mark.parametrize("seed", range(20))
def test_a_landmark_with_a_large_risk_set_is_on_the_published_lattice(seed: int):
    """Issue 16: 12-month OS was NE in the demo although 40+ persons were at risk."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 120))
    time = rng.integers(1, 800, n).astype(float)
    event = rng.random(n) < 0.6
    km = kaplan_meier(time, event)
    exits = {"n_event": km.n_event, "n_censor": km.n_censor}
    at = 365.25
    anchors = landmark_anchors(km.time, [at])
    index, counts = published_points(km.n_risk, exits, 5, anchors)
    # the rules of the lattice still hold with the anchor in it
    risk = km.n_risk[index]
    assert (risk >= 5).all()
    for kind in exits:
        assert ((counts[kind] == 0) | (counts[kind] >= 5)).all()
        # and so do the persons after the last point: the total minus the points
        tail = exits[kind][index[-1] :].sum()
        assert tail == exits[kind].sum() - counts[kind].sum()
        assert tail == 0 or tail >= 5
    np.testing.assert_array_equal(-np.diff(risk), (counts["n_event"] + counts["n_censor"])[1:])
    j = landmark_point(km.time, index, km.n_event > 0, at)
    if (time > at).sum() >= 5 and j is None:
        # only a point that cannot be given up (the first) can keep the anchor out
        assert len(index) >= 1
        merged = {k: float(v[index[0] : anchors[0]].sum()) for k, v in exits.items()}
        assert any(0 < v < 5 for v in merged.values())
    if j is not None:
        expected = km.survival[km.time <= at][-1] if (km.time <= at).any() else 1.0
        assert value_before(km.survival, index, 1.0)[j] == pytest.approx(expected)


def test_an_anchor_gives_up_the_points_before_it_when_it_must():
    # events 1, 2, 1, 1, 3: greedily 0 and 2 are published, leaving 1 event before time 3
    exits = {"n_event": np.array([1.0, 2.0, 1.0, 1.0, 3.0])}
    risk = np.array([9, 8, 6, 5, 4])
    assert published_points(risk, exits, 3)[0].tolist() == [0, 2]
    index, counts = published_points(risk, exits, 3, anchors=[3])
    assert index.tolist() == [0, 3]
    assert counts["n_event"].tolist() == [0.0, 4.0]
    # an anchor whose risk set is below the threshold is not published
    assert published_points(risk, exits, 5, anchors=[4])[0].tolist() == [0]


def test_the_persons_after_the_last_point_are_never_below_the_threshold():
    """Issue 16: the summary's totals minus the points' counts gave the last persons away."""
    # greedily 0 and 2 (3 events between); the 2 events after time 2 would be 5 - 3
    exits = {"n_event": np.array([1.0, 2.0, 1.0, 1.0, 0.0])}
    risk = np.array([9, 8, 6, 5, 4])
    index, counts = published_points(risk, exits, 3)
    # the curve ends at time 4 instead: 5 events before it, none after
    assert index.tolist() == [0, 4]
    assert counts["n_event"].tolist() == [0.0, 5.0]
    # 6 censored from time 2 on: publishable, the greedy points stay
    exits = {"n_event": np.array([1.0, 2.0, 0.0, 0.0, 0.0]),
             "n_censor": np.array([0.0, 0.0, 1.0, 1.0, 4.0])}  # fmt: skip
    assert published_points(risk, exits, 3)[0].tolist() == [0, 2]
    # 2 censored after time 2 and no later time with 3 at risk to take them in: even the
    # first point would show them (5 at risk there, 3 events in the summary): no point
    exits = {"n_event": np.array([1.0, 2.0, 0.0, 0.0]), "n_censor": np.array([0.0, 0.0, 1.0, 1.0])}
    index, counts = published_points(np.array([5, 4, 2, 1]), exits, 3)
    assert index.tolist() == []
    assert all(v.tolist() == [] for v in counts.values())


def test_events_hidden_in_the_summary_do_not_end_the_curve():
    # 20 persons: 3 deaths in all (hidden in the summary: 1 to 4), 17 censored; the points
    # show none of the deaths, so they need not end the curve
    exits = {
        "n_event": np.array([0, 0, 0, 0, 1, 1, 1, 0.0]),
        "n_censor": np.array([0, 5, 0, 5, 0, 0, 0, 7.0]),
    }
    risk = 20 - np.concatenate([[0.0], np.cumsum(exits["n_event"] + exits["n_censor"])[:-1]])
    assert risk.tolist() == [20, 20, 15, 15, 10, 9, 8, 7]
    index, counts = published_points(risk, exits, 5)
    assert index.tolist() == [0, 1, 2, 3, 4]
    assert counts["n_event"].sum() == 0
    # the censorings after the last point are checked all the same: 7 (day 7), publishable
    assert exits["n_censor"].sum() - counts["n_censor"].sum() == 7
    # with 4 of them instead, the curve must stop where those 4 are not left over
    exits["n_censor"][-1] = 4.0
    index, counts = published_points(risk - np.array([0, 0, 0, 0, 0, 0, 0, 3]), exits, 5)
    tail = exits["n_censor"].sum() - counts["n_censor"].sum()
    assert tail == 0 or tail >= 5


def _ends_by_truncated_passes(curve, risk, exits, threshold, pinned, first):
    """The candidate curves as defined: one greedy pass per end, stopped just after it."""
    out = []
    for end in curves._ends(risk, exits, threshold, first)[: curves.MAX_ENDS]:
        before = {p for p in pinned if p < end}
        for kept in (before, set()) if before else (before,):
            walk, _ = curves._greedy(curve, threshold, kept | {end}, end + 1)
            if walk.index and walk.index[-1] == end:
                out.append((walk.index, walk.counts))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_candidate_ends_are_those_of_a_pass_stopped_at_each_end(seed: int):
    # _ended reads every candidate off two whole passes; each must be the curve that a pass
    # stopped at its end (with the anchors before it, or none) gives
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    exits = {"n_event": rng.integers(0, 3, n), "n_censor": rng.integers(0, 3, n)}
    if seed % 3 == 0:
        exits["n_enter"] = rng.integers(0, 2, n)
    leaving = exits["n_event"] + exits["n_censor"]
    risk = leaving.sum() + 2 - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    if "n_enter" in exits:
        risk = risk + np.concatenate([[0], np.cumsum(exits["n_enter"])[:-1]])
    threshold = int(rng.integers(2, 7))
    pinned = set(rng.integers(0, n, int(rng.integers(0, 4))).tolist())
    curve = curves._Curve.of(risk.astype(np.float64), exits)
    first = 0
    got = curves._ended(curve, risk, exits, threshold, pinned, first)
    want = _ends_by_truncated_passes(curve, risk, exits, threshold, pinned, first)
    assert got == want
    assert want  # the curve has candidate ends: the comparison is not of two empty lists
