"""Which points of a survival or incidence curve may be published (CohortSurvival practice).

A point of a curve is published at a time ``t`` only where the risk set at ``t`` is at least
the minimum cell count, and the persons who left the risk set since the previous published
point (each event type and the censorings apart) are 0 or at least the threshold. A published
point carries:

* ``n_risk``: the persons at risk at ``t`` (time >= ``t``);
* ``n_event`` (one per cause for a cumulative incidence) and ``n_censor``: the persons who
  left the risk set from the previous published point up to, not including, ``t``, so that
  consecutive numbers at risk differ by exactly the published events and censorings;
* the estimate and its limits just before ``t``: their change since the previous point comes
  from the same persons as the published counts.

The persons who leave from the last published point on (the summary's totals minus the
points' counts) are, each kind apart, 0 or at least the threshold as well (events of a kind
that number 1 to threshold - 1 in all excepted: the summary hides them, and the points show
none of them). Of the curves that satisfy this, by giving up the latest points or by ending
at a later time whose tail allows it, the one with the most landmark anchors, then the
latest end, then the most points is published.

So no subtraction of published numbers (consecutive risk sets, risk set minus events and
censorings, ``n_risk * (1 - S(t) / S(t-))``) gives back a count below the threshold, and the
curve stops where fewer persons than the threshold remain at risk.

A Simon–Makuch curve (the "after HSCT" state) also gains persons after its start: its points
carry ``n_enter``, the persons who joined the risk set since the previous published point,
under the same rule, so that consecutive numbers at risk differ by exactly the published
entries, events and censorings; a time whose risk set is below the threshold is skipped, and
the curve goes on where enough persons are at risk again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["landmark_anchors", "landmark_point", "published_points", "value_before"]


def _publishable(count: float, threshold: int) -> bool:
    return count == 0 or count >= threshold


def published_points(
    n_risk: np.ndarray,
    exits: Mapping[str, np.ndarray],
    threshold: int,
    anchors: Sequence[int] = (),
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Choose the published times of a curve and the counts between them.

    Times are taken greedily, each as soon as the counts since the previous published time
    are publishable. An *anchor* (the first time after a landmark, whose value-before is the
    landmark estimate) is published whenever its risk set reaches the threshold: if the
    counts since the previous published time are not publishable, the published times
    before it are given up, latest first (never an earlier anchor), until they are; only if
    none works is the anchor left out.

    Parameters
    ----------
    n_risk : numpy.ndarray
        Persons at risk at each distinct time of the curve. Non-increasing, unless persons
        enter late (a Simon–Makuch curve): times whose risk set is below the threshold are
        then skipped, not the end of the curve, and the entries are one more kind of
        ``exits`` (``n_enter``, counted from each time up to the next).
    exits : mapping of str to numpy.ndarray
        Persons leaving the risk set at each time, by kind (``n_event``, ``n_censor``, one
        ``n_event_<cause>`` per cause), and ``n_enter``, those joining it after each time.
    threshold : int
        The minimum cell count (1: every time is published).
    anchors : sequence of int, optional
        Positions to publish where the rule allows (see above).

    Returns
    -------
    index : numpy.ndarray of int
        Positions of the published times.
    counts : dict of str to numpy.ndarray
        Per kind, the persons who left from the previous published time up to the published
        time (excluded), aligned with ``index``.

    Examples
    --------
    >>> idx, c = published_points(np.array([9, 8, 6, 5, 4]),
    ...                           {"n_event": np.array([1, 2, 1, 1, 3])}, 3)
    >>> idx.tolist(), c["n_event"].tolist()
    ([0, 2], [0.0, 3.0])
    >>> idx, c = published_points(np.array([9, 8, 6, 5, 4]),
    ...                           {"n_event": np.array([1, 2, 1, 1, 3])}, 3, anchors=[3])
    >>> idx.tolist(), c["n_event"].tolist()
    ([0, 3], [0.0, 4.0])

    The persons after the last point count too: greedily the points are 0 and 2, and the 2
    events after time 2 would be the summary's 5 minus the points' 3; the curve ends instead
    at the latest time whose tail is publishable (time 4, nobody after it).

    >>> idx, c = published_points(np.array([9, 8, 6, 5, 4]),
    ...                           {"n_event": np.array([1, 2, 1, 1, 0])}, 3)
    >>> idx.tolist(), c["n_event"].tolist()
    ([0, 4], [0.0, 5.0])
    """
    risk = np.asarray(n_risk, dtype=np.float64)
    pinned = {int(a) for a in anchors}
    curve = _Curve.of(risk, exits)
    walk, _ = _greedy(curve, threshold, pinned, len(risk))
    index, counts = walk.index, walk.counts
    first, points = (index[0] if index else 0), len(index)
    _close_tail(index, counts, exits, threshold)
    if len(index) < points:  # the tail was not publishable: other ends may keep more
        options = [(index, counts), *_ended(curve, risk, exits, threshold, pinned, first)]
        # the most anchors, then the latest end, then the most points
        index, counts = max(
            options, key=lambda o: (len(pinned.intersection(o[0])), o[0][-1:], len(o[0]))
        )
    return np.asarray(index, dtype=np.int64), {
        k: np.asarray(v, dtype=np.float64) for k, v in counts.items()
    }


