"""Interval propagation of the attacker's rows, with cycles of integer steps jumped exactly.

The rule (:func:`propagate`): every variable starts in ``[0, MAX_COUNT]``; a work list of
rows (last in, first out) is visited, each visit bounding each variable of the row by the
others' bounds, rounded inward to integers; a row is put back on the list when a bound of
one of its variables changes; at most ``passes`` times the number of rows are visited.

Rows that contradict each other (``x + y = 8`` and ``x + y = 6``) never settle: the bounds
climb by a few units per visit until the visits run out, and the visits go round the same
few rows. Where the rows of such a cycle have coefficients of +1 and -1 and integer bounds,
each visit is an affine step of integer bounds, the same in every round of the cycle; once
two rounds in a row repeat the rows, the outcome of every comparison, the state of the work
list and the change of every bound, the next rounds repeat them too, for as long as every
comparison keeps its outcome, which is linear in the number of rounds. :func:`propagate`
then adds that many rounds' changes at once: the bounds, the work list and the number of
visits left are exactly those of visiting every row in turn.

Parts (:func:`propagate` with a cache): rows that share no variable, directly or through
other rows, never meet. In the work list, a part's rows keep the order they would have
alone (a row is put back only by a visit of its own part, on top), so the visits of a part
are those of the part propagated alone; where every part settles within its own share of
the visits (the passes times its rows), all of them settle within the whole budget, with
the bounds each reaches alone. Each part is then propagated alone, and its bounds are kept
by a digest of its rows: a part met again (the suppression attacks the same records many
times with a few more counts hidden) is not propagated again. Where a part does not settle,
the whole system is propagated as one, as without a cache.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from allrwe.results.attack.system import MAX_COUNT, MAX_PROPAGATED_TERMS, _System

__all__ = ["propagate", "propagate_parts", "propagate_rows"]

#: a row as propagation reads it: its terms ``(variable, coefficient)`` and its bounds
Row = tuple[list[tuple[int, float]], float, float]

#: longest cycle (in visits) looked for
_MAX_PERIOD = 8
#: entries at the end of the work list compared between rounds of a cycle
_TAIL = 16
#: bounds beyond which integer steps are no longer exact in floating point
_EXACT = 1e9
#: passes over the rows before cycles are looked for: rows of rates settle over a few
#: passes (each visit narrows a bound by a share), and a visit watched costs three; a
#: jump only spares visits, so the bounds are the same whenever the watching starts
_WATCH_AFTER = 10


def propagate(
    system: _System, passes: int = 60, cache: dict[bytes, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bound every variable of ``system`` by interval propagation (integer bounds).

    Sound but loose: each row bounds one variable by the others' bounds. It pins what plain
    subtraction pins (a risk set minus the next one, an overall row minus its levels) without
    an LP, and it gives the LPs their variable bounds. Rows longer than
    ``MAX_PROPAGATED_TERMS`` are left to the LPs. With ``cache``, part by part, each part's
    bounds kept by a digest of its rows (see the module docstring): the same bounds.
    """
    # a row's coefficients are floats already (sums of floats, see _System.add)
    rows: list[Row] = [
        (list(r.coefs.items()), float(r.low), float(r.high))
        if len(r.coefs) <= MAX_PROPAGATED_TERMS
        else ([], 0.0, 0.0)
        for r in system.rows
    ]
    if cache is not None:
        found = propagate_parts(rows, len(system.keys), passes, cache)
        if found is not None:
            return found
    return propagate_rows(rows, len(system.keys), passes)


def _parts(rows: Sequence[Row], n_vars: int) -> list[tuple[list[int], list[int]]]:
    """Return the parts of the rows: per part, its rows and its variables, each in order.

    Parts come in the order of their first row; rows without a term belong to none.
    """
    row_of = [i for i, (terms, _, _) in enumerate(rows) for _ in terms]
    var_of = [j for terms, _, _ in rows for j, _ in terms]
    if not row_of:
        return []
    n_rows = len(rows)
    graph = sparse.coo_array(
        (np.ones(len(row_of), dtype=np.int8), (row_of, [n_rows + j for j in var_of])),
        shape=(n_rows + n_vars, n_rows + n_vars),
    )
    _, labels = connected_components(graph.tocsr(), directed=False)
    part_rows: dict[int, list[int]] = {}
    for i, (terms, _, _) in enumerate(rows):
        if terms:
            part_rows.setdefault(int(labels[i]), []).append(i)
    part_vars: dict[int, list[int]] = defaultdict(list)
    for j in np.flatnonzero(np.isin(labels[n_rows:], list(part_rows))).tolist():
        part_vars[int(labels[n_rows + j])].append(j)
    return [(members, part_vars[label]) for label, members in part_rows.items()]