#: how many candidate ends of a curve :func:`published_points` tries
MAX_ENDS = 24


def _ended(
    curve: _Curve,
    risk: np.ndarray,
    exits: Mapping[str, np.ndarray],
    threshold: int,
    pinned: set[int],
    first: int,
) -> list[tuple[list[int], dict[str, list[float]]]]:
    """Return the curves that end at a time whose tail is publishable, where the rule reaches.

    The :data:`MAX_ENDS` latest such times are tried, each with the anchors before it and
    without them (an anchor only says where a point is wanted).

    A greedy pass that ends at ``end`` with the anchors ``before`` it walks the times before
    ``end`` exactly as a pass over the whole curve with every anchor does (or with none, for
    the curve without anchors): anchors from ``end`` on play no part before it. So two passes
    over the whole curve, each keeping where it stands when it reaches a candidate end, give
    every candidate; only the step at the end itself is taken once per candidate.
    """
    ends = _ends(risk, exits, threshold, first)[:MAX_ENDS]
    at = set(ends)
    _, plain = _greedy(curve, threshold, set(), len(curve.risk), at)
    anchored = _greedy(curve, threshold, pinned, len(curve.risk), at)[1] if pinned else plain
    out = []
    for end in ends:
        before = {p for p in pinned if p < end}
        for kept, reached in ((before, anchored), (set(), plain)) if before else ((before, plain),):
            if end not in reached:  # the pass stopped before it: nobody is published there
                continue
            walk = reached[end].copy()
            _step(curve, walk, end, threshold, kept | {end})
            if walk.index and walk.index[-1] == end:
                out.append((walk.index, walk.counts))
    return out


@dataclass(frozen=True)
class _Curve:
    """A curve's counts as plain floats, read once for every greedy pass over it.

    Indexing numpy arrays one element at a time costs more than the walk itself. The values
    are those of the arrays as float64, so every sum and comparison is the same as on them.
    """

    risk: list[float]
    #: the largest risk set from each time on: with delayed entry it can grow again
    later: list[float]
    exits: dict[str, list[float]]

    @classmethod
    def of(cls, risk: np.ndarray, exits: Mapping[str, np.ndarray]) -> _Curve:
        """Read ``risk`` (float64) and ``exits`` (by kind) as lists of floats."""
        later = np.maximum.accumulate(risk[::-1])[::-1] if risk.size else risk
        return cls(
            risk=risk.tolist(),
            later=later.tolist(),
            exits={k: np.asarray(v, dtype=np.float64).tolist() for k, v in exits.items()},
        )


@dataclass
class _Walk:
    """Where a greedy pass over a curve stands.

    The times taken, their counts, and the persons who left since the last of them (by kind).
    """

    index: list[int]
    counts: dict[str, list[float]]
    since: dict[str, float]

    @classmethod
    def start(cls, kinds: Sequence[str]) -> _Walk:
        """Return a walk before the first time."""
        return cls([], {k: [] for k in kinds}, dict.fromkeys(kinds, 0.0))

    def copy(self) -> _Walk:
        """Return an independent copy."""
        return _Walk(
            list(self.index), {k: list(v) for k, v in self.counts.items()}, dict(self.since)
        )


def _all_publishable(amounts: Mapping[str, float], threshold: int) -> bool:
    """Return whether ``amounts`` are, every kind apart, publishable (:func:`_publishable`)."""
    # a loop, not all() over a generator: this runs once per time of every pass
    for amount in amounts.values():  # noqa: SIM110
        if not (amount == 0 or amount >= threshold):
            return False
    return True


def _step(curve: _Curve, walk: _Walk, k: int, threshold: int, pinned: set[int]) -> bool:
    """Take time ``k`` into ``walk`` (in place); False if no time from ``k`` on can be."""
    if curve.later[k] < threshold:
        return False
    since = walk.since
    if curve.risk[k] >= threshold:
        if k in pinned and not _all_publishable(since, threshold):
            _give_up_points(
                walk.index, walk.counts, since, pinned, lambda a: _all_publishable(a, threshold)
            )
        if _all_publishable(since, threshold):
            walk.index.append(k)
            for kind, amount in since.items():
                walk.counts[kind].append(amount)
                since[kind] = 0.0
    for kind, values in curve.exits.items():
        since[kind] += values[k]
    return True


def _greedy(
    curve: _Curve,
    threshold: int,
    pinned: set[int],
    stop: int,
    at: set[int] | frozenset[int] = frozenset(),
) -> tuple[_Walk, dict[int, _Walk]]:
    """Take the times before ``stop`` greedily, anchors (``pinned``) where the rule allows.

    Returns the walk, and a copy of it as it stood before each time of ``at`` it reached.
    """
    walk = _Walk.start(list(curve.exits))
    reached: dict[int, _Walk] = {}
    for k in range(min(stop, len(curve.risk))):
        if k in at:
            reached[k] = walk.copy()
        if not _step(curve, walk, k, threshold, pinned):
            break
    return walk, reached


def _tail_free(kind: str, total: float, threshold: int) -> bool:
    """Whether the tail of ``kind`` needs no check: events whose total is itself hidden.

    Events of a kind (``n_event*``) that number 1 to threshold - 1 in all are hidden in the
    summary, and no point shows any of them (a point's count is 0 or at least the
    threshold): what follows the last point is that hidden total. Censorings and entries
    are no summary count; their totals follow from ``n`` and are always checked.
    """
    return kind.startswith("n_event") and 0 < total < threshold


def _ends(
    risk: np.ndarray, exits: Mapping[str, np.ndarray], threshold: int, first: int
) -> list[int]:
    """Return the times after ``first`` that may end a curve, latest first.

    A time may end a curve when its risk set reaches the threshold and the persons who leave
    from it on are, each kind apart, 0 or at least the threshold.
    """
    ok = risk >= threshold
    for kind, values in exits.items():
        v = np.asarray(values, dtype=np.float64)
        if _tail_free(kind, float(v.sum()), threshold):
            continue
        tail = v.sum() - np.concatenate([[0.0], np.cumsum(v)[:-1]])
        ok &= (tail == 0) | (tail >= threshold)
    ok[: first + 1] = False
    return np.flatnonzero(ok)[::-1].tolist()