def propagate_parts(
    rows: Sequence[Row], n_vars: int, passes: int, cache: dict[bytes, Any]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Propagate each part of ``rows`` alone, from ``cache`` where met before.

    Returns the bounds of :func:`propagate_rows` of all rows, or ``None`` where a part does
    not settle within its own share of the visits (see the module docstring).
    """
    low = np.zeros(n_vars)
    high = np.full(n_vars, float(MAX_COUNT))
    for members, variables in _parts(rows, n_vars):
        local = {j: k for k, j in enumerate(variables)}
        part: list[Row] = [
            ([(local[j], c) for j, c in rows[i][0]], rows[i][1], rows[i][2]) for i in members
        ]
        key = b"propagate:" + hashlib.blake2b(repr((passes, part)).encode()).digest()
        bounds = cache.get(key)
        if bounds is None:
            part_low, part_high, settled = _propagated(part, len(variables), passes)
            if not settled:
                return None
            bounds = cache[key] = (part_low, part_high)
        low[variables], high[variables] = bounds
    return low, high


def propagate_rows(
    rows: Sequence[Row], n_vars: int, passes: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Propagate ``rows`` over ``n_vars`` variables; see the module docstring."""
    low, high, _ = _propagated(rows, n_vars, passes)
    return low, high


def _propagated(
    rows: Sequence[Row], n_vars: int, passes: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return :func:`propagate_rows`'s bounds and whether the work list ran empty."""
    # Python floats in lists: the same arithmetic as NumPy's, without a scalar object per read
    low = [0.0] * n_vars
    high = [float(MAX_COUNT)] * n_vars
    by_var: dict[int, list[int]] = defaultdict(list)
    for i, (terms, _, _) in enumerate(rows):
        for j, _ in terms:
            by_var[j].append(i)
    queue = list(range(len(rows)))
    queued = set(queue)
    budget = passes * max(len(rows), 1)
    watch_from = budget - _WATCH_AFTER * len(rows)  # most systems that settle do so by then
    trace: list[_Visit] = []
    while queue and budget > 0:
        budget -= 1
        i = queue.pop()
        queued.discard(i)
        watched = budget < watch_from
        slacks = _comparisons(rows[i], low, high) if watched else []
        changes = _visit(rows[i], low, high)
        for j, _, _ in changes:
            for k in by_var[j]:
                if k not in queued:
                    queue.append(k)
                    queued.add(k)
        if not watched:
            continue
        trace.append(_Visit(i, slacks, changes, len(queue), tuple(queue[-_TAIL:])))
        jumped = _jump(trace, rows, low, high, budget)
        if jumped:
            budget -= jumped
            trace.clear()
        elif len(trace) > 4 * _MAX_PERIOD:
            del trace[: len(trace) - 2 * _MAX_PERIOD - 1]
    return np.array(low, dtype="float64"), np.array(high, dtype="float64"), not queue


#: a bound a visit changed: variable, side (0 low, 1 high), by how much
Change = tuple[int, int, float]


class _Visit:
    """One visit: its row, its comparisons' slacks, its changes, the work list after it."""

    __slots__ = ("changes", "length", "row", "slacks", "tail")

    def __init__(
        self,
        row: int,
        slacks: list[float | None],
        changes: list[Change],
        length: int,
        tail: tuple[int, ...],
    ) -> None:
        self.row = row
        self.slacks = slacks
        self.changes = changes
        self.length = length
        self.tail = tail


def _visit(row: Row, low: list[float], high: list[float]) -> list[Change]:
    """Visit one row: tighten its variables' bounds; return the bounds it changed."""
    terms, row_low, row_high = row
    lows = [c * (low[j] if c > 0 else high[j]) for j, c in terms]
    highs = [c * (high[j] if c > 0 else low[j]) for j, c in terms]
    sum_low, sum_high = sum(lows), sum(highs)
    changed: list[Change] = []
    for (j, c), lo_j, hi_j in zip(terms, lows, highs, strict=True):
        rest_low, rest_high = sum_low - lo_j, sum_high - hi_j
        a, b = row_low - rest_high, row_high - rest_low  # c * x_j in [a, b]
        new_low, new_high = (a / c, b / c) if c > 0 else (b / c, a / c)
        if new_low > low[j] + 1e-9 and math.isfinite(new_low):
            old = low[j]
            low[j] = max(old, float(math.ceil(new_low - 1e-6)))
            changed.append((j, 0, low[j] - old))
        if new_high < high[j] - 1e-9 and math.isfinite(new_high):
            old = high[j]
            high[j] = min(old, float(math.floor(new_high + 1e-6)))
            changed.append((j, 1, high[j] - old))
    return changed


def _comparisons(row: Row, low: list[float], high: list[float]) -> list[float | None]:
    """Return the slack of every comparison a visit of ``row`` makes now (bounds unchanged).

    Per term, the low side then the high side: ``new bound - old`` (low) or ``old - new``
    (high); None where the new bound is not finite (a row bound of infinity).
    """
    terms, row_low, row_high = row
    lows = [c * (low[j] if c > 0 else high[j]) for j, c in terms]
    highs = [c * (high[j] if c > 0 else low[j]) for j, c in terms]
    sum_low, sum_high = sum(lows), sum(highs)
    out: list[float | None] = []
    for (j, c), lo_j, hi_j in zip(terms, lows, highs, strict=True):
        a, b = row_low - (sum_high - hi_j), row_high - (sum_low - lo_j)
        new_low, new_high = (a / c, b / c) if c > 0 else (b / c, a / c)
        out.append(new_low - low[j] if math.isfinite(new_low) else None)
        out.append(high[j] - new_high if math.isfinite(new_high) else None)
    return out


def _integral(row: Row) -> bool:
    """Whether a visit of ``row`` is an affine step of integer bounds (see the module)."""
    terms, row_low, row_high = row
    return all(c in (1.0, -1.0) for _, c in terms) and all(
        math.isinf(v) or float(v).is_integer() for v in (row_low, row_high)
    )


def _jump(
    trace: list[_Visit], rows: Sequence[Row], low: list[float], high: list[float], budget: int
) -> int:
    """Add the changes of as many more rounds of a repeating cycle as stay exact.

    ``trace`` ends with the visit just made; a round of ``period`` visits is looked for whose
    last two repeats (A, then B) agree. Returns the number of visits jumped (0: none).
    """
    for period in range(1, _MAX_PERIOD + 1):
        if len(trace) < 2 * period + 1:
            return 0
        if trace[-1 - period].row != trace[-1].row:
            continue
        window = trace[-2 * period - 1 :]  # the visit before A, A, B
        round_a, round_b = window[1 : period + 1], window[period + 1 :]
        if [v.row for v in round_a] == [v.row for v in round_b]:
            return _jump_rounds(window, period, rows, low, high, budget)
    return 0


def _jump_rounds(
    window: list[_Visit],
    period: int,
    rows: Sequence[Row],
    low: list[float],
    high: list[float],
    budget: int,
) -> int:
    """Jump whole rounds of a cycle seen twice: ``window`` is the visit before A, A, then B."""
    round_a, round_b = window[1 : period + 1], window[period + 1 :]
    if not all(_integral(rows[v.row]) for v in round_b):
        return 0
    if not all(float(x).is_integer() for v in window for x in _touched(v, rows, low, high)):
        return 0
    # the work list is the same at the three round boundaries; below its shortest length
    # during the rounds nothing moved, so its end beyond that length tells
    shortest = min(v.length for v in window[:-1]) - 1  # each visit pops one first
    ends = [window[0], window[period], window[-1]]
    keep = ends[0].length - shortest
    if len({v.length for v in ends}) != 1 or keep > _TAIL:
        return 0
    if len({v.tail[len(v.tail) - keep :] for v in ends}) != 1:
        return 0
    # each bound changed by as much in round A as in round B
    delta_a, delta_b = _net(round_a), _net(round_b)
    if delta_a != delta_b:
        return 0
    rounds = _rounds_kept(round_a, round_b, budget // period)
    if rounds <= 0:
        return 0
    moved = [(low if side == 0 else high, j, d) for (j, side), d in delta_b.items()]
    if any(max(abs(b[j]), abs(b[j] + rounds * d)) >= _EXACT for b, j, d in moved):
        return 0
    for bounds, j, d in moved:
        bounds[j] += rounds * d
    return rounds * period


def _rounds_kept(round_a: list[_Visit], round_b: list[_Visit], rounds: int) -> int:
    """Return how many more rounds (at most ``rounds``) every comparison keeps its outcome.

    Each comparison's slack moves by the same step every round (affine steps, the same
    branches): ``k`` rounds after B it is ``s_B + k * step``. Returns 0 where the rounds do
    not take the same branches.
    """
    for visit_a, visit_b in zip(round_a, round_b, strict=True):
        for s_a, s_b in zip(visit_a.slacks, visit_b.slacks, strict=True):
            if s_a is None or s_b is None:
                if (s_a is None) != (s_b is None):
                    return 0
                continue
            taken = s_b > 1e-9
            if taken != (s_a > 1e-9):
                return 0
            step = s_b - s_a
            if taken and step < 0:
                rounds = min(rounds, math.floor((s_b - 1.0) / -step))
            elif not taken and step > 0:
                rounds = min(rounds, math.floor(-s_b / step))
    return rounds


def _touched(
    visit: _Visit, rows: Sequence[Row], low: list[float], high: list[float]
) -> list[float]:
    """Return the current bounds of the variables of a visit's row."""
    return [x for j, _ in rows[visit.row][0] for x in (low[j], high[j])]


def _net(visits: list[_Visit]) -> dict[tuple[int, int], float]:
    """Return the net change of each bound over ``visits``."""
    net: dict[tuple[int, int], float] = defaultdict(float)
    for v in visits:
        for j, side, d in v.changes:
            net[(j, side)] += d
    return dict(net)