def _close_tail(
    index: list[int],
    counts: dict[str, list[float]],
    exits: Mapping[str, np.ndarray],
    threshold: int,
) -> None:
    """Give up the latest points until the persons after the last one are publishable (in place).

    Whoever leaves the curve from its last published time on (each kind apart) is the
    curve's total minus the points' counts, and the summary publishes the totals; so that
    tail must be 0 or at least the threshold too. Points, anchors included, are merged into
    the tail latest first, down to none: a curve whose totals are not publishable (say 4 of
    33 persons censored) has no point, as its first point would tie the summary's ``n`` to
    the persons who leave after it.
    """
    totals = {kind: float(np.sum(exits[kind])) for kind in counts}
    shown = {kind: float(np.sum(counts[kind])) for kind in counts}
    while index and not all(
        _tail_free(k, totals[k], threshold) or _publishable(totals[k] - shown[k], threshold)
        for k in counts
    ):
        del index[-1]
        for kind in counts:
            shown[kind] -= counts[kind].pop()


def _give_up_points(
    index: list[int],
    counts: dict[str, list[float]],
    since: dict[str, float],
    pinned: set[int],
    publishable: Callable[[Mapping[str, float]], bool],
) -> None:
    """Merge the latest published points into ``since`` until it is publishable (in place).

    Points are given up only if that makes ``since`` publishable without giving up an anchor
    or the first point; otherwise nothing changes.
    """
    merged = dict(since)
    for drop in range(1, len(index)):
        position = len(index) - drop
        if index[position] in pinned:
            return
        for kind in merged:
            merged[kind] += counts[kind][position]
        if publishable(merged):
            del index[position:]
            for kind in counts:
                del counts[kind][position:]
            since.update(merged)
            return


def value_before(values: np.ndarray, index: np.ndarray, start: float) -> np.ndarray:
    """Return an estimate just before each published time (``start`` before the first time).

    Parameters
    ----------
    values : numpy.ndarray
        The estimate at each distinct time (right-continuous: events at the time included).
    index : numpy.ndarray of int
        Positions of the published times.
    start : float
        The value before any time: 1 for survival, 0 for incidence.

    Returns
    -------
    numpy.ndarray
    """
    shifted = np.concatenate([[start], np.asarray(values, dtype=np.float64)])
    return shifted[index]


def landmark_anchors(times: np.ndarray, at: Sequence[float]) -> list[int]:
    """Return the position of the first time after each landmark (its point on the lattice).

    The estimate just before that time is the estimate at the landmark; a landmark after the
    last time has none.

    Examples
    --------
    >>> landmark_anchors(np.array([5.0, 9.0, 20.0]), [6.0, 9.0, 30.0])
    [1, 2]
    """
    positions = np.searchsorted(np.asarray(times, dtype=np.float64), at, side="right")
    return [int(p) for p in positions if p < len(times)]


def landmark_point(
    times: np.ndarray, index: np.ndarray, has_event: np.ndarray, at: float
) -> int | None:
    """Return which published point gives a curve's value at ``at``, if one does.

    The value at ``at`` is published only when it is the value just before a published time
    with no event between ``at`` and that time; otherwise it would show a step between two
    published points, and it is hidden.

    Parameters
    ----------
    times : numpy.ndarray
        The distinct times of the curve.
    index : numpy.ndarray of int
        Positions of the published times (:func:`published_points`).
    has_event : numpy.ndarray of bool
        Whether each time has an event.
    at : float
        The landmark time.

    Returns
    -------
    int or None
        The position in ``index`` (``None``: hidden).

    Examples
    --------
    >>> landmark_point(np.array([5.0, 9.0, 20.0]), np.array([0, 2]),
    ...                np.array([True, True, False]), 10.0)
    1
    >>> landmark_point(np.array([5.0, 9.0, 20.0]), np.array([0, 2]),
    ...                np.array([True, True, False]), 6.0) is None
    True
    """
    published = times[index]
    j = int(np.searchsorted(published, at, side="right"))
    if j >= len(index):
        return None
    between = (times > at) & (times < published[j]) & has_event
    return None if between.any() else j
